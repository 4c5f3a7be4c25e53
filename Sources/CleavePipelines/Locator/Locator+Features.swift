import CleaveCore
import CleaveFeatures
import CleaveLearning

/// The expensive half of a Locator run — patch or window features of a set of images — kept as a
/// value so that re-clustering with another cluster count, scaler, reduction, algorithm or seed
/// (what a user tries interactively) skips it.
///
/// ```
/// Locator.features(images, options) ──► LocatorFeatures ──► Locator.run(images, features:, options:) ─► LocatorResult
///          (seconds)                       (cache it)                 (milliseconds)
/// ```
/// `Locator.run(images, features: Locator.features(images, options), options: options)` gives the
/// same result as `Locator.run(images, options: options)` (tested).
public struct LocatorFeatures: Sendable {
    /// The options the features were computed with (only the feature-relevant fields matter).
    public let options: LocatorOptions
    let extraction: Locator.Extraction
    /// The film level the thresholds refer to (see ``LocatorResult/filmLevel``).
    public var filmLevel: Double { levels.filmLevel }
    /// How the film level was measured (method, bimodality check).
    public var film: FilmLevel { levels.film }
    /// Per-tile normalisation applied before the statistics (nil = none).
    public var tileNormalization: LocatorTileNormalization? { levels.normalization }
    let levels: Locator.Levels
    /// How the dark handling was decided for these images (see ``LocatorResult/darkExclusion``).
    public let darkExclusion: String
    /// Patches (or windows) with features.
    public var patchCount: Int { extraction.layout.count }
    /// Where each row comes from.
    public var layout: LocatorLayout { extraction.layout }
    /// Raw features, one row per patch.
    public var matrix: Matrix { extraction.features }

    /// Whether features computed with `options` may be reused for `other`: same sampling, features,
    /// statistics settings and dark handling (``LocatorOptions/automaticDarkExclusion`` resolved on
    /// these images).
    public func fits(_ input: LocatorOptions) -> Bool {
        var other = input
        other.resolveDarkExclusion(film: film)
        return options.sampling == other.sampling && options.features == other.features
            && options.statistics == other.statistics && options.excludeDark == other.excludeDark
            && options.flattenBackground == other.flattenBackground && options.normalizeTiles == other.normalizeTiles
    }

    /// A text key naming everything the features depend on (for caches).
    public static func key(for options: LocatorOptions) -> String {
        "\(options.sampling)|\(options.features.map(\.rawValue).joined(separator: ","))|dark=\(options.excludeDark)|auto-dark=\(options.automaticDarkExclusion)|flat=\(options.flattenBackground)|tiles=\(options.normalizeTiles)|\(options.statistics)"
    }
}

extension Locator {
    /// Computes the features of a Locator run (see ``LocatorFeatures``).
    /// - Throws: ``CleaveError`` for settings that do not fit the images.
    public static func features(_ inputImages: [LocatorImage], options inputOptions: LocatorOptions,
                                progress: CleaveCore.Progress = .silent) throws -> LocatorFeatures {
        var options = inputOptions
        try options.validate()
        guard !inputImages.isEmpty else { throw CleaveError("locate: no images") }
        var levels = measureLevels(inputImages, options: options, modelReference: nil)
        let images = levels.images
        let filmLevel = levels.filmLevel
        let darkExclusion = options.resolveDarkExclusion(film: levels.film)
        options.statistics.darkThreshold = PatchStatistics.darkThreshold(filmLevel: filmLevel)
        let blackThreshold = blackFractionOfFilm * filmLevel
        // Background flattening as in `run`: statistics see the flattened image, black fractions the raw one.
        var measured = images
        if options.flattenBackground {
            measured = LocatorBackground.flatten(images, cell: try patchSide(options.sampling, images: images),
                                                 blackThreshold: blackThreshold)
        }
        let extraction = try extractFeatures(measured, raw: images, options: options, blackThreshold: blackThreshold,
                                             progress: progress)
        levels.images = []  // the cache keeps the features, not a second copy of the pixels
        var resolved = inputOptions
        resolved.excludeDark = options.excludeDark  // as decided on these images
        return LocatorFeatures(options: resolved, extraction: extraction, levels: levels, darkExclusion: darkExclusion)
    }

