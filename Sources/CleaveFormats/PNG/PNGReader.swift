import CleaveCore

/// Reads PNG: grey (1/2/4/8/16-bit), grey+alpha, RGB, RGBA (8/16-bit) and palette images
/// (expanded to RGB, or RGBA when the palette has transparency), all five row filters.
/// Interlaced (Adam7) files are de-interlaced.
///
/// Sub-byte grey keeps its values (a 1-bit image reads as 0/1, never rescaled to 0/255).
public enum PNGReader {
    /// Parsed header and ancillary information.
    struct Header {
        var width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0
        var palette: [UInt8] = []
        var paletteAlpha: [UInt8] = []
        var spacing: Spacing?
        var text: [String: String] = [:]
        var dataSize = 0

        var samples: Int {
            switch colorType {
            case 0, 3: return 1
            case 2: return 3
            case 4: return 2
            default: return 4
            }
        }
        var outputChannels: Int { colorType == 3 ? (paletteAlpha.isEmpty ? 3 : 4) : samples }
        var pixelType: PixelType { bitDepth == 16 ? .uint16 : .uint8 }
        var rowBytes: Int { (width * samples * bitDepth + 7) / 8 }
        var photometric: String {
            switch colorType {
            case 0: return "grey"
            case 2: return "rgb"
            case 3: return "palette"
            case 4: return "grey+alpha"
            default: return "rgba"
            }
        }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Reads a PNG file.
    public static func read(path: String) throws -> AnyImage { try read(source: try ByteSource(path: path)) }

    /// Decodes PNG bytes held in memory.
    public static func read(bytes: [UInt8], path: String = "<memory>") throws -> AnyImage {
        try read(source: ByteSource(bytes: bytes, path: path))
    }

    /// Header information of a PNG file.
    public static func info(path: String) throws -> ImageInfo { try info(source: try ByteSource(path: path)) }

    static func info(source: ByteSource) throws -> ImageInfo {
        let (h, _) = try parse(source, collectData: false)
        var metadata = h.text
        if h.interlace == 1 { metadata["interlace"] = "adam7" }
        return ImageInfo(format: .png, variant: "PNG", width: h.width, height: h.height, depth: 1, channels: h.outputChannels,
                         pageCount: 1, pixelType: h.pixelType,
                         storedSampleType: h.colorType == 3 ? "palette\(h.bitDepth)" : (h.bitDepth < 8 ? "bit\(h.bitDepth)" : "uint\(h.bitDepth)"),
                         compression: "deflate", byteOrder: "big", photometric: h.photometric, spacing: h.spacing,
                         spacingSource: h.spacing == nil ? nil : "pHYs", metadata: metadata)
    }

