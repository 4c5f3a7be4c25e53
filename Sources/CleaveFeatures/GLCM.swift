import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Grey-level co-occurrence texture of a patch, as scikit-image computes it.
///
/// 1. Quantisation (Cleave's definition, since scikit-image expects integer levels): with the
///    patch's own `lo = min` and `hi = max`, level = `Int((v − lo) / (hi − lo) · levels)`,
///    clamped to `levels − 1`; a constant patch is all level 0.
/// 2. `skimage.feature.graycomatrix(q, [distance], [0, π/4, π/2, 3π/4], levels, symmetric=True,
///    normed=True)`: the offset for angle a is `(row, col) = (round(sin a · d), round(cos a · d))`.
/// 3. `graycoprops` contrast, homogeneity, energy, correlation (1 when either std < 1e-15) and
///    entropy (natural log), each averaged over the four angles.
public enum GLCM {
    /// The five properties in the order contrast, homogeneity, energy, correlation, entropy.
    public struct Properties: Sendable, Equatable {
        public var contrast, homogeneity, energy, correlation, entropy: Double
    }

    /// Texture of a 2D patch given as row-major Float values.
    public static func properties(values: [Float], width: Int, height: Int, distance: Int = 1, levels: Int = 32) -> Properties {
        precondition(values.count == width * height && levels >= 2 && distance >= 1,
                     "GLCM.properties: \(values.count) values for \(width)x\(height), levels \(levels), distance \(distance)")
        var scratch = GLCMScratch()
        return values.withUnsafeBufferPointer {
            properties($0, width: width, region: Region(x: 0, y: 0, width: width, height: height),
                       distance: distance, levels: levels, scratch: &scratch)
        }
    }

    /// The angle offsets (row, column) for distance d, like scikit-image.
    static func offsets(distance: Int) -> [(Int, Int)] {
        [0.0, Double.pi / 4, Double.pi / 2, 3 * Double.pi / 4].map { a in
            (Int((sin(a) * Double(distance)).rounded(.toNearestOrEven)), Int((cos(a) * Double(distance)).rounded(.toNearestOrEven)))
        }
    }

    static func properties(_ pixels: UnsafeBufferPointer<Float>, width: Int, region: Region, distance: Int, levels: Int,
                           scratch: inout GLCMScratch) -> Properties {
        let w = region.width, h = region.height
        if scratch.levels.count < w * h { scratch.levels = [Int32](repeating: 0, count: w * h) }
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for y in 0..<h {
            OrderStatistics.extrema(pixels.baseAddress! + (region.y + y) * width + region.x, count: w, lo: &lo, hi: &hi)
        }
        let scale = hi > lo ? Double(levels) / (Double(hi) - Double(lo)) : 0
        scratch.levels.withUnsafeMutableBufferPointer { out in
            let low = Double(lo), top = Int32(levels - 1)
            for y in 0..<h {
                let row = pixels.baseAddress! + (region.y + y) * width + region.x, target = out.baseAddress! + y * w
                for x in 0..<w {
                    // (v − lo) · scale lies in 0…levels, clamped to 0…top; NaN (from NaN or
                    // infinite samples) goes to 0 instead of trapping in Int32(_:).
                    let d = (Double(row[x]) - low) * scale
                    target[x] = d >= 0 ? (d < Double(top) ? Int32(d) : top) : 0
                }
            }
        }
        if scratch.matrix.count < levels * levels { scratch.matrix = [Int32](repeating: 0, count: levels * levels) }
        let cells = levels * levels
        // Pair counts per angle, not yet symmetric, in four interleaved tables (by column mod 4)
        // so that runs of equal neighbouring pairs do not wait on each other's increments.
        if scratch.counts.count < 4 * cells { scratch.counts = [Int32](repeating: 0, count: 4 * cells) }
        var result = Properties(contrast: 0, homogeneity: 0, energy: 0, correlation: 0, entropy: 0)
        let angles = offsets(distance: distance)
        for (dr, dc) in angles {
            var pairs = 0
            scratch.levels.withUnsafeBufferPointer { q in
                scratch.counts.withUnsafeMutableBufferPointer { counts in
                    scratch.matrix.withUnsafeMutableBufferPointer { m in
                        let t = counts.baseAddress!
                        for i in 0..<(4 * cells) { t[i] = 0 }
                        let r0 = Swift.max(0, -dr), r1 = Swift.min(h, h - dr)
                        let c0 = Swift.max(0, -dc), c1 = Swift.min(w, w - dc)
                        if r1 > r0 && c1 > c0 {
                            let t1 = t + cells, t2 = t + 2 * cells, t3 = t + 3 * cells, L = levels
                            for r in r0..<r1 {
                                var from = q.baseAddress! + r * w + c0, to = q.baseAddress! + (r + dr) * w + dc + c0
                                var remaining = c1 - c0
                                while remaining >= 4 {
                                    t[Int(from[0]) &* L &+ Int(to[0])] &+= 1
                                    t1[Int(from[1]) &* L &+ Int(to[1])] &+= 1
                                    t2[Int(from[2]) &* L &+ Int(to[2])] &+= 1
                                    t3[Int(from[3]) &* L &+ Int(to[3])] &+= 1
                                    from += 4; to += 4; remaining &-= 4
                                }
                                while remaining > 0 { t[Int(from[0]) &* L &+ Int(to[0])] &+= 1; from += 1; to += 1; remaining &-= 1 }
                            }
                            pairs = 2 * (r1 - r0) * (c1 - c0)
                        }
                        // Symmetric matrix: every pair (i, j) counts once at [i, j] and once at [j, i].
                        symmetric(t, cells: cells, levels: levels, into: m.baseAddress!)
                    }
                }
            }
            let angle = scratch.matrix.withUnsafeBufferPointer {
                properties(symmetricCounts: $0.baseAddress!, levels: levels, total: pairs)
            }
            result.contrast += angle.contrast / 4
            result.homogeneity += angle.homogeneity / 4
            result.energy += angle.energy / 4
            result.correlation += angle.correlation / 4
            result.entropy += angle.entropy / 4
        }
        return result
    }