    /// Clusters precomputed features: the second half of ``run(_:options:model:truth:progress:)``
    /// (no saved model, no truth, no k-range table — the interactive path).
    /// - Parameters:
    ///   - silhouetteSampleSize: rows the mean silhouette is estimated on (the full run uses
    ///     5 000; 0 skips it). It costs O(sample² × features), the largest part of a re-cluster.
    ///   - findTargets: rank connected picked regions (``LocatorResult/targets``); an interactive
    ///     client that draws the label map does not need them.
    /// - Throws: ``CleaveError`` when `features` were computed with other sampling/feature
    ///   settings, or for settings that do not fit the data.
    public static func run(_ images: [LocatorImage], features: LocatorFeatures, options inputOptions: LocatorOptions,
                           silhouetteSampleSize: Int = 5_000, findTargets: Bool = true,
                           progress: CleaveCore.Progress = .silent) throws -> LocatorResult {
        var options = inputOptions
        try options.validate()
        guard features.fits(options) else {
            throw CleaveError("locate: cached features were computed for \(features.options.sampling) / \(features.options.features.map(\.rawValue)), not \(options.sampling) / \(options.features.map(\.rawValue))")
        }
        options.kRange = nil
        options.resolveDarkExclusion(film: features.film)
        options.statistics.darkThreshold = PatchStatistics.darkThreshold(filmLevel: features.filmLevel)
        var clock = StageClock()
        let extraction = features.extraction
        let layout = extraction.layout
        let n = layout.count
        var dark: [Bool] = []  // no dark rows unless --exclude-dark finds some
        if options.excludeDark {
            dark = try findDark(extraction.blackFraction, layout: layout, margin: options.darkMargin, seed: options.seed,
                                barPixels: extraction.barPixels)
            clock.lap("dark patches")
        }
        let keptCount = n - LocatorRows.count(dark)
        guard keptCount > 0 else { throw Self.everyPatchIsDark(automatic: features.darkExclusion == "automatic") }
        guard options.clusterCount <= keptCount else {
            throw CleaveError("--clusters \(options.clusterCount) is more than the \(keptCount) patches to cluster; use fewer clusters or smaller patches")
        }
        progress.report(0, 3, "clustering")
        if try LocatorLargeRun.applies(keptRows: keptCount, options: options, model: nil) {
            // Millions of windows: neither the scaled table nor a copy of the kept rows is built (see ``LocatorLargeRun``).
            clock.lap("scaling")
            let large = try LocatorLargeRun.cluster(extraction, dark: dark, options: options, silhouetteSampleSize: silhouetteSampleSize)
            clock.lap("clustering")
            progress.report(2, 3, "clustering")
            let outcome = large.outcome
            let targets = findTargets
                ? LocatorTargets.find(pickedMask: outcome.pickedMask, heat: outcome.heat, layout: layout, images: images) : []
            clock.lap("targets")
            progress.report(3, 3, "clustering")
            return result(images, features: features, options: options, outcome: outcome, darkGroup: outcome.sizes.count > options.clusterCount,
                          scaler: large.scaler, pca: nil, tails: large.tails, targets: targets, clock: clock)
        }
        let keep = LocatorRows.kept(dark: dark)  // nil: every row is clustered
        var kept = keep.map { extraction.features.selectingRows($0) } ?? extraction.features
        var tails: FittedScaler? = nil
        if options.compressTails {
            let fitted = LocatorTails.fit(kept)
            kept = LocatorTails.apply(kept, fitted)
            tails = fitted
        }
        let scaler = try options.scaler.fit(kept)
        var space = try scaler.transform(kept)
        var fittedPCA: FittedPCA? = nil
        switch options.reduction {
        case .none: break
        case .pca(let count):
            guard count <= space.columns else { throw CleaveError("--pca \(count): only \(space.columns) features to reduce") }
            fittedPCA = try PCA(components: .count(count)).fit(space)
        case .pcaFraction(let fraction):
            fittedPCA = try PCA(components: .varianceFraction(fraction)).fit(space)
        case .nmf(let count):
            space = try LocatorClustering.nmf(kept, components: count, seed: options.seed)
        }
        if let fittedPCA { space = try fittedPCA.transform(space) }
        clock.lap("scaling")
        var local = try LocatorClustering.cluster(space, options: options)
        let fitted = LocatorRows.centroidsAndScores(space, score: extraction.score.values, local: local, keep: keep,
                                                    clusterCount: options.clusterCount)
        var centroids = fitted.centroids!
        progress.report(1, 3, "clustering")
        clock.lap("clustering")

        // Canonical numbering, as in `run`: cluster 0 is the most particle-like.
        let k = options.clusterCount
        var clusterScore = fitted.scores
        let order = (0..<k).sorted { clusterScore[$0] != clusterScore[$1] ? clusterScore[$0] > clusterScore[$1] : $0 < $1 }
        var newIndex = [Int32](repeating: 0, count: k)
        for (new, old) in order.enumerated() { newIndex[old] = Int32(new) }
        LocatorRows.renumber(&local, newIndex: newIndex)
        centroids = centroids.selectingRows(order)
        clusterScore = order.map { clusterScore[$0] }

        let darkLabel: Int32? = options.excludeDark && dark.contains(true) ? Int32(k) : nil
        let labels = LocatorRows.spread(local, keep: keep, rowCount: n, fill: Int32(k))
        let sizes = LocatorRows.sizes(labels, groupCount: k + (darkLabel == nil ? 0 : 1))

        var picked = 0, pickedBy = "automatic"
        if let user = options.pick {
            guard user < k else { throw CleaveError("--pick \(user): there are only \(k) clusters (0…\(k - 1))") }
            picked = user; pickedBy = "user"
        }
        let heat = LocatorRows.spread(LocatorClustering.closeness(space, centroids: centroids, to: picked), keep: keep, rowCount: n, fill: 0)
        let pickedMask = LocatorRows.mask(labels, equalTo: picked)  // dark rows carry label k ≠ picked
        clock.lap("pick")
        var silhouette: Double? = nil
        if silhouetteSampleSize == 5_000 {
            if k >= 2 && keptCount > k { silhouette = try LocatorClustering.silhouette(space, labels: local, seed: options.seed) }
        } else if silhouetteSampleSize > 0 && k >= 2 && keptCount > k {
            let distinct = LocatorRows.distinctCount(local, bound: k)
            if distinct >= 2 && distinct < local.count {
                silhouette = try? CleaveLearning.silhouette(space, labels: local, sampleSize: min(space.rows, silhouetteSampleSize), seed: options.seed)
            }
        }
        clock.lap("silhouette")
        progress.report(2, 3, "clustering")
        let targets = findTargets ? LocatorTargets.find(pickedMask: pickedMask, heat: heat, layout: layout, images: images) : []
        clock.lap("targets")
        progress.report(3, 3, "clustering")

        let outcome = LocatorLargeRun.Outcome(labels: labels, centroids: centroids, clusterScore: clusterScore,
                                                sizes: sizes, picked: picked, pickedBy: pickedBy, heat: heat, pickedMask: pickedMask,
                                                silhouette: silhouette, silhouetteByK: [])
        return result(images, features: features, options: options, outcome: outcome, darkGroup: darkLabel != nil, scaler: scaler,
                      pca: fittedPCA, tails: tails, targets: targets, clock: clock)
    }

