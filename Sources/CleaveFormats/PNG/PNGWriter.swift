import CZlib
import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        if level == 0 && S.pixelType == .uint8 && image.depth == 1 && (1...4).contains(image.channels) {
            // Stored 8-bit: streamed band by band (the same bytes).
            let (width, height, channels) = (image.width, image.height, image.channels)
            try image.pixels.withUnsafeBytes { raw in
                try write(width: width, height: height, channels: channels, spacing: image.spacing, to: path, level: 0) { row, destination in
                    interleave(raw, into: destination, firstRow: row, rows: 1, width: width, height: height, channels: channels, bytesPerSample: 1)
                }
            }
            return
        }
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

    /// Writes an 8-bit picture whose rows are made on demand, without holding the picture:
    /// `fill(row, destination)` writes row `row`'s `width × channels` interleaved samples. It is
    /// called exactly once per row, from several threads at once (rows of different bands).
    /// Level 0 (stored) streams each band into its place in the file (its size is known up
    /// front); other levels compress the bands in memory first. The bytes equal those of
    /// ``write(_:to:level:)`` for the same pixels.
    /// - Parameters:
    ///   - channels: 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA).
    ///   - spacing: the physical pixel size (a pHYs chunk when it converts to metres).
    /// - Throws: ``ImageFileError/cannotWrite(path:reason:)`` when the file cannot be written.
    public static func write(width: Int, height: Int, channels: Int, spacing: Spacing? = nil, to path: String,
                             level: Int = defaultLevel, unsafeFill fill: (Int, UnsafeMutablePointer<UInt8>) -> Void) throws {
        precondition(width >= 1 && height >= 1 && (1...4).contains(channels) && (0...9).contains(level),
                     "PNGWriter.write(width:height:channels:…): \(width)×\(height)×\(channels), level \(level)")
        let head = header(width: width, height: height, channels: channels, bytesPerSample: 1, spacing: spacing)
        if level == 0 && width * channels + 1 <= 65_535 {
            try writeStored(head: head, width: width, height: height, channels: channels, to: path, fill: fill)
            return
        }
        let chunks = [head] + idatChunks(rowBytes: width * channels, height: height, bytesPerPixel: channels, level: level, fill: fill) + [end()]
        let sink = try FileSink(path: path)
        for chunk in chunks { try sink.append(chunk) }
        try sink.close()
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
        let (width, height, channels) = (image.width, image.height, image.channels)
        var chunks = [header(width: width, height: height, channels: channels, bytesPerSample: bytesPerSample, spacing: image.spacing)]
        chunks += image.pixels.withUnsafeBytes { raw in
            idatChunks(rowBytes: width * channels * bytesPerSample, height: height, bytesPerPixel: channels * bytesPerSample,
                       level: level) { row, destination in
                interleave(raw, into: destination, firstRow: row, rows: 1, width: width, height: height,
                           channels: channels, bytesPerSample: bytesPerSample)
            }
        }
        chunks.append(end())
        return chunks
    }

    /// Signature, IHDR, pHYs (when the spacing converts to metres) and tEXt.
    static func header(width: Int, height: Int, channels: Int, bytesPerSample: Int, spacing: Spacing?) -> [UInt8] {
        var header = PNGReader.signature
        var ihdr = BigEndianBuilder()
        ihdr.u32(width); ihdr.u32(height)
        ihdr.u8(bytesPerSample * 8)
        ihdr.u8([0, 4, 2, 6][channels - 1])
        ihdr.u8(0); ihdr.u8(0); ihdr.u8(0)
        appendChunk("IHDR", ihdr.bytes, to: &header)
        if let spacing, let metres = spacing.converted(toUnit: "m") {
            var phys = BigEndianBuilder()
            phys.u32(Int((1 / metres.x).rounded())); phys.u32(Int((1 / metres.y).rounded())); phys.u8(1)
            if 1 / metres.x < Double(UInt32.max) && 1 / metres.y < Double(UInt32.max) { appendChunk("pHYs", phys.bytes, to: &header) }
        }
        appendChunk("tEXt", Array("Software".utf8) + [0] + Array("Cleave \(cleaveVersion)".utf8), to: &header)
        return header
    }

    static func end() -> [UInt8] {
        var end: [UInt8] = []
        appendChunk("IEND", [], to: &end)
        return end
    }

    /// Rows per band: about ``bandBytes`` of filtered rows, at least one row.
    static func rowsPerBand(rowBytes: Int) -> Int { max(1, bandBytes / (rowBytes + 1)) }

    /// Level 0 straight to the file: every band's stored chunk has a known size, so each band
    /// is built in a band-sized buffer and written at its offset; the last chunk's Adler-32 and
    /// CRC follow once all bands are done. The same bytes as ``storedBand`` chunks in order.
    static func writeStored(head: [UInt8], width: Int, height: Int, channels: Int, to path: String,
                            fill: (Int, UnsafeMutablePointer<UInt8>) -> Void) throws {
        let lineBytes = width * channels + 1
        let perBand = rowsPerBand(rowBytes: width * channels)
        let bandCount = (height + perBand - 1) / perBand
        let rowsPerBlock = 65_535 / lineBytes
        // offsets[b]: where band b's chunk starts (length, "IDAT", [zlib header], blocks, CRC);
        // the last chunk's Adler-32 goes at offsets[bandCount] − 4, its CRC and IEND after it.
        var offsets = [head.count]
        for b in 0..<bandCount {
            let rows = min(height, (b + 1) * perBand) - b * perBand
            let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
            offsets.append(offsets[b] + (b == 0 ? 10 : 8) + 5 * blocks + rows * lineBytes + 4)
        }
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var failure: Int32 = 0
        func put(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
            var done = 0
            while done < bytes.count {
                let n = pwrite(file, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; return errno }
                done += n
            }
            return 0
        }
        failure = head.withUnsafeBytes { put($0, at: 0) }
        nonisolated(unsafe) var bands = [Band](repeating: Band(), count: bandCount)
        nonisolated(unsafe) var errors = [Int32](repeating: 0, count: bandCount)
        bands.withUnsafeMutableBufferPointer { bands in
            errors.withUnsafeMutableBufferPointer { errors in
                Parallel.forEach(bandCount) { b in
                    var band = storedBand(rows: (b * perBand)..<min(height, (b + 1) * perBand), lineBytes: lineBytes,
                                          final: b == bandCount - 1, zlibHeader: b == 0, fill: fill)
                    if b < bandCount - 1 {
                        appendCRC(&band)
                    } else {
                        // The last chunk's length counts the Adler-32 written after it.
                        let length = band.chunk.count - 8 + 4
                        for k in 0..<4 { band.chunk[k] = UInt8(truncatingIfNeeded: length >> (24 - 8 * k)) }
                    }
                    errors[b] = band.chunk.withUnsafeBytes { put($0, at: offsets[b]) }
                    band.chunk = []
                    bands[b] = band
                }
            }
        }
        // The stream's Adler-32 ends the last chunk, then its CRC and IEND.
        var tail = adlerTrailer(bands)
        let crc = tail.withUnsafeBytes { Zlib.crc32($0, crc: bands[bandCount - 1].crc) }
        for k in 0..<4 { tail.append(UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k)))) }
        tail += end()
        if failure == 0 { failure = errors.first { $0 != 0 } ?? 0 }
        if failure == 0 { failure = tail.withUnsafeBytes { put($0, at: offsets[bandCount] - 4) } }
        if close(file) != 0 && failure == 0 { failure = errno }
        guard failure == 0 else { throw ImageFileError.cannotWrite(path: path, reason: String(cString: strerror(failure))) }
    }

    /// The Adler-32 of the whole filtered stream, big-endian, from the bands' own.
    static func adlerTrailer(_ bands: [Band]) -> [UInt8] {
        var adler = bands[0].adler
        for band in bands.dropFirst() { adler = adler32_combine(adler, band.adler, Int(band.filteredCount)) }
        var trailer = BigEndianBuilder()
        trailer.u32(Int(adler))
        return trailer.bytes
    }

    /// Sets the chunk's length field and appends its CRC.
    static func appendCRC(_ band: inout Band) {
        let length = band.chunk.count - 8
        precondition(length <= Int(Int32.max), "PNGWriter: IDAT band of \(length) bytes")
        for k in 0..<4 { band.chunk[k] = UInt8(truncatingIfNeeded: length >> (24 - 8 * k)) }
        let crc = band.crc
        for k in 0..<4 { band.chunk.append(UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k)))) }
    }

    /// One encoded band: its IDAT chunk without the CRC (added once the stream is complete),
    /// the CRC so far, and the Adler-32 and length of its filtered bytes.
    struct Band {
        var chunk: [UInt8] = []
        var crc: UInt32 = 0
        var adler: UInt = 1
        var filteredCount = 0
    }

    /// The IDAT chunks of `height` rows of `rowBytes` interleaved bytes made by `fill`.
    static func idatChunks(rowBytes: Int, height: Int, bytesPerPixel: Int, level: Int,
                           fill: (Int, UnsafeMutablePointer<UInt8>) -> Void) -> [[UInt8]] {
        let lineBytes = rowBytes + 1
        let perBand = rowsPerBand(rowBytes: rowBytes)
        let bandCount = max(1, (height + perBand - 1) / perBand)
        nonisolated(unsafe) var bands = [Band](repeating: Band(), count: bandCount)
        bands.withUnsafeMutableBufferPointer { bands in
            Parallel.forEach(bandCount) { b in
                let first = b * perBand, end = min(height, first + perBand)
                if level == 0 && lineBytes <= 65_535 {
                    bands[b] = storedBand(rows: first..<end, lineBytes: lineBytes, final: b == bandCount - 1, zlibHeader: b == 0, fill: fill)
                    return
                }
                let filtered: [UInt8]
                if level == 0 {
                    // Stored, rows longer than a stored block: rows go as they are (filter byte 0).
                    var out = [UInt8](repeating: 0, count: (end - first) * lineBytes)
                    out.withUnsafeMutableBufferPointer { o in
                        for row in first..<end { fill(row, o.baseAddress! + (row - first) * lineBytes + 1) }
                    }
                    filtered = out
                } else {
                    // Rows first-1 ..< end (the row above feeds the Up/Average/Paeth filters; made
                    // again here, so that every band stands alone).
                    let above = first > 0 ? 1 : 0
                    var rows = [UInt8](repeating: 0, count: (end - first + above) * rowBytes)
                    rows.withUnsafeMutableBufferPointer { r in
                        for row in (first - above)..<end { fill(row, r.baseAddress! + (row - first + above) * rowBytes) }
                    }
                    filtered = rows.withUnsafeBufferPointer { r in
                        PNGFilter.filter(r.baseAddress! + above * rowBytes, rowBytes: rowBytes, rows: end - first,
                                         bytesPerPixel: bytesPerPixel, previous: above == 1 ? r.baseAddress! : nil)
                    }
                }
                var band = Band()
                band.filteredCount = filtered.count
                band.chunk.reserveCapacity(filtered.count + 5 * (filtered.count / 65_535 + 1) + 32 + (level == 0 ? 0 : filtered.count / 8 + 64))
                band.chunk += [0, 0, 0, 0] + Array("IDAT".utf8)
                if b == 0 { band.chunk += [0x78, 0x01] }  // zlib header: deflate, 32 KiB window (check bits: 0x7801 % 31 == 0)
                filtered.withUnsafeBytes { f in
                    band.adler = UInt(Zlib.adler32(1, f.baseAddress!.assumingMemoryBound(to: UInt8.self), count: f.count))
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
        let trailer = adlerTrailer(Array(bands))
        bands[bandCount - 1].chunk += trailer
        bands[bandCount - 1].crc = trailer.withUnsafeBytes { Zlib.crc32($0, crc: bands[bandCount - 1].crc) }
        // Lengths and CRCs in place (capacity was reserved: no copies of the band data).
        for b in 0..<bandCount { appendCRC(&bands[b]) }
        return bands.map(\.chunk)
    }

    /// A stored band built in place: stored blocks of whole rows (filter byte 0), each row
    /// interleaved straight into its block, so the pixels are copied once.
    ///
    /// ```
    /// len "IDAT" [78 01] | BFINAL/00 LEN NLEN 0 row 0 row … | … (≤ 65 535 bytes of rows per block)
    /// ```
    static func storedBand(rows: Range<Int>, lineBytes: Int, final: Bool, zlibHeader: Bool,
                           fill: (Int, UnsafeMutablePointer<UInt8>) -> Void) -> Band {
        let rowsPerBlock = 65_535 / lineBytes
        let blockCount = (rows.count + rowsPerBlock - 1) / rowsPerBlock
        let head = zlibHeader ? 10 : 8
        let total = head + 5 * blockCount + rows.count * lineBytes
        var adler: UInt = 1
        // 8 spare bytes: the stream's Adler-32 (last band) and the chunk CRC are appended later.
        let chunk = [UInt8](unsafeUninitializedCapacity: total + 8) { buffer, initialized in
            let out = buffer.baseAddress!
            for (k, byte) in ([0, 0, 0, 0] + Array("IDAT".utf8) + [0x78, 0x01]).prefix(head).enumerated() { out[k] = byte }
            var position = head
            for block in 0..<blockCount {
                let r0 = rows.lowerBound + block * rowsPerBlock, r1 = min(rows.upperBound, r0 + rowsPerBlock)
                let length = (r1 - r0) * lineBytes
                out[position] = final && block == blockCount - 1 ? 1 : 0
                out[position + 1] = UInt8(length & 0xFF); out[position + 2] = UInt8(length >> 8)
                out[position + 3] = UInt8(~length & 0xFF); out[position + 4] = UInt8((~length >> 8) & 0xFF)
                position += 5
                let start = position
                for row in r0..<r1 {
                    out[position] = 0
                    fill(row, out + position + 1)
                    position += lineBytes
                }
                adler = UInt(Zlib.adler32(UInt32(adler), out + start, count: length))
            }
            initialized = position
        }
        var band = Band()
        band.chunk = chunk
        band.adler = adler
        band.filteredCount = rows.count * lineBytes
        band.chunk.withUnsafeBytes { band.crc = Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        return band
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
