import CleaveCore

/// Writes ``Image``s as TIFF: uncompressed or Deflate (with horizontal predictor for integer
/// samples), uint8 / uint16 / float32, stacks as pages, channels interleaved, planar or as
/// pages, with an ImageJ description so Fiji opens stacks with the right axes and scale.
///
/// File layout (all little-endian; offsets beyond 4 GB switch to BigTIFF automatically):
///
/// ```
/// 0:  header (8 bytes classic / 16 BigTIFF; the first 16 bytes are reserved either way)
/// 16: pixel data of page 0, page 1, …   (uncompressed pages are contiguous, as ImageJ expects)
///     IFD 0 + its values, IFD 1 + its values, …
/// ```
public enum TIFFWriter {
    /// Writes `image` to `path`.
    /// - Throws: ``ImageFileError/cannotWrite(path:reason:)`` on I/O failure.
    public static func write<S: PixelScalar>(_ image: Image<S>, to path: String, options: ImageWriteOptions = .default) throws {
        let sink = try FileSink(path: path)
        try write(image, to: sink, path: path, options: options)
        try sink.close()
    }

    /// The TIFF file for `image`, in memory.
    public static func encode<S: PixelScalar>(_ image: Image<S>, options: ImageWriteOptions = .default) throws -> [UInt8] {
        let sink = MemorySink()
        try write(image, to: sink, path: "<memory>", options: options)
        return sink.bytes
    }

    /// One page to write: where its sample planes come from in the image.
    private struct PagePlan {
        /// (plane, channel) of each sample plane; interleaved pages list all channels.
        var sources: [(plane: Int, channel: Int)]
        var interleaved: Bool
    }

    enum Layout { case pages, planar, interleaved }

