import CleaveCore

/// The grey level of bare film, measured from the film's own population of pixels.
///
/// Grid bars and beam-free tile areas can cover anything from a sliver to most of the field, so
/// the median of all pixels may land in the bars. The film level is therefore measured like this:
///
/// ```
/// subsample ─▶ Otsu split at t ─▶ darker side black? ──yes──▶ film level = median of pixels ≥ t
///                                      │
///                                      no ──▶ film level = median of all (and the output says so)
/// ```
///
/// **Assumption, checked on the data:** when black areas are present, the histogram has two
/// populations — black (bars, no beam) and film — and the darker one is *black*: its median lies
/// below ``Locator/blackFractionOfFilm`` (half) of the brighter one's, the criterion the Locator
/// uses for black pixels. It must also hold at least ``minimumDarkShare`` of the sample and the
/// split must explain at least ``minimumSeparation`` of the variance (Otsu's η; it falls with the
/// dark share: the synthetic mesh gives 0.80 at 11 % bars, 0.98 at 50 %). A darker population
/// that is not black — crystals, thicker film, film beside bright holes; on the real sets the
/// darker half's median is 0.70 (dataset1) and 0.94 (asbestos) of the brighter one's — fails
/// the check, and then the median of all pixels is the film level, as before.
public struct FilmLevel: Sendable, Codable, Equatable, CustomStringConvertible {
    /// How the level was obtained.
    public enum Method: String, Sendable, Codable {
        /// Median of the brighter of two populations (black areas found).
        case brightPopulation = "bright-population median"
        /// Median of all sampled pixels (one population, or the darker one is not black).
        case median
    }

    /// Smallest fraction of the variance the two-population split must explain (Otsu's η).
    public static let minimumSeparation = 0.5
    /// Smallest share of the sample the black population must hold.
    public static let minimumDarkShare = 0.01
    /// Histogram bins of the Otsu split (over the sample's min…max).
    public static let binCount = 4096

    /// The film level in grey values.
    public var level: Double
    /// Which population the level was taken from (and so what ``level`` means).
    public var method: Method
    /// Whether the two-population check passed (then ``method`` is ``Method/brightPopulation``).
    public var bimodal: Bool
    /// Otsu's split of the sample (grey value; pixels at or above it are the bright population).
    public var threshold: Double
    /// Fraction of the variance the split explains (η, 0…1).
    public var separation: Double
    /// Fraction of the sample below the split.
    public var darkShare: Double
    /// Medians of the populations below and at or above the split.
    public var darkMedian: Double
    /// The median of the bright population (at or above ``threshold``); the film when ``bimodal``.
    public var brightMedian: Double
    /// Median of the whole sample.
    public var median: Double
    /// Pixels sampled.
    public var sampleCount: Int

    /// Why the method was chosen, in one line (for the printed output and `summary.json`).
    public var description: String {
        let split = "split at \(Self.format(threshold)): \(Self.percent(darkShare)) below, η \(Self.format2(separation))"
        switch method {
        case .brightPopulation:
            return "\(Self.format(level)), median of the bright population (two populations: \(split), dark median \(Self.format(darkMedian)) < half the bright one)"
        case .median:
            let reason: String
            if sampleCount == 0 || threshold >= brightMedian && darkShare == 0 { reason = "the sample has one grey value" }
            else if darkMedian >= Locator.blackFractionOfFilm * brightMedian {
                reason = "no black population (\(split), dark median \(Self.format(darkMedian)) ≥ half of \(Self.format(brightMedian)))"
            } else if darkShare < Self.minimumDarkShare { reason = "the black population is too small (\(split), < \(Self.percent(Self.minimumDarkShare)))" }
            else { reason = "the populations are not separated (\(split), η < \(Self.minimumSeparation))" }
            return "\(Self.format(level)), median of all pixels: \(reason)"
        }
    }

    /// A grey value for the printed output: rounded to a whole number from magnitude 100 up, otherwise the Float's shortest form.
    public static func format(_ v: Double) -> String {
        v.magnitude >= 100 && v.magnitude < 1e15 ? String(Int(v.rounded())) : String(Float(v))
    }
    static func format2(_ v: Double) -> String { v.magnitude < 1e13 ? String(Double(Int((v * 100).rounded())) / 100) : String(v) }
    static func percent(_ v: Double) -> String { "\(Int((v * 100).rounded())) %" }

