import CleaveCore

/// Compression schemes Cleave decodes.
enum TIFFCompression: Int {
    case none = 1
    case lzw = 5
    case deflate = 8
    case deflateOld = 32946
    case packBits = 32773

    var name: String {
        switch self {
        case .none: return "none"
        case .lzw: return "lzw"
        case .deflate, .deflateOld: return "deflate"
        case .packBits: return "packbits"
        }
    }

    static func name(code: Int) -> String {
        switch code {
        case 2: return "CCITT RLE"
        case 3: return "CCITT fax 3"
        case 4: return "CCITT fax 4"
        case 6, 7: return "JPEG"
        case 34712: return "JPEG 2000"
        case 34887, 34925: return "LERC/LZMA"
        case 50000: return "Zstandard"
        case 50001: return "WebP"
        default: return TIFFCompression(rawValue: code)?.name ?? "code \(code)"
        }
    }
}

/// The validated geometry and encoding of one TIFF page.
///
/// Built from a ``TIFFDirectory``; construction checks every size against the file, so a
/// layout that exists can be decoded without unbounded allocation:
///
/// ```
/// page  = segmentsDown × segmentsAcross segments (strips: segmentsAcross == 1) per sample plane
/// raster sample plane = height rows × rowBytes (samples ≥ 1 byte each; 1/2/4-bit unpacked to bytes)
/// ```
struct TIFFPageLayout: Sendable {
    private(set) var index: Int
    let width: Int
    let height: Int
    let samplesPerPixel: Int
    /// Bits per sample (the same for every sample).
    let bitsPerSample: Int
    /// 1 unsigned, 2 signed, 3 IEEE float.
    let sampleFormat: Int
    let compression: TIFFCompression
    /// 1 none, 2 horizontal differencing, 3 floating point.
    let predictor: Int
    /// 0 white-is-zero, 1 black-is-zero, 2 RGB, 3 palette, others kept for info.
    let photometric: Int
    /// 1 interleaved (chunky), 2 separate sample planes.
    let planarConfiguration: Int
    let fillOrderReversed: Bool
    let isTiled: Bool
    /// Tile width (tiles) or image width (strips).
    let segmentWidth: Int
    /// Tile height (tiles) or rows per strip (strips).
    let segmentHeight: Int
    private(set) var offsets: [Int]
    let byteCounts: [Int]
    /// Palette: red, green, blue tables of 2^bits entries each.
    let colorMap: [UInt16]?
    let subfileType: Int
    let littleEndian: Bool

    /// Samples interleaved in one sample plane of the raster.
    var chunkSamples: Int { planarConfiguration == 1 ? samplesPerPixel : 1 }
    /// Sample planes (segments sets) in the page.
    var samplePlanes: Int { planarConfiguration == 1 ? 1 : samplesPerPixel }
    /// Bytes one sample occupies in the raster (sub-byte samples are unpacked to one byte).
    var rasterSampleBytes: Int { bitsPerSample < 8 ? 1 : bitsPerSample / 8 }
    var segmentsAcross: Int { (width + segmentWidth - 1) / segmentWidth }
    var segmentsDown: Int { (height + segmentHeight - 1) / segmentHeight }
    var segmentsPerPlane: Int { segmentsAcross * segmentsDown }
    /// Bytes of one decoded row of one segment, as stored (packed for sub-byte samples).
    var segmentRowBytes: Int { (segmentWidth * chunkSamples * bitsPerSample + 7) / 8 }
    /// True for a page flagged as a reduced-resolution copy (thumbnail / pyramid level).
    var isReducedResolution: Bool { subfileType & 1 != 0 }

    /// The sample type as stored, for info ("uint16", "int8", "float64", "bit1", "palette8").
    var storedSampleType: String {
        if photometric == 3 { return "palette\(bitsPerSample)" }
        if bitsPerSample < 8 { return "bit\(bitsPerSample)" }
        switch sampleFormat {
        case 2: return "int\(bitsPerSample)"
        case 3: return "float\(bitsPerSample)"
        default: return "uint\(bitsPerSample)"
        }
    }

