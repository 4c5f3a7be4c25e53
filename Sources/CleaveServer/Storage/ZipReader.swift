import CZlib
import Foundation

/// Why a zip archive was refused: one line naming the entry (when there is one) and the reason.
public struct ZipArchiveError: Error, CustomStringConvertible, Equatable {
    /// What kind of refusal it is (the server answers 413 for ``Kind/tooLarge``, 400 otherwise).
    public enum Kind: Sendable, Equatable {
        /// No zip archive at all (no end-of-central-directory record, no local header at the start).
        case notZip
        /// A zip archive that ends early or whose records point outside the file.
        case truncated
        /// An entry or the whole archive would unpack to more than the limits allow (zip bombs).
        case tooLarge
        /// A name that is absolute, climbs out with `..`, or is not UTF-8.
        case unsafeName
        /// Two entries with one name.
        case duplicate
        /// Encryption, multi-disk archives, compression other than stored or deflate.
        case unsupported
        /// Records that contradict each other, a CRC-32 mismatch, a damaged deflate stream.
        case corrupt
    }
    /// The kind of refusal.
    public var kind: Kind
    /// The one-line reason.
    public var message: String
    /// The one-line reason.
    public var description: String { message }
}

/// One member of a zip archive as its central directory describes it.
public struct ZipEntry: Sendable, Equatable {
    /// The name (UTF-8, `/`-separated, relative; checked to stay inside the archive).
    public var name: String
    /// 0 stored, 8 deflate.
    public var method: UInt16
    /// CRC-32 of the uncompressed bytes.
    public var crc32: UInt32
    /// Bytes stored in the archive.
    public var compressedSize: UInt64
    /// Bytes after unpacking.
    public var uncompressedSize: UInt64
    /// Where the entry's local header starts.
    public var localHeaderOffset: UInt64
    /// Where the entry's data starts (after the local header, name and extra field).
    public var dataOffset: UInt64
    /// True for directory entries (name ends in `/`): they hold no data.
    public var isDirectory: Bool { name.hasSuffix("/") }
}

/// Reads zip archives: what ``ZipWriter`` writes (stored entries) and standard archives from other
/// tools (stored or deflate, data descriptors, Zip64 sizes and offsets). Refuses, with one line,
/// what it cannot read safely: a file that is no zip or ends early, names with `..` or an absolute
/// path, duplicate names, encrypted or multi-disk archives, overlapping entries, and entries that
/// would unpack past ``Limits`` (zip bombs: sizes are checked against the limits before a byte is
/// inflated, and inflating stops as soon as an entry produces more than it declared).
///
/// ```
/// [local header + name + extra + data] × n   [central directory] × n   [zip64 end + locator]?   [end of central directory]
/// ```
public final class ZipReader {
    /// How much an archive may unpack to.
    public struct Limits: Sendable {
        /// Most entries.
        public var maximumEntries: Int
        /// Largest unpacked entry, in bytes.
        public var maximumEntryBytes: UInt64
        /// Largest total of all unpacked entries, in bytes.
        public var maximumTotalBytes: UInt64

        /// Limits with the given values.
        public init(maximumEntries: Int = 100_000, maximumEntryBytes: UInt64, maximumTotalBytes: UInt64) {
            self.maximumEntries = maximumEntries
            self.maximumEntryBytes = maximumEntryBytes
            self.maximumTotalBytes = maximumTotalBytes
        }
    }

    /// Deflate cannot expand more than about 1032:1; an entry declaring more is a bomb or a lie.
    static let maximumDeflateRatio: UInt64 = 1032

    /// The archive's path.
    public let path: String
    /// The entries in central-directory order (directories included).
    public let entries: [ZipEntry]
    private let byName: [String: Int]
    private let handle: FileHandle
    private let fileSize: UInt64