    /// Measures the film level of `images` on a regular subsample of about `maximumSamples` pixels.
    /// - Complexity: O(samples + ``binCount``) time, O(samples) memory.
    public static func measure(_ images: [LocatorImage], maximumSamples: Int = 1_000_000) -> FilmLevel {
        let total = images.reduce(0) { $0 + $1.image.pixels.count }
        let step = max(1, total / max(1, maximumSamples))
        if images.allSatisfy(\.integral), let counted = countedMeasure(images, step: step) { return counted }
        var values: [Float] = []
        values.reserveCapacity(total / step + images.count)
        for image in images {
            image.image.pixels.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count { values.append(p[i]); i += step }
            }
        }
        return measure(sample: values)
    }

    /// ``measure(_:maximumSamples:)`` for whole-number samples in 0…65535 (8/16-bit data) by
    /// counting: the same split, populations and rank-`n/2` medians as the selection path, without
    /// copying or sorting the sample; nil when a sample does not fit.
    /// - Complexity: O(samples + 65 536).
    static func countedMeasure(_ images: [LocatorImage], step: Int) -> FilmLevel? {
        var counts = [Int](repeating: 0, count: 65_536)
        let fits = counts.withUnsafeMutableBufferPointer { counts -> Bool in
            for image in images {
                let ok = image.image.pixels.withUnsafeBufferPointer { p -> Bool in
                    var i = 0
                    while i < p.count {
                        let v = p[i]
                        guard v >= 0, v <= 65_535, v == v.rounded(.towardZero) else { return false }
                        counts[Int(v)] &+= 1
                        i &+= step
                    }
                    return true
                }
                guard ok else { return false }
            }
            return true
        }
        guard fits else { return nil }
        return measure(counts: counts)
    }

    /// The film level from a table of counts per whole grey value (index = value).
    static func measure(counts: [Int]) -> FilmLevel {
        let n = counts.reduce(0, +)
        guard n > 0, let lowIndex = counts.firstIndex(where: { $0 > 0 }), let highIndex = counts.lastIndex(where: { $0 > 0 }) else {
            return FilmLevel(level: 0, method: .median, bimodal: false, threshold: 0, separation: 0, darkShare: 0,
                             darkMedian: 0, brightMedian: 0, median: 0, sampleCount: 0)
        }
        /// The value of rank `rank` (0-based) among the counted values in `range`.
        func value(rank: Int, in range: ClosedRange<Int>) -> Double {
            var left = rank
            for v in range { if left < counts[v] { return Double(v) }; left -= counts[v] }
            return Double(range.upperBound)
        }
        let median = value(rank: n / 2, in: lowIndex...highIndex)
        var result = FilmLevel(level: median, method: .median, bimodal: false, threshold: Double(highIndex), separation: 0, darkShare: 0,
                               darkMedian: median, brightMedian: median, median: median, sampleCount: n)
        guard highIndex > lowIndex else { return result }
        // The same 4096 bins over low…high as the selection path (same formula per value).
        let low = Float(lowIndex), high = Float(highIndex)
        let scale = Double(binCount) / (Double(high) - Double(low))
        var bins = [Int](repeating: 0, count: binCount)
        for v in lowIndex...highIndex where counts[v] > 0 { bins[min(binCount - 1, Int((Double(Float(v)) - Double(low)) * scale))] += counts[v] }
        guard let split = otsu(bins, low: Double(low), scale: scale, count: Double(n)) else { return result }
        let threshold = Float(Double(low) + Double(split.bin + 1) / scale)
        // Whole values below the (fractional) threshold are the dark population.
        var firstBright = lowIndex
        while firstBright <= highIndex && Float(firstBright) < threshold { firstBright += 1 }
        let darkCount = counts[lowIndex..<firstBright].reduce(0, +)
        guard darkCount > 0, darkCount < n else { return result }
        result.threshold = Double(threshold)
        result.separation = split.separation
        result.darkShare = Double(darkCount) / Double(n)
        result.darkMedian = value(rank: darkCount / 2, in: lowIndex...(firstBright - 1))
        result.brightMedian = value(rank: (n - darkCount) / 2, in: firstBright...highIndex)
        decide(&result)
        return result
    }

    /// Otsu's split of a histogram: the last bin of the dark side and η (the between-class share
    /// of the variance); nil when no split separates anything.
    static func otsu(_ counts: [Int], low: Double, scale: Double, count n: Double) -> (bin: Int, separation: Double)? {
        var sum = 0.0, sumSquares = 0.0
        for (b, c) in counts.enumerated() where c > 0 {
            let center = low + (Double(b) + 0.5) / scale
            sum += Double(c) * center; sumSquares += Double(c) * center * center
        }
        let totalVariance = sumSquares / n - (sum / n) * (sum / n)
        var below = 0.0, belowSum = 0.0, best = -1.0, bestBin = 0
        for b in 0..<(counts.count - 1) {
            let center = low + (Double(b) + 0.5) / scale
            below += Double(counts[b]); belowSum += Double(counts[b]) * center
            let above = n - below
            guard below > 0, above > 0 else { continue }
            let difference = belowSum / below - (sum - belowSum) / above
            let between = below * above * difference * difference / (n * n)
            if between > best { best = between; bestBin = b }
        }
        guard best > 0 else { return nil }
        return (bestBin, totalVariance > 0 ? min(1, best / totalVariance) : 0)
    }

    /// Applies the two-population check to a measured split.
    static func decide(_ result: inout FilmLevel) {
        if result.darkMedian < Locator.blackFractionOfFilm * result.brightMedian && result.darkShare >= minimumDarkShare
            && result.separation >= minimumSeparation {
            result.bimodal = true
            result.method = .brightPopulation
            result.level = result.brightMedian
        }
    }

    /// Measures the film level of one sample of grey values (see the type's description).
    /// The median is the value of rank `count / 2`, as ``Locator/estimateFilmLevel(_:)`` always took.
    public static func measure(sample input: [Float]) -> FilmLevel {
        var values = input.filter { $0.isFinite }
        guard !values.isEmpty else {
            return FilmLevel(level: 0, method: .median, bimodal: false, threshold: 0, separation: 0, darkShare: 0,
                             darkMedian: 0, brightMedian: 0, median: 0, sampleCount: 0)
        }
        let median = Double(OrderStatistics.select(&values, values.count / 2))
        var low = values[0], high = values[0]
        for v in values { low = min(low, v); high = max(high, v) }
        var result = FilmLevel(level: median, method: .median, bimodal: false, threshold: Double(high), separation: 0, darkShare: 0,
                               darkMedian: median, brightMedian: median, median: median, sampleCount: values.count)
        guard high > low else { return result }
        // Otsu on a histogram of `binCount` bins over low…high; the split is a bin edge.
        let bins = binCount
        let scale = Double(bins) / (Double(high) - Double(low))
        var counts = [Int](repeating: 0, count: bins)
        for v in values { counts[min(bins - 1, Int((Double(v) - Double(low)) * scale))] += 1 }
        let n = Double(values.count)
        guard let split = otsu(counts, low: Double(low), scale: scale, count: n) else { return result }
        let threshold = Float(Double(low) + Double(split.bin + 1) / scale)
        var dark = values.filter { $0 < threshold }, bright = values.filter { $0 >= threshold }
        guard !dark.isEmpty, !bright.isEmpty else { return result }
        result.threshold = Double(threshold)
        result.separation = split.separation
        result.darkShare = Double(dark.count) / n
        result.darkMedian = Double(OrderStatistics.select(&dark, dark.count / 2))
        result.brightMedian = Double(OrderStatistics.select(&bright, bright.count / 2))
        decide(&result)
        return result
    }
}

