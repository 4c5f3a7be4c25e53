import CleaveCore
import CleaveFeatures
import CleaveLearning

/// Where each feature row of a Locator run comes from.
///
/// Rows are ordered image by image, then patch row by patch row, patch column fastest. For grid
/// layouts a "patch" is a rectangle; for the sliding window it is the window at one output position.
public struct LocatorLayout: Sendable {
    /// The patches of one image: a rows × columns grid whose rows of the feature table start at ``firstIndex``.
    public struct ImageGrid: Sendable {
        /// Patch rows (grid) or window positions down the image (sliding window).
        public var rows: Int
        /// Patch columns (grid) or window positions across the image (sliding window).
        public var columns: Int
        /// Global index (feature-table row) of the image's patch (0, 0).
        public var firstIndex: Int
        /// Patch rectangles (grid layouts only; the window computes them).
        public var regions: [Region]
        /// Patches of this image (rows × columns).
        public var count: Int { rows * columns }
    }
    /// How the patches were taken (grid patches or sliding windows).
    public var sampling: LocatorOptions.Sampling
    /// One grid per input image, in input order.
    public var grids: [ImageGrid]
    /// Patches of the whole run: the number of feature rows.
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
    /// File name of the image the target lies in.
    public var image: String
    /// Centroid in the image's pixel coordinates (heat-weighted mean of patch centres).
    public var x: Double
    /// Centroid row coordinate in the image's pixels (see ``x``).
    public var y: Double
    /// Centroid in physical units when the image has a pixel size (else nil).
    public var physicalX: Double?
    /// Centroid row coordinate in physical units (see ``physicalX``).
    public var physicalY: Double?
    /// Unit of the physical coordinates and area (e.g. `µm`), nil when the image has no pixel size.
    public var unit: String?
    /// Area in pixels (patches' owned areas summed) and in physical units² when known.
    public var areaPixels: Int
    /// Area in ``unit``², nil when the image has no pixel size.
    public var area: Double?
    /// Picked patches the region is made of.
    public var patchCount: Int
    /// Mean heat of the region's patches (0…1).
    public var score: Double
}

/// Everything a Locator run produced.
public struct LocatorResult: Sendable {
    /// The options the run used (after a model's settings and the automatic dark handling were applied).
    public var options: LocatorOptions
    /// Input image names, in the order of ``layout``'s grids.
    public var imageNames: [String]
    /// Where each row of ``features`` comes from.
    public var layout: LocatorLayout
    /// Names of the columns of ``features`` (the statistics' raw values).
    public var featureNames: [String]
    /// Raw (unscaled) features, one row per patch.
    public var features: Matrix
    /// Cluster per patch: 0..<clusterCount for the clustered patches, `clusterCount` for the
    /// dark group in two-step mode.
    public var labels: [Int32]
    /// Clusters k (without the dark group).
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
    /// Mean silhouette of the clustering (−1…1) on a sample of patches; nil when skipped or undefined.
    public var silhouette: Double?
    /// Mean silhouette for each k of ``LocatorOptions/kRange`` (empty without one).
    public var silhouetteByK: [(k: Int, score: Double)]
    /// Agreement of the clusters with hand labels (adjusted Rand index, adjusted mutual information, …), nil without ``LocatorTruth``.
    public var scores: ClusteringScores?
    /// Labelled patches that were matched to the run and scored.
    public var truthPatchCount: Int
    /// Connected regions of picked patches, best first (empty when the caller did not ask for targets).
    public var targets: [LocatorTarget]
    /// Wall-clock seconds per pipeline stage, in order.
    public var timings: [(stage: String, seconds: Double)]
    /// The run as a saved model: apply it to new images with ``Locator/run(_:features:options:model:truth:silhouetteSampleSize:findTargets:progress:)``.
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
