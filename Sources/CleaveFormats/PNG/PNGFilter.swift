/// PNG row filters (None, Sub, Up, Average, Paeth): undoing them when reading, choosing and
/// applying them when writing.
enum PNGFilter {
    @inline(__always) static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// Undoes the filters of `rows` rows (each 1 filter byte + `rowBytes` bytes) into `destination`.
    static func unfilter(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<UInt8>, rowBytes: Int,
                         rows: Int, bytesPerPixel bpp: Int, path: String) throws {
        for r in 0..<rows {
            let filter = source[r * (rowBytes + 1)]
            let src = source + r * (rowBytes + 1) + 1
            let dst = destination + r * rowBytes
            let prior: UnsafeMutablePointer<UInt8>? = r > 0 ? destination + (r - 1) * rowBytes : nil
            switch filter {
            case 0:
                dst.update(from: src, count: rowBytes)
            case 1:
                for i in 0..<rowBytes { dst[i] = src[i] &+ (i >= bpp ? dst[i - bpp] : 0) }
            case 2:
                if let up = prior { for i in 0..<rowBytes { dst[i] = src[i] &+ up[i] } } else { dst.update(from: src, count: rowBytes) }
            case 3:
                for i in 0..<rowBytes {
                    let left = i >= bpp ? Int(dst[i - bpp]) : 0
                    let up = prior.map { Int($0[i]) } ?? 0
                    dst[i] = src[i] &+ UInt8((left + up) >> 1)
                }
            case 4:
                for i in 0..<rowBytes {
                    let a = i >= bpp ? Int(dst[i - bpp]) : 0
                    let b = prior.map { Int($0[i]) } ?? 0
                    let c = (i >= bpp ? prior.map { Int($0[i - bpp]) } : nil) ?? 0
                    dst[i] = src[i] &+ UInt8(paeth(a, b, c))
                }
            default:
                throw PNGError.corruptData(path: path, reason: "row \(r) has unknown filter type \(filter)")
            }
        }
    }

    /// Filters rows for writing, choosing per row the filter with the smallest sum of absolute
    /// (signed) residuals — the usual heuristic. Output: `rows × (1 + rowBytes)` bytes.
    static func filter(_ source: UnsafePointer<UInt8>, rowBytes: Int, rows: Int, bytesPerPixel bpp: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * (rowBytes + 1))
        var candidate = [[UInt8]](repeating: [UInt8](repeating: 0, count: rowBytes), count: 5)
        for r in 0..<rows {
            let row = source + r * rowBytes
            let prior: UnsafePointer<UInt8>? = r > 0 ? source + (r - 1) * rowBytes : nil
            var best = 0
            var bestScore = Int.max
            for f in 0..<5 {
                var score = 0
                candidate[f].withUnsafeMutableBufferPointer { c in
                    for i in 0..<rowBytes {
                        let x = Int(row[i])
                        let a = i >= bpp ? Int(row[i - bpp]) : 0
                        let b = prior.map { Int($0[i]) } ?? 0
                        let cc = (i >= bpp ? prior.map { Int($0[i - bpp]) } : nil) ?? 0
                        let predicted: Int
                        switch f {
                        case 0: predicted = 0
                        case 1: predicted = a
                        case 2: predicted = b
                        case 3: predicted = (a + b) >> 1
                        default: predicted = paeth(a, b, cc)
                        }
                        let v = UInt8(truncatingIfNeeded: x - predicted)
                        c[i] = v
                        score += abs(Int(Int8(bitPattern: v)))
                    }
                }
                if score < bestScore { bestScore = score; best = f }
            }
            out[r * (rowBytes + 1)] = UInt8(best)
            for i in 0..<rowBytes { out[r * (rowBytes + 1) + 1 + i] = candidate[best][i] }
        }
        return out
    }
}
