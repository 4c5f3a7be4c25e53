import CBlosc
import CZlib
import CZstd

/// How the bytes of one Zarr chunk are compressed (the v2 `compressor`, or the v3 bytes-to-bytes
/// codec after `bytes`). Decoding checks every length against the chunk's declared size before
/// and after decompressing, so a corrupt or truncated chunk is refused, never half-used.
public enum ZarrCompressor: Sendable, Equatable, CustomStringConvertible {
    /// Raw little- or big-endian samples.
    case none
    /// zlib stream (RFC 1950; numcodecs `zlib`, Zarr v2 only).
    case zlib(level: Int)
    /// gzip member (RFC 1952; numcodecs `gzip`, the v3 `gzip` codec).
    case gzip(level: Int)
    /// Zstandard frame.
    case zstd(level: Int)
    /// Blosc 1 frame (16-byte header) around an inner codec: `cname` lz4, lz4hc, blosclz, zstd,
    /// zlib; `shuffle` 0 none, 1 bytes, 2 bits; `blocksize` 0 = automatic.
    case blosc(cname: String, clevel: Int, shuffle: Int, blocksize: Int)

    /// The codec names Cleave reads (for messages and `--codec`).
    public static let supportedNames = ["none", "gzip", "zlib", "zstd", "blosc"]

    public var description: String {
        switch self {
        case .none: return "none"
        case let .zlib(level): return "zlib (level \(level))"
        case let .gzip(level): return "gzip (level \(level))"
        case let .zstd(level): return "zstd (level \(level))"
        case let .blosc(cname, clevel, shuffle, _):
            return "blosc (\(cname), level \(clevel), \(["no shuffle", "byte shuffle", "bit shuffle"][min(2, max(0, shuffle))]))"
        }
    }

    /// The blosc shuffle names of the v3 codec, by the numbers v2 uses.
    static let bloscShuffleNames = ["noshuffle", "shuffle", "bitshuffle"]

    /// Decompresses `data` into exactly `count` bytes at `destination`.
    /// - Throws: ``ZarrError/badChunk(path:chunk:reason:)`` when the data is corrupt, truncated or
    ///   decodes to another size.
    func decode(_ data: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer, count: Int,
                path: String, chunk: String) throws {
        func bad(_ reason: String) -> ZarrError { .badChunk(path: path, chunk: chunk, reason: reason) }
        switch self {
        case .none:
            guard data.count == count else { throw bad("\(data.count) bytes stored, \(count) expected") }
            if count > 0 { destination.copyMemory(from: data.baseAddress!, byteCount: count) }
        case .zlib, .gzip:
            let out = destination.assumingMemoryBound(to: UInt8.self)
            let result: (count: Int, complete: Bool)
            do {
                result = try Zlib.inflate(data, into: out, capacity: count, windowBits: 15 + 32)
            } catch let failure as CodecFailure {
                throw bad(failure.reason)
            }
            guard result.complete, result.count == count else {
                throw bad(result.complete ? "decompressed to \(result.count) bytes, \(count) expected"
                                          : "the compressed stream ends early (\(result.count) of \(count) bytes)")
            }
        case .zstd:
            guard let base = data.baseAddress, data.count > 0 else { throw bad("empty zstd frame") }
            let declared = ZSTD_getFrameContentSize(base, data.count)
            if declared == UInt64.max - 1 { throw bad("not a zstd frame") }
            if declared != UInt64.max, declared != UInt64(count) {
                throw bad("the zstd frame declares \(declared) bytes, \(count) expected")
            }
            let produced = ZSTD_decompress(destination, count, base, data.count)
            if ZSTD_isError(produced) != 0 {
                throw bad("zstd: \(String(cString: ZSTD_getErrorName(produced)))")
            }
            guard produced == count else { throw bad("decompressed to \(produced) bytes, \(count) expected") }
        case .blosc:
            guard let base = data.baseAddress, data.count >= 16 else { throw bad("\(data.count) bytes, shorter than a blosc header (16)") }
            let header = BloscHeader(base)
            guard header.version >= 1, header.version <= 4 else { throw bad("blosc format version \(header.version) unknown") }
            guard header.uncompressedBytes == count else {
                throw bad("the blosc header declares \(header.uncompressedBytes) bytes, \(count) expected")
            }
            guard header.compressedBytes == data.count else {
                throw bad("the blosc header declares \(header.compressedBytes) compressed bytes, the chunk holds \(data.count)")
            }
            var validated = 0
            guard blosc_cbuffer_validate(base, data.count, &validated) == 0, validated == count else {
                throw bad("invalid blosc header")
            }
            if count == 0 { return }
            let produced = blosc_decompress_ctx(base, destination, count, 1)
            guard produced == count else {
                throw bad(produced < 0 ? "blosc decompression failed (error \(produced))" : "decompressed to \(produced) bytes, \(count) expected")
            }
        }
    }

    /// Compresses `count` bytes of samples `typeSize` bytes wide.
    func encode(_ source: UnsafeRawBufferPointer, typeSize: Int) -> [UInt8] {
        switch self {
        case .none:
            return Array(source.bindMemory(to: UInt8.self))
        case let .zlib(level):
            return Zlib.deflate(source, level: level)
        case let .gzip(level):
            return Zlib.gzip(source, level: level)
        case let .zstd(level):
            let bound = ZSTD_compressBound(source.count)
            var out = [UInt8](repeating: 0, count: bound)
            let written = out.withUnsafeMutableBytes { dst in
                ZSTD_compress(dst.baseAddress!, bound, source.baseAddress ?? UnsafeRawPointer(dst.baseAddress!), source.count, Int32(level))
            }
            precondition(ZSTD_isError(written) == 0, "ZarrCompressor.encode: ZSTD_compress failed: \(String(cString: ZSTD_getErrorName(written)))")
            out.removeLast(bound - written)
            return out
        case let .blosc(cname, clevel, shuffle, blocksize):
            let capacity = source.count + 16
            var out = [UInt8](repeating: 0, count: capacity)
            let written = out.withUnsafeMutableBytes { dst in
                blosc_compress_ctx(Int32(clevel), Int32(shuffle), typeSize, source.count,
                                   source.baseAddress ?? UnsafeRawPointer(dst.baseAddress!), dst.baseAddress!, capacity,
                                   cname, blocksize, 1)
            }
            precondition(written > 0, "ZarrCompressor.encode: blosc_compress_ctx failed (\(written)) for \(cname)")
            out.removeLast(capacity - Int(written))
            return out
        }
    }
}

/// The 16-byte blosc 1 frame header: version, inner-codec version, flags, type size, then
/// uncompressed bytes, block size and compressed bytes (little-endian 32-bit).
struct BloscHeader {
    let version: Int
    let flags: UInt8
    let typeSize: Int
    let uncompressedBytes: Int
    let blockSize: Int
    let compressedBytes: Int

    init(_ p: UnsafeRawPointer) {
        func u32(_ offset: Int) -> Int {
            let b = p.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            return Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        }
        let b = p.assumingMemoryBound(to: UInt8.self)
        version = Int(b[0]); flags = b[2]; typeSize = Int(b[3])
        uncompressedBytes = u32(4); blockSize = u32(8); compressedBytes = u32(12)
    }
}
