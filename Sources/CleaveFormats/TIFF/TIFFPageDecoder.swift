/// Decodes the strips or tiles of one page that intersect a window into a raster.
///
/// The raster holds `layout.samplePlanes` sample planes, each `window.height` rows of
/// `window.width × chunkSamples × rasterSampleBytes` bytes, native byte order:
///
/// ```
/// plane p: row 0 [x0 s0 s1 … | x1 s0 s1 … ] row 1 …      (s = interleaved samples)
/// ```
/// Only segments that touch the window are read, so one tile of a huge page costs one tile.
struct TIFFPageDecoder {
    let layout: TIFFPageLayout
    let source: ByteSource

    /// The part of the page to decode, in pixels.
    struct Window {
        var x: Int, y: Int, width: Int, height: Int
    }

    /// Bytes of one raster row for `window`.
    func rasterRowBytes(_ window: Window) -> Int {
        window.width * layout.chunkSamples * layout.rasterSampleBytes
    }

    /// Decodes `window` into `planes` (one pointer per sample plane, each
    /// `window.height × rasterRowBytes(window)` bytes).
    func decode(window: Window, into planes: [UnsafeMutableRawPointer]) throws {
        let L = layout
        let rowBytes = rasterRowBytes(window)
        let sampleBytes = L.rasterSampleBytes
        let pixelBytes = L.chunkSamples * sampleBytes
        // Plain structs with explicit release: no reference-counted helpers in this loop.
        var compressed = ScratchBuffer()
        var scratch = ScratchBuffer()
        var unpacked = ScratchBuffer()
        defer { compressed.release(); scratch.release(); unpacked.release() }
        for plane in 0..<L.samplePlanes {
            let base = planes[plane]
            for down in 0..<L.segmentsDown {
                let y0 = down * L.segmentHeight
                let rows = L.isTiled ? L.segmentHeight : min(L.segmentHeight, L.height - y0)
                let ya = max(y0, window.y), yb = min(y0 + rows, window.y + window.height)
                if ya >= yb { continue }
                for across in 0..<L.segmentsAcross {
                    let x0 = across * L.segmentWidth
                    let columns = L.isTiled ? L.segmentWidth : L.width
                    let xa = max(x0, window.x), xb = min(x0 + columns, window.x + window.width)
                    if xa >= xb { continue }
                    let segment = plane * L.segmentsPerPlane + down * L.segmentsAcross + across
                    let needed = L.segmentRowBytes * rows
                    // Decode straight into the raster when the segment is whole rows of it.
                    let direct = !L.isTiled && L.bitsPerSample >= 8 && window.x == 0 && window.width == L.width
                        && y0 >= window.y && y0 + rows <= window.y + window.height
                    let target: UnsafeMutableRawPointer
                    if direct {
                        target = base + (y0 - window.y) * rowBytes
                    } else {
                        target = scratch.pointer(capacity: needed)
                    }
                    try decodeSegment(segment, into: target, byteCount: needed, compressed: &compressed)
                    var decoded = UnsafeRawPointer(target)
                    var decodedRowBytes = L.segmentRowBytes
                    if L.bitsPerSample < 8 {
                        let rowSamples = L.segmentWidth * L.chunkSamples
                        let u = unpacked.pointer(capacity: rowSamples * rows)
                        SampleKernels.unpackBits(target.assumingMemoryBound(to: UInt8.self), sourceRowBytes: L.segmentRowBytes,
                                                 rows: rows, rowSamples: rowSamples, bits: L.bitsPerSample,
                                                 into: u.assumingMemoryBound(to: UInt8.self))
                        decoded = UnsafeRawPointer(u)
                        decodedRowBytes = rowSamples
                    }
                    if direct { continue }
                    // Copy the intersection into the raster.
                    let copyBytes = (xb - xa) * pixelBytes
                    for y in ya..<yb {
                        let from = decoded + (y - y0) * decodedRowBytes + (xa - x0) * pixelBytes
                        let to = base + (y - window.y) * rowBytes + (xa - window.x) * pixelBytes
                        to.copyMemory(from: from, byteCount: copyBytes)
                    }
                }
            }
        }
    }

    /// Reads, decompresses, byte-swaps and un-predicts one segment into `target` (`byteCount` bytes).
    private func decodeSegment(_ segment: Int, into target: UnsafeMutableRawPointer, byteCount: Int,
                               compressed: inout ScratchBuffer) throws {
        let L = layout
        let offset = L.offsets[segment]
        let stored = L.byteCounts[segment]
        let path = source.path
        if stored == 0 {
            target.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
            return
        }
        switch L.compression {
        case .none:
            guard stored >= byteCount else {
                throw TIFFError.truncated(path: path, offset: offset, expected: byteCount, actual: stored)
            }
            try source.read(offset: offset, count: byteCount, into: target)
            if L.fillOrderReversed { SampleKernels.reverseBits(target.assumingMemoryBound(to: UInt8.self), count: byteCount) }
        default:
            let input = compressed.pointer(capacity: stored)
            try source.read(offset: offset, count: stored, into: input)
            if L.fillOrderReversed {
                SampleKernels.reverseBits(input.assumingMemoryBound(to: UInt8.self), count: stored)
            }
            let out = target.assumingMemoryBound(to: UInt8.self)
            let produced: Int
            do {
                let buffer = UnsafeRawBufferPointer(start: input, count: stored)
                switch L.compression {
                case .lzw: produced = try LZWDecoder.decode(buffer, into: out, capacity: byteCount)
                case .packBits: produced = PackBits.decode(buffer, into: out, capacity: byteCount)
                default: produced = try Zlib.inflate(buffer, into: out, capacity: byteCount).count
                }
            } catch let error as CodecFailure {
                throw TIFFError.corruptData(path: path, page: L.index, offset: offset + error.offset, reason: error.reason)
            }
            guard produced == byteCount else {
                throw TIFFError.corruptData(path: path, page: L.index, offset: offset,
                                            reason: "\(L.compression.name) segment \(segment) decodes to \(produced) bytes, expected \(byteCount)")
            }
        }
        let sampleBytes = L.bitsPerSample / 8
        let rows = byteCount / L.segmentRowBytes
        if L.predictor == 3 {
            SampleKernels.undoFloatingPointPredictor(target, rows: rows, rowBytes: L.segmentRowBytes,
                                                     rowSamples: L.segmentWidth * L.chunkSamples, stride: L.chunkSamples,
                                                     sampleBytes: sampleBytes)
            return
        }
        if !L.littleEndian && sampleBytes > 1 {
            SampleKernels.byteSwap(target, byteCount: byteCount, sampleBytes: sampleBytes)
        }
        if L.predictor == 2 {
            SampleKernels.undoHorizontalDifference(target, rows: rows, rowBytes: L.segmentRowBytes,
                                                   rowSamples: L.segmentWidth * L.chunkSamples, stride: L.chunkSamples,
                                                   sampleBytes: sampleBytes)
        }
    }
}

/// A reusable heap buffer that grows on demand (pointers stay valid until the next growth).
/// The owner calls ``release()`` when done.
struct ScratchBuffer {
    private var base: UnsafeMutableRawPointer?
    private var size = 0

    mutating func pointer(capacity: Int) -> UnsafeMutableRawPointer {
        if capacity > size || base == nil {
            base?.deallocate()
            size = max(capacity, 1)
            base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        }
        return base!
    }

    mutating func release() {
        base?.deallocate()
        base = nil
        size = 0
    }
}
