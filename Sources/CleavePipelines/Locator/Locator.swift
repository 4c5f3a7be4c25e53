import CleaveCore
import CleaveFeatures
import CleaveLearning
import Foundation

/// Finds micro-crystals (or any particles) in tile sets by clustering patch statistics.
///
/// ```
/// images ─▶ film level ─▶ per-tile gains ─▶ patches / windows ─▶ statistics ─▶ scale ─▶ (PCA | NMF) ─▶ cluster ─▶ pick ─▶ heat, targets
///              │ (FilmLevel)  (LocatorTileNormalization)            │                                        ▲
///              └─ black population found → two-step mode ─▶ dark patches ───────────────────────────────────┘ (own group)
/// ```
///
/// The same function serves the CLI (`cleave locate`) and library users; writing files is
/// ``LocatorOutput``'s job.
public enum Locator {
    /// Fraction of the film level below which a pixel counts as black (grid bar, no beam):
    /// it transmits less than half of what the film does.
    public static let blackFractionOfFilm = 0.5
    /// Smallest mean black fraction of the step-one group that makes it a dark group.
    public static let minimumDarkGroupFraction = 0.05
    /// Smallest share of an image a connected dark region must cover (and touch the border) to
    /// count as grid bar / black tile area in two-step mode.
    public static let minimumDarkRegionFraction = 0.04
    /// Two-step window mode: a window more than this fraction grid bar / black tile area is dark
    /// (its film-only statistics would rest on too few pixels).
    public static let maximumBarFractionOfWindow = 0.5

    /// Runs the Locator.
    /// - Parameters:
    ///   - inputImages: inputs (see ``LocatorInput/load(_:mosaic:progress:)``), all the same size.
    ///   - options: the run's settings.
    ///   - model: a saved model to apply instead of fitting (its sampling, features, scaling, centres and pick win).
    ///   - truth: hand labels to score against (grid layouts).
    /// - Throws: ``LocatorOptionError`` or ``LocatorError`` for settings that do not fit the data (grid finer than the image,
    ///   k larger than the patch count, a similarity reference that does not exist, …).
    /// - Complexity: ``features(_:options:model:progress:)`` (O(pixels) per statistic) plus
    ///   ``run(_:features:options:model:truth:silhouetteSampleSize:findTargets:progress:)`` (the clustering).
    public static func run(_ inputImages: [LocatorImage], options: LocatorOptions, model: LocatorModel? = nil,
                           truth: LocatorTruth? = nil, progress: CleaveCore.Progress = .silent) throws -> LocatorResult {
        let computed = try features(inputImages, options: options, model: model, progress: progress)
        return try run(inputImages, features: computed, options: options, model: model, truth: truth, progress: progress)
    }

    /// The film level of `images`: the median of the film's own population of grey values
    /// (``FilmLevel``; the median of all pixels when the histogram shows no black population).
    public static func estimateFilmLevel(_ images: [LocatorImage]) -> Double {
        FilmLevel.measure(images).level
    }

    /// The film level of a run and the images its statistics see.
    struct Levels: Sendable {
        /// The inputs, tile-normalised when ``normalization`` is set.
        var images: [LocatorImage]
        /// Measured on the raw inputs.
        var film: FilmLevel
        var normalization: LocatorTileNormalization?
        /// The level the thresholds refer to: the normalisation's reference, else ``film``'s.
        var filmLevel: Double { normalization?.reference ?? film.level }
    }

    /// Measures the film level and, with ``LocatorOptions/normalizeTiles``, scales every tile so
    /// that its own film level lands on the set's (or on `modelReference`, a saved model's level,
    /// so that new tiles are measured on the model's grey scale). One image without a model
    /// reference needs no normalisation.
    static func measureLevels(_ images: [LocatorImage], options: LocatorOptions, modelReference: Double?) -> Levels {
        let film = FilmLevel.measure(images)
        guard options.normalizeTiles, images.count > 1 || modelReference != nil else {
            return Levels(images: images, film: film, normalization: nil)
        }
        let normalization = LocatorTileNormalization.measure(images, reference: modelReference ?? film.level)
        return Levels(images: normalization.apply(images), film: film, normalization: normalization)
    }

