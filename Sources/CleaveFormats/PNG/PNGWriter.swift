import CZlib
import CleaveCore

/// Writes 2D images as PNG: UInt8 or UInt16 with 1 (grey), 2 (grey+alpha), 3 (RGB) or
/// 4 (RGBA) channels. Float images must be converted explicitly first (no silent rescaling).
///
/// The image data is encoded in horizontal bands on all cores: each band is interleaved,
/// filtered and deflated on its own and becomes one IDAT chunk (PNG allows any number; their
/// concatenation is one zlib stream, the bands joined by sync flushes). The bands depend on the
/// image size only, so the file is byte-identical for any thread count.
///
/// ```
/// signature IHDR [pHYs] tEXt | IDAT(zlib header + band 0) IDAT(band 1) … IDAT(band n-1 + Adler-32) | IEND
/// ```
public enum PNGWriter {
    /// zlib level for IDAT when none is given. Level 2 (zlib's fast matcher) is ~4x faster than
    /// the default 6 on 1000² RGB overlays for files ~16 % larger; PNGs are pictures here, not archives.
    public static let defaultLevel = 2

    /// Filtered bytes per band (256 KiB): a 1000² RGB picture is 12 bands, enough to keep both
    /// cores busy; the 32 KiB window restarts at each band, which costs < 1 % in size.
    static let bandBytes = 1 << 18

    /// Writes `image` to `path`.
    /// - Parameter level: 0 = stored (no compression: the fastest, files as large as the
    ///   pixels, rows unfiltered); 1…9 = zlib levels with adaptive row filters (smaller, slower).
    /// - Throws: ``PNGError/cannotWrite(path:reason:)`` for float, multi-plane or >4-channel images,
    ///   ``ImageFileError/cannotWrite(path:reason:)`` when the file cannot be written.
    /// - Complexity: O(pixels); level 0 costs about a copy and two checksums per byte.
    public static func write<S: PixelScalar>(_ image: Image<S>, to path: String, level: Int = defaultLevel) throws {
        let chunks = try encodedChunks(image, path: path, level: level)
        let sink = try FileSink(path: path)
        for chunk in chunks { try sink.append(chunk) }
        try sink.close()
    }

    /// The PNG file for `image`, in memory (see ``write(_:to:level:)`` for `level`).
    public static func encode<S: PixelScalar>(_ image: Image<S>, path: String = "<memory>", level: Int = defaultLevel) throws -> [UInt8] {
        let chunks = try encodedChunks(image, path: path, level: level)
        var out = [UInt8]()
        out.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
        for chunk in chunks { out += chunk }
        return out
    }

