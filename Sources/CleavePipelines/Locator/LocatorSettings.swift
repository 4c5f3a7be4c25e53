import CleaveCore
import CleaveFeatures
import CleaveLearning

/// A Locator setting that cannot be used, named by its field in ``LocatorSettings`` (the
/// workbench's JSON name). The command line says the flag instead (`cleave locate` maps each
/// field to its option); the server sends the line as it is.
public struct LocatorOptionError: FieldNamingError, Equatable, Sendable {
    /// The ``LocatorSettings`` field (e.g. `clusterCount`), the value as given and why.
    public let setting: InvalidField

    /// An error for `field`; `value` as the user gave it (nil for a missing field or a bad combination).
    public init(field: String, value: String?, reason: String) {
        setting = InvalidField(field: field, value: value, reason: reason)
    }

    /// The ``LocatorSettings`` field, e.g. `clusterCount`.
    public var field: String { setting.field }
    /// The value as the user gave it (nil for a missing field or a bad combination).
    public var value: String? { setting.value }
    /// Why the value cannot be used.
    public var reason: String { setting.reason }
    /// The field, its value and the reason, for the command line and the server to name in their own words.
    public var invalidField: InvalidField? { setting }
    /// `field value: reason` (or `field: reason` without a value), one line.
    public var description: String { setting.description }
}

/// The Locator's settings as people give them: the one type the command line and the workbench
/// fill in, with one set of defaults, ranges and syntax, turned into ``LocatorOptions`` by
/// ``options()``. Every field is optional; nil means the default in ``Defaults``. Field names
/// are the workbench API's JSON names and the names ``LocatorOptionError`` uses.
public struct LocatorSettings: Codable, Sendable, Equatable {
    /// `grid` or `window`; nil = `window` when ``windowSize`` is given, else `grid`.
    public var mode: String?
    /// Patch rows of the grid per image (``Limits/gridSide``; default 8).
    public var gridRows: Int?
    /// Patch columns of the grid per image (``Limits/gridSide``; default 8).
    public var gridColumns: Int?
    /// Square patches of this many pixels instead of a rows × columns grid.
    public var patchSize: Int?
    /// Sliding window side (odd).
    public var windowSize: Int?
    /// Step between sliding windows.
    public var windowStride: Int?
    /// Statistic names or groups (``PatchStatistic/parseList(_:)``).
    public var features: [String]?
    /// `zscore`, `minmax` or `robust`.
    public var scaler: String?
    /// `none`, `pca:N`, `pca:FRACTION` or `nmf:N`.
    public var reduce: String?
    /// `kmeans` or `agglomerative`.
    public var algorithm: String?
    /// Agglomerative linkage: `ward`, `complete`, `average` or `single` (default `ward`).
    public var linkage: String?
    /// Agglomerative distance: `euclidean`, `cosine` or `manhattan` (default `euclidean`; `ward` needs `euclidean`).
    public var metric: String?
    /// Clusters k (``Limits/clusterCount``; default 3).
    public var clusterCount: Int?
    /// Random seed (default 0).
    public var seed: UInt64?
    /// nil = automatic (on when the film level check finds black areas).
    public var excludeDark: Bool?
    /// Reach, in patches (Chebyshev distance within an image), around dark grid patches in which patches holding any black pixel are excluded too (``Limits/darkMargin``; default 1).
    public var darkMargin: Int?
    /// Cluster of interest as numbered in the legend; nil = automatic.
    public var pick: Int?
    /// `IMAGE:ROW:COL`.
    public var similarTo: String?
    /// Cosine similarity (−1…1) at or above which a patch is picked in similarity mode (default 0.8).
    public var similarityThreshold: Double?
    /// `A-B`: a silhouette table over k.
    public var kRange: String?
    /// Gaussian σ of the gradient-magnitude statistics, in pixels (> 0, ≤ 256; default 2).
    public var gradientSigma: Double?
    /// GLCM pixel-pair distance in pixels (``Limits/glcmDistance``; default 1).
    public var glcmDistance: Int?
    /// GLCM grey levels after quantisation (``Limits/glcmLevels``; default 32).
    public var glcmLevels: Int?
    /// Divide out slow background variations before the statistics (``LocatorOptions/flattenBackground``); nil = off.
    public var flatten: Bool?
    /// Compress heavy feature tails before scaling (``LocatorOptions/compressTails``); nil = off.
    public var compressTails: Bool?
    /// Scale each tile to the set's film level (``LocatorOptions/normalizeTiles``); nil = on.
    public var normalizeTiles: Bool?
    /// Thin dark lines (fibres) join the automatic pick (``LocatorOptions/lineCheck``); nil = on.
    public var lineCheck: Bool?

