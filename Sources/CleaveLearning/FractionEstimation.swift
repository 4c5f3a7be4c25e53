import CleaveCore

/// How a classifier's out-of-bag votes fall per true class: the rates the adjusted fraction
/// estimators invert (``FractionEstimation``).
///
/// `confusion[t * K + p]` counts training rows of true class t that the trees which did not draw
/// them voted into class p; `posteriorSums[t * K + p]` sums those trees' mean probability of class p
/// over the same rows.
public struct OutOfBagCalibration: Sendable, Equatable, Codable {
    /// Number of classes K.
    public let classCount: Int
    /// Out-of-bag votes, K × K, row = true class, column = voted class.
    public let confusion: [Int]
    /// Summed out-of-bag probabilities, K × K, row = true class, column = class.
    public let posteriorSums: [Double]

    /// A calibration from counts; `confusion` and `posteriorSums` hold `classCount²` values.
    public init(classCount: Int, confusion: [Int], posteriorSums: [Double]) {
        precondition(confusion.count == classCount * classCount && posteriorSums.count == classCount * classCount,
                     "OutOfBagCalibration: \(confusion.count) / \(posteriorSums.count) values for \(classCount) classes")
        self.classCount = classCount
        self.confusion = confusion
        self.posteriorSums = posteriorSums
    }

    enum CodingKeys: String, CodingKey { case classCount, confusion, posteriorSums }

    /// Decodes and checks the sizes and values (a damaged file is an error, never a crash).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let k = try c.decode(Int.self, forKey: .classCount)
        let confusion = try c.decode([Int].self, forKey: .confusion)
        let sums = try c.decode([Double].self, forKey: .posteriorSums)
        guard k >= 2 && k <= 4096, confusion.count == k * k, sums.count == k * k else {
            throw DecodingError.dataCorruptedError(forKey: .confusion, in: c,
                debugDescription: "out-of-bag calibration: needs classCount ≥ 2 and classCount² confusion counts and probability sums")
        }
        guard confusion.allSatisfy({ $0 >= 0 }), sums.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .posteriorSums, in: c,
                debugDescription: "out-of-bag calibration: counts and probability sums must be finite and not negative")
        }
        self.init(classCount: k, confusion: confusion, posteriorSums: sums)
    }

    /// Out-of-bag rows per true class.
    public var rows: [Int] {
        (0..<classCount).map { t in confusion[(t * classCount)..<((t + 1) * classCount)].reduce(0, +) }
    }

    /// P(voted p | true t) as a K × K matrix `m[p * K + t]` (column t = true class); nil when a class
    /// has no out-of-bag row.
    public var hardRates: [Double]? { rates(confusion.map(Double.init)) }

    /// E[probability of p | true t] as a K × K matrix `m[p * K + t]`; nil when a class has no row.
    public var softRates: [Double]? { rates(posteriorSums) }

    private func rates(_ sums: [Double]) -> [Double]? {
        let K = classCount
        let n = rows
        guard n.allSatisfy({ $0 > 0 }) else { return nil }
        var m = [Double](repeating: 0, count: K * K)
        for t in 0..<K {
            let total = (0..<K).reduce(0.0) { $0 + sums[t * K + $1] }
            guard total > 0 else { return nil }
            for p in 0..<K { m[p * K + t] = sums[t * K + p] / total }
        }
        return m
    }
}

/// The four ways of turning a classified image into class fractions (the quantification
/// literature's names).
public enum FractionEstimator: String, CaseIterable, Sendable, Codable {
    /// Classify and count: the share of pixels whose most probable class is c.
    case classifyAndCount = "cc"
    /// Probabilistic classify and count: the mean probability of c over the pixels.
    case probabilisticClassifyAndCount = "pcc"
    /// Adjusted classify and count (Forman 2008): the counted shares q solve q = M π for π, M[p, t]
    /// = P(voted p | true t) measured out of bag on the training pixels.
    case adjustedClassifyAndCount = "acc"
    /// Probabilistic adjusted classify and count (Bella et al. 2010): mean probabilities and
    /// out-of-bag mean probabilities per true class in place of counts and votes.
    case probabilisticAdjustedClassifyAndCount = "pacc"

    /// True for the two adjusted estimators (they need an ``OutOfBagCalibration``).
    public var isAdjusted: Bool { self == .adjustedClassifyAndCount || self == .probabilisticAdjustedClassifyAndCount }
    /// The estimator an adjusted one adjusts (itself for the unadjusted two).
    public var unadjusted: FractionEstimator {
        switch self {
        case .adjustedClassifyAndCount: return .classifyAndCount
        case .probabilisticAdjustedClassifyAndCount: return .probabilisticClassifyAndCount
        default: return self
        }
    }
}