    /// `S[i, j] = F[i, j] + F[j, i]` with `F` the sum of the four interleaved count tables
    /// (`F` is summed into the first table, in place).
    static func symmetric(_ t: UnsafeMutablePointer<Int32>, cells: Int, levels: Int, into m: UnsafeMutablePointer<Int32>) {
        for ij in 0..<cells { t[ij] = t[ij] &+ t[cells + ij] &+ t[2 * cells + ij] &+ t[3 * cells + ij] }
        for i in 0..<levels {
            for j in 0..<levels { m[i * levels + j] = t[i * levels + j] &+ t[j * levels + i] }
        }
    }

    /// The five properties of one symmetric count matrix `S` whose entries sum to `total`
    /// (`P = S / total`, as `graycomatrix(..., symmetric=True, normed=True)` would give).
    ///
    /// Contrast, energy, mean, variance and covariance come from exact integer sums
    /// (`Σ S·(i−j)²`, `Σ S²`, `Σ S·i`, `Σ S·i²`, `Σ S·i·j`), so only the final divisions round;
    /// homogeneity sums the diagonal totals `Σ_{|i−j|=d} S` times `1/(1+d²)`; entropy is
    /// `ln N − Σ S·ln S / N`. These equal scikit-image's float sums over `P` up to rounding (~1e-15),
    /// and a constant patch gives contrast 0, energy 1, correlation 1 (zero variance) exactly.
    static func properties(symmetricCounts s: UnsafePointer<Int32>, levels: Int, total: Int) -> Properties {
        // No pairs (a patch narrower than the distance): an all-zero matrix, as before.
        guard total > 0 else { return Properties(contrast: 0, homogeneity: 0, energy: 0, correlation: 1, entropy: 0) }
        var squares = 0, moment1 = 0, moment2 = 0, cross = 0, contrast = 0, homogeneity = 0.0
        var sLogS = 0.0
        withUnsafeTemporaryAllocation(of: Int.self, capacity: levels) { diagonal in
            diagonal.initialize(repeating: 0)
            for i in 0..<levels {
                let row = s + i * levels
                var rowSum = 0, rowCross = 0
                for j in 0..<levels {
                    let v = Int(row[j])
                    squares &+= v &* v
                    rowSum &+= v
                    rowCross &+= v &* j
                    diagonal[abs(i - j)] &+= v
                    if v > 1 { sLogS += Double(v) * naturalLog(v) }
                }
                moment1 &+= rowSum &* i
                moment2 &+= rowSum &* i &* i
                cross &+= rowCross &* i
            }
            for d in 0..<levels {
                contrast &+= diagonal[d] &* d &* d
                homogeneity += Double(diagonal[d]) / Double(1 + d * d)
            }
        }
        let n = Double(total)
        // N²·var = N·Σ S·i² − (Σ S·i)² and N²·cov = N·Σ S·i·j − (Σ S·i)², both exact integers;
        // the matrix is symmetric, so the two marginal variances are the same.
        // (Double only when a huge patch would overflow 64 bits.)
        func difference(_ a: Int, _ b: Int) -> Double {
            let (ab, o1) = a.multipliedReportingOverflow(by: b), (mm, o2) = moment1.multipliedReportingOverflow(by: moment1)
            return o1 || o2 ? Double(a) * Double(b) - Double(moment1) * Double(moment1) : Double(ab - mm)
        }
        let varianceTimesN2 = difference(total, moment2)
        let correlation = varianceTimesN2 == 0 ? 1 : difference(total, cross) / varianceTimesN2
        return Properties(contrast: Double(contrast) / n, homogeneity: homogeneity / n,
                          energy: (Double(squares) / (n * n)).squareRoot(), correlation: correlation,
                          entropy: log(n) - sLogS / n)
    }

    /// `ln v`, from a table for small counts (most cells of a patch's matrix).
    @inline(__always) static func naturalLog(_ v: Int) -> Double {
        v < logTable.count ? logTable[v] : log(Double(v))
    }

    static let logTable: [Double] = (0..<4096).map { $0 == 0 ? 0 : log(Double($0)) }
}

struct GLCMScratch {
    var levels: [Int32] = []
    var counts: [Int32] = []
    var matrix: [Int32] = []
}
