/// How many features a split may look at (scikit-learn's `max_features`).
public enum MaxFeatures: Hashable, Sendable, Codable, CustomStringConvertible {
    /// ⌊√F⌋ (at least 1): the classification default of Breiman and scikit-learn.
    case sqrt
    /// ⌊log₂ F⌋ (at least 1).
    case log2
    /// Every feature (bagged decision trees).
    case all
    /// A fixed number (clamped to 1…F).
    case count(Int)
    /// A fraction of F in (0, 1] (at least 1 feature).
    case fraction(Double)

    /// Candidate features per split for `featureCount` features.
    public func resolved(featureCount: Int) -> Int {
        let f = max(1, featureCount)
        let value: Int
        switch self {
        case .sqrt: value = Int(Double(f).squareRoot())
        case .log2: value = Int(log2Floor(f))
        case .all: value = f
        case .count(let n): value = n
        case .fraction(let x): value = Int(x * Double(f))
        }
        return min(f, max(1, value))
    }

    public var description: String {
        switch self {
        case .sqrt: return "sqrt"
        case .log2: return "log2"
        case .all: return "all"
        case .count(let n): return "\(n)"
        case .fraction(let x): return "\(x)"
        }
    }

    private func log2Floor(_ n: Int) -> Int {
        var k = 0, v = n
        while v > 1 { v >>= 1; k += 1 }
        return k
    }
}

/// How samples of each class are weighted while growing trees.
public enum ClassWeighting: String, Hashable, Sendable, Codable {
    /// Every sample counts once.
    case none
    /// scikit-learn's `class_weight="balanced"`: class c weighs `n / (classCount · n_c)` over the whole
    /// training set, so every class carries the same total weight. Helps small phases (e.g. clay)
    /// that a few scribbles under-represent.
    case balanced
}

/// Settings of a ``RandomForest``; validated on creation so an invalid configuration cannot exist.
///
/// Defaults follow scikit-learn's `RandomForestClassifier` (100 trees, √F features, bootstrap,
/// fully grown trees), except that split points are searched on ``maxBins`` quantile bins per
/// feature (see ``RandomForest``).
public struct RandomForestConfiguration: Hashable, Sendable, Codable {
    /// Number of trees (≥ 1).
    public var treeCount: Int
    /// Candidate features per split.
    public var maxFeatures: MaxFeatures
    /// Deepest allowed node (root = depth 0); nil grows until leaves are pure.
    public var maxDepth: Int?
    /// A node with fewer distinct training samples is not split (≥ 2).
    public var minSamplesSplit: Int
    /// Every leaf keeps at least this many distinct training samples (≥ 1).
    public var minSamplesLeaf: Int
    /// Draw each tree's samples with replacement (true) or use every sample once (false).
    public var bootstrap: Bool
    /// Class weighting.
    public var classWeighting: ClassWeighting
    /// Quantile bins per feature for the split search, 2…256.
    public var maxBins: Int
    /// Seed of every random choice; tree i draws from `SeededGenerator.stream(seed:index: i)`.
    public var seed: UInt64

    /// Creates a configuration.
    /// - Precondition: `treeCount ≥ 1`, `maxDepth ≥ 1` when given, `minSamplesSplit ≥ 2`,
    ///   `minSamplesLeaf ≥ 1`, `maxBins` in 2…256.
    public init(treeCount: Int = 100, maxFeatures: MaxFeatures = .sqrt, maxDepth: Int? = nil,
                minSamplesSplit: Int = 2, minSamplesLeaf: Int = 1, bootstrap: Bool = true,
                classWeighting: ClassWeighting = .none, maxBins: Int = 256, seed: UInt64 = 0) {
        precondition(treeCount >= 1, "RandomForestConfiguration needs treeCount >= 1, got \(treeCount)")
        precondition(maxDepth.map { $0 >= 1 } ?? true, "RandomForestConfiguration needs maxDepth >= 1, got \(maxDepth!)")
        precondition(minSamplesSplit >= 2, "RandomForestConfiguration needs minSamplesSplit >= 2, got \(minSamplesSplit)")
        precondition(minSamplesLeaf >= 1, "RandomForestConfiguration needs minSamplesLeaf >= 1, got \(minSamplesLeaf)")
        precondition((2...256).contains(maxBins), "RandomForestConfiguration needs maxBins in 2...256, got \(maxBins)")
        if case .count(let n) = maxFeatures {
            precondition(n >= 1, "RandomForestConfiguration needs maxFeatures count >= 1, got \(n)")
        }
        if case .fraction(let x) = maxFeatures {
            precondition(x > 0 && x <= 1, "RandomForestConfiguration needs a maxFeatures fraction in (0, 1], got \(x)")
        }
        self.treeCount = treeCount
        self.maxFeatures = maxFeatures
        self.maxDepth = maxDepth
        self.minSamplesSplit = minSamplesSplit
        self.minSamplesLeaf = minSamplesLeaf
        self.bootstrap = bootstrap
        self.classWeighting = classWeighting
        self.maxBins = maxBins
        self.seed = seed
    }
}
