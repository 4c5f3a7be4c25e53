/// Sampled 1D Gaussian kernels and their derivatives, as used by `scipy.ndimage.gaussian_filter`.
///
/// For scale σ the kernel has radius `r = Int(truncate · σ + 0.5)` (truncate = 4 by default, so
/// σ = 1 → 9 taps, σ = 3.5 → 29 taps) and taps at x = −r…r:
///
/// ```
/// φ(x)  = exp(−x² / 2σ²) / Σ exp(−x² / 2σ²)      (normalised to sum 1 on the grid)
/// order 1: φ(x) · (−x / σ²)          order 2: φ(x) · (x² / σ⁴ − 1 / σ²)
/// ```
///
/// Filters apply the kernel as a convolution, so a first derivative is positive where the image
/// increases along the axis. σ = 0 gives the identity (order 0 only).
public struct GaussianKernel: Sendable, Hashable {
    /// scipy's default `truncate`.
    public static let defaultTruncate = 4.0

    /// Radius for scale `sigma`: `Int(truncate * sigma + 0.5)`.
    @inlinable
    public static func radius(sigma: Double, truncate: Double = defaultTruncate) -> Int {
        Int(truncate * sigma + 0.5)
    }

    /// Scale in pixels.
    public let sigma: Double
    /// Derivative order, 0…2.
    public let order: Int
    /// Half width; the kernel has `2 * radius + 1` taps.
    public let radius: Int
    /// Correlation taps for offsets −radius…radius: `output[i] = Σ taps[k] · input[i + k − radius]`
    /// (the convolution kernel reversed).
    public let taps: [Float]

    /// Builds the kernel. `sigma` ≥ 0 and finite; `order` 0, 1 or 2 (order > 0 needs sigma > 0).
    public init(sigma: Double, order: Int = 0, truncate: Double = defaultTruncate) {
        precondition(sigma >= 0 && sigma.isFinite, "GaussianKernel(sigma:) needs a finite sigma >= 0, got \(sigma)")
        precondition((0...2).contains(order), "GaussianKernel(order:) supports orders 0...2, got \(order)")
        precondition(order == 0 || sigma > 0, "GaussianKernel: a derivative (order \(order)) needs sigma > 0")
        self.sigma = sigma
        self.order = order
        let radius = sigma > 0 ? GaussianKernel.radius(sigma: sigma, truncate: truncate) : 0
        self.radius = radius
        if radius == 0 && order == 0 {
            taps = [1]
            return
        }
        let variance = sigma * sigma
        var phi = [Double](repeating: 0, count: 2 * radius + 1)
        var sum = 0.0
        for k in 0...(2 * radius) {
            let x = Double(k - radius)
            phi[k] = (-0.5 * x * x / variance).exponentiated()
            sum += phi[k]
        }
        var result = [Float](repeating: 0, count: 2 * radius + 1)
        for k in 0...(2 * radius) {
            // Correlation tap at offset x is the convolution kernel at −x.
            let x = -Double(k - radius)
            let p = phi[k] / sum
            switch order {
            case 0: result[k] = Float(p)
            case 1: result[k] = Float(p * (-x / variance))
            default: result[k] = Float(p * (x * x / (variance * variance) - 1 / variance))
            }
        }
        taps = result
    }
}

extension Double {
    @usableFromInline func exponentiated() -> Double { _exp(self) }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