    /// The file as consecutive byte runs (header, one IDAT chunk per band, end).
    static func encodedChunks<S: PixelScalar>(_ image: Image<S>, path: String, level: Int) throws -> [[UInt8]] {
        precondition((0...9).contains(level), "PNGWriter: level must be 0…9, got \(level)")
        guard S.pixelType != .float32 else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds 8- or 16-bit integers, the image is float32; write .tif or .mrc, or convert the pixel type explicitly first")
        }
        guard image.depth == 1 else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds one plane, the image has \(image.depth); choose a plane first")
        }
        guard (1...4).contains(image.channels) else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds 1–4 channels, the image has \(image.channels)")
        }
        let bytesPerSample = S.pixelType.bytesPerSample
        var header = PNGReader.signature
        var ihdr = BigEndianBuilder()
        ihdr.u32(image.width); ihdr.u32(image.height)
        ihdr.u8(bytesPerSample * 8)
        ihdr.u8([0, 4, 2, 6][image.channels - 1])
        ihdr.u8(0); ihdr.u8(0); ihdr.u8(0)
        appendChunk("IHDR", ihdr.bytes, to: &header)
        if let spacing = image.spacing, let metres = spacing.converted(toUnit: "m") {
            var phys = BigEndianBuilder()
            phys.u32(Int((1 / metres.x).rounded())); phys.u32(Int((1 / metres.y).rounded())); phys.u8(1)
            if 1 / metres.x < Double(UInt32.max) && 1 / metres.y < Double(UInt32.max) { appendChunk("pHYs", phys.bytes, to: &header) }
        }
        appendChunk("tEXt", Array("Software".utf8) + [0] + Array("Cleave \(cleaveVersion)".utf8), to: &header)
        var chunks = [header]
        chunks += image.pixels.withUnsafeBytes { raw in
            idatChunks(raw, width: image.width, height: image.height, channels: image.channels,
                       bytesPerSample: bytesPerSample, level: level)
        }
        var end: [UInt8] = []
        appendChunk("IEND", [], to: &end)
        chunks.append(end)
        return chunks
    }

    /// One encoded band: its IDAT chunk without the CRC (added once the stream is complete),
    /// the CRC so far, and the Adler-32 and length of its filtered bytes.
    struct Band {
        var chunk: [UInt8] = []
        var crc: UInt32 = 0
        var adler: UInt = 1
        var filteredCount = 0
    }

    /// The IDAT chunks of planar samples `raw` (channel-major, as ``Image`` stores them).
    static func idatChunks(_ raw: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int,
                           bytesPerSample: Int, level: Int) -> [[UInt8]] {
        let rowBytes = width * channels * bytesPerSample
        let rowsPerBand = max(1, bandBytes / (rowBytes + 1))
        let bandCount = max(1, (height + rowsPerBand - 1) / rowsPerBand)
        nonisolated(unsafe) var bands = [Band](repeating: Band(), count: bandCount)
        bands.withUnsafeMutableBufferPointer { bands in
            let source = raw
            Parallel.forEach(bandCount) { b in
                let first = b * rowsPerBand, end = min(height, first + rowsPerBand)
                let filtered: [UInt8]
                if level == 0 {
                    // Stored: filtering would not make the file smaller, so rows go as they are
                    // (filter byte 0), interleaved straight into place.
                    var out = [UInt8](repeating: 0, count: (end - first) * (rowBytes + 1))
                    out.withUnsafeMutableBufferPointer { o in
                        for row in first..<end {
                            interleave(source, into: o.baseAddress! + (row - first) * (rowBytes + 1) + 1, firstRow: row, rows: 1,
                                       width: width, height: height, channels: channels, bytesPerSample: bytesPerSample)
                        }
                    }
                    filtered = out
                } else {
                    // Interleaved rows first-1 ..< end (the row above feeds the Up/Average/Paeth filters).
                    let above = first > 0 ? 1 : 0
                    var rows = [UInt8](repeating: 0, count: (end - first + above) * rowBytes)
                    rows.withUnsafeMutableBufferPointer {
                        interleave(source, into: $0.baseAddress!, firstRow: first - above, rows: end - first + above,
                                   width: width, height: height, channels: channels, bytesPerSample: bytesPerSample)
                    }
                    filtered = rows.withUnsafeBufferPointer { r in
                        PNGFilter.filter(r.baseAddress! + above * rowBytes, rowBytes: rowBytes, rows: end - first,
                                         bytesPerPixel: channels * bytesPerSample, previous: above == 1 ? r.baseAddress! : nil)
                    }
                }
                var band = Band()
                band.filteredCount = filtered.count
                band.chunk.reserveCapacity(filtered.count + 5 * (filtered.count / 65_535 + 1) + 32 + (level == 0 ? 0 : filtered.count / 8 + 64))
                band.chunk += [0, 0, 0, 0] + Array("IDAT".utf8)
                if b == 0 { band.chunk += [0x78, 0x01] }  // zlib header: deflate, 32 KiB window (check bits: 0x7801 % 31 == 0)
                filtered.withUnsafeBytes { f in
                    band.adler = CZlib.adler32(1, f.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(f.count))
                    if level == 0 {
                        appendStoredBlocks(f, final: b == bandCount - 1, to: &band.chunk)
                    } else {
                        appendDeflated(f, level: level, final: b == bandCount - 1, to: &band.chunk)
                    }
                }
                band.chunk.withUnsafeBytes { band.crc = Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[4...])) }
                bands[b] = band
            }
        }
        // The Adler-32 of the whole filtered stream ends the last chunk.
        var adler = bands[0].adler
        for band in bands.dropFirst() { adler = adler32_combine(adler, band.adler, Int(band.filteredCount)) }
        var trailer = BigEndianBuilder()
        trailer.u32(Int(adler))
        bands[bandCount - 1].chunk += trailer.bytes
        bands[bandCount - 1].crc = trailer.bytes.withUnsafeBytes { Zlib.crc32($0, crc: bands[bandCount - 1].crc) }
        // Lengths and CRCs in place (capacity was reserved: no copies of the band data).
        for b in 0..<bandCount {
            let length = bands[b].chunk.count - 8
            precondition(length <= Int(Int32.max), "PNGWriter: IDAT band of \(length) bytes")
            for k in 0..<4 { bands[b].chunk[k] = UInt8(truncatingIfNeeded: length >> (24 - 8 * k)) }
            let crc = bands[b].crc
            for k in 0..<4 { bands[b].chunk.append(UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k)))) }
        }
        return bands.map(\.chunk)
    }

    /// Rows `firstRow ..< firstRow + rows` of a planar image as interleaved samples, 16-bit big-endian.
    static func interleave(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<UInt8>, firstRow: Int, rows: Int,
                           width: Int, height: Int, channels: Int, bytesPerSample: Int) {
        let plane = width * height
        let start = firstRow * width, count = rows * width
        if bytesPerSample == 1 {
            let src = raw.bindMemory(to: UInt8.self).baseAddress! + start
            if channels == 1 { destination.update(from: src, count: count); return }
            if channels == 3 {
                let r = src, g = src + plane, b = src + 2 * plane
                for i in 0..<count { destination[3 * i] = r[i]; destination[3 * i + 1] = g[i]; destination[3 * i + 2] = b[i] }
                return
            }
            for c in 0..<channels {
                let s = src + c * plane
                var d = destination + c
                for i in 0..<count { d.pointee = s[i]; d += channels }
            }
        } else {
            let src = raw.bindMemory(to: UInt16.self).baseAddress! + start
            for c in 0..<channels {
                let s = src + c * plane
                for i in 0..<count {
                    let v = s[i]
                    destination[(i * channels + c) * 2] = UInt8(v >> 8)
                    destination[(i * channels + c) * 2 + 1] = UInt8(v & 0xFF)
                }
            }
        }
    }

    /// Raw deflate stored blocks (≤ 65 535 bytes each) for `data`; the last block of the
    /// stream is marked final. Each band starts on a byte boundary, so no bit packing is needed.
    static func appendStoredBlocks(_ data: UnsafeRawBufferPointer, final: Bool, to out: inout [UInt8]) {
        let blockCount = max(1, (data.count + 65_534) / 65_535)
        out.reserveCapacity(out.count + data.count + 5 * blockCount + 8)
        for block in 0..<blockCount {
            let lo = block * 65_535, hi = min(data.count, lo + 65_535), length = hi - lo
            out.append(final && block == blockCount - 1 ? 1 : 0)
            out.append(UInt8(length & 0xFF)); out.append(UInt8(length >> 8))
            out.append(UInt8(~length & 0xFF)); out.append(UInt8((~length >> 8) & 0xFF))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[lo..<hi]))
        }
    }

    /// Raw deflate of `data` at `level`, ended by a sync flush (byte-aligned, so the next band's
    /// stream continues it) or, for the last band, by the final block.
    static func appendDeflated(_ data: UnsafeRawBufferPointer, level: Int, final: Bool, to out: inout [UInt8]) {
        var stream = z_stream()
        let status = deflateInit2_(&stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "PNGWriter: deflateInit2 failed with \(status)")
        defer { deflateEnd(&stream) }
        let capacity = Int(deflateBound(&stream, UInt(data.count))) + 64
        var buffer = [UInt8](repeating: 0, count: capacity)
        let produced: Int = buffer.withUnsafeMutableBufferPointer { dst in
            stream.next_in = UnsafeMutablePointer(mutating: data.bindMemory(to: UInt8.self).baseAddress)
            stream.avail_in = UInt32(data.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = UInt32(capacity)
            let result = CZlib.deflate(&stream, final ? Z_FINISH : Z_SYNC_FLUSH)
            precondition(result == (final ? Z_STREAM_END : Z_OK) && stream.avail_in == 0,
                         "PNGWriter: deflate failed with \(result)")
            return capacity - Int(stream.avail_out)
        }
        out.append(contentsOf: buffer[0..<produced])
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        var length = BigEndianBuilder()
        length.u32(data.count)
        out += length.bytes
        let body = Array(type.utf8) + data
        out += body
        var crc = BigEndianBuilder()
        crc.u32(Int(body.withUnsafeBytes { Zlib.crc32($0) }))
        out += crc.bytes
    }
}

/// Big-endian byte building for PNG.
struct BigEndianBuilder {
    var bytes: [UInt8] = []
    mutating func u8(_ v: Int) { bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: Int) { for k in (0..<4).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
}