    /// Settings with every field nil: all defaults.
    public init() {}

    /// The values used for fields left out, shared by the command line's help and the API.
    public enum Defaults {
        /// Grid rows and columns per image.
        public static let gridRows = 8, gridColumns = 8
        /// Sliding window side and step, in pixels.
        public static let windowSize = 31, windowStride = 1
        /// Clusters k.
        public static let clusterCount = 3
        /// Dark margin, in patches.
        public static let darkMargin = 1
        /// Cosine similarity at or above which a patch is picked.
        public static let similarityThreshold = 0.8
        /// Gradient σ (pixels), GLCM pair distance (pixels) and GLCM grey levels.
        public static let gradientSigma = 2.0, glcmDistance = 1, glcmLevels = 32
    }

    /// The ranges every caller gets (one place, so the command line and the workbench agree).
    public enum Limits {
        /// Grid rows or columns per image.
        public static let gridSide = 1...512
        /// Side of square patches, in pixels.
        public static let patchSize = 4...16_384
        /// Sliding window side, in pixels (odd values only).
        public static let windowSize = 3...1025
        /// Step between sliding windows, in pixels.
        public static let windowStride = 1...4096
        /// Clusters k (also the upper end of a `kRange`).
        public static let clusterCount = 1...64
        /// Number of feature names in ``LocatorSettings/features``.
        public static let featureCount = 1...40
        /// Components of a PCA or NMF reduction.
        public static let components = 1...64
        /// Dark margin, in patches.
        public static let darkMargin = 0...64
        /// GLCM pixel-pair distance, in pixels.
        public static let glcmDistance = 1...64
        /// GLCM grey levels.
        public static let glcmLevels = 2...256
    }

