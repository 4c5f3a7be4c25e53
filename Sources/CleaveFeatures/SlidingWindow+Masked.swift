import CleaveCore

extension SlidingWindow {
    /// Moments of every `window × window` box over the pixels where `include` is true only
    /// (e.g. the film beside a grid bar), plus each window's included fraction.
    ///
    /// Running sums of `w, w·d, w·d², w·d³, w·d⁴` (w = 1 on included pixels, 0 elsewhere, d =
    /// value − shift, in Double) slide exactly as in ``moments(_:window:stride:statistics:)``, so
    /// the cost per window does not depend on `window`. A window with no included pixel gets
    /// all-zero statistics; a window whose included pixels are constant gets std, skewness and
    /// kurtosis 0, as in the unmasked moments. With `include` all true the values equal the
    /// unmasked moments up to rounding (the shift is the included pixels' mean).
    /// - Parameters:
    ///   - include: one flag per pixel of `image`.
    /// - Returns: the features and, per window, the fraction of its pixels that are included.
    /// - Throws: as ``moments(_:window:stride:statistics:)``.
    /// - Complexity: O(width · height).
    public static func maskedMoments(_ image: Image<Float>, include: [Bool], window: Int, stride: Int = 1,
                                     statistics: [PatchStatistic]) throws -> (features: SlidingWindowFeatures, included: [Float]) {
        // Same validation as the unmasked moments (on a 1-pixel stand-in the checks are the same).
        guard include.count == image.pixels.count else {
            throw PatchStatisticError(message: "masked sliding window: \(include.count) mask flags for \(image.pixels.count) pixels")
        }
        let check = try moments(Image<Float>(shape: Shape(width: window, height: window)), window: window, stride: stride,
                                statistics: statistics)
        _ = check
        guard window <= image.width, window <= image.height else {
            throw PatchStatisticError(message: "--window \(window) is larger than the \(image.width)×\(image.height) image")
        }
        let width = image.width
        let outColumns = (image.width - window) / stride + 1
        let outRows = (image.height - window) / stride + 1
        let f = statistics.count
        // Every window's statistics and fraction are written by exactly one band.
        var values = [Float](largeUninitializedCount: outColumns * outRows * f) { _ in }
        var included = [Float](largeUninitializedCount: outColumns * outRows) { _ in }
        let shift: Double = image.pixels.withUnsafeBufferPointer { p in
            include.withUnsafeBufferPointer { include in
                var s = 0.0, n = 0
                for i in 0..<p.count where include[i] { s += Double(p[i]); n += 1 }
                return n > 0 ? (s / Double(n)).rounded() : 0
            }
        }
        let bands = max(1, min(16, outRows / 64))
        values.withUnsafeMutableBufferPointer { out in
            included.withUnsafeMutableBufferPointer { fraction in
                image.pixels.withUnsafeBufferPointer { src in
                    include.withUnsafeBufferPointer { flags in
                        // A Bool is one byte, 0 or 1: the flags are the weights.
                        let w = UnsafeSendable(UnsafeRawPointer(flags.baseAddress!).assumingMemoryBound(to: UInt8.self))
                        let out = UnsafeMutableSendable(out.baseAddress!), fraction = UnsafeMutableSendable(fraction.baseAddress!)
                        let src = UnsafeSendable(src.baseAddress!)
                        Parallel.forEachChunk(of: outRows, chunkCount: bands) { rows in
                            maskedBand(src.pointer, weights: w.pointer, width: width, window: window, stride: stride, shift: shift,
                                       outRows: rows, outColumns: outColumns, statistics: statistics,
                                       out: out.pointer, fraction: fraction.pointer)
                        }
                    }
                }
            }
        }
        return (SlidingWindowFeatures(columns: outColumns, rows: outRows, window: window, stride: stride,
                                      statistics: statistics, values: values), included)
    }

    static func maskedBand(_ src: UnsafePointer<Float>, weights: UnsafePointer<UInt8>, width: Int, window: Int, stride: Int,
                           shift: Double, outRows: Range<Int>, outColumns: Int, statistics: [PatchStatistic],
                           out: UnsafeMutablePointer<Float>, fraction: UnsafeMutablePointer<Float>) {
        let f = statistics.count
        // Column sums of w·dᵏ, k = 0…4, interleaved per image column.
        let columns = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: width)
        columns.initialize(repeating: .zero, count: width)
        defer { columns.deallocate() }
        let n = Double(window * window)
        func add(row y: Int, sign: Double) {
            let p = src + y * width, wRow = weights + y * width
            for x in 0..<width {
                let w = sign * Double(wRow[x])
                let d = Double(p[x]) - shift
                let d2 = d * d
                columns[x] += SIMD8(w, w * d, w * d2, w * d2 * d, w * d2 * d2, 0, 0, 0)
            }
        }
        let firstTop = outRows.lowerBound * stride
        for y in firstTop..<(firstTop + window) { add(row: y, sign: 1) }
        for outRow in outRows {
            if outRow > outRows.lowerBound {
                let previousTop = (outRow - 1) * stride, top = outRow * stride
                if stride >= window {
                    for x in 0..<width { columns[x] = .zero }
                    for y in top..<(top + window) { add(row: y, sign: 1) }
                } else {
                    for y in previousTop..<top { add(row: y, sign: -1) }
                    for y in (previousTop + window)..<(top + window) { add(row: y, sign: 1) }
                }
            }
            // Window sums slide across the row: drop the columns that leave, add those that enter.
            var s = SIMD8<Double>.zero
            for x in 0..<window { s += columns[x] }
            for j in 0..<outColumns {
                if j > 0 {
                    let previous = (j - 1) * stride, next = j * stride
                    if stride >= window {
                        s = .zero
                        for x in next..<(next + window) { s += columns[x] }
                    } else {
                        for x in previous..<next { s -= columns[x] }
                        for x in (previous + window)..<(next + window) { s += columns[x] }
                    }
                }
                let base = out + (outRow * outColumns + j) * f
                let count = s[0]
                fraction[outRow * outColumns + j] = Float(count / n)
                guard count > 0.5 else {
                    for k in 0..<f { base[k] = 0 }
                    continue
                }
                let mu = s[1] / count, r2 = s[2] / count, r3 = s[3] / count, r4 = s[4] / count
                let mu2 = mu * mu
                let m2raw = r2 - mu2
                let constant = m2raw <= 1e-12 * r2
                let m2 = constant ? 1 : m2raw
                let m3 = r3 - 3 * mu * r2 + 2 * mu2 * mu
                let m4 = r4 - 4 * mu * r3 + 6 * mu2 * r2 - 3 * mu2 * mu2
                let std = constant ? 0 : m2.squareRoot()
                let mean = mu + shift
                for (k, statistic) in statistics.enumerated() {
                    switch statistic {
                    case .mean: base[k] = Float(mean)
                    case .std: base[k] = Float(std)
                    case .relstd: base[k] = mean == 0 ? 0 : Float(std / mean)
                    case .skewness: base[k] = constant ? 0 : Float(m3 / (m2 * std))
                    default: base[k] = constant ? 0 : Float(m4 / (m2 * m2) - 3)
                    }
                }
            }
        }
    }
}