    /// The result of ``run(_:features:options:silhouetteSampleSize:findTargets:progress:)``.
    static func result(_ images: [LocatorImage], features: LocatorFeatures, options: LocatorOptions,
                       outcome: LocatorLargeRun.Outcome, darkGroup: Bool, scaler: FittedScaler, pca fittedPCA: FittedPCA?,
                       tails: FittedScaler?, targets: [LocatorTarget], clock: StageClock) -> LocatorResult {
        let extraction = features.extraction, k = options.clusterCount
        let signature = LocatorRows.signature(extraction.features, pickedMask: outcome.pickedMask, names: options.features.map(\.rawValue))
        let model = LocatorModel(sampling: options.sampling, features: options.features, statistics: options.statistics,
                                 scaler: scaler, pca: fittedPCA, centroids: outcome.centroids, picked: outcome.picked,
                                 pickedSignature: signature, excludeDark: options.excludeDark, darkMargin: options.darkMargin,
                                 flattenBackground: options.flattenBackground, tails: tails,
                                 normalizeTiles: options.normalizeTiles, filmLevel: features.filmLevel)
        var names = (0..<k).map { "cluster \($0)" }
        if darkGroup { names.append("dark / grid bars") }
        var particleScores = outcome.clusterScore
        if darkGroup { particleScores.append(.nan) }
        return LocatorResult(options: options, imageNames: images.map(\.name), layout: extraction.layout,
                             featureNames: options.features.map(\.rawValue), features: extraction.features,
                             labels: outcome.labels, clusterCount: k, darkGroup: darkGroup ? k : nil, picked: outcome.picked,
                             pickedBy: outcome.pickedBy, heat: outcome.heat, pickedMask: outcome.pickedMask, clusterSizes: outcome.sizes,
                             particleScores: particleScores, silhouette: outcome.silhouette, silhouetteByK: [],
                             scores: nil, truthPatchCount: 0, targets: targets, timings: clock.laps,
                             model: model, filmLevel: features.filmLevel, groupNames: names,
                             film: features.film, tileNormalization: features.tileNormalization,
                             darkExclusion: features.darkExclusion)
    }

    /// A greyscale image as Locator input (8/16-bit samples are exact as Float).
    public static func image(_ any: AnyImage, name: String) throws -> LocatorImage {
        let shape = any.shape
        guard shape.depth == 1, shape.channels == 1 else {
            throw CleaveError("\(name): the Locator needs a 2D greyscale image, got \(shape)")
        }
        return LocatorImage(name: name, image: LocatorInput.floatImage(any), integral: any.pixelType != .float32)
    }
}