    struct Extraction {
        var layout: LocatorLayout
        var features: Matrix
        /// Fraction of black pixels per patch (two-step grid mode; empty otherwise).
        var blackFraction: [Float]
        /// Two-step window mode: whether each window is more than ``maximumBarFractionOfWindow``
        /// bar (its moments already leave the bar out); empty otherwise.
        var darkWindows: [Bool] = []
        /// Two-step grid mode: whether each patch holds pixels of a bar (``LocatorBars/mask``);
        /// empty otherwise.
        var barPixels: [Bool] = []
        /// Per-patch particle score for the automatic pick and the canonical order (empty when
        /// ``relativeStdColumns`` is set).
        var storedScore: [Float]
        /// Windows whose features hold mean and std: the particle score is `std / mean` (0 unless
        /// mean > 0) of these feature columns, computed where it is used (no table of its own).
        var relativeStdColumns: (mean: Int, std: Int)? = nil
        /// Two-step window mode: per image, the measured width of the bars' edge added to the bar
        /// mask (nil for an image without bars or outside that mode).
        var barEdges: [Int?] = []

        /// Where the particle score of each row comes from.
        var score: LocatorRows.Score {
            if let columns = relativeStdColumns { return .relativeStd(features, mean: columns.mean, std: columns.std) }
            return .stored(storedScore)
        }
    }

    /// Computes the features of every patch or window.
    /// Side of a patch (smaller side of the first grid patch) or of the window: the flattening's cell.
    static func patchSide(_ sampling: LocatorOptions.Sampling, images: [LocatorImage]) throws -> Int {
        switch sampling {
        case .patches(let layout):
            let regions = try layout.regions(width: images[0].image.width, height: images[0].image.height)
            return regions.map { min($0.width, $0.height) }.min() ?? 1
        case .window(let size, _): return size
        }
    }