    /// Checks every field and builds the options.
    /// - Throws: ``LocatorOptionError`` naming the first field that cannot be used.
    public func options() throws(LocatorOptionError) -> LocatorOptions {
        func fail(_ field: String, _ value: Any?, _ reason: String) -> LocatorOptionError {
            LocatorOptionError(field: field, value: value.map { String(String(describing: $0).prefix(60)) }, reason: reason)
        }
        func check(_ field: String, _ value: Int?, in range: ClosedRange<Int>, _ what: String) throws(LocatorOptionError) {
            if let value, !range.contains(value) {
                throw fail(field, value, "\(what) must be \(range.lowerBound) to \(range.upperBound)")
            }
        }
        var o = LocatorOptions()
        let resolvedMode = mode ?? (windowSize != nil || windowStride != nil ? "window" : "grid")
        switch resolvedMode {
        case "grid":
            if windowSize != nil || windowStride != nil {
                throw fail("windowSize", windowSize ?? windowStride, "sliding windows and patches exclude each other (mode grid)")
            }
            if let patchSize {
                if gridRows != nil || gridColumns != nil { throw fail("patchSize", patchSize, "give a patch size or a grid, not both") }
                try check("patchSize", patchSize, in: Limits.patchSize, "the patch side")
                o.sampling = .patches(.patchSize(patchSize))
            } else {
                try check("gridRows", gridRows, in: Limits.gridSide, "grid rows")
                try check("gridColumns", gridColumns, in: Limits.gridSide, "grid columns")
                o.sampling = .patches(.grid(rows: gridRows ?? Defaults.gridRows, columns: gridColumns ?? Defaults.gridColumns))
            }
        case "window":
            if patchSize != nil || gridRows != nil || gridColumns != nil {
                throw fail("mode", resolvedMode, "sliding windows and patches exclude each other; give a window or a grid/patch size")
            }
            let size = windowSize ?? Defaults.windowSize, stride = windowStride ?? Defaults.windowStride
            guard Limits.windowSize.contains(size), size % 2 == 1 else {
                throw fail("windowSize", size, "the window side must be odd, \(Limits.windowSize.lowerBound) to \(Limits.windowSize.upperBound)")
            }
            try check("windowStride", stride, in: Limits.windowStride, "the stride")
            o.sampling = .window(size: size, stride: stride)
            o.features = LocatorOptions.windowFeatures
        default:
            throw fail("mode", resolvedMode, "use grid or window")
        }
        if let features {
            guard Limits.featureCount.contains(features.count) else {
                throw fail("features", features.count, "list 1 to \(Limits.featureCount.upperBound) names")
            }
            do { o.features = try PatchStatistic.parseList(features.joined(separator: ",")) } catch {
                throw fail("features", features.joined(separator: ","), String(describing: error))
            }
        }
        if let scaler {
            switch scaler.lowercased() {
            case "zscore", "z-score", "standard": o.scaler = .zScore
            case "minmax", "min-max": o.scaler = .minMax
            case "robust": o.scaler = .robust
            default: throw fail("scaler", scaler, "use zscore, minmax or robust")
            }
        }
        if let reduce {
            let parts = reduce.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let count = parts.count == 2 ? Int(parts[1]) : nil
            switch (parts[0], parts.count) {
            case ("none", 1): o.reduction = .none
            case ("pca", 2) where count != nil:
                guard Limits.components.contains(count!) else { throw fail("reduce", reduce, "the PCA component count must be 1 to \(Limits.components.upperBound)") }
                o.reduction = .pca(count!)
            case ("pca", 2) where Double(parts[1]) != nil:
                let fraction = Double(parts[1])!
                guard fraction > 0 && fraction < 1 else { throw fail("reduce", reduce, "a variance fraction must lie between 0 and 1") }
                o.reduction = .pcaFraction(fraction)
            case ("nmf", 2) where count != nil:
                guard Limits.components.contains(count!) else { throw fail("reduce", reduce, "the NMF component count must be 1 to \(Limits.components.upperBound)") }
                o.reduction = .nmf(count!)
            default: throw fail("reduce", reduce, "use none, pca:N, pca:FRACTION (e.g. pca:0.95) or nmf:N")
            }
        }
        if let algorithm {
            guard let method = LocatorOptions.Method(rawValue: algorithm.lowercased()) else { throw fail("algorithm", algorithm, "use kmeans or agglomerative") }
            o.method = method
        }
        if let linkage {
            guard let value = LocatorOptions.Linkage(rawValue: linkage.lowercased()) else {
                throw fail("linkage", linkage, "use " + LocatorOptions.Linkage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            o.linkage = value
        }
        if let metric {
            guard let value = LocatorOptions.Metric(rawValue: metric.lowercased()) else {
                throw fail("metric", metric, "use " + LocatorOptions.Metric.allCases.map(\.rawValue).joined(separator: ", "))
            }
            o.metric = value
        }
        try check("clusterCount", clusterCount, in: Limits.clusterCount, "the cluster count")
        o.clusterCount = clusterCount ?? Defaults.clusterCount
        o.seed = seed ?? 0
        o.excludeDark = excludeDark ?? false
        o.automaticDarkExclusion = excludeDark == nil
        try check("darkMargin", darkMargin, in: Limits.darkMargin, "the dark margin")
        o.darkMargin = darkMargin ?? Defaults.darkMargin
        if let pick, pick < 0 { throw fail("pick", pick, "clusters are numbered from 0") }
        o.pick = pick
        if let similarTo {
            let parts = similarTo.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 3, let r = Int(parts[parts.count - 2]), let c = Int(parts[parts.count - 1]), r >= 0, c >= 0,
                  !parts.dropLast(2).joined(separator: ":").isEmpty else {
                throw fail("similarTo", similarTo, "expected IMAGE:ROW:COL with 0-based patch row and column, e.g. Tile_001-002.tif:3:1")
            }
            o.similarTo = .init(image: parts.dropLast(2).joined(separator: ":"), row: r, column: c)
        }
        let threshold = similarityThreshold ?? Defaults.similarityThreshold
        guard threshold >= -1 && threshold <= 1 else { throw fail("similarityThreshold", threshold, "a cosine similarity lies between -1 and 1") }
        o.similarityThreshold = threshold
        if let kRange {
            let parts = kRange.split(separator: "-")
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a <= b else {
                throw fail("kRange", kRange, "expected A-B, e.g. 2-6")
            }
            guard a >= 2 else { throw fail("kRange", kRange, "silhouettes need k ≥ 2") }
            guard b <= Limits.clusterCount.upperBound else { throw fail("kRange", kRange, "k goes up to \(Limits.clusterCount.upperBound)") }
            o.kRange = a...b
        }
        let sigma = gradientSigma ?? Defaults.gradientSigma
        guard sigma > 0 && sigma <= 256 else { throw fail("gradientSigma", sigma, "the gradient sigma must be > 0 and ≤ 256 pixels") }
        try check("glcmDistance", glcmDistance, in: Limits.glcmDistance, "the GLCM distance")
        try check("glcmLevels", glcmLevels, in: Limits.glcmLevels, "the GLCM grey levels")
        o.statistics = PatchStatisticsOptions(gradientSigma: sigma, glcmDistance: glcmDistance ?? Defaults.glcmDistance,
                                              glcmLevels: glcmLevels ?? Defaults.glcmLevels)
        o.flattenBackground = flatten ?? false
        o.compressTails = compressTails ?? false
        o.normalizeTiles = normalizeTiles ?? true
        o.lineCheck = lineCheck ?? true
        try o.validate()
        return o
    }
}