/// Per-tile normalisation of grey levels: each tile is scaled so that its own film level (measured
/// with ``FilmLevel``) lands on the reference film level, so that exposure differences between
/// tiles do not become clusters.
///
/// A tile without a film population of its own — its measured level is below
/// ``Locator/blackFractionOfFilm`` of the reference (an all-black tile) — keeps gain 1.
/// Scaled 8/16-bit samples are rounded to whole numbers (≤ 0.5 grey values, far below the noise)
/// so that the exact counting statistics still apply.
public struct LocatorTileNormalization: Sendable, Codable, Equatable {
    /// The level every tile's film is scaled to.
    public var reference: Double
    /// Each tile's own film level (input order).
    public var levels: [FilmLevel]
    /// Factor applied to each tile (`reference / level`, or 1 for a tile without film).
    public var gains: [Double]

    /// Measures each tile's film level and the gains that bring it to `reference`.
    public static func measure(_ images: [LocatorImage], reference: Double) -> LocatorTileNormalization {
        // One task per tile, each writing its own slot: the same result for any thread count.
        nonisolated(unsafe) var slots = [FilmLevel?](repeating: nil, count: images.count)
        slots.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            Parallel.forEach(images.count) { i in slots.value[i] = FilmLevel.measure([images[i]], maximumSamples: 250_000) }
        }
        let levels = slots.map { $0! }
        let gains = levels.map { level -> Double in
            let hasFilm = level.level > 0 && level.level >= Locator.blackFractionOfFilm * reference
            return hasFilm ? reference / level.level : 1
        }
        return LocatorTileNormalization(reference: reference, levels: levels, gains: gains)
    }

    /// The images with each tile's gain applied (tiles with gain 1 are passed through unchanged).
    public func apply(_ images: [LocatorImage]) -> [LocatorImage] {
        precondition(images.count == gains.count, "LocatorTileNormalization.apply: \(images.count) images, \(gains.count) gains")
        var out = images
        for (index, gain) in gains.enumerated() where gain != 1 {
            let g = Float(gain), integral = images[index].integral
            var pixels = images[index].image.pixels
            pixels.withUnsafeMutableBufferPointer { p in
                let p = UncheckedSendable(p)
                Parallel.forEachChunk(of: p.value.count, chunkCount: Parallel.chunkCount(total: p.value.count, minimumPerChunk: 1 << 18)) { range in
                    if integral {
                        for i in range { p.value[i] = min(65_535, (p.value[i] * g).rounded()) }
                    } else {
                        for i in range { p.value[i] *= g }
                    }
                }
            }
            out[index].image = Image(shape: images[index].image.shape, pixels: pixels, spacing: images[index].image.spacing)
        }
        return out
    }

    /// Tiles that have no film of their own (gain 1 because the measured level is black).
    public var tilesWithoutFilm: [Int] {
        levels.indices.filter { levels[$0].level < Locator.blackFractionOfFilm * reference }
    }
}
