import CleaveCore
import CleaveFeatures
import CleaveLearning

/// Everything that controls a Locator run (the CLI's options, as a value).
public struct LocatorOptions: Sendable, Codable, Equatable {
    /// How images become feature vectors.
    public enum Sampling: Sendable, Codable, Equatable, CustomStringConvertible {
        /// Rectangular patches (a grid per image or a fixed patch size).
        case patches(PatchLayout)
        /// A window around every `stride`-th pixel (odd size).
        case window(size: Int, stride: Int)

        /// `grid RxC` or `patch size N` for patches, `window SIZE stride STRIDE` for sliding windows.
        public var description: String {
            switch self {
            case .patches(let layout): return layout.description
            case let .window(size, stride): return "window \(size) stride \(stride)"
            }
        }
    }

    /// Clustering algorithm.
    public enum Method: String, Sendable, Codable, CaseIterable { case kmeans, agglomerative }
    /// Agglomerative linkage.
    public enum Linkage: String, Sendable, Codable, CaseIterable { case ward, complete, average, single }
    /// Agglomerative distance.
    public enum Metric: String, Sendable, Codable, CaseIterable { case euclidean, cosine, manhattan }

    /// Transformation between scaling and clustering.
    public enum Reduction: Sendable, Codable, Equatable, CustomStringConvertible {
        /// No reduction: cluster the scaled features.
        case none
        /// PCA keeping this many components.
        case pca(Int)
        /// PCA keeping the fewest components that explain this fraction of the variance.
        case pcaFraction(Double)
        /// NMF with this many components (on min-max scaled features, which are non-negative).
        case nmf(Int)

        /// `none`, `pca N`, `pca FRACTION` or `nmf N`.
        public var description: String {
            switch self {
            case .none: return "none"
            case .pca(let n): return "pca \(n)"
            case .pcaFraction(let f): return "pca \(f)"
            case .nmf(let n): return "nmf \(n)"
            }
        }
    }

    /// A patch named by the user as "this is what I look for": image name, patch row, patch column (0-based).
    public struct Reference: Sendable, Codable, Equatable, CustomStringConvertible {
        /// File name of the image (as in ``LocatorImage/name``).
        public var image: String
        /// 0-based patch row in that image's grid.
        public var row: Int
        /// 0-based patch column in that image's grid.
        public var column: Int
        /// A reference patch; the Locator checks that the image and patch exist when it runs.
        public init(image: String, row: Int, column: Int) { self.image = image; self.row = row; self.column = column }
        /// `IMAGE:ROW:COL`, as ``LocatorSettings/similarTo`` takes it.
        public var description: String { "\(image):\(row):\(column)" }
    }

    /// Grid patches (default 8 × 8 per image) or sliding windows.
    public var sampling: Sampling
    /// Statistics measured per patch or window, in this column order (default ``PatchStatistic/defaults``).
    public var features: [PatchStatistic]
    /// Per-feature scaling before clustering (default z-score).
    public var scaler: Scaler
    /// Dimension reduction between scaling and clustering (default none).
    public var reduction: Reduction
    /// Clustering algorithm (default k-means).
    public var method: Method
    /// Linkage of agglomerative clustering (default Ward; ignored by k-means).
    public var linkage: Linkage
    /// Distance of agglomerative clustering (default euclidean; Ward needs euclidean).
    public var metric: Metric
    /// Clusters (k), ≥ 1. In ``excludeDark`` mode the dark group comes on top.
    public var clusterCount: Int
    /// Seed of every random choice (k-means++, sampling), so a run repeats exactly (default 0).
    public var seed: UInt64
    /// Two-step mode: find black / partly black patches first, exclude them plus ``darkMargin``.
    /// Sliding windows instead measure the film only (the pixels of border-touching black regions
    /// are left out of their moments) and the windows more than half bar are the dark group.
    public var excludeDark: Bool
    /// Reach around dark grid patches within which patches that hold any black pixel are
    /// excluded too; clean film patches next to a bar are kept. Not used by sliding windows.
    public var darkMargin: Int
    /// The cluster of interest chosen by the user (0-based, as in the legend); nil = automatic.
    public var pick: Int?
    /// Similarity mode: heat = cosine similarity to this patch.
    public var similarTo: Reference?
    /// In similarity mode, patches at or above this similarity are picked.
    public var similarityThreshold: Double
    /// Silhouette table over this k range (nil = none).
    public var kRange: ClosedRange<Int>?
    /// Settings of the patch statistics: dark threshold (set by the run from the film level), gradient σ, GLCM distance and levels.
    public var statistics: PatchStatisticsOptions
    /// Divide out slow background variations (illumination, film thickness) before the
    /// statistics, so they measure contrast against the local film (`LocatorBackground`).
    /// Off by default: on dataset1 (large crystals, 4×4 grid) it lowers the ARI from 0.965 to
    /// 0.78, and with ``compressTails`` on the synthetic sets it adds little (see bench/locator/RESULTS.md).
    public var flattenBackground: Bool
    /// Compress heavy feature tails before scaling: `asinh((x − median) / IQR)` per feature, so
    /// faint and strong particles are comparable distances from the film (`LocatorTails`).
    /// For sparse particles on a film majority with k = 2 (low-magnification mapping): synthetic
    /// F1 0.76–0.81 → 0.90–0.98. Off by default because with k = 3 on dataset1 (large crystals,
    /// "partial" patches) it lowers the ARI from 0.965 to 0.72.
    public var compressTails: Bool
    /// Scale every tile so that its own film level (``FilmLevel``, measured per tile) lands on the
    /// set's film level before the statistics (``LocatorTileNormalization``), so that exposure
    /// differences between tiles do not become clusters. On by default; a single image is never
    /// scaled (unless a saved model's film level is applied).
    public var normalizeTiles: Bool
    /// When ``excludeDark`` is off, turn it on for a run whose film level check finds a black
    /// population (grid bars, beam-free tile areas: ``FilmLevel/bimodal``), and say so in the
    /// result (``LocatorResult/darkExclusion``). Without it, bar edges — the patches with the
    /// deepest dark tail — are what the automatic pick finds. On by default; off keeps
    /// ``excludeDark`` as given.
    public var automaticDarkExclusion: Bool
    /// After an automatic (or saved model's) pick on grid patches, add the unpicked patches that
    /// hold a thin dark line — a fibre — beyond the film cluster's far-out fence (``LocatorLines``;
    /// reported as ``LocatorResult/lineCheck``). On by default; clusters and labels are unchanged.
    public var lineCheck: Bool = true