    /// True when palette entries are all of the form v × 257 (8-bit colours scaled to 16 bits).
    var paletteIsEightBit: Bool { colorMap.map { $0.allSatisfy { $0 % 257 == 0 } } ?? false }

    /// Channels of the decoded page (palette pages expand to RGB).
    var outputChannels: Int { photometric == 3 ? 3 : samplesPerPixel }

    /// The pixel type a read returns for this page.
    var outputType: PixelType {
        if photometric == 3 { return paletteIsEightBit ? .uint8 : .uint16 }
        if sampleFormat == 1 || sampleFormat == 4 {
            if bitsPerSample <= 8 { return .uint8 }
            if bitsPerSample == 16 { return .uint16 }
        }
        return .float32
    }

    var photometricName: String {
        switch photometric {
        case 0: return samplesPerPixel > 1 ? "grey(white-is-zero)+extra" : "grey(white-is-zero)"
        case 1: return samplesPerPixel == 2 ? "grey+alpha" : samplesPerPixel > 1 ? "grey+extra" : "grey"
        case 2: return samplesPerPixel == 4 ? "rgba" : samplesPerPixel == 3 ? "rgb" : "rgb+extra"
        case 3: return "palette"
        case 5: return "separated(cmyk)"
        default: return "photometric \(photometric)"
        }
    }

    /// True when the segments are stored back to back, uncompressed, in order.
    var isContiguousUncompressed: Bool {
        guard compression == .none, !offsets.isEmpty else { return false }
        for i in 1..<offsets.count where offsets[i] != offsets[i - 1] + byteCounts[i - 1] { return false }
        return true
    }

    /// Total stored bytes of the page.
    var storedBytes: Int { byteCounts.reduce(0, +) }

    /// The same layout for a page stored `delta` bytes later (ImageJ's directory-less pages).
    func shifted(by delta: Int, index newIndex: Int) -> TIFFPageLayout {
        var copy = self
        copy.index = newIndex
        copy.offsets = offsets.map { $0 + delta }
        return copy
    }