    static func write<S: PixelScalar>(_ image: Image<S>, to sink: ByteSink, path: String, options: ImageWriteOptions) throws {
        let shape = image.shape
        let channels = shape.channels
        var layout: Layout
        switch options.channelLayout {
        case .automatic:
            layout = (S.pixelType == .uint8 && (channels == 3 || channels == 4)) ? .interleaved : .pages
        case .interleaved: layout = .interleaved
        case .planar: layout = .planar
        case .pages: layout = .pages
        }
        if channels == 1 { layout = .pages }
        var pages: [PagePlan] = []
        for z in 0..<shape.depth {
            switch layout {
            case .pages:
                for c in 0..<channels { pages.append(PagePlan(sources: [(z, c)], interleaved: false)) }
            case .planar:
                pages.append(PagePlan(sources: (0..<channels).map { (z, $0) }, interleaved: false))
            case .interleaved:
                pages.append(PagePlan(sources: (0..<channels).map { (z, $0) }, interleaved: true))
            }
        }
        let samplesPerPixel = layout == .pages ? 1 : channels
        let bytesPerSample = S.pixelType.bytesPerSample
        let rowBytes = shape.width * (layout == .interleaved ? channels : 1) * bytesPerSample
        let compress = options.compression == .deflate
        let rowsPerStrip = compress ? max(1, min(shape.height, (1 << 16) / max(1, rowBytes))) : shape.height
        // Horizontal differencing for integers, the floating-point predictor for floats.
        let predictor = compress ? (S.pixelType == .float32 ? 3 : 2) : 1

        // Reserve the header; written at the end once classic vs BigTIFF is known.
        try sink.append([UInt8](repeating: 0, count: 16))
        var stripOffsets: [[Int]] = []
        var stripCounts: [[Int]] = []
        try image.pixels.withUnsafeBytes { raw in
            for page in pages {
                var offsets: [Int] = []
                var counts: [Int] = []
                // Writes one sample plane (or the interleaved plane) as strips.
                func emit(_ planeBytes: UnsafeRawBufferPointer) throws {
                    var row = 0
                    while row < shape.height {
                        let rows = min(rowsPerStrip, shape.height - row)
                        let strip = UnsafeRawBufferPointer(rebasing: planeBytes[(row * rowBytes)..<((row + rows) * rowBytes)])
                        offsets.append(sink.position)
                        if compress {
                            var data = [UInt8](strip)
                            let stride = page.interleaved ? channels : 1
                            data.withUnsafeMutableBytes { buffer in
                                if predictor == 2 {
                                    applyDifference(buffer, rows: rows, rowBytes: rowBytes, stride: stride, sampleBytes: bytesPerSample)
                                } else {
                                    applyFloatingPointPredictor(buffer, rows: rows, rowBytes: rowBytes, stride: stride, sampleBytes: bytesPerSample)
                                }
                            }
                            let packed = data.withUnsafeBytes { Zlib.deflate($0, level: options.deflateLevel) }
                            try sink.append(packed)
                            counts.append(packed.count)
                        } else {
                            try sink.append(strip)
                            counts.append(strip.count)
                        }
                        row += rows
                    }
                }
                if page.interleaved {
                    let interleaved = interleave(raw, shape: shape, plane: page.sources[0].plane, bytesPerSample: bytesPerSample)
                    try interleaved.withUnsafeBytes { try emit($0) }
                } else {
                    for source in page.sources {
                        let start = shape.index(column: 0, row: 0, plane: source.plane, channel: source.channel) * bytesPerSample
                        try emit(UnsafeRawBufferPointer(rebasing: raw[start..<start + shape.planeSize * bytesPerSample]))
                    }
                }
                stripOffsets.append(offsets)
                stripCounts.append(counts)
            }
        }

        // Directories.
        let dataEnd = sink.position
        let description = imageJDescription(image, layout: layout, pageCount: pages.count)
        func entries(for index: Int, big: Bool) -> [TIFFWriterEntry] {
            var e: [TIFFWriterEntry] = []
            e.append(.long(TIFFTag.newSubfileType, [0]))
            e.append(.long(TIFFTag.imageWidth, [shape.width]))
            e.append(.long(TIFFTag.imageLength, [shape.height]))
            e.append(.short(TIFFTag.bitsPerSample, Array(repeating: bytesPerSample * 8, count: samplesPerPixel)))
            e.append(.short(TIFFTag.compression, [compress ? 8 : 1]))
            let rgb = samplesPerPixel >= 3 && samplesPerPixel <= 4 && S.pixelType != .float32
            e.append(.short(TIFFTag.photometric, [rgb ? 2 : 1]))
            if index == 0 { e.append(.ascii(TIFFTag.imageDescription, description)) }
            e.append(big ? .long8(TIFFTag.stripOffsets, stripOffsets[index]) : .long(TIFFTag.stripOffsets, stripOffsets[index]))
            e.append(.short(TIFFTag.samplesPerPixel, [samplesPerPixel]))
            e.append(.long(TIFFTag.rowsPerStrip, [rowsPerStrip]))
            e.append(big ? .long8(TIFFTag.stripByteCounts, stripCounts[index]) : .long(TIFFTag.stripByteCounts, stripCounts[index]))
            if let spacing = writableSpacing(image.spacing) {
                e.append(.rational(TIFFTag.xResolution, 1 / spacing.x))
                e.append(.rational(TIFFTag.yResolution, 1 / spacing.y))
            }
            if samplesPerPixel > 1 { e.append(.short(TIFFTag.planarConfiguration, [layout == .planar ? 2 : 1])) }
            if image.spacing != nil { e.append(.short(TIFFTag.resolutionUnit, [1])) }
            e.append(.ascii(TIFFTag.software, "Cleave \(cleaveVersion)"))
            if predictor != 1 { e.append(.short(TIFFTag.predictor, [predictor])) }
            if samplesPerPixel > 1 {
                let extra = samplesPerPixel - (rgb ? 3 : 1)
                if extra > 0 {
                    let alpha = samplesPerPixel == 4 || samplesPerPixel == 2
                    e.append(.short(TIFFTag.extraSamples, (0..<extra).map { $0 == 0 && alpha ? 2 : 0 }))
                }
            }
            e.append(.short(TIFFTag.sampleFormat, Array(repeating: S.pixelType == .float32 ? 3 : 1, count: samplesPerPixel)))
            return e
        }
        // Classic unless some offset would pass 4 GB.
        var big = options.bigTIFF ?? false
        if options.bigTIFF == nil {
            var total = dataEnd
            for i in pages.indices { total += TIFFWriterEntry.directorySize(entries(for: i, big: false), big: false) }
            big = total >= Int(UInt32.max) - 16
        }
        var next = dataEnd + (dataEnd & 1)
        if dataEnd & 1 == 1 { try sink.append([0]) }
        let firstIFD = next
        for i in pages.indices {
            let list = entries(for: i, big: big).sorted { $0.tag < $1.tag }
            let size = TIFFWriterEntry.directorySize(list, big: big)
            let following = i + 1 < pages.count ? next + size : 0
            let bytes = TIFFWriterEntry.directory(list, at: next, next: following, big: big)
            precondition(bytes.count == size, "TIFFWriter: directory size mismatch \(bytes.count) vs \(size)")
            try sink.append(bytes)
            next += size
        }
        var header = LittleEndianBuilder()
        header.u8(0x49); header.u8(0x49)
        if big {
            header.u16(43); header.u16(8); header.u16(0); header.u64(firstIFD)
        } else {
            guard firstIFD <= Int(UInt32.max) else {
                throw ImageFileError.cannotWrite(path: path, reason: "data exceeds 4 GB; allow BigTIFF (ImageWriteOptions.bigTIFF = nil or true)")
            }
            header.u16(42); header.u32(firstIFD)
        }
        try sink.patch(header.bytes, at: 0)
    }

    /// Spacing as ImageJ understands it: units ImageJ knows, Å expressed in nm.
    static func writableSpacing(_ spacing: Spacing?) -> Spacing? {
        guard let spacing else { return nil }
        if spacing.unit == "Å" { return spacing.converted(toUnit: "nm") }
        return spacing
    }