    /// Computes the features of every patch or window of `images`; black fractions come from `raw`.
    static func extractFeatures(_ images: [LocatorImage], raw: [LocatorImage], options: LocatorOptions, blackThreshold: Double,
                                progress: CleaveCore.Progress) throws -> Extraction {
        let width = images[0].image.width, height = images[0].image.height
        var grids: [LocatorLayout.ImageGrid] = []
        var values: [Float] = []
        var black: [Float] = []
        var score: [Float] = []
        var windowBarEdges: [Int?] = []
        var darkWindows: [Bool] = []
        var barPixels: [Bool] = []
        var relativeStdColumns: (mean: Int, std: Int)? = nil
        let f = options.features.count
        if options.features.contains(where: { $0.rawValue.hasPrefix("glcm_") }) {
            // A pair distance of a patch side or more leaves no pixel pair inside any patch.
            let side = try patchSide(options.sampling, images: images)
            guard options.statistics.glcmDistance < side else {
                throw LocatorOptionError(field: "glcmDistance", value: "\(options.statistics.glcmDistance)", reason: "not shorter than the patch side (\(side) pixels), so no pixel pair fits in a patch; use a distance below \(side)")
            }
        }
        switch options.sampling {
        case .patches(let patchLayout):
            let regions = try patchLayout.regions(width: width, height: height)
            let (rows, columns) = try patchLayout.counts(width: width, height: height)
            // One pass computes the requested features plus the two the pick needs.
            var statistics = options.features
            for extra in [PatchStatistic.median, .lowtail] where !statistics.contains(extra) { statistics.append(extra) }
            let s = statistics.count
            let medianColumn = statistics.firstIndex(of: .median)!, lowtailColumn = statistics.firstIndex(of: .lowtail)!
            values.reserveCapacity(images.count * regions.count * f)
            for (index, image) in images.enumerated() {
                progress.report(index, images.count, "patch statistics")
                let table = PatchStatistics.compute(image.image, regions: regions, statistics: statistics,
                                                    options: options.statistics, integral: image.integral)
                grids.append(.init(rows: rows, columns: columns, firstIndex: index * regions.count, regions: regions))
                for p in 0..<regions.count {
                    for c in 0..<f { values.append(Float(table[p * s + c])) }
                    let median = table[p * s + medianColumn], lowtail = table[p * s + lowtailColumn]
                    // Particle score: how deep the darkest 1 % reach below the patch's typical level, relative to it.
                    score.append(Float(median > 0 ? lowtail / median : 0))
                }
                if options.excludeDark {
                    black += blackFractions(raw[index].image, regions: regions, threshold: Float(blackThreshold))
                    // Which patches hold pixels of the bars themselves (not of a dark particle).
                    let bar = LocatorBars.mask(raw[index].image, threshold: Float(blackThreshold), minimumFraction: minimumDarkRegionFraction)
                    let width = raw[index].image.width
                    barPixels += regions.map { region in
                        (region.y..<(region.y + region.height)).contains { y in
                            bar[(y * width + region.x)..<(y * width + region.x + region.width)].contains(true)
                        }
                    }
                } else {
                    black += [Float](repeating: 0, count: regions.count)
                }
            }
            progress.report(images.count, images.count, "patch statistics")
        case let .window(size, stride):
            var statistics = options.features
            if !statistics.contains(.std) { statistics.append(.std) }
            if !statistics.contains(.mean) { statistics.append(.mean) }
            let meanColumn = statistics.firstIndex(of: .mean)!, stdColumn = statistics.firstIndex(of: .std)!
            var first = 0
            for (index, image) in images.enumerated() {
                progress.report(index, images.count, "window moments")
                // Two-step mode: the windows measure the film only — pixels of grid bars and black
                // tile areas are left out of their statistics — so a window at a bar's edge
                // describes the film (or the particle) it shows rather than the bar.
                var barHeavy: [Bool]? = nil
                var moments: SlidingWindowFeatures
                let measuredBar = options.excludeDark
                    ? LocatorBars.maskWithEdge(raw[index].image, threshold: Float(blackThreshold), minimumFraction: minimumDarkRegionFraction)
                    : nil
                if let measuredBar { windowBarEdges.append(measuredBar.edge) }
                if let measuredBar, measuredBar.edge != nil {  // the image has a bar
                    // Dark windows: more than half bar. The kernel flags them as it goes (a table of
                    // flags, not of fractions: 16 MB instead of 66 MB of fresh memory at 4096²).
                    let masked = try SlidingWindow.maskedMoments(image.image, exclude: measuredBar.mask, window: size, stride: stride,
                                                                 statistics: statistics,
                                                                 flaggingExcludedFractionAbove: Float(maximumBarFractionOfWindow))
                    moments = masked.features
                    barHeavy = masked.mostlyExcluded
                } else {
                    moments = try SlidingWindow.moments(image.image, window: size, stride: stride, statistics: statistics)
                }
                let count = moments.rows * moments.columns
                grids.append(.init(rows: moments.rows, columns: moments.columns, firstIndex: first, regions: []))
                first += count
                let s = statistics.count
                if s == f && values.isEmpty {
                    values = moments.values  // one image: the moments table is the feature table, no copy
                } else if s == f {
                    values += moments.values
                } else {
                    values.reserveCapacity(values.count + count * f)
                    for p in 0..<count { for c in 0..<f { values.append(moments.values[p * s + c]) } }
                }
                // Particle score for windows: local contrast (relative std), read from the
                // feature table where it is used when the features hold mean and std.
                if s == f {
                    relativeStdColumns = (meanColumn, stdColumn)
                } else {
                    let imageScore = LocatorRows.relativeStd(moments.values, columns: s, mean: meanColumn, std: stdColumn)
                    if score.isEmpty { score = imageScore } else { score += imageScore }
                }
                if options.excludeDark {
                    // Windows more than half bar (none when the image has no bar).
                    let flags = barHeavy ?? [Bool](largeRepeating: false, count: count)
                    if darkWindows.isEmpty { darkWindows = flags } else { darkWindows += flags }  // one image: no copy
                }
            }
            progress.report(images.count, images.count, "window moments")
        }
        let layout = LocatorLayout(sampling: options.sampling, grids: grids)
        let matrix = Matrix(rows: layout.count, columns: f, values: values)
        guard matrix.isFinite else { throw LocatorError.unusableFeatures(reason: "some features are not finite (NaN or infinity); check the input images") }
        return Extraction(layout: layout, features: matrix, blackFraction: black, darkWindows: darkWindows, barPixels: barPixels, storedScore: score,
                          relativeStdColumns: relativeStdColumns, barEdges: windowBarEdges)
    }

