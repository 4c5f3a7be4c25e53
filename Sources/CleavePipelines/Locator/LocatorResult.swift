import CleaveCore
import CleaveFeatures
import CleaveLearning

/// Where each feature row of a Locator run comes from.
///
/// Rows are ordered image by image, then patch row by patch row, patch column fastest. For grid
/// layouts a "patch" is a rectangle; for the sliding window it is the window at one output position.
public struct LocatorLayout: Sendable {
    public struct ImageGrid: Sendable {
        public var rows: Int
        public var columns: Int
        public var firstIndex: Int
        /// Patch rectangles (grid layouts only; the window computes them).
        public var regions: [Region]
        public var count: Int { rows * columns }
    }
    public var sampling: LocatorOptions.Sampling
    public var grids: [ImageGrid]
    public var count: Int { grids.last.map { $0.firstIndex + $0.count } ?? 0 }

    /// (image, row, column) of a global patch index.
    public func position(of index: Int) -> (image: Int, row: Int, column: Int) {
        var lo = 0, hi = grids.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if grids[mid].firstIndex <= index { lo = mid } else { hi = mid - 1 }
        }
        let local = index - grids[lo].firstIndex
        return (lo, local / grids[lo].columns, local % grids[lo].columns)
    }

    /// Pixel rectangle of a patch.
    public func region(image: Int, row: Int, column: Int) -> Region {
        switch sampling {
        case .patches: return grids[image].regions[row * grids[image].columns + column]
        case let .window(size, stride): return Region(x: column * stride, y: row * stride, width: size, height: size)
        }
    }

    /// The pixels a patch "owns" in label images: the rectangle for grids; for windows the
    /// `stride × stride` cell around the window centre.
    public func ownedRegion(image: Int, row: Int, column: Int) -> Region {
        switch sampling {
        case .patches: return region(image: image, row: row, column: column)
        case let .window(size, stride):
            let cx = column * stride + size / 2 - stride / 2, cy = row * stride + size / 2 - stride / 2
            return Region(x: cx, y: cy, width: stride, height: stride)
        }
    }
}

/// A connected region of picked patches: a place to go and look.
public struct LocatorTarget: Sendable, Codable, Equatable {
    /// 1-based rank (best first).
    public var rank: Int
    public var image: String
    /// Centroid in the image's pixel coordinates (heat-weighted mean of patch centres).
    public var x: Double
    public var y: Double
    /// Centroid in physical units when the image has a pixel size (else nil).
    public var physicalX: Double?
    public var physicalY: Double?
    public var unit: String?
    /// Area in pixels (patches' owned areas summed) and in physical units² when known.
    public var areaPixels: Int
    public var area: Double?
    public var patchCount: Int
    /// Mean heat of the region's patches (0…1).
    public var score: Double
}

/// Everything a Locator run produced.
public struct LocatorResult: Sendable {
    public var options: LocatorOptions
    public var imageNames: [String]
    public var layout: LocatorLayout
    public var featureNames: [String]
    /// Raw (unscaled) features, one row per patch.
    public var features: Matrix
    /// Cluster per patch: 0..<clusterCount for the clustered patches, `clusterCount` for the
    /// dark group in two-step mode.
    public var labels: [Int32]
    public var clusterCount: Int
    /// Label of the dark group (two-step mode), else nil.
    public var darkGroup: Int?
    /// The cluster of interest.
    public var picked: Int
    /// How the pick was made: "user", "automatic", "model", "similarity".
    public var pickedBy: String
    /// Per-patch heat in 0…1: closeness to the picked cluster (or cosine similarity).
    public var heat: [Float]
    /// Picked patch flags.
    public var pickedMask: [Bool]
    /// Patches per label (including the dark group).
    public var clusterSizes: [Int]
    /// Per cluster: the particle score the automatic pick uses (mean over members).
    public var particleScores: [Double]
    public var silhouette: Double?
    public var silhouetteByK: [(k: Int, score: Double)]
    public var scores: ClusteringScores?
    public var truthPatchCount: Int
    public var targets: [LocatorTarget]
    public var timings: [(stage: String, seconds: Double)]
    public var model: LocatorModel
    /// The film level the dark thresholds refer to: ``film``'s level, or the saved model's
    /// reference level when tiles were normalised to it.
    public var filmLevel: Double
    /// Names of the groups for legends ("cluster 0", …, "dark / grid bars").
    public var groupNames: [String]
    /// Two-step window mode: per image, how many pixels of the bars' blurred edge were added to
    /// the bar mask (``LocatorBars/edgeWidth(_:distance:reach:tolerance:)``); nil for an image
    /// without bars; empty in other modes.
    public var barEdgePixels: [Int?] = []
    /// How the film level was measured on the input set (method, bimodality check).
    public var film: FilmLevel? = nil
    /// Per-tile normalisation applied before the statistics (nil = none).
    public var tileNormalization: LocatorTileNormalization? = nil
    /// How the two-step dark handling was decided: "requested" (``LocatorOptions/excludeDark``),
    /// "automatic" (the film level check found a black population,
    /// ``LocatorOptions/automaticDarkExclusion``) or "off".
    public var darkExclusion: String = "off"
    /// The line check's decision and what it added to the pick (nil: off, ``LocatorOptions/lineCheck``).
    public var lineCheck: LocatorLineCheck? = nil
}
