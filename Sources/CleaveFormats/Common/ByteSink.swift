#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where writers put bytes: a file or a growing array. Writers append, then may patch
/// earlier bytes (e.g. a header offset known only at the end).
protocol ByteSink: AnyObject {
    /// Bytes written so far (the offset of the next append).
    var position: Int { get }
    func append(_ bytes: UnsafeRawBufferPointer) throws
    func patch(_ bytes: [UInt8], at offset: Int) throws
}

extension ByteSink {
    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }
}

/// Appends to an in-memory array.
final class MemorySink: ByteSink {
    private(set) var bytes: [UInt8] = []
    var position: Int { bytes.count }
    func append(_ buffer: UnsafeRawBufferPointer) { bytes.append(contentsOf: buffer) }
    func patch(_ patch: [UInt8], at offset: Int) {
        for (i, b) in patch.enumerated() { bytes[offset + i] = b }
    }
}

/// Writes a file through stdio buffering. The file is created (or truncated) on init; call
/// ``close()`` to flush, which reports late write errors (e.g. a full disk).
final class FileSink: ByteSink {
    let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private(set) var position = 0

    init(path: String) throws {
        self.path = path
        guard let f = fopen(path, "wb") else {
            throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        setvbuf(f, nil, _IOFBF, 1 << 20)
    }

    func append(_ buffer: UnsafeRawBufferPointer) throws {
        guard let file, buffer.count > 0 else { return }
        guard fwrite(buffer.baseAddress!, 1, buffer.count, file) == buffer.count else {
            throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        position += buffer.count
    }

    func patch(_ bytes: [UInt8], at offset: Int) throws {
        guard let file else { return }
        fflush(file)
        let ok = bytes.withUnsafeBytes { pwrite(fileno(file), $0.baseAddress!, $0.count, off_t(offset)) == $0.count }
        guard ok else { throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }

    func close() throws {
        guard let f = file else { return }
        file = nil
        let flushed = fflush(f) == 0
        let closed = fclose(f) == 0
        guard flushed && closed else {
            throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { if let f = file { fclose(f) } }
}

/// Little-endian byte building for writers.
struct LittleEndianBuilder {
    var bytes: [UInt8] = []
    mutating func u8(_ v: Int) { bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u16(_ v: Int) { for k in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u32(_ v: Int) { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u64(_ v: Int) { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func f32(_ v: Float) { u32(Int(v.bitPattern)) }
}
