import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gaussian gradient magnitude for the patch gradient statistics.
///
/// Equals `scipy.ndimage.gaussian_gradient_magnitude(image, sigma)` (mode `reflect`,
/// `truncate=4.0`, kernel radius `Int(4·sigma + 0.5)`) within Float rounding.
/// (Kept here so the Locator does not depend on the filter module's evolving API.)
public enum PatchGradient {
    /// The 1-D Gaussian kernel (order 0) or its first derivative (order 1), normalised like scipy.
    static func kernel(sigma: Double, order: Int) -> [Float] {
        let radius = Int(4 * sigma + 0.5)
        var phi = [Double](repeating: 0, count: 2 * radius + 1)
        var total = 0.0
        for i in 0...(2 * radius) {
            let x = Double(i - radius)
            phi[i] = exp(-0.5 / (sigma * sigma) * x * x)
            total += phi[i]
        }
        for i in phi.indices { phi[i] /= total }
        if order == 1 {
            // d/dx of the Gaussian, applied as correlation: out[i] = Σ_x (x/σ²) φ(x) in[i+x].
            for i in phi.indices { phi[i] *= Double(i - radius) / (sigma * sigma) }
        }
        return phi.map { Float($0) }
    }

    /// The gradient magnitude of a 2D single-channel image; `sigma` in pixels (> 0).
    /// - Complexity: O(width · height · sigma), parallel over row bands.
    public static func magnitude(_ image: Image<Float>, sigma: Double) -> Image<Float> {
        precondition(sigma > 0 && image.channels == 1 && image.depth == 1,
                     "PatchGradient.magnitude needs sigma > 0 and a 2D single-channel image, got sigma \(sigma), \(image.shape)")
        let smooth = kernel(sigma: sigma, order: 0)
        let derivative = kernel(sigma: sigma, order: 1)
        // gx: derivative along x, smooth along y. gy: smooth along x, derivative along y.
        let dx = filterRows(image, derivative)
        let sx = filterRows(image, smooth)
        let gx = filterColumns(dx, smooth)
        let gy = filterColumns(sx, derivative)
        var out = gx
        out.pixels.withUnsafeMutableBufferPointer { o in
            gy.pixels.withUnsafeBufferPointer { b in
                for i in 0..<o.count { o[i] = (o[i] * o[i] + b[i] * b[i]).squareRoot() }
            }
        }
        return out
    }

    /// scipy 'reflect' (d c b a | a b c d | d c b a) index for any i, n ≥ 1.
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        let period = 2 * n
        i = ((i % period) + period) % period
        return i < n ? i : period - 1 - i
    }

    static func filterRows(_ image: Image<Float>, _ weights: [Float]) -> Image<Float> {
        let w = image.width, h = image.height, radius = weights.count / 2
        var out = Image<Float>(shape: image.shape, spacing: image.spacing)
        out.pixels.withUnsafeMutableBufferPointer { dst in
        let outBox = UnsafeMutableSendable(dst.baseAddress!)
        image.pixels.withUnsafeBufferPointer { src in
            let srcBox = UnsafeSendable(src.baseAddress!)
            Parallel.forEachChunk(of: h, chunkCount: Parallel.chunkCount(total: h, minimumPerChunk: 16)) { rows in
                var padded = [Float](repeating: 0, count: w + 2 * radius)
                for y in rows {
                    let row = srcBox.pointer + y * w
                    for i in 0..<(w + 2 * radius) { padded[i] = row[reflect(i - radius, w)] }
                    let o = outBox.pointer + y * w
                    padded.withUnsafeBufferPointer { p in
                        for x in 0..<w { o[x] = 0 }
                        for k in 0..<weights.count {
                            let wk = weights[k]
                            let base = p.baseAddress! + k
                            for x in 0..<w { o[x] += wk * base[x] }
                        }
                    }
                }
            }
        }
        }
        return out
    }

    static func filterColumns(_ image: Image<Float>, _ weights: [Float]) -> Image<Float> {
        let w = image.width, h = image.height, radius = weights.count / 2
        var out = Image<Float>(shape: image.shape, spacing: image.spacing)
        out.pixels.withUnsafeMutableBufferPointer { dst in
        let outBox = UnsafeMutableSendable(dst.baseAddress!)
        image.pixels.withUnsafeBufferPointer { src in
            let srcBox = UnsafeSendable(src.baseAddress!)
            Parallel.forEachChunk(of: h, chunkCount: Parallel.chunkCount(total: h, minimumPerChunk: 16)) { rows in
                for y in rows {
                    let o = outBox.pointer + y * w
                    for x in 0..<w { o[x] = 0 }
                    for k in 0..<weights.count {
                        let wk = weights[k]
                        let s = srcBox.pointer + reflect(y + k - radius, h) * w
                        for x in 0..<w { o[x] += wk * s[x] }
                    }
                }
            }
        }
        }
        return out
    }
}

/// A raw pointer handed to parallel workers that write disjoint ranges.
struct UnsafeMutableSendable<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A raw read-only pointer handed to parallel workers.
struct UnsafeSendable<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>
    init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = UnsafePointer(pointer) }
}
