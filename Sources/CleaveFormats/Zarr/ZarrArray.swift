import CleaveCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Zarr array in a directory store (v2 `.zarray` or v3 `zarr.json`), read and written chunk
/// by chunk.
///
/// Reads take a box (origin and size per dimension, C order) and decode only the chunks the box
/// touches, in parallel; a chunk that was never written reads as the fill value. Writes take
/// chunk-aligned boxes: every chunk is encoded and written to a hidden temporary file that is
/// renamed into place, so a reader (or a rerun after a crash) sees a chunk whole or not at all.
///
/// ```swift
/// let array = try ZarrArray.open("vol.ome.zarr/0")
/// let block = try array.read(origin: [0, 64, 128], size: [32, 256, 256])   // raw samples
/// ```
public final class ZarrArray: @unchecked Sendable {
    /// The array's directory.
    public let path: String
    public let metadata: ZarrArrayMetadata
    private let lock = NSLock()
    private var filesRead = 0

    /// Chunk files opened by reads since the array was opened (for tests of partial reads).
    public var chunkFilesRead: Int { lock.lock(); defer { lock.unlock() }; return filesRead }

    init(path: String, metadata: ZarrArrayMetadata) {
        self.path = path
        self.metadata = metadata
    }

    /// Opens an existing array (format from the metadata file present).
    /// - Throws: ``ZarrError`` when there is no array or its metadata is invalid.
    public static func open(_ path: String) throws -> ZarrArray {
        if let v3 = try ZarrStore.readFile(path + "/zarr.json", limit: 64 << 20) {
            return ZarrArray(path: path, metadata: try ZarrArrayMetadata.parse(v3, format: 3, path: path + "/zarr.json"))
        }
        if let v2 = try ZarrStore.readFile(path + "/.zarray", limit: 64 << 20) {
            return ZarrArray(path: path, metadata: try ZarrArrayMetadata.parse(v2, format: 2, path: path + "/.zarray"))
        }
        throw ZarrError.badMetadata(path: path, field: ".zarray / zarr.json", reason: "missing: not a Zarr array")
    }

    /// Creates the array's directory and metadata (replacing metadata already there).
    /// - Parameter attributes: v3 `attributes` (v2 arrays take none here).
    public static func create(_ path: String, metadata: ZarrArrayMetadata, attributes: [String: String] = [:]) throws -> ZarrArray {
        try metadata.checkSizes(path: path)
        try ZarrStore.makeDirectory(path)
        let attributeJSON: JSONValue = .object(attributes.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        try ZarrStore.writeAtomically(Array(metadata.document(attributes: attributeJSON).utf8),
                                      to: path + (metadata.zarrFormat == 2 ? "/.zarray" : "/zarr.json"))
        return ZarrArray(path: path, metadata: metadata)
    }

    // MARK: Reading

    /// The samples of a box, in C order, native byte order, stored type (``ZarrDataType``).
    /// - Throws: ``ZarrError/invalidRequest(path:reason:)`` when the box leaves the array,
    ///   ``ZarrError/absurdSize(path:field:reason:)`` when it exceeds ``ImageFile/maximumImageBytes``,
    ///   ``ZarrError/badChunk(path:chunk:reason:)`` for a corrupt chunk.
    public func read(origin: [Int], size: [Int]) throws -> [UInt8] {
        try checkBox(origin: origin, size: size)
        let count = size.reduce(metadata.dataType.size, *)
        guard count <= ImageFile.maximumImageBytes else {
            throw ZarrError.absurdSize(path: path, field: "region", reason: "\(size) samples need \(count) bytes, more than the \(ImageFile.maximumImageBytes >> 20) MiB read limit")
        }
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try unsafeRead(origin: origin, size: size, into: $0.baseAddress!) }
        return out
    }

