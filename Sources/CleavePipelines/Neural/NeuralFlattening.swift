import CleaveCore
import CleaveFilters
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Flat-field correction of network input: each plane divided by a smooth estimate of its
/// illumination relative to the plane's average, so that uneven detector response and shading
/// across the field of view reach the network as (almost) nothing.
///
/// The illumination at a pixel is the typical level of the plane's *brighter half* (the pixels
/// above the plane's median) around it: the medians of the bright pixels of `f × f` blocks
/// (f = σ / 8), fitted by a Gaussian-weighted local plane (σ = `sigma` pixels, each block
/// weighted by its bright-pixel count) and interpolated bilinearly between block centres. Dark
/// regions (pores, resin, vacuum) carry little signal about the gain and would pull a plain local
/// mean towards zero; the bright half carries it wherever the sample has material, and its
/// medians ignore a minority of much brighter grains. Each pixel is multiplied by
/// average illumination / local illumination: a gain that varies slowly across the plane (over
/// several σ) cancels, while values keep their units and the plane its overall level, so the
/// model's fixed intensity window still reads absolute grey levels (a plane-wide gain is left to
/// the window and the gain augmentation). Contrast that varies over much less than σ, the
/// particles and grains the network has to tell apart, is kept.
///
/// The fit is *linear* (normalised convolution of order 1), not a plain weighted average: a plain
/// average over a window that the plane's edge cuts off is biased by the gain's slope × 0.8 σ (6 %
/// at the edge for the issue's ×0.75…×1.25 ramp over 512 rows at σ = 64); a linear fit is exact
/// for a linear gain up to the edge. Where the bright pixels near a point are too few or too
/// lopsided to fit a slope, it falls back to the plain weighted average. A σ as large as the plane
/// or larger makes the fit one plane-wide linear gain (blocks are then an eighth of the shorter
/// side, at least 8 pixels).
public enum NeuralFlattening {
    /// Smallest illumination, as a share of the plane's bright-half median, that a pixel is divided by.
    public static let floorShare: Float = 0.1

    /// Divides `values` (`width × height`, row-major) by their illumination relative to its
    /// plane average, in place.
    ///
    /// A plane whose bright half has no positive median carries no multiplicative gain to remove and
    /// is left as it is.
    /// - Complexity: O(width × height) for the block medians and the interpolation, plus the
    ///   Gaussian-weighted fit over the (width / f) × (height / f) blocks (f = σ / 8).
    public static func flatten(_ values: inout [Float], width: Int, height: Int, sigma: Double) {
        guard let light = illumination(values, width: width, height: height, sigma: sigma) else { return }
        let average = Float(light.reduce(0.0) { $0 + Double($1) } / Double(light.count))
        for i in values.indices { values[i] *= average / light[i] }
    }