    /// Walks the chunks, checking CRCs; returns the header and the concatenated IDAT data.
    static func parse(_ source: ByteSource, collectData: Bool) throws -> (Header, [UInt8]) {
        let path = source.path
        source.truncated = { PNGError.truncated(path: path, offset: $0, expected: $1, actual: $2) }
        let head = try source.prefix(count: 8)
        guard head == signature else { throw PNGError.badSignature(path: path, found: hexPrefix(head)) }
        var h = Header()
        var data: [UInt8] = []
        var offset = 8
        var sawHeader = false
        var sawEnd = false
        while offset < source.size {
            let lengthBytes = try source.bytes(offset: offset, count: 8)
            let length = EndianBytes(bytes: lengthBytes, littleEndian: false).u32(0)
            let type = String(decoding: lengthBytes[4..<8], as: UTF8.self)
            guard length <= Int(Int32.max) else {
                throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "length \(length) exceeds 2^31-1")
            }
            guard source.contains(offset: offset + 8, count: length + 4) else {
                throw PNGError.truncated(path: path, offset: offset + 8, expected: length + 4, actual: max(0, source.size - offset - 8))
            }
            let isData = type == "IDAT"
            let chunk = try source.bytes(offset: offset + 4, count: length + 4) // type + data
            let stored = EndianBytes(bytes: try source.bytes(offset: offset + 8 + length, count: 4), littleEndian: false).u32(0)
            let crc = chunk.withUnsafeBytes { Zlib.crc32($0) }
            guard Int(crc) == stored else { throw PNGError.crcMismatch(path: path, chunk: type, offset: offset) }
            let body = EndianBytes(bytes: Array(chunk[4...]), littleEndian: false)
            if !sawHeader && type != "IHDR" {
                throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "first chunk must be IHDR")
            }
            switch type {
            case "IHDR":
                guard length == 13 else { throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "length \(length), expected 13") }
                h.width = body.u32(0); h.height = body.u32(4)
                h.bitDepth = body.u8(8); h.colorType = body.u8(9); h.interlace = body.u8(12)
                guard h.width >= 1, h.height >= 1, h.width <= Int(Int32.max), h.height <= Int(Int32.max) else {
                    throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "size \(h.width)×\(h.height)")
                }
                let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard allowed[h.colorType]?.contains(h.bitDepth) == true else {
                    throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "colour type \(h.colorType) with bit depth \(h.bitDepth)")
                }
                guard body.u8(10) == 0, body.u8(11) == 0, h.interlace <= 1 else {
                    throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "unknown compression, filter or interlace method")
                }
                sawHeader = true
            case "PLTE":
                guard length % 3 == 0, length <= 768 else {
                    throw PNGError.invalidChunk(path: path, chunk: type, offset: offset, reason: "length \(length) is not 3 × (1…256)")
                }
                h.palette = body.bytes
            case "tRNS" where h.colorType == 3:
                h.paletteAlpha = body.bytes
            case "pHYs" where length == 9:
                let x = body.u32(0), y = body.u32(4)
                // Metres only; screen/print densities (≤ 1200 dpi) are not physical pixel sizes.
                if body.u8(8) == 1, x > 47_244, y > 0 {
                    h.spacing = Spacing.checked(x: 1e6 / Double(x), y: 1e6 / Double(y), z: 1, unit: "µm")
                }
            case "tEXt":
                if let zero = body.bytes.firstIndex(of: 0) {
                    h.text[decodeText(Array(body.bytes[..<zero]))] = decodeText(Array(body.bytes[(zero + 1)...]))
                }
            case "IDAT":
                h.dataSize += length
                if collectData { data.append(contentsOf: body.bytes) }
            case "IEND":
                sawEnd = true
            default:
                // Unknown critical chunks (uppercase first letter) cannot be ignored.
                if let first = type.utf8.first, first >= 65 && first <= 90, !["IHDR", "PLTE", "IDAT", "IEND"].contains(type) {
                    throw PNGError.unsupported(path: path, feature: "critical chunk \(type)")
                }
            }
            _ = isData
            offset += 12 + length
            if sawEnd { break }
        }
        guard sawHeader else { throw PNGError.truncated(path: path, offset: 8, expected: 25, actual: source.size - 8) }
        if h.colorType == 3 && h.palette.isEmpty {
            throw PNGError.invalidChunk(path: path, chunk: "PLTE", offset: 8, reason: "palette image without a palette")
        }
        return (h, data)
    }

    static func read(source: ByteSource) throws -> AnyImage {
        let path = source.path
        let (h, compressed) = try parse(source, collectData: true)
        let rowBytes = h.rowBytes
        let passes = h.interlace == 1 ? PNGReader.adam7 : [(0, 0, 1, 1)]
        var size = 0
        var overflow = false
        for (x0, y0, dx, dy) in passes {
            let (w, ht) = PNGReader.passSize(h, x0, y0, dx, dy)
            if w == 0 || ht == 0 { continue }
            let r = ((w * h.samples * h.bitDepth + 7) / 8 + 1).multipliedReportingOverflow(by: ht)
            let sum = size.addingReportingOverflow(r.partialValue)
            overflow = overflow || r.overflow || sum.overflow
            size = sum.partialValue
        }
        let outputBytes = h.width.multipliedReportingOverflow(by: h.height * h.outputChannels * h.pixelType.bytesPerSample)
        guard !overflow, !outputBytes.overflow, outputBytes.partialValue <= ImageFile.maximumImageBytes else {
            throw PNGError.invalidChunk(path: path, chunk: "IHDR", offset: 8, reason: "\(h.width)×\(h.height) exceeds the memory limit")
        }
        guard size <= (compressed.count + 64) * 1100 else {
            throw PNGError.corruptData(path: path, reason: "\(h.width)×\(h.height) cannot come from \(compressed.count) bytes of image data")
        }
        var raw = [UInt8](repeating: 0, count: size)
        let produced: Int
        do {
            produced = try raw.withUnsafeMutableBufferPointer { out -> Int in
                try compressed.withUnsafeBytes { input -> Int in
                    try Zlib.inflate(input, into: out.baseAddress!, capacity: size).count
                }
            }
        } catch let error as CodecFailure {
            throw PNGError.corruptData(path: path, reason: error.reason)
        }
        guard produced == size else { throw PNGError.corruptData(path: path, reason: "image data decodes to \(produced) bytes, expected \(size)") }
        let bytesPerPixel = max(1, h.samples * h.bitDepth / 8)
        var rows = [UInt8](repeating: 0, count: rowBytes * h.height)
        if h.interlace == 0 {
            try raw.withUnsafeBufferPointer { src in
                try rows.withUnsafeMutableBufferPointer { dst in
                    try PNGFilter.unfilter(src.baseAddress!, into: dst.baseAddress!, rowBytes: rowBytes, rows: h.height,
                                           bytesPerPixel: bytesPerPixel, path: path)
                }
            }
        } else {
            try deinterlace(raw, into: &rows, header: h, path: path)
        }
        return convert(rows, header: h)
    }

    /// Adam7 passes: (x start, y start, x step, y step).
    static let adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

    static func passSize(_ h: Header, _ x0: Int, _ y0: Int, _ dx: Int, _ dy: Int) -> (Int, Int) {
        (h.width > x0 ? (h.width - x0 + dx - 1) / dx : 0, h.height > y0 ? (h.height - y0 + dy - 1) / dy : 0)
    }

    /// Unfilters the seven Adam7 passes and scatters their pixels into full-image rows.
    static func deinterlace(_ raw: [UInt8], into rows: inout [UInt8], header h: Header, path: String) throws {
        let bitsPerPixel = h.samples * h.bitDepth
        let bytesPerPixel = max(1, bitsPerPixel / 8)
        var offset = 0
        for (x0, y0, dx, dy) in adam7 {
            let (w, ht) = passSize(h, x0, y0, dx, dy)
            if w == 0 || ht == 0 { continue }
            let passRowBytes = (w * bitsPerPixel + 7) / 8
            var pass = [UInt8](repeating: 0, count: passRowBytes * ht)
            try raw.withUnsafeBufferPointer { src in
                try pass.withUnsafeMutableBufferPointer { dst in
                    try PNGFilter.unfilter(src.baseAddress! + offset, into: dst.baseAddress!, rowBytes: passRowBytes, rows: ht,
                                           bytesPerPixel: bytesPerPixel, path: path)
                }
            }
            offset += (passRowBytes + 1) * ht
            for py in 0..<ht {
                let y = y0 + py * dy
                for px in 0..<w {
                    let x = x0 + px * dx
                    if bitsPerPixel >= 8 {
                        for b in 0..<bytesPerPixel {
                            rows[y * h.rowBytes + x * bytesPerPixel + b] = pass[py * passRowBytes + px * bytesPerPixel + b]
                        }
                    } else {
                        let mask = UInt8((1 << bitsPerPixel) - 1)
                        let fromShift = 8 - bitsPerPixel - (px * bitsPerPixel) % 8
                        let value = (pass[py * passRowBytes + (px * bitsPerPixel) / 8] >> UInt8(fromShift)) & mask
                        let toShift = 8 - bitsPerPixel - (x * bitsPerPixel) % 8
                        rows[y * h.rowBytes + (x * bitsPerPixel) / 8] |= value << UInt8(toShift)
                    }
                }
            }
        }
    }

    /// Unfiltered rows → image (channels planar, 16-bit from big-endian).
    static func convert(_ rows: [UInt8], header h: Header) -> AnyImage {
        let count = h.width * h.height
        let channels = h.outputChannels
        let shape = Shape(width: h.width, height: h.height, depth: 1, channels: channels)
        let spacing = h.spacing
        if h.bitDepth == 16 {
            var pixels = [UInt16](repeating: 0, count: count * channels)
            rows.withUnsafeBufferPointer { src in
                for c in 0..<channels {
                    for i in 0..<count {
                        let at = (i * channels + c) * 2
                        pixels[c * count + i] = UInt16(src[at]) << 8 | UInt16(src[at + 1])
                    }
                }
            }
            return .uint16(Image(shape: shape, pixels: pixels, spacing: spacing))
        }
        var samples: [UInt8]
        if h.bitDepth < 8 {
            samples = [UInt8](repeating: 0, count: count)
            rows.withUnsafeBufferPointer { src in
                samples.withUnsafeMutableBufferPointer { dst in
                    SampleKernels.unpackBits(src.baseAddress!, sourceRowBytes: h.rowBytes, rows: h.height,
                                             rowSamples: h.width, bits: h.bitDepth, into: dst.baseAddress!)
                }
            }
        } else {
            samples = rows
        }
        var pixels = [UInt8](repeating: 0, count: count * channels)
        if h.colorType == 3 {
            let entries = h.palette.count / 3
            for i in 0..<count {
                let index = Int(samples[i])
                for c in 0..<3 { pixels[c * count + i] = index < entries ? h.palette[index * 3 + c] : 0 }
                if channels == 4 { pixels[3 * count + i] = index < h.paletteAlpha.count ? h.paletteAlpha[index] : 255 }
            }
        } else {
            let sppIn = h.samples
            for c in 0..<channels {
                for i in 0..<count { pixels[c * count + i] = samples[i * sppIn + c] }
            }
        }
        return .uint8(Image(shape: shape, pixels: pixels, spacing: spacing))
    }
}
