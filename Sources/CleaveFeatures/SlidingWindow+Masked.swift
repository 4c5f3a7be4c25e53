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
        try maskedMoments(image, flags: include, excludedValue: false, window: window, stride: stride, statistics: statistics)
    }

    /// ``maskedMoments(_:include:window:stride:statistics:)`` with the pixels to leave out flagged
    /// (e.g. a grid bar mask, without building its complement).
    public static func maskedMoments(_ image: Image<Float>, exclude: [Bool], window: Int, stride: Int = 1,
                                     statistics: [PatchStatistic]) throws -> (features: SlidingWindowFeatures, included: [Float]) {
        try maskedMoments(image, flags: exclude, excludedValue: true, window: window, stride: stride, statistics: statistics)
    }

    /// ``maskedMoments(_:exclude:window:stride:statistics:)`` with, instead of each window's
    /// included fraction `f`, whether its excluded fraction `1 − f` (in Float) is above `limit`:
    /// a table of flags a quarter the size of the fractions (the 4096² window run's fractions
    /// were 66 MB of fresh memory used only for that comparison).
    public static func maskedMoments(_ image: Image<Float>, exclude: [Bool], window: Int, stride: Int = 1,
                                     statistics: [PatchStatistic], flaggingExcludedFractionAbove limit: Float)
        throws -> (features: SlidingWindowFeatures, mostlyExcluded: [Bool]) {
        let result = try maskedMoments(image, flags: exclude, excludedValue: true, window: window, stride: stride, statistics: statistics,
                                       excludedAbove: limit)
        return (result.features, result.flags)
    }

    static func maskedMoments(_ image: Image<Float>, flags: [Bool], excludedValue: Bool, window: Int, stride: Int,
                              statistics: [PatchStatistic]) throws -> (features: SlidingWindowFeatures, included: [Float]) {
        let result = try maskedMoments(image, flags: flags, excludedValue: excludedValue, window: window, stride: stride,
                                       statistics: statistics, excludedAbove: nil)
        return (result.features, result.fraction)
    }

    /// The masked moments with either the included fractions (`excludedAbove` nil; `flags` empty)
    /// or the flags `1 − fraction > excludedAbove` (`fraction` empty).
    static func maskedMoments(_ image: Image<Float>, flags: [Bool], excludedValue: Bool, window: Int, stride: Int,
                              statistics: [PatchStatistic], excludedAbove: Float?)
        throws -> (features: SlidingWindowFeatures, fraction: [Float], flags: [Bool]) {
        // Same validation as the unmasked moments (on a 1-pixel stand-in the checks are the same).
        guard flags.count == image.pixels.count else {
            throw PatchStatisticError(message: "masked sliding window: \(flags.count) mask flags for \(image.pixels.count) pixels")
        }
        _ = try moments(Image<Float>(shape: Shape(width: window, height: window)), window: window, stride: stride,
                        statistics: statistics)
        guard window <= image.width, window <= image.height else {
            throw PatchStatisticError(field: "windowSize", value: "\(window)", reason: "larger than the \(image.width)×\(image.height) image")
        }
        let width = image.width
        let outColumns = (image.width - window) / stride + 1
        let outRows = (image.height - window) / stride + 1
        let f = statistics.count
        // Every window's statistics and fraction are written by exactly one band.
        var values = [Float](unsafeUninitializedLargeCount: outColumns * outRows * f) { _ in }
        var included = excludedAbove == nil ? [Float](unsafeUninitializedLargeCount: outColumns * outRows) { _ in } : []
        var mostlyExcluded = excludedAbove == nil ? [] : [Bool](unsafeUninitializedLargeCount: outColumns * outRows) { _ in }
        // The included pixels' mean, summed in pixel order (an excluded pixel adds +0, which
        // changes no sum: the loop has no branch to mispredict).
        let shift: Double = image.pixels.withUnsafeBufferPointer { p in
            flags.withUnsafeBufferPointer { flags in
                let bytes = UnsafeRawPointer(flags.baseAddress!).assumingMemoryBound(to: UInt8.self)  // a Bool is one byte, 0 or 1
                let keep: UInt8 = excludedValue ? 0 : 1
                return roundedMean(p, flags: bytes, keep: keep) {
                    var s = 0.0, n = 0
                    for i in 0..<p.count {
                        let inside = bytes[i] == keep
                        s += inside ? Double(p[i]) : 0
                        n += inside ? 1 : 0
                    }
                    return n > 0 ? (s / Double(n)).rounded() : 0
                }
            }
        }
        let codes = statistics.map { s -> Int in
            switch s { case .mean: return 0; case .std: return 1; case .relstd: return 2; case .skewness: return 3; default: return 4 }
        }
        let bands = max(1, min(16, outRows / 64))
        values.withUnsafeMutableBufferPointer { out in
            included.withUnsafeMutableBufferPointer { fraction in
                mostlyExcluded.withUnsafeMutableBufferPointer { mostly in
                    image.pixels.withUnsafeBufferPointer { src in
                        flags.withUnsafeBufferPointer { flags in
                            let w = UncheckedSendable(UnsafeRawPointer(flags.baseAddress!).assumingMemoryBound(to: UInt8.self))
                            let out = UncheckedSendable(out.baseAddress!)
                            let coverage = UncheckedSendable<SlidingWindowMaskedKernel.Coverage>(excludedAbove.map { .excludedAbove($0, mostly.baseAddress!) }
                                                                  ?? .fraction(fraction.baseAddress!))
                            let src = UncheckedSendable(src.baseAddress!)
                            Parallel.forEachChunk(of: outRows, chunkCount: bands) { rows in
                                SlidingWindowMaskedKernel.band(src.value, flags: w.value, excludedValue: excludedValue ? 1 : 0, width: width,
                                                               window: window, stride: stride, shift: shift, outRows: rows,
                                                               outColumns: outColumns, codes: codes, out: out.value, coverage: coverage.value)
                            }
                        }
                    }
                }
            }
        }
        return (SlidingWindowFeatures(columns: outColumns, rows: outRows, window: window, stride: stride,
                                      statistics: statistics, values: values), included, mostlyExcluded)
    }
}

