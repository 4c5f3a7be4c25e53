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
    /// (signed) residuals — the usual heuristic (ties go to the lower filter number).
    /// Output: `rows × (1 + rowBytes)` bytes. One pass scores all five filters; a second
    /// writes the chosen one's residuals. `previous` is the row above the first one (nil: the
    /// first row of the image, whose row above is all zeros).
    static func filter(_ source: UnsafePointer<UInt8>, rowBytes: Int, rows: Int, bytesPerPixel bpp: Int,
                       previous: UnsafePointer<UInt8>? = nil) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * (rowBytes + 1))
        guard rows > 0, rowBytes > 0 else { return out }
        // The row above the first row is all zeros (as the PNG spec defines).
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        let lead = min(bpp, rowBytes)
        @inline(__always) func cost(_ x: Int, _ predicted: Int) -> Int {
            abs(Int(Int8(truncatingIfNeeded: x - predicted)))
        }
        out.withUnsafeMutableBufferPointer { o in
            zeros.withUnsafeBufferPointer { z in
                for r in 0..<rows {
                    let row = source + r * rowBytes
                    let up = r > 0 ? source + (r - 1) * rowBytes : previous ?? z.baseAddress!
                    var s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0
                    // First pixel: no left neighbour (a = c = 0).
                    for i in 0..<lead {
                        let x = Int(row[i]), b = Int(up[i])
                        s0 += cost(x, 0); s1 += cost(x, 0); s2 += cost(x, b)
                        s3 += cost(x, b >> 1); s4 += cost(x, paeth(0, b, 0))
                    }
                    for i in lead..<rowBytes {
                        let x = Int(row[i]), a = Int(row[i - bpp]), b = Int(up[i]), c = Int(up[i - bpp])
                        s0 += cost(x, 0); s1 += cost(x, a); s2 += cost(x, b)
                        s3 += cost(x, (a + b) >> 1); s4 += cost(x, paeth(a, b, c))
                    }
                    var best = 0, bestScore = s0
                    if s1 < bestScore { best = 1; bestScore = s1 }
                    if s2 < bestScore { best = 2; bestScore = s2 }
                    if s3 < bestScore { best = 3; bestScore = s3 }
                    if s4 < bestScore { best = 4; bestScore = s4 }
                    let base = r * (rowBytes + 1)
                    o[base] = UInt8(best)
                    let dst = o.baseAddress! + base + 1
                    switch best {
                    case 0:
                        dst.update(from: row, count: rowBytes)
                    case 1:
                        for i in 0..<lead { dst[i] = row[i] }
                        for i in lead..<rowBytes { dst[i] = row[i] &- row[i - bpp] }
                    case 2:
                        for i in 0..<rowBytes { dst[i] = row[i] &- up[i] }
                    case 3:
                        for i in 0..<lead { dst[i] = row[i] &- (up[i] >> 1) }
                        for i in lead..<rowBytes {
                            dst[i] = row[i] &- UInt8(truncatingIfNeeded: (Int(row[i - bpp]) + Int(up[i])) >> 1)
                        }
                    default:
                        for i in 0..<lead { dst[i] = row[i] &- UInt8(truncatingIfNeeded: paeth(0, Int(up[i]), 0)) }
                        for i in lead..<rowBytes {
                            dst[i] = row[i] &- UInt8(truncatingIfNeeded: paeth(Int(row[i - bpp]), Int(up[i]), Int(up[i - bpp])))
                        }
                    }
                }
            }
        }
        return out
    }
}
