/// Byte swapping, predictors and bit unpacking on decoded sample buffers (hot loops).
enum SampleKernels {
    /// Reverses the byte order of every `sampleBytes`-byte sample in place.
    static func byteSwap(_ p: UnsafeMutableRawPointer, byteCount: Int, sampleBytes: Int) {
        switch sampleBytes {
        case 2:
            let q = p.assumingMemoryBound(to: UInt16.self)
            for i in 0..<(byteCount / 2) { q[i] = q[i].byteSwapped }
        case 4:
            let q = p.assumingMemoryBound(to: UInt32.self)
            for i in 0..<(byteCount / 4) { q[i] = q[i].byteSwapped }
        case 8:
            let q = p.assumingMemoryBound(to: UInt64.self)
            for i in 0..<(byteCount / 8) { q[i] = q[i].byteSwapped }
        default: break
        }
    }

    /// Undoes horizontal differencing (TIFF predictor 2) on native-endian rows.
    /// - Parameters: stride = samples per pixel in a row; rowSamples = samples in one row.
    static func undoHorizontalDifference(_ p: UnsafeMutableRawPointer, rows: Int, rowBytes: Int,
                                         rowSamples: Int, stride: Int, sampleBytes: Int) {
        for r in 0..<rows {
            let row = p + r * rowBytes
            switch sampleBytes {
            case 1:
                let q = row.assumingMemoryBound(to: UInt8.self)
                if stride == 1 {
                    var acc = q[0]
                    for i in 1..<max(1, rowSamples) { acc &+= q[i]; q[i] = acc }
                } else {
                    for i in stride..<max(stride, rowSamples) { q[i] &+= q[i - stride] }
                }
            case 2:
                let q = row.assumingMemoryBound(to: UInt16.self)
                if stride == 1 {
                    var acc = q[0]
                    for i in 1..<max(1, rowSamples) { acc &+= q[i]; q[i] = acc }
                } else {
                    for i in stride..<max(stride, rowSamples) { q[i] &+= q[i - stride] }
                }
            case 4:
                let q = row.assumingMemoryBound(to: UInt32.self)
                for i in stride..<max(stride, rowSamples) { q[i] &+= q[i - stride] }
            default: break
            }
        }
    }

    /// Undoes the floating-point predictor (TIFF predictor 3): byte-wise differencing over
    /// byte planes (most significant first), then reassembles native little-endian samples.
    static func undoFloatingPointPredictor(_ p: UnsafeMutableRawPointer, rows: Int, rowBytes: Int,
                                           rowSamples: Int, stride: Int, sampleBytes: Int) {
        let count = rowSamples * sampleBytes
        var temp = [UInt8](repeating: 0, count: count)
        temp.withUnsafeMutableBufferPointer { tmp in
            for r in 0..<rows {
                let row = (p + r * rowBytes).assumingMemoryBound(to: UInt8.self)
                if count > stride {
                    for i in stride..<count { row[i] &+= row[i - stride] }
                }
                for i in 0..<count { tmp[i] = row[i] }
                for s in 0..<rowSamples {
                    for b in 0..<sampleBytes {
                        // Byte plane 0 holds the most significant bytes.
                        row[s * sampleBytes + b] = tmp[(sampleBytes - 1 - b) * rowSamples + s]
                    }
                }
            }
        }
    }

    /// Unpacks MSB-first `bits`-bit samples (1, 2 or 4) of `rows` rows to one byte each.
    static func unpackBits(_ source: UnsafePointer<UInt8>, sourceRowBytes: Int, rows: Int, rowSamples: Int,
                           bits: Int, into destination: UnsafeMutablePointer<UInt8>) {
        let mask = UInt8((1 << bits) - 1)
        let perByte = 8 / bits
        for r in 0..<rows {
            let src = source + r * sourceRowBytes
            let dst = destination + r * rowSamples
            for i in 0..<rowSamples {
                let byte = src[i / perByte]
                let shift = 8 - bits * (i % perByte + 1)
                dst[i] = (byte >> UInt8(shift)) & mask
            }
        }
    }

    /// Reverses the bit order within every byte (FillOrder 2).
    static func reverseBits(_ p: UnsafeMutablePointer<UInt8>, count: Int) {
        for i in 0..<count {
            var b = p[i]
            b = (b & 0xF0) >> 4 | (b & 0x0F) << 4
            b = (b & 0xCC) >> 2 | (b & 0x33) << 2
            b = (b & 0xAA) >> 1 | (b & 0x55) << 1
            p[i] = b
        }
    }
}