    /// Fraction of each region's pixels below `threshold`.
    static func blackFractions(_ image: Image<Float>, regions: [Region], threshold: Float) -> [Float] {
        let width = image.width
        return image.pixels.withUnsafeBufferPointer { p in
            regions.map { region in
                var count = 0
                for y in region.y..<(region.y + region.height) {
                    let row = y * width + region.x
                    for x in 0..<region.width where p[row + x] < threshold { count += 1 }
                }
                return Float(count) / Float(region.pixelCount)
            }
        }
    }

    /// Step one of the two-step mode: 2-means on the black fraction; the group with the higher
    /// centre is dark when that centre is at least ``minimumDarkGroupFraction``; of its connected
    /// regions only those touching the image border and covering ≥ ``minimumDarkRegionFraction``
    /// of the image (or whose patches are on average at least half black: a bar across a tile's
    /// corner) stay dark (bars cross the field, particles do not); then the dark set grows
    /// by the patches within `margin` patches (Chebyshev distance, within each image) that hold
    /// at least one black pixel. Sliding windows: the dark windows are those more than
    /// ``maximumBarFractionOfWindow`` bar, flagged as their moments are measured
    /// (``Extraction/darkWindows``; their moments already leave the bar out, so no margin is needed).
    static func findDark(_ extraction: Extraction, margin: Int, seed: UInt64) throws -> [Bool] {
        if case .window = extraction.layout.sampling { return extraction.darkWindows }
        return try findDark(extraction.blackFraction, layout: extraction.layout, margin: margin, seed: seed,
                            barPixels: extraction.barPixels)
    }

    /// ``findDark(_:margin:seed:)`` for patch layouts.
    static func findDark(_ blackFraction: [Float], layout: LocatorLayout, margin: Int, seed: UInt64,
                         barPixels: [Bool] = []) throws -> [Bool] {
        let n = blackFraction.count
        var dark = [Bool](largeRepeating: false, count: n)
        guard n >= 2, let top = blackFraction.max(), top >= Float(minimumDarkGroupFraction) else { return dark }
        let column = Matrix(rows: n, columns: 1, values: blackFraction)
        let fitted = try KMeans(clusterCount: 2, seed: seed).fitAssign(column)
        let centers = [fitted.model.centroids[0, 0], fitted.model.centroids[1, 0]]
        let darkCluster: Int32 = centers[1] > centers[0] ? 1 : 0
        guard Double(centers[Int(darkCluster)]) >= minimumDarkGroupFraction else { return dark }
        for i in 0..<n where fitted.labels[i] == darkCluster { dark[i] = true }
        // Grid bars and the black parts of tiles cross the field of view: keep dark regions that
        // touch the image border and cover at least `minimumDarkRegionFraction` of the image, so a
        // large, very dark particle in the middle of the film is not mistaken for a bar.
        for (imageIndex, grid) in layout.grids.enumerated() {
            let cell = layout.ownedRegion(image: imageIndex, row: 0, column: 0).pixelCount
            let imagePixels: Int
            switch layout.sampling {
            case .patches: imagePixels = grid.regions.reduce(0) { $0 + $1.pixelCount }
            case let .window(size, stride):
                imagePixels = ((grid.columns - 1) * stride + size) * ((grid.rows - 1) * stride + size)
            }
            var visited = [Bool](repeating: false, count: grid.count)
            for start in 0..<grid.count where dark[grid.firstIndex + start] && !visited[start] {
                var stack = [start], members: [Int] = []
                visited[start] = true
                var touchesBorder = false
                while let c = stack.popLast() {
                    members.append(c)
                    let r = c / grid.columns, col = c % grid.columns
                    if r == 0 || col == 0 || r == grid.rows - 1 || col == grid.columns - 1 { touchesBorder = true }
                    for dr in -1...1 {
                        for dc in -1...1 where dr != 0 || dc != 0 {
                            let nr = r + dr, nc = col + dc
                            guard nr >= 0, nr < grid.rows, nc >= 0, nc < grid.columns else { continue }
                            let next = nr * grid.columns + nc
                            if !visited[next] && dark[grid.firstIndex + next] { visited[next] = true; stack.append(next) }
                        }
                    }
                }
                let large = Double(members.count * cell) >= minimumDarkRegionFraction * Double(imagePixels)
                // A bar crossing a tile's corner leaves only a small piece in the tile; it is still
                // a bar when its patches are mostly black on average.
                let mostlyBlack = members.reduce(0.0) { $0 + Double(blackFraction[grid.firstIndex + $1]) } >= 0.5 * Double(members.count)
                if !(touchesBorder && (large || mostlyBlack)) { for m in members { dark[grid.firstIndex + m] = false } }
            }
        }
        var reach = margin
        if case let .window(size, stride) = layout.sampling { reach = margin * max(1, size / stride) }
        guard reach > 0 else { return dark }
        // The margin takes only neighbours that hold black pixels themselves — pixels of the bar
        // (`barPixels`: the border-touching black regions, ``LocatorBars/mask``) when given, so
        // that a dark particle beside a bar does not count: those are the patches whose
        // statistics the bar still dominates. Clean film next to a bar stays in, so the
        // particles lying there can be found (a plain dilation excluded them).
        var grown = dark
        for grid in layout.grids {
            let flags = Array(dark[grid.firstIndex..<(grid.firstIndex + grid.count)])
            let dilated = LocatorTargets.dilate(flags, rows: grid.rows, columns: grid.columns, radius: reach)
            for i in 0..<grid.count where dilated[i] {
                let index = grid.firstIndex + i
                if barPixels.isEmpty ? blackFraction[index] > 0 : barPixels[index] { grown[index] = true }
            }
        }
        return grown
    }

