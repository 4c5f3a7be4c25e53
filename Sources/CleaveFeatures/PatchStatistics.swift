import CleaveCore
import CleaveFilters

/// Settings of the patch statistics that are not the patch layout.
public struct PatchStatisticsOptions: Sendable, Hashable, Codable {
    /// Pixels with a value strictly below this count as dark for `darkfraction` (same units as
    /// the image). The Locator sets it from the whole input set: ``PatchStatistics/darkThreshold(filmLevel:)``.
    public var darkThreshold: Double
    /// Gaussian sigma of the gradient magnitude, in pixels.
    public var gradientSigma: Double
    /// GLCM pixel-pair distance, in pixels.
    public var glcmDistance: Int
    /// GLCM grey levels after quantisation.
    public var glcmLevels: Int

    /// Settings; `gradientSigma` > 0, `glcmDistance` ≥ 1 and `glcmLevels` ≥ 2.
    /// - Complexity: O(1).
    public init(darkThreshold: Double = 0, gradientSigma: Double = 2, glcmDistance: Int = 1, glcmLevels: Int = 32) {
        precondition(gradientSigma > 0 && glcmDistance >= 1 && glcmLevels >= 2,
                     "PatchStatisticsOptions: sigma \(gradientSigma), distance \(glcmDistance), levels \(glcmLevels)")
        self.darkThreshold = darkThreshold
        self.gradientSigma = gradientSigma
        self.glcmDistance = glcmDistance
        self.glcmLevels = glcmLevels
    }
}

/// Grey-value statistics of image patches (see ``PatchStatistic`` for the definitions).
public enum PatchStatistics {
    /// Fraction of the film level below which a pixel counts as dark: 0.8, i.e. the pixel lets
    /// through at least 20 % less electrons than typical film. Particles and grid bars absorb or
    /// scatter far more than that; shot noise on film at usual doses stays well inside it.
    public static let darkFractionOfFilm = 0.8

    /// The dark threshold for a film level (the median grey value of the whole input set).
    public static func darkThreshold(filmLevel: Double) -> Double { darkFractionOfFilm * filmLevel }

    /// Statistics of each region of a 2D single-channel image.
    ///
    /// - Parameters:
    ///   - image: the samples as Float (exact for 8/16-bit data).
    ///   - regions: patches inside the image (see ``PatchLayout/regions(width:height:)``); each ≥ 1 pixel.
    ///   - statistics: which values to compute, in output column order.
    ///   - integral: true when every sample is an integer in 0…65535 (8/16-bit sources) — enables
    ///     the counting path, which is exact and much faster than sorting.
    ///   - gradient: the gradient-magnitude image when a `grad*` statistic is asked for; computed
    ///     here with `options.gradientSigma` when nil.
    /// - Returns: a row-major table, `regions.count` rows × `statistics.count` columns.
    /// - Complexity: O(pixels + Σ range per patch) for integral data; GLCM adds O(pixels · 4 + levels² · 4) per patch.
    public static func compute(_ image: Image<Float>, regions: [Region], statistics: [PatchStatistic],
                               options: PatchStatisticsOptions = PatchStatisticsOptions(),
                               integral: Bool? = nil, gradient: Image<Float>? = nil) -> [Double] {
        precondition(image.channels == 1 && image.depth == 1, "PatchStatistics.compute needs a 2D single-channel image, got \(image.shape)")
        for region in regions {
            precondition(region.isInside(image.shape) && region.pixelCount > 0,
                         "PatchStatistics.compute: region \(region) outside \(image.shape)")
        }
        let isIntegral = integral ?? isIntegerValued(image)
        let needsGradient = statistics.contains { $0.needsGradient }
        let gradientImage: Image<Float>? = needsGradient ? (gradient ?? PatchGradient.magnitude(image, sigma: options.gradientSigma)) : nil
        let columns = statistics.count
        var table = [Double](repeating: 0, count: regions.count * columns)
        let width = image.width
        table.withUnsafeMutableBufferPointer { t in
            let out = UncheckedSendable(t.baseAddress!)
            image.pixels.withUnsafeBufferPointer { pixelBuffer in
                let pixels = UncheckedSendable(pixelBuffer.baseAddress!)
                let count = pixelBuffer.count
                let gradientPixels = gradientImage?.pixels
                Parallel.forEachChunk(of: regions.count, chunkCount: Parallel.chunkCount(total: regions.count, minimumPerChunk: 4)) { range in
                    var scratch = PatchScratch()
                    var gradientBuffer: [Float] = []
                    let buffer = UnsafeBufferPointer(start: pixels.value, count: count)
                    for index in range {
                        let row = out.value + index * columns
                        computeOne(buffer, width: width, region: regions[index], statistics: statistics, options: options,
                                   integral: isIntegral, gradient: gradientPixels, gradientBuffer: &gradientBuffer,
                                   scratch: &scratch, into: row)
                    }
                }
            }
        }
        return table
    }