    /// Reads and validates the layout of `dir`.
    init(directory dir: TIFFDirectory, values: TIFFValueReader) throws {
        let path = values.source.path
        let page = dir.index
        func fail(_ tag: Int, _ reason: String) -> TIFFError { .invalidTag(path: path, page: page, tag: tag, reason: reason) }
        index = page
        littleEndian = values.littleEndian
        guard let w = try values.integer(dir, TIFFTag.imageWidth), let h = try values.integer(dir, TIFFTag.imageLength) else {
            throw fail(dir.has(TIFFTag.imageWidth) ? TIFFTag.imageLength : TIFFTag.imageWidth, "required tag missing")
        }
        guard w >= 1, w <= 1 << 31 else { throw fail(TIFFTag.imageWidth, "width \(w) outside 1…2^31") }
        guard h >= 1, h <= 1 << 31 else { throw fail(TIFFTag.imageLength, "height \(h) outside 1…2^31") }
        width = w
        height = h
        let spp = try values.integer(dir, TIFFTag.samplesPerPixel, default: 1)!
        guard spp >= 1, spp <= 64 else { throw fail(TIFFTag.samplesPerPixel, "\(spp) samples per pixel (expected 1…64)") }
        samplesPerPixel = spp
        let bitsList = try dir.entries[TIFFTag.bitsPerSample].map { try values.integers($0, page: page) } ?? [1]
        guard let bits = bitsList.first, bitsList.allSatisfy({ $0 == bits }) else {
            throw TIFFError.unsupported(path: path, page: page, feature: "different bits per sample \(bitsList) in one page")
        }
        let formats = try dir.entries[TIFFTag.sampleFormat].map { try values.integers($0, page: page) } ?? [1]
        let format = formats.first ?? 1
        guard formats.allSatisfy({ $0 == format }) else {
            throw TIFFError.unsupported(path: path, page: page, feature: "different sample formats \(formats) in one page")
        }
        guard [1, 2, 3, 4].contains(format) else { throw fail(TIFFTag.sampleFormat, "sample format \(format) (expected 1 unsigned, 2 signed, 3 float)") }
        sampleFormat = format == 4 ? 1 : format
        switch (sampleFormat, bits) {
        case (1, 1), (1, 2), (1, 4), (1, 8), (1, 16), (1, 32), (2, 8), (2, 16), (2, 32), (3, 16), (3, 32), (3, 64): break
        default:
            throw TIFFError.unsupported(path: path, page: page, feature: "\(bits)-bit \(["", "unsigned", "signed", "float"][sampleFormat]) samples")
        }
        bitsPerSample = bits
        let compressionCode = try values.integer(dir, TIFFTag.compression, default: 1)!
        guard let comp = TIFFCompression(rawValue: compressionCode) else {
            throw TIFFError.unsupported(path: path, page: page, feature: "compression \(TIFFCompression.name(code: compressionCode)) (tag 259 = \(compressionCode))")
        }
        compression = comp
        predictor = try values.integer(dir, TIFFTag.predictor, default: 1)!
        guard [1, 2, 3].contains(predictor) else { throw fail(TIFFTag.predictor, "predictor \(predictor) (expected 1, 2 or 3)") }
        if predictor == 2, bits < 8 || bits == 64 {
            throw TIFFError.unsupported(path: path, page: page, feature: "horizontal predictor with \(bits)-bit samples")
        }
        if predictor == 3, sampleFormat != 3 {
            throw fail(TIFFTag.predictor, "floating-point predictor on non-float samples")
        }
        photometric = try values.integer(dir, TIFFTag.photometric, default: spp >= 3 ? 2 : 1)!
        planarConfiguration = spp == 1 ? 1 : try values.integer(dir, TIFFTag.planarConfiguration, default: 1)!
        guard planarConfiguration == 1 || planarConfiguration == 2 else {
            throw fail(TIFFTag.planarConfiguration, "value \(planarConfiguration) (expected 1 or 2)")
        }
        fillOrderReversed = try values.integer(dir, TIFFTag.fillOrder, default: 1)! == 2
        subfileType = try values.integer(dir, TIFFTag.newSubfileType, default: 0)!
        if photometric == 3 {
            guard spp == 1, bits <= 16, sampleFormat == 1, let e = dir.entries[TIFFTag.colorMap] else {
                throw fail(TIFFTag.colorMap, "palette image needs one unsigned ≤16-bit sample and a ColorMap")
            }
            let entries = 1 << bits
            guard e.count == 3 * entries else { throw fail(TIFFTag.colorMap, "\(e.count) values, expected \(3 * entries) for \(bits)-bit indices") }
            colorMap = try values.integers(e, page: page).map { UInt16(truncatingIfNeeded: $0) }
        } else {
            colorMap = nil
        }
        if photometric == 6 || photometric == 8 {
            throw TIFFError.unsupported(path: path, page: page, feature: "photometric interpretation \(photometric) (YCbCr/CIELab)")
        }

        // Segments: tiles or strips.
        isTiled = dir.has(TIFFTag.tileWidth) || dir.has(TIFFTag.tileOffsets)
        let offsetTag = isTiled ? TIFFTag.tileOffsets : TIFFTag.stripOffsets
        let countTag = isTiled ? TIFFTag.tileByteCounts : TIFFTag.stripByteCounts
        if isTiled {
            guard let tw = try values.integer(dir, TIFFTag.tileWidth), let th = try values.integer(dir, TIFFTag.tileLength) else {
                throw fail(TIFFTag.tileWidth, "tiled page without TileWidth/TileLength")
            }
            guard tw >= 1, th >= 1, tw <= 1 << 20, th <= 1 << 20 else { throw fail(TIFFTag.tileWidth, "tile size \(tw)×\(th) out of range") }
            segmentWidth = tw
            segmentHeight = th
        } else {
            let rps = try values.integer(dir, TIFFTag.rowsPerStrip, default: h)!
            segmentWidth = w
            segmentHeight = rps <= 0 ? h : min(rps, h)
        }
        let planes = planarConfiguration == 1 ? 1 : spp
        let across = (w + segmentWidth - 1) / segmentWidth, down = (h + segmentHeight - 1) / segmentHeight
        let grid = across.multipliedReportingOverflow(by: down)
        let segmentsTotal = grid.partialValue.multipliedReportingOverflow(by: planes)
        guard !grid.overflow, !segmentsTotal.overflow, segmentsTotal.partialValue <= values.source.size else {
            throw TIFFError.implausibleSize(path: path, page: page, reason: "\(across)×\(down)×\(planes) segments cannot fit in a \(values.source.size)-byte file")
        }
        let expectedSegments = segmentsTotal.partialValue
        guard let offsetEntry = dir.entries[offsetTag] else { throw fail(offsetTag, "required tag missing") }
        guard offsetEntry.count == expectedSegments else {
            throw fail(offsetTag, "\(offsetEntry.count) offsets, expected \(expectedSegments) for \(w)×\(h) in \(segmentWidth)×\(segmentHeight) segments")
        }
        offsets = try values.integers(offsetEntry, page: page)
        let rowBytes = (segmentWidth * (planarConfiguration == 1 ? spp : 1) * bits + 7) / 8
        let segmentProduct = rowBytes.multipliedReportingOverflow(by: segmentHeight)
        guard !segmentProduct.overflow, segmentProduct.partialValue <= ImageFile.maximumImageBytes else {
            throw TIFFError.implausibleSize(path: path, page: page, reason: "segment of \(segmentWidth)×\(segmentHeight) pixels is too large")
        }
        let segmentBytes = segmentProduct.partialValue
        if let countEntry = dir.entries[countTag] {
            guard countEntry.count == expectedSegments else {
                throw fail(countTag, "\(countEntry.count) byte counts, expected \(expectedSegments)")
            }
            byteCounts = try values.integers(countEntry, page: page)
        } else if comp == .none {
            byteCounts = Array(repeating: segmentBytes, count: expectedSegments)
        } else {
            throw fail(countTag, "required tag missing for compressed data")
        }
        let fileSize = values.source.size
        var storedTotal = 0
        for i in 0..<expectedSegments {
            let offset = offsets[i], count = byteCounts[i]
            guard offset >= 0, count >= 0 else { throw fail(offsetTag, "negative offset or byte count in segment \(i)") }
            // A zero byte count marks a missing segment (sparse files); it decodes as zeros.
            if count > 0 && !values.source.contains(offset: offset, count: count) {
                throw TIFFError.truncated(path: path, offset: offset, expected: count, actual: max(0, fileSize - offset))
            }
            storedTotal += count
        }
        // Decoded size must be achievable from the data present: no scheme expands more than
        // LZW's ~2730× (12-bit codes of 4096-byte strings); uncompressed needs every byte.
        let decodedTotal = isTiled ? segmentBytes.multipliedReportingOverflow(by: expectedSegments)
                                   : (rowBytes * planes).multipliedReportingOverflow(by: h)
        let ratio: Int
        switch comp {
        case .none: ratio = 1
        case .packBits: ratio = 64
        case .deflate, .deflateOld: ratio = 1100
        case .lzw: ratio = 2800
        }
        if decodedTotal.overflow || decodedTotal.partialValue > ImageFile.maximumImageBytes {
            throw TIFFError.implausibleSize(path: path, page: page,
                                            reason: "\(w)×\(h)×\(spp) \(bits)-bit samples exceed the \(ImageFile.maximumImageBytes >> 20) MiB limit (ImageFile.maximumImageBytes)")
        }
        if decodedTotal.partialValue > (storedTotal + 16 * expectedSegments) * ratio {
            if comp == .none {
                throw TIFFError.truncated(path: path, offset: offsets.first ?? 0, expected: decodedTotal.partialValue, actual: storedTotal)
            }
            throw TIFFError.implausibleSize(path: path, page: page,
                                            reason: "\(w)×\(h)×\(spp) \(bits)-bit samples cannot come from \(storedTotal) bytes of \(comp.name) data")
        }
    }
}