    /// The illumination of every pixel, or nil when the bright half has no positive median.
    public static func illumination(_ values: [Float], width: Int, height: Int, sigma: Double) -> [Float]? {
        precondition(values.count == width * height && width > 0 && height > 0, "NeuralFlattening: \(values.count) values for \(height)×\(width)")
        precondition(sigma > 0, "NeuralFlattening: sigma must be positive")
        var copy = values.filter { $0.isFinite }
        guard !copy.isEmpty else { return nil }
        let median = Float(OrderStatistics.percentile(&copy, 50))
        // The bright half: above the median, or at it when more than half the plane sits at its top value.
        var threshold = median
        if !values.contains(where: { $0 > median }) { threshold = median.nextDown }

        // Blocks of σ/8. When σ exceeds the plane's shorter side, an eighth of that side (at least
        // 8 pixels, so that a block holds enough bright pixels for a median), and the fit tends to
        // one plane-wide linear gain.
        let shorter = Double(min(width, height))
        let f = sigma <= shorter ? max(1, Int(sigma / 8)) : max(8, Int(shorter / 8))
        let gw = (width + f - 1) / f, gh = (height + f - 1) / f
        // Per block: the median of its bright pixels (so a few very bright grains do not lift it)
        // and their count, the weight of that median in the fit.
        var sums = [Float](repeating: 0, count: gw * gh), weights = [Float](repeating: 0, count: gw * gh)
        var bright: [Float] = [], block: [Float] = []
        block.reserveCapacity(f * f)
        for by in 0..<gh {
            for bx in 0..<gw {
                block.removeAll(keepingCapacity: true)
                for y in (by * f)..<min(height, (by + 1) * f) {
                    for x in (bx * f)..<min(width, (bx + 1) * f) {
                        let v = values[y * width + x]
                        if v > threshold && v.isFinite { block.append(v) }
                    }
                }
                guard !block.isEmpty else { continue }
                bright.append(contentsOf: block)
                let median = Float(OrderStatistics.percentile(&block, 50))
                sums[by * gw + bx] = median * Float(block.count)
                weights[by * gw + bx] = Float(block.count)
            }
        }
        guard !bright.isEmpty else { return nil }
        let level = Float(OrderStatistics.percentile(&bright, 50))
        guard level > 0 else { return nil }
        let floor = floorShare * level
        let grid = localLinearMeans(sums: sums, counts: weights, width: gw, height: gh, sigma: sigma / Double(f), fallback: level)
        // Bilinear interpolation between block centres ((j + 0.5)·f − 0.5), extrapolated linearly
        // over the outer half blocks (the fit is linear; holding the edge value would leave the
        // slope × f / 2 uncorrected there, 3 % for the ramp with 128-pixel blocks).
        func axis(_ p: Int, _ n: Int) -> (Int, Int, Float) {
            if n == 1 { return (0, 0, 0) }
            let t = (Float(p) + 0.5) / Float(f) - 0.5
            let i = min(max(0, Int(t.rounded(.down))), n - 2)
            return (i, i + 1, t - Float(i))
        }
        let columns = (0..<width).map { axis($0, gw) }
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            let (y0, y1, ty) = axis(y, gh)
            for x in 0..<width {
                let (x0, x1, tx) = columns[x]
                let top = grid[y0 * gw + x0] * (1 - tx) + grid[y0 * gw + x1] * tx
                let bottom = grid[y1 * gw + x0] * (1 - tx) + grid[y1 * gw + x1] * tx
                out[y * width + x] = max(floor, top * (1 - ty) + bottom * ty)
            }
        }
        return out
    }

    /// Gaussian-weighted linear fit of the block means `sums / counts` (weight = count) at every
    /// block centre, outside the grid counting as no data.
    static func localLinearMeans(sums: [Float], counts: [Float], width: Int, height: Int, sigma: Double, fallback: Float) -> [Float] {
        let radius = max(1, GaussianKernel.radius(sigma: sigma))
        let offsets = (-radius...radius).map { Double($0) }
        let g = offsets.map { exp(-$0 * $0 / (2 * sigma * sigma)) }
        // Kernels g·d^p for p = 0, 1, 2 (d = source − centre, in blocks).
        let kernels = (0...2).map { p in zip(g, offsets).map { p == 0 ? $0 : p == 1 ? $0 * $1 : $0 * $1 * $1 } }
        func smooth(_ values: [Float], px: Int, py: Int) -> [Double] {
            var rows = [Double](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    var acc = 0.0
                    for k in max(-radius, -x)...min(radius, width - 1 - x) {
                        acc += kernels[px][k + radius] * Double(values[y * width + x + k])
                    }
                    rows[y * width + x] = acc
                }
            }
            var out = [Double](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    var acc = 0.0
                    for k in max(-radius, -y)...min(radius, height - 1 - y) {
                        acc += kernels[py][k + radius] * rows[(y + k) * width + x]
                    }
                    out[y * width + x] = acc
                }
            }
            return out
        }
        let w00 = smooth(counts, px: 0, py: 0), w10 = smooth(counts, px: 1, py: 0), w01 = smooth(counts, px: 0, py: 1)
        let w20 = smooth(counts, px: 2, py: 0), w02 = smooth(counts, px: 0, py: 2), w11 = smooth(counts, px: 1, py: 1)
        let s00 = smooth(sums, px: 0, py: 0), s10 = smooth(sums, px: 1, py: 0), s01 = smooth(sums, px: 0, py: 1)
        let spreadX = min(sigma * sigma, Double(width * width) / 12), spreadY = min(sigma * sigma, Double(height * height) / 12)
        var out = [Float](repeating: fallback, count: width * height)
        for i in out.indices where w00[i] > 1e-3 {
            let m = w00[i]
            let plain = s00[i] / m
            // Weighted covariance of the data positions around this centre, in blocks².
            let (mx, my) = (w10[i] / m, w01[i] / m)
            let cxx = w20[i] / m - mx * mx, cyy = w02[i] / m - my * my, cxy = w11[i] / m - mx * my
            let det = cxx * cyy - cxy * cxy
            // A slope needs data spread in both directions: at a corner with a full quarter of
            // data the determinant is 0.13 σ⁴, so 0.02 σ⁴ only rejects sparse or one-sided data.
            // When σ exceeds the grid, the spread is bounded by the grid itself (a uniform spread
            // over n blocks has variance n²/12), so that bound takes σ²'s place.
            guard det > 0.02 * spreadX * spreadY else { out[i] = Float(plain); continue }
            // Solve [m, m·mx, m·my; …] θ = [s00, s10, s01] for θ = (a, b, c) by centring:
            // a = ȳ − b·mx − c·my with (b, c) from the covariance system.
            let (sx, sy) = (s10[i] / m - plain * mx, s01[i] / m - plain * my) // weighted cov(position, value)
            let b = (sx * cyy - sy * cxy) / det, c = (sy * cxx - sx * cxy) / det
            out[i] = Float(plain - b * mx - c * my)
        }
        return out
    }
}