    /// Options with the command line's defaults; ``validate()`` checks them (the Locator calls it).
    public init(sampling: Sampling = .patches(.grid(rows: 8, columns: 8)), features: [PatchStatistic] = PatchStatistic.defaults,
                scaler: Scaler = .zScore, reduction: Reduction = .none, method: Method = .kmeans,
                linkage: Linkage = .ward, metric: Metric = .euclidean, clusterCount: Int = 3, seed: UInt64 = 0,
                excludeDark: Bool = false, darkMargin: Int = 1, pick: Int? = nil, similarTo: Reference? = nil,
                similarityThreshold: Double = 0.8, kRange: ClosedRange<Int>? = nil,
                statistics: PatchStatisticsOptions = PatchStatisticsOptions(), flattenBackground: Bool = false, compressTails: Bool = false,
                normalizeTiles: Bool = true, automaticDarkExclusion: Bool = true) {
        self.sampling = sampling; self.features = features; self.scaler = scaler; self.reduction = reduction
        self.method = method; self.linkage = linkage; self.metric = metric; self.clusterCount = clusterCount
        self.seed = seed; self.excludeDark = excludeDark; self.darkMargin = darkMargin; self.pick = pick
        self.similarTo = similarTo; self.similarityThreshold = similarityThreshold; self.kRange = kRange
        self.statistics = statistics; self.flattenBackground = flattenBackground
        self.compressTails = compressTails; self.normalizeTiles = normalizeTiles
        self.automaticDarkExclusion = automaticDarkExclusion
    }

    /// Turns on ``excludeDark`` when ``automaticDarkExclusion`` is set and `film` found a black
    /// population; returns how the dark handling was decided ("requested", "automatic", "off").
    @discardableResult
    mutating func resolveDarkExclusion(film: FilmLevel) -> String {
        if excludeDark { return "requested" }
        guard automaticDarkExclusion, film.bimodal else { return "off" }
        excludeDark = true
        return "automatic"
    }

    /// Features for the sliding window when the user gave none: the four moments.
    public static let windowFeatures: [PatchStatistic] = [.mean, .std, .skewness, .kurtosis]

    /// Checks values that do not depend on the images.
    /// - Throws: ``LocatorOptionError`` naming the ``LocatorSettings`` field.
    public func validate() throws(LocatorOptionError) {
        func fail(_ field: String, _ value: Any?, _ reason: String) -> LocatorOptionError {
            LocatorOptionError(field: field, value: value.map { String(describing: $0) }, reason: reason)
        }
        guard clusterCount >= 1 else { throw fail("clusterCount", clusterCount, "need at least 1 cluster") }
        guard darkMargin >= 0 else { throw fail("darkMargin", darkMargin, "must be ≥ 0") }
        if let pick, pick < 0 { throw fail("pick", pick, "clusters are numbered from 0") }
        if case .window = sampling {
            for f in features where !SlidingWindow.supported.contains(f) {
                throw fail("features", f.rawValue, "not available with sliding windows (use \(SlidingWindow.supported.map(\.rawValue).joined(separator: ",")))")
            }
            if method == .agglomerative { throw fail("algorithm", method.rawValue, "needs a grid or a patch size (a sliding window gives too many points)") }
        }
        if let r = kRange, r.lowerBound < 2 { throw fail("kRange", "\(r.lowerBound)-\(r.upperBound)", "silhouettes need k ≥ 2") }
        switch reduction {
        case .pca(let n) where n < 1: throw fail("reduce", "pca:\(n)", "need at least 1 component")
        case .pcaFraction(let f) where !(f > 0 && f < 1): throw fail("reduce", "pca:\(f)", "a fraction must lie between 0 and 1")
        case .nmf(let n) where n < 1: throw fail("reduce", "nmf:\(n)", "need at least 1 component")
        default: break
        }
        if method == .agglomerative && linkage == .ward && metric != .euclidean {
            throw fail("linkage", linkage.rawValue, "ward works with the euclidean metric only (got \(metric.rawValue))")
        }
    }
}
