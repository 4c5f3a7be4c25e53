import CleaveCore

/// Moments of a square window slid over an image: a feature vector per output position.
///
/// Output position `(column j, row i)` describes the full `window × window` box whose top-left
/// pixel is `(j · stride, i · stride)`, i.e. centred on pixel `(j · stride + window/2, i · stride + window/2)`.
/// Only full windows are produced (no padding), so the output is
/// `((width − window) / stride + 1) × ((height − window) / stride + 1)` and a border of
/// `window/2` pixels has no value of its own.
///
/// ```
///  image columns:  0 1 2 3 4 5 6 7 8 9        window 5, stride 2
///  output j = 0:   [ x x X x x ]              centre column 2
///  output j = 1:       [ x x X x x ]          centre column 4
/// ```
///
/// Values agree with the grid statistics (population std, scipy skewness and Fisher kurtosis,
/// relstd = std/mean) computed on each window. A window whose variance is below
/// `1e-12 · (mean square about the image mean)` counts as constant: std 0, skewness 0, kurtosis 0.
public struct SlidingWindowFeatures: Sendable {
    /// Output grid size.
    public let columns: Int
    public let rows: Int
    public let window: Int
    public let stride: Int
    /// The statistics, in column order of ``values``.
    public let statistics: [PatchStatistic]
    /// Row-major table: `(row · columns + column) · statistics.count + statistic`.
    public var values: [Float]

    /// Pixel region of output position (column, row).
    public func region(column: Int, row: Int) -> Region {
        Region(x: column * stride, y: row * stride, width: window, height: window)
    }
}

public enum SlidingWindow {
    /// The statistics a sliding window can compute in O(1) per position.
    public static let supported: [PatchStatistic] = [.mean, .std, .relstd, .skewness, .kurtosis]

    /// Moments of every `window × window` box at `stride`.
    ///
    /// Running sums of `d, d², d³, d⁴` (d = value − image mean, in Double) are kept per image
    /// column and slid down; each output row then slides them across, so the cost per output
    /// pixel does not depend on `window`. Work is split into row bands whose number depends only
    /// on the image size, so results do not depend on the thread count.
    /// - Parameters:
    ///   - window: odd side length ≥ 3, at most the image's smaller side.
    ///   - stride: step between windows, ≥ 1.
    ///   - statistics: a subset of ``supported``.
    /// - Throws: ``PatchStatisticError`` for an even or too large window, a bad stride or an unsupported statistic.
    /// - Complexity: O(width · height) time, O(width) memory per band plus the output.
    public static func moments(_ image: Image<Float>, window: Int, stride: Int = 1,
                               statistics: [PatchStatistic] = [.mean, .std, .skewness, .kurtosis]) throws -> SlidingWindowFeatures {
        guard image.channels == 1, image.depth == 1 else {
            throw PatchStatisticError(message: "sliding window needs a 2D single-channel image, got \(image.shape)")
        }
        guard window >= 3, window % 2 == 1 else {
            throw PatchStatisticError(field: "windowSize", value: "\(window)", reason: "the window must be odd and at least 3 pixels")
        }
        guard window <= image.width, window <= image.height else {
            throw PatchStatisticError(field: "windowSize", value: "\(window)", reason: "larger than the \(image.width)×\(image.height) image")
        }
        guard stride >= 1 else { throw PatchStatisticError(field: "windowStride", value: "\(stride)", reason: "the stride must be at least 1") }
        for s in statistics where !supported.contains(s) {
            throw PatchStatisticError(field: "features", value: s.rawValue, reason: "not available with sliding windows (`windowSize`); use a subset of "
                                      + supported.map(\.rawValue).joined(separator: ","))
        }
        guard !statistics.isEmpty else { throw PatchStatisticError(message: "no features for the sliding window") }
        let outColumns = (image.width - window) / stride + 1
        let outRows = (image.height - window) / stride + 1
        // Every element is written by exactly one band (no zero-fill pass over a table this size).
        var values = [Float](largeUninitializedCount: outColumns * outRows * statistics.count) { _ in }
        let shift = image.pixels.withUnsafeBufferPointer { p -> Double in
            var s = 0.0
            for v in p { s += Double(v) }
            return (s / Double(p.count)).rounded()
        }
        let codes = statistics.map { s -> Int in
            switch s { case .mean: return 0; case .std: return 1; case .relstd: return 2; case .skewness: return 3; default: return 4 }
        }
        let bands = max(1, min(16, outRows / 64))
        values.withUnsafeMutableBufferPointer { out in
            let outBox = UncheckedSendable(out.baseAddress!)
            image.pixels.withUnsafeBufferPointer { src in
                let srcBox = UncheckedSendable(src.baseAddress!)
                Parallel.forEachChunk(of: outRows, chunkCount: bands) { rowRange in
                    SlidingWindowKernel.band(srcBox.value, width: image.width, window: window, stride: stride,
                                             shift: shift, outRows: rowRange, outColumns: outColumns,
                                             codes: codes, out: outBox.value)
                }
            }
        }
        return SlidingWindowFeatures(columns: outColumns, rows: outRows, window: window, stride: stride,
                                     statistics: statistics, values: values)
    }
}
