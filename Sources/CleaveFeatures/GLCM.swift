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
                    // (v − lo) · scale lies in 0…levels: exact in Int32, then clamped as before.
                    let q = Int32((Double(row[x]) - low) * scale)
                    target[x] = Swift.min(Swift.max(q, 0), top)
                }
            }
        }
        if scratch.matrix.count < levels * levels { scratch.matrix = [Double](repeating: 0, count: levels * levels) }
        let cells = levels * levels
        // Pair counts per angle, not yet symmetric, in four interleaved tables (by column mod 4)
        // so that runs of equal neighbouring pairs do not wait on each other's increments.
        if scratch.counts.count < 4 * cells { scratch.counts = [Int32](repeating: 0, count: 4 * cells) }
        var result = Properties(contrast: 0, homogeneity: 0, energy: 0, correlation: 0, entropy: 0)
        let angles = offsets(distance: distance)
        for (dr, dc) in angles {
            var pairs = 0.0
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
                            pairs = Double(2 * (r1 - r0) * (c1 - c0))
                        }
                        // Symmetric matrix: every pair (i, j) counts once at [i, j] and once at [j, i]
                        // (integer counts, so exactly the Double increments of the pair-by-pair form).
                        for i in 0..<levels {
                            for j in 0..<levels {
                                let ij = i * levels + j, ji = j * levels + i
                                let forward = t[ij] + t[cells + ij] + t[2 * cells + ij] + t[3 * cells + ij]
                                let backward = t[ji] + t[cells + ji] + t[2 * cells + ji] + t[3 * cells + ji]
                                m[ij] = Double(forward + backward)
                            }
                        }
                    }
                }
            }
            let norm = pairs > 0 ? 1 / pairs : 1
            var contrast = 0.0, homogeneity = 0.0, asm = 0.0, entropy = 0.0, meanI = 0.0, meanJ = 0.0
            for i in 0..<levels {
                for j in 0..<levels {
                    let p = scratch.matrix[i * levels + j] * norm
                    if p == 0 { continue }
                    let d = Double(i - j)
                    contrast += p * d * d
                    homogeneity += p / (1 + d * d)
                    asm += p * p
                    entropy -= p * log(p)
                    meanI += Double(i) * p; meanJ += Double(j) * p
                }
            }
            var varI = 0.0, varJ = 0.0, cov = 0.0
            for i in 0..<levels {
                for j in 0..<levels {
                    let p = scratch.matrix[i * levels + j] * norm
                    if p == 0 { continue }
                    let di = Double(i) - meanI, dj = Double(j) - meanJ
                    varI += p * di * di; varJ += p * dj * dj; cov += p * di * dj
                }
            }
            let sI = varI.squareRoot(), sJ = varJ.squareRoot()
            let correlation = (sI < 1e-15 || sJ < 1e-15) ? 1 : cov / (sI * sJ)
            result.contrast += contrast / 4
            result.homogeneity += homogeneity / 4
            result.energy += asm.squareRoot() / 4
            result.correlation += correlation / 4
            result.entropy += entropy / 4
        }
        return result
    }
}

struct GLCMScratch {
    var levels: [Int32] = []
    var counts: [Int32] = []
    var matrix: [Double] = []
}
