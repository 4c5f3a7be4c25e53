import CleaveCore

/// Writes 2D images as PNG: UInt8 or UInt16 with 1 (grey), 2 (grey+alpha), 3 (RGB) or
/// 4 (RGBA) channels. Float images must be converted explicitly first (no silent rescaling).
public enum PNGWriter {
    /// zlib level for IDAT. Level 2 (zlib's fast matcher) is ~4x faster than the default 6 on
    /// 1000² RGB overlays for files ~16 % larger; PNGs are pictures here, not archives.
    static let deflateLevel = 2

    /// Writes `image` to `path`.
    /// - Throws: ``PNGError/cannotWrite(path:reason:)`` for float, multi-plane or >4-channel images.
    public static func write<S: PixelScalar>(_ image: Image<S>, to path: String) throws {
        let bytes = try encode(image, path: path)
        let sink = try FileSink(path: path)
        try sink.append(bytes)
        try sink.close()
    }

    /// The PNG file for `image`, in memory.
    public static func encode<S: PixelScalar>(_ image: Image<S>, path: String = "<memory>") throws -> [UInt8] {
        guard S.pixelType != .float32 else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds 8- or 16-bit integers, the image is float32; write .tif or .mrc, or convert the pixel type explicitly first")
        }
        guard image.depth == 1 else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds one plane, the image has \(image.depth); choose a plane first")
        }
        guard (1...4).contains(image.channels) else {
            throw PNGError.cannotWrite(path: path, reason: "PNG holds 1–4 channels, the image has \(image.channels)")
        }
        let channels = image.channels
        let bytesPerSample = S.pixelType.bytesPerSample
        let count = image.shape.planeSize
        let rowBytes = image.width * channels * bytesPerSample
        var interleaved = [UInt8](repeating: 0, count: rowBytes * image.height)
        image.pixels.withUnsafeBytes { raw in
            interleaved.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    if bytesPerSample == 1 {
                        let src = raw.bindMemory(to: UInt8.self).baseAddress! + c * count
                        for i in 0..<count { dst[i * channels + c] = src[i] }
                    } else {
                        let src = raw.bindMemory(to: UInt16.self).baseAddress! + c * count
                        for i in 0..<count {
                            let v = src[i]
                            dst[(i * channels + c) * 2] = UInt8(v >> 8)
                            dst[(i * channels + c) * 2 + 1] = UInt8(v & 0xFF)
                        }
                    }
                }
            }
        }
        let filtered = interleaved.withUnsafeBufferPointer {
            PNGFilter.filter($0.baseAddress!, rowBytes: rowBytes, rows: image.height, bytesPerPixel: channels * bytesPerSample)
        }
        let compressed = filtered.withUnsafeBytes { Zlib.deflate($0, level: deflateLevel) }
        var out = PNGReader.signature
        var ihdr = BigEndianBuilder()
        ihdr.u32(image.width); ihdr.u32(image.height)
        ihdr.u8(bytesPerSample * 8)
        ihdr.u8([0, 4, 2, 6][channels - 1])
        ihdr.u8(0); ihdr.u8(0); ihdr.u8(0)
        appendChunk("IHDR", ihdr.bytes, to: &out)
        if let spacing = image.spacing, let metres = spacing.converted(toUnit: "m") {
            var phys = BigEndianBuilder()
            phys.u32(Int((1 / metres.x).rounded())); phys.u32(Int((1 / metres.y).rounded())); phys.u8(1)
            if 1 / metres.x < Double(UInt32.max) && 1 / metres.y < Double(UInt32.max) { appendChunk("pHYs", phys.bytes, to: &out) }
        }
        appendChunk("tEXt", Array("Software".utf8) + [0] + Array("Cleave \(cleaveVersion)".utf8), to: &out)
        appendChunk("IDAT", compressed, to: &out)
        appendChunk("IEND", [], to: &out)
        return out
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