    /// The ImageJ hyperstack description (images, channels, slices, unit, spacing, range).
    static func imageJDescription<S: PixelScalar>(_ image: Image<S>, layout: Layout, pageCount: Int) -> String {
        var text = "ImageJ=1.11a\nimages=\(pageCount)\n"
        let channels = layout == .pages ? image.channels : 1
        if channels > 1 { text += "channels=\(channels)\n" }
        if image.depth > 1 { text += "slices=\(image.depth)\n" }
        if channels > 1 { text += "hyperstack=true\nmode=grayscale\n" }
        if let spacing = writableSpacing(image.spacing) {
            let unit = spacing.unit == "µm" ? "micron" : spacing.unit
            text += "unit=\(unit)\n"
            if image.depth > 1 { text += "spacing=\(spacing.z)\n" }
        }
        if image.pixelType != .uint8 || image.channels == 1, let range = sampleRange(image) {
            text += "min=\(range.min)\nmax=\(range.max)\n"
        }
        text += "loop=false\n"
        return text
    }

    /// `Image.minMax()` as Doubles, scanned over the concrete sample type (the generic
    /// `minMax` lives in CleaveCore and runs unspecialised from here, ~25x slower). Same
    /// semantics: NaNs skipped, nil when no sample is a number.
    static func sampleRange<S: PixelScalar>(_ image: Image<S>) -> (min: Double, max: Double)? {
        image.pixels.withUnsafeBytes { raw -> (min: Double, max: Double)? in
            switch S.pixelType {
            case .uint8: return scanRange(raw.bindMemory(to: UInt8.self), lowest: UInt8.lowest, highest: UInt8.highest)
            case .uint16: return scanRange(raw.bindMemory(to: UInt16.self), lowest: UInt16.lowest, highest: UInt16.highest)
            case .float32: return scanRange(raw.bindMemory(to: Float.self), lowest: Float.lowest, highest: Float.highest)
            }
        }
    }

    @_specialize(where T == UInt8)
    @_specialize(where T == UInt16)
    @_specialize(where T == Float)
    static func scanRange<T: PixelScalar>(_ p: UnsafeBufferPointer<T>, lowest: T, highest: T) -> (min: Double, max: Double)? {
        var lo = highest
        var hi = lowest
        var seen = false
        for v in p where v == v {
            if v < lo { lo = v }
            if v > hi { hi = v }
            seen = true
        }
        return seen ? (lo.doubleValue, hi.doubleValue) : nil
    }

    /// Interleaves all channels of one plane into pixel-major order.
    static func interleave(_ raw: UnsafeRawBufferPointer, shape: Shape, plane: Int, bytesPerSample: Int) -> [UInt8] {
        let channels = shape.channels
        let count = shape.planeSize
        var out = [UInt8](repeating: 0, count: count * channels * bytesPerSample)
        out.withUnsafeMutableBytes { dst in
            for c in 0..<channels {
                let start = shape.index(column: 0, row: 0, plane: plane, channel: c) * bytesPerSample
                for i in 0..<count {
                    for b in 0..<bytesPerSample {
                        dst[(i * channels + c) * bytesPerSample + b] = raw[start + i * bytesPerSample + b]
                    }
                }
            }
        }
        return out
    }

    /// Floating-point predictor (3): each row's sample bytes regrouped into byte planes, most
    /// significant first, then byte-wise differencing with a stride of `stride` samples.
    static func applyFloatingPointPredictor(_ p: UnsafeMutableRawBufferPointer, rows: Int, rowBytes: Int, stride: Int, sampleBytes: Int) {
        let samples = rowBytes / sampleBytes
        var planes = [UInt8](repeating: 0, count: rowBytes)
        for r in 0..<rows {
            let row = (p.baseAddress! + r * rowBytes).assumingMemoryBound(to: UInt8.self)
            for s in 0..<samples {
                for b in 0..<sampleBytes { planes[(sampleBytes - 1 - b) * samples + s] = row[s * sampleBytes + b] }
            }
            var i = rowBytes - 1
            while i >= stride { planes[i] &-= planes[i - stride]; i -= 1 }
            for i in 0..<rowBytes { row[i] = planes[i] }
        }
    }

    /// Horizontal differencing (predictor 2) on little-endian integer rows, in place.
    static func applyDifference(_ p: UnsafeMutableRawBufferPointer, rows: Int, rowBytes: Int, stride: Int, sampleBytes: Int) {
        let rowSamples = rowBytes / sampleBytes
        for r in 0..<rows {
            let row = p.baseAddress! + r * rowBytes
            if sampleBytes == 1 {
                let q = row.assumingMemoryBound(to: UInt8.self)
                var i = rowSamples - 1
                while i >= stride { q[i] &-= q[i - stride]; i -= 1 }
            } else {
                let q = row.assumingMemoryBound(to: UInt16.self)
                var i = rowSamples - 1
                while i >= stride { q[i] &-= q[i - stride]; i -= 1 }
            }
        }
    }
}
