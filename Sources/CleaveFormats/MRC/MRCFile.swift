import CleaveCore

/// MRC2014 reading and writing (the electron-microscopy format for stacks and tomograms).
///
/// Modes: 0 int8 (uint8 when IMOD's flags say unsigned) → Float (or UInt8), 1 int16 → Float,
/// 2 float32, 6 uint16, 12 float16 → Float. The voxel size comes from the header (cell / sampling,
/// in Å); the extended header (`nsymbt` bytes) is skipped.
public enum MRCFile {
    /// Header information without reading the data.
    public static func info(path: String) throws -> ImageInfo {
        try info(source: try ByteSource(path: path))
    }

    /// Reads all sections (or only `plane`) of an MRC file.
    public static func read(path: String, plane: Int? = nil) throws -> AnyImage {
        try read(source: try ByteSource(path: path), plane: plane)
    }

    /// Reads an MRC file held in memory.
    public static func read(bytes: [UInt8], path: String = "<memory>", plane: Int? = nil) throws -> AnyImage {
        try read(source: ByteSource(bytes: bytes, path: path), plane: plane)
    }

    static func header(_ source: ByteSource) throws -> MRCHeader {
        let path = source.path
        source.truncated = { MRCError.truncated(path: path, offset: $0, expected: $1, actual: $2) }
        return try MRCHeader(try source.prefix(count: MRCHeader.size), path: path, fileSize: source.size)
    }

    static func info(source: ByteSource) throws -> ImageInfo {
        let h = try header(source)
        var metadata: [String: String] = ["mode": "\(h.mode)"]
        if h.version > 0 { metadata["nversion"] = "\(h.version)" }
        if !h.extendedType.isEmpty { metadata["exttyp"] = h.extendedType }
        if h.extendedHeaderBytes > 0 { metadata["extendedHeaderBytes"] = "\(h.extendedHeaderBytes)" }
        if h.axisOrder != (1, 2, 3) { metadata["axisOrder"] = "\(h.axisOrder.0),\(h.axisOrder.1),\(h.axisOrder.2)" }
        if !h.labels.isEmpty { metadata["labels"] = h.labels.joined(separator: " | ") }
        return ImageInfo(format: .mrc, variant: h.version >= 20140 ? "MRC2014" : "MRC", width: h.width, height: h.height,
                         depth: h.depth, channels: 1, pageCount: h.depth, pixelType: h.pixelType,
                         storedSampleType: h.storedSampleType, compression: "none",
                         byteOrder: h.littleEndian ? "little" : "big", photometric: "grey",
                         spacing: h.spacing, spacingSource: h.spacing == nil ? nil : "MRC header", metadata: metadata)
    }

    static func read(source: ByteSource, plane: Int?) throws -> AnyImage {
        let h = try header(source)
        let path = source.path
        let planeCount = h.width * h.height
        let planeBytes = planeCount * h.sampleBytes
        let dataStart = MRCHeader.size + h.extendedHeaderBytes
        let (total, overflow) = planeBytes.multipliedReportingOverflow(by: h.depth)
        guard !overflow, source.contains(offset: dataStart, count: total) else {
            throw MRCError.truncated(path: path, offset: dataStart, expected: total, actual: max(0, source.size - dataStart))
        }
        let planes: Range<Int>
        if let plane {
            guard plane >= 0, plane < h.depth else {
                throw ImageFileError.invalidRequest(path: path, reason: "section \(plane) requested, the file has \(h.depth) (0…\(h.depth - 1))")
            }
            planes = plane..<(plane + 1)
        } else {
            planes = 0..<h.depth
        }
        let shape = Shape(width: h.width, height: h.height, depth: planes.count)
        let bytes = planes.count * planeBytes
        guard bytes <= ImageFile.maximumImageBytes else {
            throw MRCError.badHeader(path: path, field: "nx×ny×nz", reason: "\(shape) exceeds the memory limit")
        }
        var raw = [UInt8](repeating: 0, count: bytes)
        try raw.withUnsafeMutableBytes { try source.read(offset: dataStart + planes.lowerBound * planeBytes, count: bytes, into: $0.baseAddress!) }
        if !h.littleEndian && h.sampleBytes > 1 {
            raw.withUnsafeMutableBytes { SampleKernels.byteSwap($0.baseAddress!, byteCount: bytes, sampleBytes: h.sampleBytes) }
        }
        let count = shape.count
        var image: AnyImage = raw.withUnsafeBytes { buffer in
            let p = buffer.baseAddress!
            switch h.mode {
            case 0 where h.imodUnsignedBytes:
                return .uint8(Image(shape: shape, pixels: Array(buffer.bindMemory(to: UInt8.self))))
            case 0:
                let s = p.assumingMemoryBound(to: Int8.self)
                return .float32(Image(shape: shape, pixels: (0..<count).map { Float(s[$0]) }))
            case 1:
                let s = p.assumingMemoryBound(to: Int16.self)
                return .float32(Image(shape: shape, pixels: (0..<count).map { Float(s[$0]) }))
            case 6:
                return .uint16(Image(shape: shape, pixels: Array(buffer.bindMemory(to: UInt16.self))))
            case 12:
                let s = p.assumingMemoryBound(to: UInt16.self)
                return .float32(Image(shape: shape, pixels: (0..<count).map { TIFFSampleConversion.halfToFloat(s[$0]) }))
            default:
                return .float32(Image(shape: shape, pixels: Array(buffer.bindMemory(to: Float.self))))
            }
        }
        image.spacing = h.spacing
        return image
    }

