#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access bytes of one input: an open file (read with `pread`, so a reader can fetch
/// one page of a large stack without loading the rest) or a buffer already in memory.
///
/// Every read is checked against ``size`` first; a read past the end throws the error made by
/// the owner's `truncated` closure, so each format reports truncation in its own words.
final class ByteSource {
    /// Path shown in error messages ("<memory>" for buffers).
    let path: String
    /// Total number of bytes.
    let size: Int
    private let descriptor: Int32
    private let memory: [UInt8]
    /// Makes the error for a read of `expected` bytes at `offset` when only `actual` remain.
    var truncated: (_ offset: Int, _ expected: Int, _ actual: Int) -> Error

    /// Opens a file for reading.
    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImageFileError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            close(fd)
            throw ImageFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ImageFileError.cannotOpen(path: path, reason: "is a directory")
        }
        self.path = path
        self.size = Int(status.st_size)
        self.descriptor = fd
        self.memory = []
        self.truncated = { offset, expected, actual in
            ImageFileError.truncated(path: path, offset: offset, expected: expected, actual: actual)
        }
    }

    /// Wraps bytes already in memory.
    init(bytes: [UInt8], path: String = "<memory>") {
        self.path = path
        self.size = bytes.count
        self.descriptor = -1
        self.memory = bytes
        self.truncated = { offset, expected, actual in
            ImageFileError.truncated(path: path, offset: offset, expected: expected, actual: actual)
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// True when `count` bytes at `offset` lie inside the source.
    @inline(__always) func contains(offset: Int, count: Int) -> Bool {
        offset >= 0 && count >= 0 && offset <= size && count <= size - offset
    }

    /// Copies `count` bytes at `offset` into `destination`.
    /// - Throws: the owner's truncation error when the range runs past the end.
    func read(offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        guard contains(offset: offset, count: count) else {
            throw truncated(offset, count, max(0, size - max(0, offset)))
        }
        if count == 0 { return }
        if descriptor < 0 {
            memory.withUnsafeBytes { src in
                destination.copyMemory(from: src.baseAddress! + offset, byteCount: count)
            }
            return
        }
        var done = 0
        while done < count {
            let got = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw ImageFileError.cannotRead(path: path, offset: offset + done, reason: String(cString: strerror(errno)))
            }
            if got == 0 { throw truncated(offset, count, done) }
            done += got
        }
    }

    /// `count` bytes at `offset` as a new array.
    func bytes(offset: Int, count: Int) throws -> [UInt8] {
        guard contains(offset: offset, count: count) else {
            throw truncated(offset, count, max(0, size - max(0, offset)))
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { try read(offset: offset, count: count, into: buffer.baseAddress!) }
            initialized = count
        }
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the source; none past it).
    func prefix(offset: Int = 0, count: Int) throws -> [UInt8] {
        let available = max(0, min(count, size - offset))
        return try bytes(offset: offset, count: available)
    }
}