    /// Two-step mode left nothing to cluster; when it came on by itself, the message says so.
    static func everyPatchIsDark(automatic: Bool) -> LocatorOptionError {
        automatic
            ? LocatorOptionError(field: "excludeDark", value: nil, reason: "on automatically (the film level check found black areas) and every patch is dark; nothing left to cluster; use smaller patches or turn two-step mode off")
            : LocatorOptionError(field: "excludeDark", value: nil, reason: "every patch is dark; nothing left to cluster")
    }

    static func referenceIndex(_ reference: LocatorOptions.Reference, images: [LocatorImage], layout: LocatorLayout) throws -> Int {
        guard let imageIndex = images.firstIndex(where: { $0.name == reference.image || stem($0.name) == stem(reference.image) }) else {
            throw LocatorOptionError(field: "similarTo", value: reference.description, reason: "no input image named '\(reference.image)' (have \(images.prefix(4).map(\.name).joined(separator: ", "))\(images.count > 4 ? ", …" : ""))")
        }
        let grid = layout.grids[imageIndex]
        guard reference.row >= 0, reference.row < grid.rows, reference.column >= 0, reference.column < grid.columns else {
            throw LocatorOptionError(field: "similarTo", value: reference.description, reason: "patch outside the \(grid.rows)x\(grid.columns) patch grid (0-based)")
        }
        return grid.firstIndex + reference.row * grid.columns + reference.column
    }

    static func stem(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }
}

extension LocatorOptions {
    /// These options with a saved model's settings in force: its sampling (a grid run keeps its
    /// own grid), features, statistics, dark handling (never decided anew), flattening, tail
    /// compression, tile normalisation and cluster count.
    func applying(_ model: LocatorModel?) -> LocatorOptions {
        guard let model else { return self }
        var options = self
        options.sampling = model.sampling.adapted(to: sampling)
        options.features = model.features
        options.statistics = model.statistics
        options.excludeDark = model.excludeDark
        options.darkMargin = model.darkMargin
        options.flattenBackground = model.flattenBackground ?? false
        options.compressTails = model.tails != nil
        options.normalizeTiles = model.normalizeTiles ?? false
        options.automaticDarkExclusion = false  // the model's dark handling stands
        options.clusterCount = model.centroids.rows
        return options
    }
}

extension LocatorOptions.Sampling {
    /// A model's sampling applied to a run: grid layouts keep the run's own grid when both are
    /// grids (the statistics are per patch, the model does not care how many); otherwise the model's.
    func adapted(to requested: LocatorOptions.Sampling) -> LocatorOptions.Sampling {
        switch (self, requested) {
        case (.patches, .patches): return requested
        default: return self
        }
    }
}

/// Wall-clock timing of pipeline stages.
struct StageClock {
    var laps: [(stage: String, seconds: Double)] = []
    var last = DispatchTime.now().uptimeNanoseconds
    mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        laps.append((stage, Double(now - last) / 1e9))
        last = now
    }
}