    /// Writes one-channel images as MRC2014: Float → mode 2, UInt16 → mode 6, UInt8 → mode 6
    /// (MRC has no unsigned 8-bit mode; values are kept exactly). Spacing is stored in Å.
    /// - Throws: ``MRCError/cannotWrite(path:reason:)`` for multi-channel images or I/O failure.
    public static func write<S: PixelScalar>(_ image: Image<S>, to path: String) throws {
        let bytes = try encode(image, path: path)
        let sink = try FileSink(path: path)
        try sink.append(bytes)
        try sink.close()
    }

    /// The MRC file for `image`, in memory.
    public static func encode<S: PixelScalar>(_ image: Image<S>, path: String = "<memory>") throws -> [UInt8] {
        guard image.channels == 1 else {
            throw MRCError.cannotWrite(path: path, reason: "MRC holds one channel, the image has \(image.channels); choose one channel first")
        }
        let mode = S.pixelType == .float32 ? 2 : 6
        var h = LittleEndianBuilder()
        h.u32(image.width); h.u32(image.height); h.u32(image.depth); h.u32(mode)
        h.u32(0); h.u32(0); h.u32(0)
        h.u32(image.width); h.u32(image.height); h.u32(image.depth)
        let angstrom = image.spacing.flatMap { $0.converted(toUnit: "Å") }
        let size = angstrom ?? Spacing(1, unit: "Å")
        h.f32(Float(size.x * Double(image.width))); h.f32(Float(size.y * Double(image.height))); h.f32(Float(size.z * Double(image.depth)))
        h.f32(90); h.f32(90); h.f32(90)
        h.u32(1); h.u32(2); h.u32(3)
        let range = image.minMax()
        var sum = 0.0, sumSquares = 0.0
        for v in image.pixels { let d = v.doubleValue; sum += d; sumSquares += d * d }
        let n = Double(max(1, image.pixels.count))
        let mean = sum / n
        h.f32(Float(range?.min.doubleValue ?? 0)); h.f32(Float(range?.max.doubleValue ?? 0)); h.f32(Float(mean))
        h.u32(image.depth > 1 ? 1 : 0)      // ispg: 0 image/stack, 1 volume
        h.u32(0)                             // nsymbt
        h.bytes += [UInt8](repeating: 0, count: 8)     // extra 96…103
        h.bytes += Array("MRCO".utf8)                  // exttyp 104
        h.u32(20140)                                   // nversion 108
        h.bytes += [UInt8](repeating: 0, count: 196 - h.bytes.count)
        h.f32(0); h.f32(0); h.f32(0)                   // origin 196
        h.bytes += Array("MAP ".utf8)                  // 208
        h.bytes += [0x44, 0x44, 0, 0]                  // machst 212: little-endian
        h.f32(Float(max(0, sumSquares / n - mean * mean).squareRoot()))
        h.u32(1)                                       // nlabl
        var label = Array("Cleave \(cleaveVersion)".utf8)
        label += [UInt8](repeating: 0x20, count: 80 - label.count)
        h.bytes += label
        h.bytes += [UInt8](repeating: 0, count: MRCHeader.size - h.bytes.count)
        var out = h.bytes
        out.reserveCapacity(MRCHeader.size + image.pixels.count * (mode == 2 ? 4 : 2))
        switch image {
        case let f as Image<Float>: f.pixels.withUnsafeBytes { out.append(contentsOf: $0) }
        case let u as Image<UInt16>: u.pixels.withUnsafeBytes { out.append(contentsOf: $0) }
        default:
            let wide = image.pixels.map { UInt16(truncatingIfNeeded: Int($0.doubleValue)) }
            wide.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return out
    }
}
