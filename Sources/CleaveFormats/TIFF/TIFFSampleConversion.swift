import CleaveCore

/// Converts decoded rasters (stored sample types) into Cleave's pixel types, de-interleaving
/// chunky samples into channels. Values are kept as they are (no rescaling); types Cleave does
/// not hold natively (int8/16/32, uint32, float16/64) become Float.
enum TIFFSampleConversion {
    /// True when the raster of a sample plane is byte-for-byte the output channel plane.
    static func isDirect(_ L: TIFFPageLayout) -> Bool {
        guard L.photometric != 3, L.chunkSamples == 1 else { return false }
        switch (L.bitsPerSample, L.sampleFormat) {
        case (8, 1), (16, 1), (32, 3): return true
        default: return false
        }
    }

    /// Palette colours of `count` indices from `source` through one channel's `table`: 8-bit
    /// (value / 257) when `eight`, else the 16-bit entries.
    @inline(__always)
    private static func lookUp<Index: FixedWidthInteger>(_ source: UnsafePointer<Index>, _ table: UnsafePointer<UInt16>, _ count: Int,
                                                         _ eight: Bool, _ destination: UnsafeMutableRawPointer) {
        if eight {
            let dst = destination.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { dst[i] = UInt8(truncatingIfNeeded: table[Int(source[i])] / 257) }
        } else {
            let dst = destination.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = table[Int(source[i])] }
        }
    }

    /// Writes `count` pixels of the raster plane `raster` (chunky with `chunk` samples) into
    /// output channel planes: sample `k` goes to `destinations[k]`.
    static func convert(_ L: TIFFPageLayout, raster: UnsafeRawPointer, count: Int, chunk: Int,
                        destinations: [UnsafeMutableRawPointer]) {
        if L.photometric == 3, let map = L.colorMap {
            let entries = 1 << L.bitsPerSample
            map.withUnsafeBufferPointer { cm in
                let eight = L.paletteIsEightBit
                for channel in 0..<3 {
                    let table = cm.baseAddress! + channel * entries
                    if L.bitsPerSample <= 8 {
                        lookUp(raster.assumingMemoryBound(to: UInt8.self), table, count, eight, destinations[channel])
                    } else {
                        lookUp(raster.assumingMemoryBound(to: UInt16.self), table, count, eight, destinations[channel])
                    }
                }
            }
            return
        }
        for k in 0..<destinations.count {
            let d = destinations[k]
            switch (L.bitsPerSample, L.sampleFormat) {
            case (1, _), (2, _), (4, _), (8, 1):
                gather(raster, UInt8.self, count, chunk, k, d.assumingMemoryBound(to: UInt8.self)) { $0 }
            case (8, _):
                gather(raster, Int8.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { Float($0) }
            case (16, 1):
                gather(raster, UInt16.self, count, chunk, k, d.assumingMemoryBound(to: UInt16.self)) { $0 }
            case (16, 2):
                gather(raster, Int16.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { Float($0) }
            case (16, _):
                gather(raster, UInt16.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { halfToFloat($0) }
            case (32, 1):
                gather(raster, UInt32.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { Float($0) }
            case (32, 2):
                gather(raster, Int32.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { Float($0) }
            case (32, _):
                gather(raster, Float.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { $0 }
            default:
                gather(raster, Double.self, count, chunk, k, d.assumingMemoryBound(to: Float.self)) { Float($0) }
            }
        }
    }

    @inline(__always)
    static func gather<Source, Target>(_ raster: UnsafeRawPointer, _ type: Source.Type, _ count: Int, _ stride: Int,
                                       _ offset: Int, _ destination: UnsafeMutablePointer<Target>,
                                       _ transform: (Source) -> Target) {
        let src = raster.assumingMemoryBound(to: Source.self) + offset
        if stride == 1 {
            for i in 0..<count { destination[i] = transform(src[i]) }
        } else {
            for i in 0..<count { destination[i] = transform(src[i * stride]) }
        }
    }

    /// IEEE half-precision bits to Float (portable; no Float16 type needed).
    @inline(__always) static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * 0x1p-24
            return sign != 0 ? -value : value
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}