    /// Statistics of one patch given as row-major values (for tests and small jobs).
    public static func compute(values: [Float], width: Int, height: Int, statistics: [PatchStatistic],
                               options: PatchStatisticsOptions = PatchStatisticsOptions()) -> [Double] {
        compute(Image(shape: Shape(width: width, height: height), pixels: values),
                regions: [Region(x: 0, y: 0, width: width, height: height)], statistics: statistics, options: options)
    }

    /// True when every sample is an integer in 0…65535.
    public static func isIntegerValued(_ image: Image<Float>) -> Bool {
        image.pixels.withUnsafeBufferPointer { p in
            for v in p where !(v >= 0 && v <= 65535 && v == v.rounded(.towardZero)) { return false }
            return true
        }
    }

    static func computeOne(_ pixels: UnsafeBufferPointer<Float>, width: Int, region: Region, statistics: [PatchStatistic],
                           options: PatchStatisticsOptions, integral: Bool, gradient: [Float]?,
                           gradientBuffer: inout [Float], scratch: inout PatchScratch,
                           into out: UnsafeMutablePointer<Double>) {
        PatchKernel.collect(pixels, width: width, region: region, integral: integral, into: &scratch)
        let c = scratch.counts
        let m = PatchKernel.moments(c)
        let std = m.m2.squareRoot()
        var median: Double? = nil
        var percentileCache: [Double: Double] = [:]
        func percentile(_ q: Double) -> Double {
            if let v = percentileCache[q] { return v }
            let v = c.percentile(q); percentileCache[q] = v; return v
        }
        var gradientMoments: (mean: Double, std: Double)? = nil
        var gradientP95: Double? = nil
        func loadGradient() {
            guard gradientBuffer.isEmpty, let g = gradient else { return }
            for y in region.y..<(region.y + region.height) {
                let start = y * width + region.x
                gradientBuffer.append(contentsOf: g[start..<(start + region.width)])
            }
        }
        gradientBuffer.removeAll(keepingCapacity: true)
        var texture: GLCM.Properties? = nil
        for (column, statistic) in statistics.enumerated() {
            let value: Double
            switch statistic {
            case .mean: value = m.mean
            case .std: value = std
            case .relstd: value = m.mean == 0 ? 0 : std / m.mean
            case .skewness: value = m.m2 > 0 ? m.m3 / (m.m2 * m.m2.squareRoot()) : 0
            case .kurtosis: value = m.m2 > 0 ? m.m4 / (m.m2 * m.m2) - 3 : 0
            case .mode: value = PatchKernel.mode(c, bins: &scratch.modeBins)
            case .min: value = c.minimum
            case .max: value = c.maximum
            case .range: value = c.maximum - c.minimum
            case .median: median = median ?? percentile(50); value = median!
            case .p1: value = percentile(1)
            case .p5: value = percentile(5)
            case .p25: value = percentile(25)
            case .p75: value = percentile(75)
            case .p95: value = percentile(95)
            case .p99: value = percentile(99)
            case .iqr: value = percentile(75) - percentile(25)
            case .lowtail: value = percentile(50) - percentile(1)
            case .uptail: value = percentile(99) - percentile(50)
            case .darkfraction:
                var below = 0
                for i in c.values.indices where c.values[i] < options.darkThreshold { below += c.counts[i] }
                value = Double(below) / Double(c.total)
            case .gradmean, .gradstd:
                if gradientMoments == nil {
                    loadGradient()
                    var sum = 0.0
                    for v in gradientBuffer { sum += Double(v) }
                    let mean = sum / Double(gradientBuffer.count)
                    var s2 = 0.0
                    for v in gradientBuffer { let d = Double(v) - mean; s2 += d * d }
                    gradientMoments = (mean, (s2 / Double(gradientBuffer.count)).squareRoot())
                }
                value = statistic == .gradmean ? gradientMoments!.mean : gradientMoments!.std
            case .gradp95:
                if gradientP95 == nil {
                    loadGradient()
                    gradientP95 = gradientBuffer.withUnsafeBufferPointer {
                        OrderStatistics.unsafePercentileByBins($0, 95, bins: &scratch.selectBins, gather: &scratch.gather)
                    }
                }
                value = gradientP95!
            case .glcmContrast, .glcmHomogeneity, .glcmEnergy, .glcmCorrelation, .glcmEntropy:
                if texture == nil {
                    texture = Cooccurrence.unsafePatchProperties(pixels, width: width, region: region, distance: options.glcmDistance,
                                                                 levels: options.glcmLevels, scratch: &scratch.glcm)
                }
                switch statistic {
                case .glcmContrast: value = texture!.contrast
                case .glcmHomogeneity: value = texture!.homogeneity
                case .glcmEnergy: value = texture!.energy
                case .glcmCorrelation: value = texture!.correlation
                default: value = texture!.entropy
                }
            }
            out[column] = value
        }
    }
}
