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
    /// Wall-clock seconds of the feature stages (film level, flattening, features).
    public let timings: [(stage: String, seconds: Double)]
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
    /// Computes the features of a Locator run (see ``LocatorFeatures``): film level, per-tile
    /// normalisation, flattening, patch or window statistics.
    /// - Parameters:
    ///   - model: a saved model whose settings and film level apply (``LocatorOptions/applying(_:)``).
    /// - Throws: ``LocatorError`` or ``LocatorOptionError`` for settings that do not fit the images.
    /// - Complexity: O(pixels) for the film level, tile gains and flattening; the statistics O(pixels)
    ///   each (the gradient ones O(pixels · σ), a GLCM adds O(levels²) per patch); sliding-window moments
    ///   O(pixels) whatever the window size. Parallel over images or rows.
    public static func features(_ inputImages: [LocatorImage], options inputOptions: LocatorOptions, model: LocatorModel? = nil,
                                progress: CleaveCore.Progress = .silent) throws -> LocatorFeatures {
        let requested = inputOptions.applying(model)
        var options = requested
        try options.validate()
        guard !inputImages.isEmpty else { throw LocatorError.noImages(reason: "no images") }
        var clock = StageClock()
        // Film level, per-tile normalisation and thresholds.
        var levels = measureLevels(inputImages, options: options, modelReference: model?.filmLevel)
        let images = levels.images
        let filmLevel = levels.filmLevel
        let darkExclusion = options.resolveDarkExclusion(film: levels.film)
        options.statistics.darkThreshold = PatchStatistics.darkThreshold(filmLevel: filmLevel)
        let blackThreshold = blackFractionOfFilm * filmLevel
        clock.lap("film level")
        // Background flattening (statistics see the flattened image; black fractions the raw one).
        var measured = images
        if options.flattenBackground {
            measured = LocatorBackground.flatten(images, cell: try patchSide(options.sampling, images: images),
                                                 blackThreshold: blackThreshold)
            clock.lap("flatten")
        }
        let extraction = try extractFeatures(measured, raw: images, options: options, blackThreshold: blackThreshold,
                                             progress: progress)
        clock.lap("features")
        levels.images = []  // the cache keeps the features, not a second copy of the pixels
        var resolved = requested
        resolved.excludeDark = options.excludeDark  // as decided on these images
        return LocatorFeatures(options: resolved, extraction: extraction, levels: levels, darkExclusion: darkExclusion,
                               timings: clock.laps)
    }

    /// Clusters the features of a run: the one clustering half of every Locator run (the CLI's
    /// ``run(_:options:model:truth:progress:)``, the workbench's re-clustering on cached
    /// features, saved models).
    ///
    /// Dark group (two-step mode) ─▶ scale (tails, scaler, PCA/NMF) ─▶ cluster (k-means,
    /// agglomerative; a model's warm start) ─▶ canonical numbering ─▶ pick and heat
    /// (user, automatic, model, similarity) ─▶ silhouettes ─▶ truth scores ─▶ targets ─▶ model.
    /// - Parameters:
    ///   - features: from ``features(_:options:model:progress:)`` with the same options (and model).
    ///   - model: a saved model to apply instead of fitting (its scaling, centres and pick win).
    ///   - truth: hand labels to score against (grid layouts).
    ///   - silhouetteSampleSize: rows the silhouettes (the run's and the `kRange` table's) are
    ///     estimated on; 0 skips them. They cost O(sample² × features): the workbench uses 1 000.
    ///   - findTargets: rank connected picked regions (``LocatorResult/targets``); an interactive
    ///     client that draws the label map does not need them.
    /// - Throws: ``LocatorError`` or ``LocatorOptionError`` when `features` were computed with other sampling/feature
    ///   settings, or for settings that do not fit the data (k larger than the patch count, a
    ///   similarity reference that does not exist, …).
    /// - Complexity: k-means O(restarts × iterations × patches × k × columns) (fitted on at most
    ///   100 000 rows, then every row assigned); agglomerative O(patches²) time and memory; silhouettes
    ///   O(silhouetteSampleSize² × columns) each, once more per k of ``LocatorOptions/kRange``;
    ///   targets O(patches).
    public static func run(_ images: [LocatorImage], features: LocatorFeatures, options inputOptions: LocatorOptions,
                           model: LocatorModel? = nil, truth: LocatorTruth? = nil, silhouetteSampleSize: Int = 5_000,
                           findTargets: Bool = true, progress: CleaveCore.Progress = .silent) throws -> LocatorResult {
        var options = inputOptions.applying(model)
        try options.validate()
        guard features.fits(options) else {
            throw LocatorError.unusableFeatures(reason: "cached features were computed for \(features.options.sampling) / \(features.options.features.map(\.rawValue)), not \(options.sampling) / \(options.features.map(\.rawValue))")
        }
        let darkExclusion = features.darkExclusion
        options.resolveDarkExclusion(film: features.film)
        options.statistics.darkThreshold = PatchStatistics.darkThreshold(filmLevel: features.filmLevel)
        var clock = StageClock()
        clock.laps = features.timings
        let extraction = features.extraction
        let layout = extraction.layout
        let n = layout.count

        // Two-step mode: dark patches first.
        var dark: [Bool] = []  // no dark rows unless --exclude-dark finds some
        if options.excludeDark {
            dark = try findDark(extraction, margin: options.darkMargin, seed: options.seed)
            clock.lap("dark patches")
        }
        let keptCount = n - LocatorRows.count(dark)
        guard keptCount > 0 else { throw Self.everyPatchIsDark(automatic: darkExclusion == "automatic") }
        guard options.clusterCount <= keptCount else {
            throw LocatorOptionError(field: "clusterCount", value: String(options.clusterCount), reason: "more than the \(keptCount) patches to cluster; use fewer clusters or smaller patches")
        }

        // Scale and transform.
        progress.report(0, 3, "clustering")
        if try LocatorLargeRun.applies(keptRows: keptCount, options: options, model: model) {
            // Millions of windows: neither the scaled table nor a copy of the kept rows is built (see ``LocatorLargeRun``).
            clock.lap("scaling")
            let large = try LocatorLargeRun.cluster(extraction, dark: dark, options: options, silhouetteSampleSize: silhouetteSampleSize)
            clock.lap("clustering")
            progress.report(2, 3, "clustering")
            return try finish(images, features: features, options: options, outcome: large.outcome,
                              darkGroup: large.outcome.sizes.count > options.clusterCount, scaler: large.scaler, tails: large.tails,
                              truth: truth, findTargets: findTargets, darkExclusion: darkExclusion, clock: &clock, progress: progress)
        }
        let keep = LocatorRows.kept(dark: dark)  // nil: every row is clustered
        var kept = keep.map { extraction.features.selectingRows($0) } ?? extraction.features
        var tails: FittedScaler? = nil
        if options.compressTails {
            let fitted = model?.tails ?? LocatorTails.fit(kept)
            kept = LocatorTails.apply(kept, fitted)
            tails = fitted
        }
        let scaler = try model?.scaler ?? options.scaler.fit(kept)
        var space = try scaler.transform(kept)
        let classifier = model?.classifier
        // A model learned from picks classifies the scaled statistics (before PCA) directly.
        let classified = classifier.map { $0.classify(space) }
        var fittedPCA: FittedPCA? = model?.pca
        if model == nil {
            switch options.reduction {
            case .none: break
            case .pca(let count):
                guard count <= space.columns else {
                    throw LocatorOptionError(field: "reduce", value: "pca:\(count)", reason: "only \(space.columns) features to reduce")
                }
                fittedPCA = try PCA(components: .count(count)).fit(space)
            case .pcaFraction(let fraction):
                fittedPCA = try PCA(components: .varianceFraction(fraction)).fit(space)
            case .nmf(let count):
                space = try LocatorClustering.nmf(kept, components: count, seed: options.seed)
            }
        }
        if let fittedPCA { space = try fittedPCA.transform(space) }
        clock.lap("scaling")

        // Cluster.
        var local: [Int32]
        var centroids: Matrix
        let k = options.clusterCount
        var clusterScore: [Double]
        if let model, let classified {
            local = classified.labels
            // Centres of the classes in this run's space; a class without patches keeps the model's centre.
            centroids = LocatorClustering.centroids(space, labels: local, clusterCount: k)
            let sizes = LocatorRows.sizes(local, groupCount: k)
            for c in 0..<k where sizes[c] == 0 {
                for j in 0..<centroids.columns { centroids[c, j] = model.centroids[c, j] }
            }
            clusterScore = LocatorRows.clusterMeans(of: extraction.score.values, local: local, keep: keep, clusterCount: k)
        } else if let model {
            let fitted = try KMeans(clusterCount: model.centroids.rows, restarts: 1, seed: options.seed)
                .fitAssign(space, initialCentroids: model.centroids)
            local = fitted.labels
            centroids = fitted.model.centroids
            clusterScore = LocatorRows.clusterMeans(of: extraction.score.values, local: local, keep: keep, clusterCount: k)
        } else {
            local = try LocatorClustering.cluster(space, options: options)
            let fitted = LocatorRows.centroidsAndScores(space, score: extraction.score.values, local: local, keep: keep, clusterCount: k)
            centroids = fitted.centroids!
            clusterScore = fitted.scores
        }
        progress.report(1, 3, "clustering")
        clock.lap("clustering")

        // Canonical numbering: clusters by decreasing particle score (cluster 0 = most particle-like).
        if model == nil {
            let order = (0..<k).sorted { clusterScore[$0] != clusterScore[$1] ? clusterScore[$0] > clusterScore[$1] : $0 < $1 }
            var newIndex = [Int32](repeating: 0, count: k)
            for (new, old) in order.enumerated() { newIndex[old] = Int32(new) }
            LocatorRows.renumber(&local, newIndex: newIndex)
            centroids = centroids.selectingRows(order)
            clusterScore = order.map { clusterScore[$0] }
        }

        // Labels for all patches.
        let darkLabel: Int32? = options.excludeDark && dark.contains(true) ? Int32(k) : nil
        let labels = LocatorRows.spread(local, keep: keep, rowCount: n, fill: Int32(k))
        let sizes = LocatorRows.sizes(labels, groupCount: k + (darkLabel == nil ? 0 : 1))

        // Pick and heat.
        var picked: Int
        var pickedBy: String
        var heat: [Float]
        var pickedMask: [Bool]
        if let reference = options.similarTo {
            let refIndex = try referenceIndex(reference, images: images, layout: layout)
            guard let refRow = keep.map({ $0.firstIndex(of: refIndex) }) ?? refIndex else {
                throw LocatorOptionError(field: "similarTo", value: reference.description, reason: "a dark (excluded) patch; pick a film patch")
            }
            let similarity = LocatorClustering.cosineToRow(space, row: refRow)
            heat = LocatorRows.spread(similarity.map { max(0, $0) }, keep: keep, rowCount: n, fill: 0)
            pickedMask = LocatorRows.spread(similarity.map { Double($0) >= options.similarityThreshold }, keep: keep, rowCount: n, fill: false)
            picked = Int(local[refRow])
            pickedBy = "similarity"
        } else {
            if let model { picked = model.picked; pickedBy = classifier == nil ? "model" : "classifier" }
            else if let user = options.pick {
                guard user < k else { throw LocatorOptionError(field: "pick", value: String(user), reason: "there are only \(k) clusters (0…\(k - 1))") }
                picked = user; pickedBy = "user"
            } else {
                picked = 0; pickedBy = "automatic"  // canonical order puts the most particle-like first
            }
            if let classifier, let classified {
                // Heat: the probability of the picked clusters; picked: the patches they are the most probable class of.
                heat = LocatorRows.spread(classified.pickedProbability, keep: keep, rowCount: n, fill: 0)
                let chosen = Set(classifier.picked)
                pickedMask = labels.map { chosen.contains($0) }  // dark rows carry label k, never a class
            } else {
                heat = LocatorRows.spread(LocatorClustering.closeness(space, centroids: centroids, to: picked), keep: keep, rowCount: n, fill: 0)
                pickedMask = LocatorRows.mask(labels, equalTo: picked)  // dark rows carry label k ≠ picked
            }
        }
        clock.lap("pick")

        // Silhouettes.
        var silhouette: Double? = nil
        var silhouetteByK: [(k: Int, score: Double)] = []
        if silhouetteSampleSize > 0 && k >= 2 && keptCount > k {
            silhouette = LocatorClustering.silhouette(space, labels: local, sampleSize: silhouetteSampleSize, seed: options.seed)
        }
        if let range = options.kRange, silhouetteSampleSize > 0 {
            for candidate in range where candidate < keptCount {
                var o = options; o.clusterCount = candidate
                let l = try LocatorClustering.cluster(space, options: o)
                if let score = LocatorClustering.silhouette(space, labels: l, sampleSize: silhouetteSampleSize, seed: options.seed) {
                    silhouetteByK.append((candidate, score))
                }
            }
            clock.lap("silhouette table")
        }
        progress.report(2, 3, "clustering")

        let outcome = LocatorLargeRun.Outcome(labels: labels, centroids: centroids, clusterScore: clusterScore,
                                                sizes: sizes, picked: picked, pickedBy: pickedBy, heat: heat, pickedMask: pickedMask,
                                                silhouette: silhouette, silhouetteByK: silhouetteByK)
        var result = try finish(images, features: features, options: options, outcome: outcome, darkGroup: darkLabel != nil,
                                scaler: scaler, pca: fittedPCA, tails: tails, truth: truth, findTargets: findTargets,
                                darkExclusion: darkExclusion, clock: &clock, progress: progress)
        result.model.classifier = classifier  // a classifier run's model classifies the next grid too
        return result
    }

    /// The end of a run: truth scores, targets, the saved model, the result.
    static func finish(_ images: [LocatorImage], features: LocatorFeatures, options: LocatorOptions, outcome: LocatorLargeRun.Outcome,
                       darkGroup: Bool, scaler: FittedScaler, pca fittedPCA: FittedPCA? = nil, tails: FittedScaler?,
                       truth: LocatorTruth?, findTargets: Bool, darkExclusion: String, clock: inout StageClock,
                       progress: CleaveCore.Progress) throws -> LocatorResult {
        let extraction = features.extraction, layout = extraction.layout, k = options.clusterCount
        let labels = outcome.labels
        var pickedMask = outcome.pickedMask
        // Line check: thin dark lines (fibres) outside the picked cluster join the pick.
        var lineCheck: LocatorLineCheck? = nil
        if options.lineCheck {
            if outcome.pickedBy == "automatic" || outcome.pickedBy == "model" || outcome.pickedBy == "classifier" {
                lineCheck = LocatorLines.check(images, layout: layout, labels: labels, clusterCount: k, picked: outcome.picked,
                                               pickedMask: &pickedMask)
            } else {
                lineCheck = .skipped("the pick was made by \(outcome.pickedBy == "user" ? "the user" : outcome.pickedBy)")
            }
            clock.lap("line check")
        }
        // Truth scores.
        var scores: ClusteringScores? = nil
        var truthCount = 0
        if let truth {
            let matched = try truth.match(imageNames: images.map(\.name), layout: layout)
            truthCount = matched.count
            scores = ClusteringScores(truth: matched.map(\.classIndex), predicted: matched.map { Int(labels[$0.patch]) })
            clock.lap("scores")
        }

        // Targets.
        let targets = findTargets ? LocatorTargets.find(pickedMask: pickedMask, heat: outcome.heat, layout: layout, images: images) : []
        clock.lap("targets")
        progress.report(3, 3, "clustering")

        // Model.
        let signature = LocatorRows.signature(extraction.features, pickedMask: outcome.pickedMask, names: options.features.map(\.rawValue))
        let savedModel = LocatorModel(sampling: options.sampling, features: options.features, statistics: options.statistics,
                                      scaler: scaler, pca: fittedPCA, centroids: outcome.centroids, picked: outcome.picked,
                                      pickedSignature: signature, excludeDark: options.excludeDark, darkMargin: options.darkMargin,
                                      flattenBackground: options.flattenBackground, tails: tails,
                                      normalizeTiles: options.normalizeTiles, filmLevel: features.filmLevel)
        var names = (0..<k).map { "cluster \($0)" }
        if darkGroup { names.append("dark / grid bars") }
        var particleScores = outcome.clusterScore
        if darkGroup { particleScores.append(.nan) }
        return LocatorResult(options: options, imageNames: images.map(\.name), layout: layout,
                             featureNames: options.features.map(\.rawValue), features: extraction.features,
                             labels: labels, clusterCount: k, darkGroup: darkGroup ? k : nil, picked: outcome.picked,
                             pickedBy: outcome.pickedBy, heat: outcome.heat, pickedMask: pickedMask, clusterSizes: outcome.sizes,
                             particleScores: particleScores, silhouette: outcome.silhouette, silhouetteByK: outcome.silhouetteByK,
                             scores: scores, truthPatchCount: truthCount, targets: targets, timings: clock.laps,
                             model: savedModel, filmLevel: features.filmLevel, groupNames: names, barEdgePixels: extraction.barEdges,
                             film: features.film, tileNormalization: features.tileNormalization, darkExclusion: darkExclusion,
                             lineCheck: lineCheck)
    }

    /// A greyscale image as Locator input (8/16-bit samples are exact as Float).
    public static func image(_ any: AnyImage, name: String) throws -> LocatorImage {
        let shape = any.shape
        guard shape.depth == 1, shape.channels == 1 else {
            throw LocatorError.unusableInput(source: name, reason: "the Locator needs a 2D greyscale image, got \(shape)")
        }
        return LocatorImage(name: name, image: LocatorInput.floatImage(any), integral: any.pixelType != .float32)
    }
}
