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
        var values = [Float](unsafeUninitializedLargeCount: outColumns * outRows * statistics.count) { _ in }
        let shift = image.pixels.withUnsafeBufferPointer { p -> Double in
            roundedMean(p, flags: nil, keep: 1) {
                var s = 0.0
                for v in p { s += Double(v) }
                return (s / Double(p.count)).rounded()
            }
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

    /// The shift the moments' running sums use: the rounded mean of `pixels` (of those whose
    /// flag in `exclude` is false), as the pixel-order Double sum gives it; 0 when no pixel is
    /// left. Public for the kernel tests.
    public static func shift(_ pixels: [Float], excluding exclude: [Bool]? = nil) -> Double {
        precondition(exclude.map { $0.count == pixels.count } ?? true, "SlidingWindow.shift: \(exclude?.count ?? 0) flags for \(pixels.count) pixels")
        let flags = exclude ?? []
        return pixels.withUnsafeBufferPointer { p in
            flags.withUnsafeBufferPointer { f in
                let bytes = exclude == nil ? nil : f.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }
                return roundedMean(p, flags: bytes, keep: 0) {
                    var s = 0.0, n = 0
                    for i in 0..<p.count where !(exclude?[i] ?? false) { s += Double(p[i]); n += 1 }
                    return n > 0 ? (s / Double(n)).rounded() : 0
                }
            }
        }
    }

    /// The shift of the running sums: `(s / n).rounded()` for the Double sum `s` of the `n`
    /// pixels whose flag byte is `keep` (every pixel when `flags` is nil), or 0 when there is none.
    ///
    /// When every such pixel is an integer of magnitude ≤ 2²⁴ (8- and 16-bit data) and there are
    /// fewer than 2²⁹ pixels, every partial sum is an integer below 2⁵³, so the Double sums are
    /// exact in any order: the pixels are summed in fixed chunks on all cores (the 4096² window
    /// run's serial pixel-order sum was a pass of its own). Otherwise `serial` (the pixel-order
    /// sum) decides, so the value is always the pixel-order sum's.
    static func roundedMean(_ p: UnsafeBufferPointer<Float>, flags: UnsafePointer<UInt8>?, keep: UInt8,
                            serial: () -> Double) -> Double {
        let count = p.count
        guard let base = p.baseAddress, count < 1 << 29 else { return serial() }
        let chunks = Parallel.chunkCount(total: count, minimumPerChunk: 1 << 18)
        nonisolated(unsafe) var sums = [Double](repeating: 0, count: chunks)
        nonisolated(unsafe) var counts = [Int](repeating: 0, count: chunks)
        nonisolated(unsafe) var exact = [Bool](repeating: false, count: chunks)
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                exact.withUnsafeMutableBufferPointer { exact in
                    let out = UncheckedSendable((sums.baseAddress!, counts.baseAddress!, exact.baseAddress!))
                    let pixels = UncheckedSendable(base), mask = UncheckedSendable(flags)
                    Parallel.forEach(chunks) { c in
                        let start = count * c / chunks, end = count * (c + 1) / chunks
                        let result = mask.value.map { sumIncluded(pixels.value, flags: $0, keep: keep, range: start..<end) }
                            ?? sumIncluded(pixels.value, flags: nil, keep: keep, range: start..<end)
                        out.value.0[c] = result.sum
                        out.value.1[c] = result.count
                        out.value.2[c] = result.exact
                    }
                }
            }
        }
        guard exact.allSatisfy({ $0 }) else { return serial() }
        let n = counts.reduce(0, +)
        return n > 0 ? (sums.reduce(0, +) / Double(n)).rounded() : 0
    }

    /// One chunk of ``roundedMean(_:flags:keep:serial:)``: the sum and count of the included
    /// pixels in four lanes (exact when `exact`: every included pixel an integer of magnitude
    /// ≤ 2²⁴, NaN not), one loop for each case so that neither tests an optional per pixel.
    @inline(__always)
    static func sumIncluded(_ p: UnsafePointer<Float>, flags: UnsafePointer<UInt8>?, keep: UInt8,
                            range: Range<Int>) -> (sum: Double, count: Int, exact: Bool) {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, n = 0
        var bad = false
        @inline(__always) func off(_ x: Float) -> Bool { !(x.rounded(.towardZero) == x && x.magnitude <= 16_777_216) }
        var i = range.lowerBound
        let end = range.upperBound
        if let flags {
            let allKept: UInt64 = keep == 0 ? 0 : 0x0101_0101_0101_0101  // eight flags that all keep
            while i + 4 <= end {
                if i + 8 <= end && UnsafeRawPointer(flags + i).loadUnaligned(as: UInt64.self) == allKept {
                    // Eight included pixels (most words: the bars are a small part of the image).
                    for k in stride(from: i, to: i + 8, by: 4) {
                        let a = p[k], b = p[k + 1], c = p[k + 2], d = p[k + 3]
                        s0 += Double(a); s1 += Double(b); s2 += Double(c); s3 += Double(d)
                        if off(a) || off(b) || off(c) || off(d) { bad = true }
                    }
                    n &+= 8
                    i += 8
                    continue
                }
                let a = flags[i] == keep ? p[i] : 0, b = flags[i + 1] == keep ? p[i + 1] : 0
                let c = flags[i + 2] == keep ? p[i + 2] : 0, d = flags[i + 3] == keep ? p[i + 3] : 0
                s0 += Double(a); s1 += Double(b); s2 += Double(c); s3 += Double(d)
                n &+= (flags[i] == keep ? 1 : 0) &+ (flags[i + 1] == keep ? 1 : 0) &+ (flags[i + 2] == keep ? 1 : 0) &+ (flags[i + 3] == keep ? 1 : 0)
                if off(a) || off(b) || off(c) || off(d) { bad = true }
                i += 4
            }
            while i < end {
                let a = flags[i] == keep ? p[i] : 0
                s0 += Double(a); n &+= flags[i] == keep ? 1 : 0
                if off(a) { bad = true }
                i += 1
            }
        } else {
            while i + 4 <= end {
                let a = p[i], b = p[i + 1], c = p[i + 2], d = p[i + 3]
                s0 += Double(a); s1 += Double(b); s2 += Double(c); s3 += Double(d)
                if off(a) || off(b) || off(c) || off(d) { bad = true }
                i += 4
            }
            while i < end {
                s0 += Double(p[i])
                if off(p[i]) { bad = true }
                i += 1
            }
            n = range.count
        }
        return ((s0 + s1) + (s2 + s3), n, !bad)
    }
}