    /// ``read(origin:size:)`` into caller memory of `size.product × dataType.size` bytes.
    public func unsafeRead(origin: [Int], size: [Int], into destination: UnsafeMutableRawPointer) throws {
        try checkBox(origin: origin, size: size)
        if size.contains(0) { return }
        let m = metadata
        let chunkIndices = chunks(touching: origin, size: size)
        let target = UncheckedSendable(destination)
        // Chunks are decoded in contiguous runs, each reusing one file buffer and one chunk
        // buffer (no fresh allocation and page faults per chunk). Every chunk writes its own part
        // of the destination, so the result does not depend on the runs; the error reported is
        // the one of the lowest failing chunk.
        let runs = min(chunkIndices.count, 4 * Parallel.threadCount)
        try Parallel.forEachThrowing(runs) { run in
            var stored: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: m.chunkBytes)
            for i in (chunkIndices.count * run / runs)..<(chunkIndices.count * (run + 1) / runs) {
                let index = chunkIndices[i]
                let chunkOrigin = zip(index, m.chunks).map { $0 * $1 }
                // The part of the box inside this chunk.
                let lower = zip(origin, chunkOrigin).map { max($0, $1) }
                let upper = (0..<index.count).map { min(origin[$0] + size[$0], chunkOrigin[$0] + m.chunks[$0]) }
                let extent = zip(upper, lower).map { $0 - $1 }
                if try readChunk(index, file: &stored, into: &chunk) {
                    chunk.withUnsafeBytes { src in
                        ZarrArray.copyBox(from: src.baseAddress!, shape: m.chunks, origin: zip(lower, chunkOrigin).map { $0 - $1 },
                                          to: target.value, shape: size, origin: zip(lower, origin).map { $0 - $1 },
                                          extent: extent, sampleBytes: m.dataType.size)
                    }
                } else {
                    ZarrArray.fillBox(target.value, shape: size, origin: zip(lower, origin).map { $0 - $1 }, extent: extent,
                                      value: ZarrArray.sampleBytes(m.fillValue, m.dataType))
                }
            }
        }
    }

    /// Reads and decodes one chunk into `chunk` (``ZarrArrayMetadata/chunkBytes`` bytes), using
    /// `file` for the stored bytes. False when the chunk was never written.
    private func readChunk(_ index: [Int], file: inout [UInt8], into chunk: inout [UInt8]) throws -> Bool {
        let m = metadata
        let key = m.chunkKey(index)
        guard try ZarrStore.readFile(path + "/" + key, limit: m.storedChunkLimit, what: "chunk \(key)", into: &file) else { return false }
        lock.lock(); filesRead += 1; lock.unlock()
        try file.withUnsafeBytes { src in
            try chunk.withUnsafeMutableBytes { dst in try m.decodeChunk(src, key: key, path: path, into: dst.baseAddress!) }
        }
        return true
    }

    /// The decoded samples of one chunk (native byte order, full chunk extent), or nil when the
    /// chunk was never written.
    /// - Throws: ``ZarrError/badChunk(path:chunk:reason:)`` when it is corrupt or truncated.
    public func readChunk(_ index: [Int]) throws -> [UInt8]? {
        let m = metadata
        let key = m.chunkKey(index)
        guard let stored = try ZarrStore.readFile(path + "/" + key, limit: m.storedChunkLimit, what: "chunk \(key)") else { return nil }
        lock.lock(); filesRead += 1; lock.unlock()
        return try m.decodeChunk(stored, key: key, path: path)
    }

    /// Indices of every chunk a box touches (slowest dimension first).
    public func chunks(touching origin: [Int], size: [Int]) -> [[Int]] {
        let m = metadata
        if size.contains(0) { return [] }
        let first = zip(origin, m.chunks).map { $0 / $1 }
        let last = (0..<origin.count).map { (origin[$0] + size[$0] - 1) / m.chunks[$0] }
        var result: [[Int]] = []
        var index = first
        while true {
            result.append(index)
            var d = index.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] <= last[d] { break }
                index[d] = first[d]
                d -= 1
            }
            if d < 0 { return result }
        }
    }

    private func checkBox(origin: [Int], size: [Int]) throws {
        let shape = metadata.shape
        guard origin.count == shape.count, size.count == shape.count,
              (0..<shape.count).allSatisfy({ origin[$0] >= 0 && size[$0] >= 0 && origin[$0] <= shape[$0] - size[$0] }) else {
            throw ZarrError.invalidRequest(path: path, reason: "region at \(origin) of size \(size) is outside the array's shape \(shape)")
        }
    }

    // MARK: Writing

    /// Writes a box whose every chunk lies wholly inside it (origin on the chunk grid, size a
    /// multiple of the chunk extent or reaching the array's end). Chunks are written in
    /// parallel, each to a temporary file renamed into place.
    /// - Parameter source: `size.product × dataType.size` bytes, C order, native byte order.
    /// - Throws: ``ZarrError/invalidRequest(path:reason:)`` for an unaligned box,
    ///   ``ZarrError/cannotWrite(path:reason:)`` when the file system fails.
    public func unsafeWrite(origin: [Int], size: [Int], from source: UnsafeRawPointer) throws {
        try checkBox(origin: origin, size: size)
        let m = metadata
        for d in 0..<size.count {
            let aligned = origin[d] % m.chunks[d] == 0 && (size[d] % m.chunks[d] == 0 || origin[d] + size[d] == m.shape[d])
            guard aligned else {
                throw ZarrError.invalidRequest(path: path, reason: "region at \(origin) of size \(size) is not aligned to the chunks \(m.chunks) (writes replace whole chunks)")
            }
        }
        if size.contains(0) { return }
        let indices = chunks(touching: origin, size: size)
        let src = UncheckedSendable(UnsafeMutableRawPointer(mutating: source))
        try Parallel.forEachThrowing(indices.count) { i in
            let index = indices[i]
            var chunk = [UInt8](repeating: 0, count: m.chunkBytes)
            let chunkOrigin = zip(index, m.chunks).map { $0 * $1 }
            let extent = (0..<index.count).map { min(m.chunks[$0], m.shape[$0] - chunkOrigin[$0]) }
            chunk.withUnsafeMutableBytes { dst in
                if extent != m.chunks {
                    ZarrArray.fillBox(dst.baseAddress!, shape: m.chunks, origin: Array(repeating: 0, count: index.count), extent: m.chunks,
                                      value: ZarrArray.sampleBytes(m.fillValue, m.dataType))
                }
                ZarrArray.copyBox(from: UnsafeRawPointer(src.value), shape: size, origin: zip(chunkOrigin, origin).map { $0 - $1 },
                                  to: dst.baseAddress!, shape: m.chunks, origin: Array(repeating: 0, count: index.count),
                                  extent: extent, sampleBytes: m.dataType.size)
            }
            try writeChunk(index, samples: chunk)
        }
    }

    /// Encodes and writes one whole chunk (`chunkBytes` bytes, native byte order).
    public func writeChunk(_ index: [Int], samples: [UInt8]) throws {
        let m = metadata
        precondition(samples.count == m.chunkBytes, "ZarrArray.writeChunk: \(samples.count) bytes for a chunk of \(m.chunkBytes)")
        let encoded = m.encodeChunk(samples)
        let key = m.chunkKey(index)
        if let slash = key.lastIndex(of: "/") { try ZarrStore.makeDirectory(path + "/" + key[..<slash]) }
        try ZarrStore.writeAtomically(encoded, to: path + "/" + key)
    }

    // MARK: Box copies

    /// Copies an `extent` box between two C-ordered arrays, one contiguous row at a time
    /// (`repeatRow`: the source is a single row, copied into every row of the box).
    static func copyBox(from source: UnsafeRawPointer, shape sourceShape: [Int], origin sourceOrigin: [Int],
                        to destination: UnsafeMutableRawPointer, shape destinationShape: [Int], origin destinationOrigin: [Int],
                        extent: [Int], sampleBytes: Int, repeatRow: Bool = false) {
        let n = extent.count
        if extent.contains(0) { return }
        let rowBytes = extent[n - 1] * sampleBytes
        var position = [Int](repeating: 0, count: n)
        func offset(_ shape: [Int], _ origin: [Int]) -> Int {
            var o = 0
            for d in 0..<n { o = o * shape[d] + origin[d] + position[d] }
            return o * sampleBytes
        }
        while true {
            let from = repeatRow ? source : source + offset(sourceShape, sourceOrigin)
            (destination + offset(destinationShape, destinationOrigin)).copyMemory(from: from, byteCount: rowBytes)
            var d = n - 2
            while d >= 0 {
                position[d] += 1
                if position[d] < extent[d] { break }
                position[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// Sets every sample of a box to `value` (one sample's bytes).
    static func fillBox(_ destination: UnsafeMutableRawPointer, shape: [Int], origin: [Int], extent: [Int], value: [UInt8]) {
        let size = value.count
        let rowCount = extent.last ?? 0
        var row = [UInt8](repeating: 0, count: rowCount * size)
        for i in 0..<rowCount { for b in 0..<size { row[i * size + b] = value[b] } }
        row.withUnsafeBytes { r in
            copyBox(from: r.baseAddress!, shape: extent, origin: extent.map { _ in 0 },
                    to: destination, shape: shape, origin: origin, extent: extent, sampleBytes: size, repeatRow: true)
        }
    }

    /// One sample of `type` holding `value` (native byte order).
    static func sampleBytes(_ value: Double, _ type: ZarrDataType) -> [UInt8] {
        func bytes<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
        let finite = value.isFinite ? value : 0
        switch type {
        case .uint8: return bytes(UInt8(clamping: Int64(finite)))
        case .int8: return bytes(Int8(clamping: Int64(finite)))
        case .uint16: return bytes(UInt16(clamping: Int64(finite)))
        case .int16: return bytes(Int16(clamping: Int64(finite)))
        case .uint32: return bytes(UInt32(clamping: Int64(finite)))
        case .int32: return bytes(Int32(clamping: Int64(finite)))
        case .uint64: return bytes(UInt64(clamping: Int64(finite)))
        case .int64: return bytes(Int64(finite))
        case .float32: return bytes(Float(value))
        case .float64: return bytes(value)
        }
    }
}

/// File-system helpers of the directory store.
enum ZarrStore {
    /// The bytes of a file, or nil when it does not exist.
    /// - Throws: ``ZarrError/absurdSize(path:field:reason:)`` when it is larger than `limit`,
    ///   ``ZarrError/badChunk`` / ``ZarrError/badMetadata`` when it cannot be read.
    static func readFile(_ path: String, limit: Int, what: String? = nil) throws -> [UInt8]? {
        var bytes: [UInt8] = []
        return try readFile(path, limit: limit, what: what, into: &bytes) ? bytes : nil
    }

    /// ``readFile(_:limit:what:)`` into a reused buffer (resized to the file); false when the
    /// file does not exist.
    static func readFile(_ path: String, limit: Int, what: String? = nil, into bytes: inout [UInt8]) throws -> Bool {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return false }
            throw ZarrError.badMetadata(path: path, field: what ?? "file", reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ZarrError.badMetadata(path: path, field: what ?? "file", reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return false }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw ZarrError.absurdSize(path: path, field: what ?? "file", reason: "\(size) bytes, more than the \(limit) bytes it can hold")
        }
        if bytes.count != size {
            if bytes.count > size { bytes.removeLast(bytes.count - size) } else { bytes.append(contentsOf: repeatElement(0, count: size - bytes.count)) }
        }
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw ZarrError.badMetadata(path: path, field: what ?? "file", reason: "read failed after \(done) of \(size) bytes")
                }
                done += n
            }
        }
        return true
    }

    /// Creates a directory and its parents (existing ones are fine).
    static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
            throw ZarrError.cannotWrite(path: path, reason: "cannot create the directory (\(error.localizedDescription))")
        }
    }

    nonisolated(unsafe) private static var counter = 0
    private static let counterLock = NSLock()

    /// Writes a file under a hidden temporary name in the same directory, then renames it over
    /// `path`: readers see the old file, nothing, or the whole new file.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        counterLock.lock(); counter += 1; let serial = counter; counterLock.unlock()
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = "\(directory)/.\(name).partial-\(getpid())-\(serial)"
        guard let file = fopen(temporary, "wb") else {
            throw ZarrError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        let written = bytes.withUnsafeBytes { $0.isEmpty ? 0 : fwrite($0.baseAddress!, 1, $0.count, file) }
        let failed = written != bytes.count
        let why = failed ? String(cString: strerror(errno)) : ""
        if fclose(file) != 0 || failed {
            let reason = failed ? why : String(cString: strerror(errno))
            unlink(temporary)
            throw ZarrError.cannotWrite(path: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ZarrError.cannotWrite(path: path, reason: reason)
        }
    }
}
