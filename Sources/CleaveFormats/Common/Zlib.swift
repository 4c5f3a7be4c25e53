import CZlib

/// zlib (RFC 1950) inflate and deflate, through the system zlib.
enum Zlib {
    /// Inflates `source` into at most `capacity` bytes.
    /// - Returns: bytes written and whether the stream reached its end.
    /// - Throws: ``CodecFailure`` for corrupt streams.
    /// - Parameter windowBits: 15 for zlib streams (the default), 15 + 32 to accept zlib or gzip.
    static func inflate(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<UInt8>,
                        capacity: Int, windowBits: Int32 = 15) throws -> (count: Int, complete: Bool) {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CodecFailure(reason: "zlib initialisation failed", offset: 0)
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: UInt8.self).baseAddress)
        stream.next_out = destination
        var inputLeft = source.count
        var outputLeft = capacity
        var complete = false
        // zlib counts are 32-bit; feed huge buffers in pieces.
        while true {
            let inChunk = min(inputLeft, Int(UInt32.max >> 1))
            let outChunk = min(outputLeft, Int(UInt32.max >> 1))
            stream.avail_in = UInt32(inChunk)
            stream.avail_out = UInt32(outChunk)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            let consumed = inChunk - Int(stream.avail_in)
            let produced = outChunk - Int(stream.avail_out)
            inputLeft -= consumed
            outputLeft -= produced
            if status == Z_STREAM_END { complete = true; break }
            if status == Z_BUF_ERROR || (status == Z_OK && consumed == 0 && produced == 0) { break }
            if status != Z_OK {
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw CodecFailure(reason: "deflate data corrupt: \(message)", offset: source.count - inputLeft)
            }
            if outputLeft == 0 || inputLeft == 0 { break }
        }
        return (capacity - outputLeft, complete)
    }

    /// Compresses bytes into a zlib stream at `level` (1…9).
    static func deflate(_ source: UnsafeRawBufferPointer, level: Int) -> [UInt8] {
        let bound = Int(compressBound(UInt(source.count)))
        var out = [UInt8](repeating: 0, count: bound)
        var length = UInt(bound)
        let status = out.withUnsafeMutableBufferPointer { dst in
            compress2(dst.baseAddress!, &length, source.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(dst.baseAddress!),
                      UInt(source.count), Int32(level))
        }
        precondition(status == Z_OK, "Zlib.deflate: compress2 failed with \(status)")
        out.removeLast(bound - Int(length))
        return out
    }

    /// Compresses bytes into one gzip member (RFC 1952) at `level` (1…9).
    static func gzip(_ source: UnsafeRawBufferPointer, level: Int) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "Zlib.gzip: deflateInit2 failed with \(status)")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(source.count))) + 32
        var out = [UInt8](repeating: 0, count: bound)
        let produced: Int = out.withUnsafeMutableBufferPointer { dst in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: UInt8.self).baseAddress)  // nil when empty: zlib reads nothing
            stream.avail_in = UInt32(source.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = UInt32(bound)
            let result = CZlib.deflate(&stream, Z_FINISH)
            precondition(result == Z_STREAM_END, "Zlib.gzip: deflate failed with \(result)")
            return bound - Int(stream.avail_out)
        }
        out.removeLast(bound - produced)
        return out
    }

    /// Whether the checksum kernels of the CZlib shim (PCLMULQDQ, SSSE3, SSE4.1) run on this CPU.
    static let hasChecksumKernels: Bool = {
        #if arch(x86_64)
        return cleave_cpu_has_checksum_simd() != 0
        #else
        return false
        #endif
    }()

    /// CRC-32 (as PNG uses it) of `bytes`, continuing from `crc`: zlib's value, by carry-less
    /// multiplication where the CPU has it (whole 16-byte blocks; zlib takes the rest).
    static func crc32(_ bytes: UnsafeRawBufferPointer, crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.bindMemory(to: UInt8.self).baseAddress else { return crc }
        var crc = crc, start = 0, count = bytes.count
        #if arch(x86_64)
        if hasChecksumKernels && count >= 64 {
            let folded = count & ~15
            crc = ~cleave_crc32_fold(base, folded, ~crc)
            start = folded; count -= folded
        }
        #endif
        guard count > 0 else { return crc }
        return UInt32(CZlib.crc32(UInt(crc), base + start, UInt32(count)))
    }

    /// Adler-32 (as zlib streams end with it) of `count` bytes at `bytes`, continuing from
    /// `adler` (1 to start): zlib's value, 32 bytes per step where the CPU has SSSE3.
    static func adler32(_ adler: UInt32, _ bytes: UnsafePointer<UInt8>, count: Int) -> UInt32 {
        #if arch(x86_64)
        if hasChecksumKernels { return cleave_adler32_simd(adler, bytes, count) }
        #endif
        return UInt32(CZlib.adler32(UInt(adler), bytes, UInt32(count)))
    }
}
