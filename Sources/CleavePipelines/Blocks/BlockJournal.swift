import Foundation
import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a block run is computing, compared field by field before a run continues an output.
public struct BlockRunFingerprint: Codable, Sendable, Equatable {
    /// Journal format version.
    public var format = 1
    /// "forest" or "unet".
    public var method: String
    /// The model file's FNV-1a 64 hash and size (`fnv1a64:… (N bytes)`).
    public var model: String
    /// The input's path as given.
    public var input: String
    /// The input's shape, channels, type and chunks.
    public var inputLayout: String
    /// Block extents and output layout (type, chunks, codec, NGFF version).
    public var options: String

    /// A fingerprint of the current journal format from its parts.
    public init(method: String, model: String, input: String, inputLayout: String, options: String) {
        self.method = method; self.model = model; self.input = input; self.inputLayout = inputLayout; self.options = options
    }

    /// The first field that differs from `other`, with both values.
    public func difference(from other: BlockRunFingerprint) -> (field: String, recorded: String, requested: String)? {
        let fields: [(String, String, String)] = [
            ("journal format", "\(format)", "\(other.format)"), ("method", method, other.method), ("model", model, other.model),
            ("input", input, other.input), ("input layout", inputLayout, other.inputLayout), ("options", options, other.options),
        ]
        return fields.first { $0.1 != $0.2 }.map { (field: $0.0, recorded: $0.1, requested: $0.2) }
    }

    /// `fnv1a64:<hex> (<bytes> bytes)` of a file's contents.
    /// - Throws: ``BlockRunError/journal(path:reason:)`` when the file cannot be read.
    public static func fileHash(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BlockRunError.journal(path: path, reason: "cannot read the file to fingerprint it")
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { bytes in
            for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return "fnv1a64:" + String(hash, radix: 16) + " (\(data.count) bytes)"
    }
}

/// The record a run writes when it creates its output: the fingerprint, and what every later
/// process must use unchanged (the intensity windows measured once on the whole volume).
public struct BlockRunRecord: Codable, Sendable, Equatable {
    /// What the run computes; a later process continues the output only when its own fingerprint is equal.
    public var fingerprint: BlockRunFingerprint
    /// Blocks of the run's plan (block numbers are 0..<blockCount).
    public var blockCount: Int
    /// Per-channel windows the features see (nil: values as stored).
    public var windows: [IntensityWindow]?

    /// A record to write when a run starts.
    public init(fingerprint: BlockRunFingerprint, blockCount: Int, windows: [IntensityWindow]?) {
        self.fingerprint = fingerprint; self.blockCount = blockCount; self.windows = windows
    }
}

/// Per-block completion of a run, kept in a `.cleave-blocks/` folder inside the output store
/// (Zarr readers ignore it):
///
/// ```
/// VOL-labels.ome.zarr/
///   .zattrs .zgroup 0/ 1/ …        the labels (chunks renamed into place one by one)
///   .cleave-blocks/run.json        fingerprint + windows, written once when the run starts
///   .cleave-blocks/block-17.done   class counts of block 17, written after all its chunks
/// ```
///
/// A marker is written (temporary file, fsync, rename) only after every chunk of its block has
/// been renamed into place, so a process killed at any moment leaves each block either marked and
/// whole, or unmarked — and an unmarked block is simply computed again (its chunks are replaced
/// whole). A marker that cannot be parsed counts as not done. Markers are fsync'd; chunk files
/// are not (as for every Cleave output), so the guarantee is for a killed process; after a power
/// cut it holds as far as the file system keeps the order of renames (ext4's default does).
public final class BlockJournal: @unchecked Sendable {
    /// The `.cleave-blocks` folder.
    public let directory: String
    /// The run this journal belongs to (as read from or written to `run.json`).
    public let record: BlockRunRecord

    /// Name of the journal folder inside the output store.
    public static let folderName = ".cleave-blocks"

    init(directory: String, record: BlockRunRecord) {
        self.directory = directory
        self.record = record
    }

    /// The journal of the store at `store`, or nil when it has none (no run started there, or
    /// a run killed before it recorded itself).
    /// - Throws: ``BlockRunError/journal(path:reason:)`` when `run.json` exists but cannot be read.
    public static func open(store: String) throws -> BlockJournal? {
        let directory = store + "/" + folderName
        let path = directory + "/run.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
              let record = try? JSONDecoder().decode(BlockRunRecord.self, from: data) else {
            throw BlockRunError.journal(path: path, reason: "cannot be read (not a Cleave block journal); delete the output to start again")
        }
        return BlockJournal(directory: directory, record: record)
    }

    /// Starts the journal of a new run (after the store's metadata exists).
    public static func create(store: String, record: BlockRunRecord) throws -> BlockJournal {
        let directory = store + "/" + folderName
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw BlockRunError.journal(path: directory, reason: "cannot create (\(error.localizedDescription))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(record)
        try writeDurably(data, to: directory + "/run.json")
        return BlockJournal(directory: directory, record: record)
    }

    func markerPath(_ block: Int) -> String { directory + "/block-\(block).done" }

    /// The class counts recorded for `block`, or nil when it is not done.
    public func counts(of block: Int) -> [Int]? {
        guard let data = FileManager.default.contents(atPath: markerPath(block)),
              let marker = try? JSONDecoder().decode(Marker.self, from: data), marker.block == block else { return nil }
        return marker.counts
    }

    /// True when `block` is recorded as done.
    public func isDone(_ block: Int) -> Bool { counts(of: block) != nil }

    /// Records `block` as done with its per-class pixel counts. Call only after every chunk of the
    /// block has been written (renamed into place).
    public func markDone(_ block: Int, counts: [Int]) throws {
        let data = try JSONEncoder().encode(Marker(block: block, counts: counts))
        try BlockJournal.writeDurably(data, to: markerPath(block))
    }

    /// Blocks not yet done among `blocks`.
    public func pending(_ blocks: [Int]) -> [Int] { blocks.filter { !isDone($0) } }

    private struct Marker: Codable { var block: Int; var counts: [Int] }

    /// Temporary file, fsync, rename: the file is whole or absent, also after a power cut.
    static func writeDurably(_ data: Data, to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        let fd = openFile(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BlockRunError.journal(path: path, reason: "cannot write (\(String(cString: strerror(errno))))") }
        var ok = true
        data.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { ok = false; return }
                done += n
            }
        }
        let why = String(cString: strerror(errno))
        if !ok || fsync(fd) != 0 {
            close(fd); unlink(temporary)
            throw BlockRunError.journal(path: path, reason: "cannot write (\(why))")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw BlockRunError.journal(path: path, reason: "cannot move into place (\(why))")
        }
    }

    /// Runs `body` holding an exclusive lock on `store` (a hidden `.NAME.lock` file beside it,
    /// `flock`ed: released by the kernel when the process dies), so processes that start
    /// together — the tasks of an array job — create the output and its journal once.
    public static func withLock<T>(store: String, _ body: () throws -> T) throws -> T {
        let url = URL(fileURLWithPath: store)
        let lockPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock").path
        let fd = openFile(lockPath, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw BlockRunError.journal(path: lockPath, reason: "cannot open the lock file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw BlockRunError.journal(path: lockPath, reason: "cannot lock (\(String(cString: strerror(errno))))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// `open(2)` (the type above has a static `open` of its own).
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