/// What one region of a classified image contributes to its class fractions: pixels per most
/// probable class and summed class probabilities. Sums of regions add.
public struct FractionSums: Sendable, Equatable {
    /// Pixels whose most probable class is c.
    public var counts: [Int]
    /// Σ over pixels of the probability of c.
    public var posteriorSums: [Double]

    /// Zero sums for `classCount` classes.
    public init(classCount: Int) {
        counts = [Int](repeating: 0, count: classCount)
        posteriorSums = [Double](repeating: 0, count: classCount)
    }

    /// Sums from given counts and probability sums (same length).
    public init(counts: [Int], posteriorSums: [Double]) {
        precondition(counts.count == posteriorSums.count, "FractionSums: \(counts.count) counts, \(posteriorSums.count) sums")
        self.counts = counts
        self.posteriorSums = posteriorSums
    }

    /// Number of pixels counted.
    public var pixels: Int { counts.reduce(0, +) }

    /// Adds another region's sums.
    public mutating func add(_ other: FractionSums) {
        for c in counts.indices {
            counts[c] += other.counts[c]
            posteriorSums[c] += other.posteriorSums[c]
        }
    }
}

/// One estimate of class fractions, with what it rests on.
public struct FractionEstimate: Sendable, Equatable {
    /// The estimator asked for.
    public var requested: FractionEstimator
    /// The estimator that produced ``fractions`` (the unadjusted one when the adjustment was refused).
    public var used: FractionEstimator
    /// Class fractions, each in 0…1, summing to 1.
    public var fractions: [Double]
    /// Every estimator's fractions (cc and pcc always; acc and pacc when the calibration allows),
    /// for comparison.
    public var all: [FractionEstimator: [Double]]
    /// 2-norm condition number of the rate matrix of ``used`` (nil for the unadjusted estimators).
    public var conditionNumber: Double?
    /// Mass of the negative fractions of the exact solution that were clipped to 0 (0 = the
    /// observed shares are consistent with the rates).
    public var clippedMass: Double
    /// Lower and upper ends of the per-class interval (``FractionEstimation/intervals(_:blocks:calibration:replicates:level:seed:)``).
    public var lower: [Double]?
    /// Upper ends of the per-class interval.
    public var upper: [Double]?
    /// One sentence: the assumption the estimate rests on and what was checked.
    public var check: String
}

/// Class fractions from a classified image, by the four estimators of ``FractionEstimator``.
///
/// The adjusted estimators assume label shift: the class proportions differ between the training
/// pixels and the image, but each class looks the same (P(features | class) unchanged), so the
/// rates M[p, t] measured out of bag on the training pixels hold on the image. Then the observed
/// shares are q = M π and π = M⁻¹ q. The solution is clipped to ≥ 0 and renormalised (Forman 2008);
/// the clipped mass is reported, since a large negative part means the rates do not hold. The rates
/// cannot be checked on unlabelled pixels; what is checked is that M can be inverted: above
/// ``maximumConditionNumber`` the adjustment amplifies the noise in q by more than that factor, and
/// the unadjusted estimator is reported instead, saying so.
public enum FractionEstimation {
    /// Largest 2-norm condition number of the rate matrix an adjustment is made with (M = identity,
    /// a perfect classifier, has 1; two classes the forest confuses half the time give ~∞).
    public static let maximumConditionNumber = 10.0

    /// The unadjusted estimators' fractions from sums (uniform when there are no pixels).
    public static func unadjusted(_ estimator: FractionEstimator, sums: FractionSums) -> [Double] {
        let K = sums.counts.count
        switch estimator.unadjusted {
        case .classifyAndCount:
            let n = sums.pixels
            return n > 0 ? sums.counts.map { Double($0) / Double(n) } : [Double](repeating: 1 / Double(K), count: K)
        default:
            let total = sums.posteriorSums.reduce(0, +)
            return total > 0 ? sums.posteriorSums.map { $0 / total } : [Double](repeating: 1 / Double(K), count: K)
        }
    }