    /// Opens the archive at `path` and checks its directory against `limits`.
    /// - Throws: ``ZipArchiveError`` (one line) for anything it refuses; the file system's error
    ///   when the file cannot be opened.
    public init(path: String, limits: Limits) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ZipArchiveError(kind: .notZip, message: "cannot open the archive for reading")
        }
        self.handle = handle
        do {
            fileSize = try handle.seekToEnd()
            let (entries, names) = try ZipReader.directory(handle, fileSize: fileSize, limits: limits)
            self.entries = entries
            byName = names
        } catch {
            try? handle.close()
            throw error
        }
    }

    deinit { try? handle.close() }

    /// The entry called `name`, or nil.
    public func entry(_ name: String) -> ZipEntry? { byName[name].map { entries[$0] } }

    /// The unpacked bytes of a small entry (metadata): refused above `limit` bytes.
    public func bytes(_ entry: ZipEntry, limit: Int) throws -> [UInt8] {
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw ZipArchiveError(kind: .tooLarge, message: "\(entry.name) would unpack to \(entry.uncompressedSize) bytes; at most \(limit) are read")
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.uncompressedSize))
        try unsafeUnpack(entry) { out += $0 }
        return out
    }

    /// Unpacks `entry` in pieces of at most 1 MiB, each passed to `consume` in order, checking
    /// the declared size and the CRC-32; memory stays bounded whatever the entry's size.
    public func unsafeUnpack(_ entry: ZipEntry, into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try handle.seek(toOffset: entry.dataOffset)
        var crc = CRC32()
        var produced: UInt64 = 0
        func deliver(_ piece: UnsafeRawBufferPointer) throws {
            produced += UInt64(piece.count)
            guard produced <= entry.uncompressedSize else {
                throw ZipArchiveError(kind: .tooLarge, message: "\(entry.name) unpacks to more than the \(entry.uncompressedSize) bytes its directory declares (a zip bomb or a damaged archive)")
            }
            crc.update(piece)
            try consume(piece)
        }
        var left = entry.compressedSize
        func nextChunk() throws -> Data {
            let chunk = try handle.read(upToCount: Int(min(left, 1 << 20))) ?? Data()
            guard !chunk.isEmpty || left == 0 else {
                throw ZipArchiveError(kind: .truncated, message: "\(entry.name): the archive ends inside the entry's data (truncated)")
            }
            left -= UInt64(chunk.count)
            return chunk
        }
        if entry.method == 0 {
            while left > 0 { try nextChunk().withUnsafeBytes { try deliver($0) } }
        } else {
            try inflate(entry, nextChunk: nextChunk, remaining: { left }, deliver: deliver)
        }
        guard produced == entry.uncompressedSize else {
            throw ZipArchiveError(kind: .corrupt, message: "\(entry.name) unpacks to \(produced) bytes, its directory declares \(entry.uncompressedSize) (damaged archive)")
        }
        guard crc.value == entry.crc32 else {
            throw ZipArchiveError(kind: .corrupt, message: String(format: "%@ fails its CRC-32 check (%08x, the archive says %08x): the archive is damaged", entry.name, crc.value, entry.crc32))
        }
    }

    private func inflate(_ entry: ZipEntry, nextChunk: () throws -> Data, remaining: () -> UInt64,
                         deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ZipArchiveError(kind: .corrupt, message: "\(entry.name): zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let outputSize = 1 << 20
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: outputSize)
        defer { output.deallocate() }
        var ended = false
        while !ended {
            let input = try nextChunk()
            let last = remaining() == 0
            try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: UInt8.self).baseAddress)
                stream.avail_in = UInt32(raw.count)
                repeat {
                    stream.next_out = output
                    stream.avail_out = UInt32(outputSize)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let made = outputSize - Int(stream.avail_out)
                    if made > 0 { try deliver(UnsafeRawBufferPointer(start: output, count: made)) }
                    if status == Z_STREAM_END { ended = true; break }
                    if status == Z_BUF_ERROR && stream.avail_in == 0 { break }   // needs more input
                    guard status == Z_OK else {
                        let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                        throw ZipArchiveError(kind: .corrupt, message: "\(entry.name): the deflate data is damaged (\(reason))")
                    }
                } while stream.avail_in > 0 || stream.avail_out == 0
            }
            if !ended && last {
                throw ZipArchiveError(kind: .truncated, message: "\(entry.name): the deflate stream ends early (truncated or damaged archive)")
            }
        }
    }

    // MARK: Directory

    private static func read(_ handle: FileHandle, at offset: UInt64, count: Int) throws -> [UInt8] {
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        return [UInt8](data)
    }

    private static func directory(_ handle: FileHandle, fileSize: UInt64, limits: Limits) throws -> ([ZipEntry], [String: Int]) {
        let head = try read(handle, at: 0, count: 4)
        let startsLikeZip = head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06]
        func missingEnd() -> ZipArchiveError {
            startsLikeZip
                ? ZipArchiveError(kind: .truncated, message: "truncated zip archive: it starts like one but has no end-of-central-directory record (the download or copy stopped early?)")
                : ZipArchiveError(kind: .notZip, message: "not a zip archive (\(fileSize) bytes without a zip signature)")
        }
        guard fileSize >= 22 else { throw missingEnd() }
        // The end record is the last 22 bytes plus a comment of up to 64 KiB.
        let tailStart = fileSize - min(fileSize, 22 + 0xFFFF)
        let tail = try read(handle, at: tailStart, count: Int(fileSize - tailStart))
        var endAt: Int? = nil
        var i = tail.count - 22
        while i >= 0 {
            if tail.u32(i) == 0x0605_4B50, i + 22 + Int(tail.u16(i + 20)) <= tail.count { endAt = i; break }
            i -= 1
        }
        guard let e = endAt else { throw missingEnd() }
        let endOffset = tailStart + UInt64(e)
        guard tail.u16(e + 4) == 0, tail.u16(e + 6) == 0 else {
            throw ZipArchiveError(kind: .unsupported, message: "a multi-disk (split) zip archive; join the parts into one file first")
        }
        var count = UInt64(tail.u16(e + 10))
        var directorySize = UInt64(tail.u32(e + 12))
        var directoryOffset = UInt64(tail.u32(e + 16))
        var directoryEnd = endOffset
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before the end record points at the zip64 end record.
            guard endOffset >= 20 else { throw ZipArchiveError(kind: .truncated, message: "truncated zip64 archive: no zip64 locator") }
            let locator = try read(handle, at: endOffset - 20, count: 20)
            if locator.count == 20, locator.u32(0) == 0x0706_4B50 {
                let recordOffset = locator.u64(8)
                guard recordOffset < endOffset - 20 else {
                    throw ZipArchiveError(kind: .corrupt, message: "the zip64 locator points past the end of the archive")
                }
                let record = try read(handle, at: recordOffset, count: 56)
                guard record.count == 56, record.u32(0) == 0x0606_4B50 else {
                    throw ZipArchiveError(kind: .corrupt, message: "the zip64 end-of-central-directory record is missing where its locator points")
                }
                guard record.u32(16) == 0, record.u32(20) == 0 else {
                    throw ZipArchiveError(kind: .unsupported, message: "a multi-disk (split) zip archive; join the parts into one file first")
                }
                count = record.u64(32)
                directorySize = record.u64(40)
                directoryOffset = record.u64(48)
                directoryEnd = recordOffset
            } else if count == 0xFFFF && directorySize != 0xFFFF_FFFF && directoryOffset != 0xFFFF_FFFF {
                // Exactly 65535 entries without zip64: the count is real.
            } else {
                throw ZipArchiveError(kind: .corrupt, message: "the end-of-central-directory record asks for zip64 but there is no zip64 locator")
            }
        }
        guard count <= UInt64(limits.maximumEntries) else {
            throw ZipArchiveError(kind: .tooLarge, message: "the archive lists \(count) entries; at most \(limits.maximumEntries) are read")
        }
        let (directoryLast, overflow) = directoryOffset.addingReportingOverflow(directorySize)
        guard !overflow, directoryLast <= directoryEnd else {
            throw ZipArchiveError(kind: .truncated, message: "truncated zip archive: its central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the file's \(fileSize) bytes")
        }
        guard directorySize <= 64 << 20 else {
            throw ZipArchiveError(kind: .tooLarge, message: "the archive's central directory is \(directorySize) bytes; at most 64 MiB are read")
        }
        let bytes = try read(handle, at: directoryOffset, count: Int(directorySize))
        guard bytes.count == Int(directorySize) else {
            throw ZipArchiveError(kind: .truncated, message: "truncated zip archive: the central directory ends early")
        }
        var entries: [ZipEntry] = []
        var names: [String: Int] = [:]
        var total: UInt64 = 0
        var at = 0
        for n in 0..<Int(count) {
            guard at + 46 <= bytes.count, bytes.u32(at) == 0x0201_4B50 else {
                throw ZipArchiveError(kind: .corrupt, message: "central directory entry \(n + 1) of \(count) is damaged (no signature where it should start)")
            }
            let flags = bytes.u16(at + 8), method = bytes.u16(at + 10)
            let crc = bytes.u32(at + 16)
            var compressed = UInt64(bytes.u32(at + 20)), uncompressed = UInt64(bytes.u32(at + 24))
            let nameLength = Int(bytes.u16(at + 28)), extraLength = Int(bytes.u16(at + 30)), commentLength = Int(bytes.u16(at + 32))
            let disk = bytes.u16(at + 34)
            var offset = UInt64(bytes.u32(at + 42))
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= bytes.count else {
                throw ZipArchiveError(kind: .corrupt, message: "central directory entry \(n + 1) of \(count) runs past the directory's end")
            }
            let nameBytes = Array(bytes[(at + 46)..<(at + 46 + nameLength)])
            guard let name = String(bytes: nameBytes, encoding: .utf8) else {
                throw ZipArchiveError(kind: .unsafeName, message: "entry \(n + 1) has a name that is not UTF-8")
            }
            // Zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = bytes.u16(extra), size = Int(bytes.u16(extra + 2))
                guard extra + 4 + size <= extraEnd else { break }
                if id == 0x0001 {
                    var field = extra + 4
                    func take() throws -> UInt64 {
                        guard field + 8 <= extra + 4 + size else {
                            throw ZipArchiveError(kind: .corrupt, message: "\(name): its zip64 extra field is too short")
                        }
                        defer { field += 8 }
                        return bytes.u64(field)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try take() }
                    if compressed == 0xFFFF_FFFF { compressed = try take() }
                    if offset == 0xFFFF_FFFF { offset = try take() }
                }
                extra += 4 + size
            }
            at = next
            try checkName(name)
            guard disk == 0 || disk == 0xFFFF else {
                throw ZipArchiveError(kind: .unsupported, message: "a multi-disk (split) zip archive; join the parts into one file first")
            }
            guard flags & 0x41 == 0 else {
                throw ZipArchiveError(kind: .unsupported, message: "\(name) is encrypted; export it again without a password")
            }
            guard method == 0 || method == 8 else {
                throw ZipArchiveError(kind: .unsupported, message: "\(name) uses compression method \(method); only stored (0) and deflate (8) entries are read")
            }
            guard names[name] == nil else {
                throw ZipArchiveError(kind: .duplicate, message: "the archive holds two entries named \(name)")
            }
            if method == 0 && compressed != uncompressed {
                throw ZipArchiveError(kind: .corrupt, message: "\(name) is stored but its sizes differ (\(compressed) and \(uncompressed) bytes)")
            }
            guard uncompressed <= limits.maximumEntryBytes else {
                throw ZipArchiveError(kind: .tooLarge, message: "\(name) would unpack to \(uncompressed) bytes, over the limit of \(limits.maximumEntryBytes) bytes per entry")
            }
            if method == 8, uncompressed > 1 << 20, uncompressed / maximumDeflateRatio > compressed {
                throw ZipArchiveError(kind: .tooLarge, message: "\(name) claims \(uncompressed) bytes from \(compressed) compressed bytes, more than deflate can produce (a zip bomb)")
            }
            total += uncompressed
            guard total <= limits.maximumTotalBytes else {
                throw ZipArchiveError(kind: .tooLarge, message: "the archive would unpack to more than \(limits.maximumTotalBytes) bytes (a zip bomb, or an export larger than this workbench accepts)")
            }
            names[name] = entries.count
            entries.append(ZipEntry(name: name, method: method, crc32: crc, compressedSize: compressed, uncompressedSize: uncompressed,
                                    localHeaderOffset: offset, dataOffset: 0))
        }
        // Local headers: where each entry's data starts; entries may neither overlap (a bomb
        // technique) nor reach into the central directory.
        for index in entries.indices {
            let entry = entries[index]
            let local = try read(handle, at: entry.localHeaderOffset, count: 30)
            guard local.count == 30, local.u32(0) == 0x0403_4B50 else {
                throw ZipArchiveError(kind: entry.localHeaderOffset >= fileSize ? .truncated : .corrupt,
                                      message: "\(entry.name): no local header where the central directory says it starts")
            }
            let nameLength = UInt64(local.u16(26)), extraLength = UInt64(local.u16(28))
            let localName = try read(handle, at: entry.localHeaderOffset + 30, count: Int(nameLength))
            guard localName == Array(entry.name.utf8) else {
                throw ZipArchiveError(kind: .corrupt, message: "\(entry.name): the local header names another entry")
            }
            entries[index].dataOffset = entry.localHeaderOffset + 30 + nameLength + extraLength
            let (end, overflow) = entries[index].dataOffset.addingReportingOverflow(entry.compressedSize)
            guard !overflow, end <= directoryOffset else {
                throw ZipArchiveError(kind: end > fileSize || overflow ? .truncated : .corrupt,
                                      message: "\(entry.name): its data runs past the start of the central directory (truncated or damaged archive)")
            }
        }
        let sorted = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.dataOffset + a.compressedSize > b.localHeaderOffset {
            throw ZipArchiveError(kind: .corrupt, message: "entries \(a.name) and \(b.name) overlap in the archive (a zip bomb technique)")
        }
        return (entries, names)
    }

    /// Names must stay inside the archive: relative, `/`-separated, no `..`, no NUL or backslash.
    public static func checkName(_ name: String) throws {
        func refuse(_ why: String) -> ZipArchiveError {
            ZipArchiveError(kind: .unsafeName, message: "entry \(String(name.prefix(120)).debugDescription) \(why); refused (path traversal)")
        }
        guard !name.isEmpty else { throw ZipArchiveError(kind: .unsafeName, message: "an entry has an empty name") }
        if name.hasPrefix("/") { throw refuse("is an absolute path") }
        if name.contains("\\") { throw refuse("contains a backslash") }
        if name.contains("\0") { throw refuse("contains a NUL character") }
        if name.count >= 2, name.dropFirst().first == ":" { throw refuse("starts with a drive letter") }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." }) {
            throw refuse("climbs out of the archive with ..")
        }
    }
}

private extension Array where Element == UInt8 {
    func u16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}