    /// Solves q = M π (M row-major, `m[p * K + t]`) by Gaussian elimination with partial pivoting;
    /// returns the exact solution, the clipped and renormalised fractions, and the clipped mass.
    /// Nil when M is singular.
    /// - Complexity: O(K³).
    public static func adjust(observed q: [Double], rates m: [Double]) -> (fractions: [Double], exact: [Double], clippedMass: Double)? {
        let K = q.count
        precondition(m.count == K * K, "FractionEstimation.adjust: \(m.count) rates for \(K) classes")
        var a = m, b = q
        for col in 0..<K {
            var pivot = col
            for r in (col + 1)..<max(col + 1, K) where abs(a[r * K + col]) > abs(a[pivot * K + col]) { pivot = r }
            guard abs(a[pivot * K + col]) > 1e-12 else { return nil }
            if pivot != col {
                for j in 0..<K { a.swapAt(col * K + j, pivot * K + j) }
                b.swapAt(col, pivot)
            }
            for r in (col + 1)..<max(col + 1, K) {
                let f = a[r * K + col] / a[col * K + col]
                guard f != 0 else { continue }
                for j in col..<K { a[r * K + j] -= f * a[col * K + j] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: K)
        for r in stride(from: K - 1, through: 0, by: -1) {
            var s = b[r]
            for j in (r + 1)..<max(r + 1, K) { s -= a[r * K + j] * x[j] }
            x[r] = s / a[r * K + r]
        }
        let negative = x.reduce(0.0) { $0 + min(0, $1) }
        let clipped = x.map { max(0, $0) }
        let total = clipped.reduce(0, +)
        guard total > 0 else { return nil }
        return (clipped.map { $0 / total }, x, -negative)
    }

    /// 2-norm condition number of a K × K matrix: the ratio of its largest to smallest singular
    /// value (∞ when singular).
    public static func conditionNumber(_ m: [Double], classCount K: Int) -> Double {
        var gram = [Double](repeating: 0, count: K * K)
        for i in 0..<K {
            for j in 0..<K {
                var s = 0.0
                for p in 0..<K { s += m[p * K + i] * m[p * K + j] }
                gram[i * K + j] = s
            }
        }
        let values = SymmetricEigen(symmetric: gram, size: K).values
        guard let largest = values.first, let smallest = values.last, smallest > largest * 1e-24 else { return .infinity }
        return (largest / smallest).squareRoot()
    }

    /// The rate matrix of an adjusted estimator (nil without calibration or with a class lacking rows).
    static func rates(_ estimator: FractionEstimator, calibration: OutOfBagCalibration?) -> [Double]? {
        guard let calibration else { return nil }
        return estimator == .adjustedClassifyAndCount ? calibration.hardRates : calibration.softRates
    }

    /// Estimates class fractions with `estimator` (see the type's documentation for the check and
    /// the fall-back). Intervals are not computed here (``intervals(_:blocks:calibration:replicates:level:seed:)``).
    /// - Complexity: O(K³).
    public static func estimate(_ estimator: FractionEstimator, sums: FractionSums, calibration: OutOfBagCalibration?) -> FractionEstimate {
        let K = sums.counts.count
        var all: [FractionEstimator: [Double]] = [:]
        all[.classifyAndCount] = unadjusted(.classifyAndCount, sums: sums)
        all[.probabilisticClassifyAndCount] = unadjusted(.probabilisticClassifyAndCount, sums: sums)
        var conditions: [FractionEstimator: Double] = [:]
        var clipped: [FractionEstimator: Double] = [:]
        for adjusted in [FractionEstimator.adjustedClassifyAndCount, .probabilisticAdjustedClassifyAndCount] {
            guard let m = rates(adjusted, calibration: calibration), calibration?.classCount == K else { continue }
            let condition = conditionNumber(m, classCount: K)
            conditions[adjusted] = condition
            guard condition <= maximumConditionNumber, let solved = adjust(observed: all[adjusted.unadjusted]!, rates: m) else { continue }
            all[adjusted] = solved.fractions
            clipped[adjusted] = solved.clippedMass
        }
        let base = estimator.unadjusted
        var used = estimator
        let check: String
        if !estimator.isAdjusted {
            check = estimator == .classifyAndCount
                ? "no adjustment: counts each pixel's most probable class (biased where the classifier confuses classes)"
                : "no adjustment: mean class probability (biased where the classifier confuses classes)"
        } else if calibration == nil || calibration?.classCount != K {
            used = base
            check = "no out-of-bag rates in the model (trained without bootstrap, or by an older Cleave): \(base.rawValue) reported instead of \(estimator.rawValue)"
        } else if let condition = conditions[estimator], all[estimator] == nil, condition <= maximumConditionNumber {
            used = base
            check = "the adjusted solution has no positive fraction (the out-of-bag rates do not fit this image): \(base.rawValue) reported instead of \(estimator.rawValue)"
        } else if let condition = conditions[estimator], all[estimator] == nil {
            used = base
            let shown = condition.isFinite ? fixed(condition, 1) : "∞"
            check = "label shift (each class looks as on the training pixels) not usable: out-of-bag rate matrix condition number \(shown) > \(fmt(maximumConditionNumber)) (the classifier confuses classes too much to invert); \(base.rawValue) reported instead of \(estimator.rawValue)"
        } else if conditions[estimator] == nil {
            used = base
            check = "a class has no out-of-bag training pixel: \(base.rawValue) reported instead of \(estimator.rawValue)"
        } else {
            let condition = conditions[estimator]!, mass = clipped[estimator]!
            let clipping = mass > 0
                ? ", negative fractions clipped (\(fixed(100 * mass, 2)) % of the total: the rates fit the image only approximately)"
                : ", no fraction clipped"
            check = "assumes label shift (each class looks as on the training pixels, out-of-bag rates hold on the image); checked: rate matrix condition number "
                + fixed(condition, 2) + " ≤ \(fmt(maximumConditionNumber))" + clipping
        }
        return FractionEstimate(requested: estimator, used: used, fractions: all[used]!, all: all,
                                conditionNumber: used.isAdjusted ? conditions[used] : nil,
                                clippedMass: used.isAdjusted ? clipped[used] ?? 0 : 0,
                                lower: nil, upper: nil, check: check)
    }

    private static func fmt(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    /// `x` with `places` decimals (no Foundation here).
    static func fixed(_ x: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((abs(x) * scale).rounded())
        let whole = scaled / Int(scale), fraction = String(scaled % Int(scale))
        let sign = x < 0 && scaled > 0 ? "-" : ""
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// Percentile bootstrap interval per class for `estimator` (no fall-back here: pass the
    /// estimate's ``FractionEstimate/used`` estimator).
    ///
    /// Each replicate resamples the image's blocks with replacement (spatial variability: how
    /// different the fractions would be in another piece of the same material) and, for the
    /// adjusted estimators, redraws every true class's out-of-bag row as a multinomial sample of
    /// the same size from its rates (the uncertainty of the rates; for pacc this treats the mean
    /// probabilities like votes, which over- rather than under-states it). Serial and seeded: the
    /// same interval for any thread count.
    /// - Parameters:
    ///   - blocks: the sums of disjoint blocks that together make the image (e.g. strips of rows).
    ///   - level: central coverage, e.g. 0.95.
    /// - Complexity: O(replicates · (blocks · K + out-of-bag rows + K³)).
    public static func intervals(_ estimator: FractionEstimator, blocks: [FractionSums], calibration: OutOfBagCalibration?,
                                 replicates: Int = 200, level: Double = 0.95, seed: UInt64 = 0) -> (lower: [Double], upper: [Double])? {
        guard let first = blocks.first, replicates >= 2 else { return nil }
        let K = first.counts.count
        var rng = SeededGenerator(seed: seed)
        var samples = [[Double]](repeating: [], count: K)
        let rowCounts = calibration?.rows ?? []
        let baseRates = estimator.isAdjusted ? rates(estimator, calibration: calibration) : nil
        if estimator.isAdjusted && baseRates == nil { return nil }
        for _ in 0..<replicates {
            var sums = FractionSums(classCount: K)
            for _ in blocks.indices { sums.add(blocks[rng.next(below: blocks.count)]) }
            var fractions = unadjusted(estimator, sums: sums)
            if let m = baseRates {
                var redrawn = [Double](repeating: 0, count: K * K)
                for t in 0..<K {
                    // Cumulative rates of column t, then rowCounts[t] categorical draws.
                    var cumulative = [Double](repeating: 0, count: K)
                    var running = 0.0
                    for p in 0..<K { running += m[p * K + t]; cumulative[p] = running }
                    for _ in 0..<rowCounts[t] {
                        let u = rng.nextDouble() * running
                        var p = 0
                        while p < K - 1 && u >= cumulative[p] { p += 1 }
                        redrawn[p * K + t] += 1
                    }
                    for p in 0..<K { redrawn[p * K + t] /= Double(rowCounts[t]) }
                }
                if let solved = adjust(observed: fractions, rates: redrawn) { fractions = solved.fractions }
            }
            for c in 0..<K { samples[c].append(fractions[c]) }
        }
        let alpha = (1 - level) / 2
        var lower = [Double](repeating: 0, count: K), upper = lower
        for c in 0..<K {
            let sorted = samples[c].sorted()
            lower[c] = quantile(sorted, alpha)
            upper[c] = quantile(sorted, 1 - alpha)
        }
        return (lower, upper)
    }

    /// Linear-interpolation quantile of sorted values (numpy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let i = Int(position.rounded(.down)), j = min(i + 1, sorted.count - 1)
        return sorted[i] + (position - Double(i)) * (sorted[j] - sorted[i])
    }
}
