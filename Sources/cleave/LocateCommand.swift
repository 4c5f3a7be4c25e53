import ArgumentParser
import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveLearning
import CleavePipelines
import Foundation

struct LocateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locate",
        abstract: "Find particles (micro-crystals) in TEM tile sets by clustering patch statistics.",
        discussion: """
        How it works: every image is cut into patches (a grid, a fixed patch size, or a window \
        around every pixel); each patch is described by grey-value statistics; the statistics are \
        scaled and clustered without labels; one cluster is picked as "particles"; its connected \
        patches become a ranked target list.

        Inputs: image files (TIFF, PNG, MRC; 8/16-bit or float) or folders. Tiles named \
        Tile_ROW-COL… (1-based, like microscope mapping exports) are placed in the mosaic by name; \
        otherwise use --mosaic ROWSxCOLS (row-major in the given order). All tiles of a run \
        have one size: a tile of another size than most is skipped with a warning.

        SerialEM montages: give one MRC file with its .mdoc beside it (montage.mrc + \
        montage.mrc.mdoc). Each section is a tile placed by its PieceCoordinates; sections \
        without metadata and blank or black pieces are skipped with a warning. The targets are also \
        written in stage coordinates: targets.nav (a SerialEM Navigator file, one point per \
        target, Acquire off) and targets-stage.csv. stage = the piece's StagePosition + (pixel \
        − piece centre) × PixelSpacing, with image x along +stage X and the MRC's stored rows \
        along +stage Y; SerialEM's stage-to-camera matrix is not in the .mdoc and is not \
        applied (nor is RotationAngle), so check the sign on your microscope. A target on the \
        overlap of two pieces is written once.

        Features (--features, comma-separated names or groups; default "defaults"):
          study      std,relstd,mean,skewness,kurtosis,mode (the original study's six)
          intensity  mean,std,relstd,skewness,kurtosis,mode,min,max,range,median,
                     p1,p5,p25,p75,p95,p99,iqr,lowtail,uptail,darkfraction
          gradient   gradmean,gradstd,gradp95 (Gaussian gradient, --gradient-sigma)
          texture    glcm_contrast,glcm_homogeneity,glcm_energy,
                     glcm_correlation,glcm_entropy
          defaults   intensity + gradient
        Why these defaults: order statistics and edge strength describe dark particles \
        on film more robustly than six moments; GLCM texture is quantised per patch, so \
        it is blind to darkness, hence opt-in. darkfraction counts pixels darker than \
        0.8 × the film level. With --window only \
        mean,std,relstd,skewness,kurtosis exist (default: the four moments).

        Choosing k (--clusters, default 3): 3 separates "maybe" patches from clear film and clear \
        particles; 2 suits very distinct particles on even film; 4 when black regions are present \
        (or use --exclude-dark). --k-range 2-6 prints a silhouette table to help.

        Sparse, faint particles (low magnification, film the majority of patches): add \
        --compress-tails --clusters 2. Each feature is then measured in film widths \
        (median, IQR) and compressed with asinh, so a faint blob and a dark flake are \
        comparable distances from the film and land in one cluster (synthetic F1 0.90–0.98 \
        instead of 0.76–0.81). --flatten divides out uneven illumination first. Both are \
        off by default: with 3 clusters on large crystals they lowered the agreement with \
        hand labels.

        Thin lines (fibres): a fibre a few pixels wide barely moves a patch's percentiles, so \
        after the automatic pick each unpicked grid patch of at least 82 px gets a line strength \
        (Hessian ridge filter at σ 3 px on the patch alone, 99.9th percentile / patch median). The largest \
        unpicked cluster is taken as film; patches beyond its far-out fence (Q3 + 3 IQR, Tukey) \
        join the pick (clusters unchanged). The run prints the fence and how many joined \
        (summary.json line_check); --no-line-check turns it off. Asbestos fibres (4x4 grid): \
        fibre-patch F1 0.78 → 0.95; synthetic particle F1 0.77–0.94 → 0.90–1.0.

        Film level: the grey value of bare film, which the dark thresholds refer to. The \
        subsample's histogram is split in two (Otsu); when the darker population is black \
        (median below half the brighter one's: grid bars, no beam; ≥ 1 % of the pixels; the \
        split explains ≥ 50 % of the variance), the film level is the median of the bright population, whatever \
        share of the field the bars cover; otherwise the median of all pixels. The run prints \
        which, and summary.json records it (film_level_method, film_level_bimodal). Each \
        tile is then scaled so that its own film level (same method) lands on the set's, so \
        exposure differences between tiles do not become clusters (--no-normalize-tiles: off; \
        an all-black tile keeps its grey values; gains in summary.json and the saved model).

        Dark regions: two-step mode is on when the film level check finds a black population \
        (or with --exclude-dark; --no-exclude-dark keeps it off). It first groups patches by their fraction of black pixels \
        (below half the film level) with 2-means; the black group and the patches within \
        --dark-margin of it that still hold black pixels get their own group ("dark / grid \
        bars") and the rest is clustered. Sliding windows instead leave the pixels of the \
        border-touching black regions (bars, black tile areas) out of their statistics, so a \
        window at a bar's edge describes the film or particle it shows; windows more than half \
        bar form the dark group (--dark-margin does not apply).

        Picking: clusters are numbered by decreasing particle score (how far the darkest 1 % of a \
        patch reach below its median, relative to it; for windows: std/mean), so cluster 0 is the \
        automatic pick. Override with --pick N, or reuse a session: --save-model m.json on one \
        set, --model m.json on the next.

        Learning from picks: --save-model also trains a random forest (100 trees) on this \
        run's scaled patch statistics, with the clusters as classes and your pick (--pick N, \
        --pick-name NAME to call it something) as the class of interest. --model m.json then \
        classifies the new grid's patches directly: each patch gets its most probable cluster, \
        the picked ones are those whose most probable cluster is the pick, and the heat column \
        of patches.csv is the probability of the picked cluster. A grid without particles then \
        gets no picked patches, where re-clustering always makes a "particle" cluster. The \
        run says which route it took ("picked (classifier)" or "picked (model)"; \
        summary.json: picked_by, model.route). --no-classifier saves a model without the \
        forest, or applies a saved model's centroids instead (clusters start from the saved \
        centres, the pick is kept) — the route of models saved before version 3.
        --similar-to IMAGE:ROW:COL gives a continuous heat (cosine similarity to that patch).

        Outputs in --out: <tile>_overlay.png and mosaic_overlay.png (cluster colours, picked \
        patches outlined in white, legend; stored uncompressed unless --picture-compression \
        says otherwise; with one tile mosaic_overlay.png is that tile's picture), <tile>_clusters.tif (1 + cluster per pixel), \
        <tile>_picked.tif (255 = picked), patches.csv, targets.csv/json (ranked regions with \
        centroids in pixels and physical units), summary.json (parameters, cluster sizes, \
        silhouette, timings, scores with --truth); for montages also targets.nav and \
        targets-stage.csv.

        Examples:
          cleave locate tiles/ --out result --grid 8x8
          cleave locate tiles/ --out result --grid 4x4 --features study --truth labels.csv
          cleave locate tiles/ --out result --grid 10x10 --exclude-dark --save-model model.json
          cleave locate new-tiles/ --out result2 --model model.json
          cleave locate big.tif --out result --window 31 --stride 4
        """)

    @Argument(help: "Image files or folders of images.")
    var inputs: [String]

    @Option(name: .long, help: "Output folder (created if needed).")
    var out: String

    @Option(name: .long, help: ArgumentHelp("Patch grid per image, ROWSxCOLS (default 8x8).", valueName: "RxC"))
    var grid: String?

    @Option(name: .customLong("patch-size"), help: "Square patches of N pixels instead of a grid (the right/bottom remainder is not used).")
    var patchSize: Int?

    @Option(name: .long, help: "Sliding window of N pixels (odd) around every --stride-th pixel.")
    var window: Int?

    @Option(name: .long, help: "Step between sliding windows, in pixels.")
    var stride: Int = LocatorSettings.Defaults.windowStride

    @Option(name: .long, help: ArgumentHelp("Tile layout when names do not say it, ROWSxCOLS.", valueName: "RxC"))
    var mosaic: String?

    @Option(name: .long, help: "Comma-separated feature names or groups (see above).")
    var features: String?

    @Option(name: .long, help: "Feature scaling: zscore (default), minmax or robust (median/IQR).")
    var scaler: String = "zscore"

    @Option(name: .long, help: "PCA before clustering: a component count (e.g. 3) or a variance fraction (e.g. 0.95).")
    var pca: String?

    @Option(name: .long, help: "NMF with N components before clustering (on min-max scaled features).")
    var nmf: Int?

    @Option(name: .customLong("cluster-method"), help: "Clustering: kmeans (default) or agglomerative (as cleave objects --cluster-method; was --method, accepted until Cleave 0.2).")
    var method: LocatorOptions.Method = .kmeans

    @Option(name: .long, help: "Agglomerative linkage: ward, complete, average, single.")
    var linkage: LocatorOptions.Linkage = .ward

    @Option(name: .long, help: "Agglomerative distance: euclidean, cosine, manhattan.")
    var metric: LocatorOptions.Metric = .euclidean

    @Option(name: .long, help: "Number of clusters k.")
    var clusters: Int = LocatorSettings.Defaults.clusterCount

    @Option(name: .long, help: "Random seed (k-means++ and sampling); same seed, same result.")
    var seed: UInt64 = 0

    @Flag(name: .customLong("exclude-dark"), inversion: .prefixedNo,
          help: "Two-step mode: put black and partly black patches (grid bars) in their own group, cluster the rest (default: on when the film level check finds a black population).")
    var excludeDark: Bool?

    @Option(name: .customLong("dark-margin"), help: "Reach around dark grid patches within which patches holding any black pixel are also excluded (grid layouts; windows measure the film only instead).")
    var darkMargin: Int = LocatorSettings.Defaults.darkMargin

    @Option(name: .long, help: "The cluster of interest, as numbered in the legend (default: automatic).")
    var pick: Int?

    @Option(name: .customLong("similar-to"), help: ArgumentHelp("Similarity mode: heat = cosine similarity to this patch.", valueName: "IMAGE:ROW:COL"))
    var similarTo: String?

    @Option(name: .customLong("similarity-threshold"), help: "Similarity at or above which patches are picked.")
    var similarityThreshold: Double = LocatorSettings.Defaults.similarityThreshold

    @Option(name: .customLong("k-range"), help: ArgumentHelp("Silhouette table over k, e.g. 2-6.", valueName: "A-B"))
    var kRange: String?

    @Option(name: .long, help: "Apply a saved model (features, scaling, cluster centres, pick) instead of fitting anew.")
    var model: String?

    @Option(name: .customLong("save-model"), help: "Save this run's model (JSON) for --model: scaling, centroids, the pick and a random forest learned from the picked clusters.")
    var saveModel: String?

    @Flag(name: .customLong("no-classifier"),
          help: "With --save-model: leave the pick classifier out of the model. With --model: use the model's centroids (re-cluster from them) instead of its classifier.")
    var noClassifier = false

    @Option(name: .customLong("pick-name"), help: ArgumentHelp("A name for the picked cluster, stored in the saved model (e.g. crystal).", valueName: "NAME"))
    var pickName: String?

    @Option(name: .long, help: "Patch labels CSV (image,grid_rows,grid_cols,row,col,class) to score the clustering.")
    var truth: String?

    @Option(name: .long, help: "Colour opacity of the overlays, 0…1.")
    var opacity: Double = 0.4

    @Option(name: .customLong("gradient-sigma"), help: "Gaussian sigma of the gradient features, in pixels.")
    var gradientSigma: Double = LocatorSettings.Defaults.gradientSigma

    @Option(name: .customLong("glcm-distance"), help: "GLCM pixel-pair distance.")
    var glcmDistance: Int = LocatorSettings.Defaults.glcmDistance

    @Option(name: .customLong("glcm-levels"), help: "GLCM grey levels.")
    var glcmLevels: Int = LocatorSettings.Defaults.glcmLevels

    @Flag(name: .customLong("flatten"), inversion: .prefixedNo,
          help: "Divide out slow background variations (illumination, film thickness) before the statistics (default off; it helps uneven illumination but lowered the ARI on large crystals).")
    var flatten = false

    @Flag(name: .customLong("compress-tails"), inversion: .prefixedNo,
          help: "Measure features in film widths (median, IQR) and compress the tails with asinh before scaling (default off). Use with --clusters 2 for sparse, faint particles on film: faint and strong particles then end up in one cluster.")
    var compressTails = false

    @Flag(name: .customLong("line-check"), inversion: .prefixedNo,
          help: "After the automatic pick on grid patches, add unpicked patches holding a thin dark line (fibre) beyond the film cluster's far-out fence (default on; clusters unchanged).")
    var lineCheck = true

    @Flag(name: .customLong("normalize-tiles"), inversion: .prefixedNo,
          help: "Scale each tile so that its own film level lands on the set's before the statistics (default on).")
    var normalizeTiles = true

    @Flag(name: .customLong("no-pictures"), help: "Skip the overlay PNGs (faster; label TIFFs and tables are still written).")
    var noPictures = false

    @Option(name: .customLong("picture-compression"),
            help: "zlib level of the overlay PNGs: 0 = stored (default: the fastest, files as large as the RGB pixels, e.g. 3 MB per 1000² tile), 1-9 = compressed with row filters (about half the size for TEM tiles; each picture takes 10-20x longer to write).")
    var pictureCompression = 0

    @Flag(name: .customLong("patch-table"), help: "Write patches.csv also in window mode (can be huge).")
    var patchTable = false

    @OptionGroup var memory: MemoryBudgetOption

    static func parsePair(_ text: String, option: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, b >= 1 else {
            throw ValidationError("\(option) \(text): expected ROWSxCOLS with positive numbers, e.g. 4x4")
        }
        return (a, b)
    }

    /// The command line as ``LocatorSettings``, the type the workbench fills in too; its
    /// ``LocatorSettings/options()`` checks every value the same way for both.
    func settings() throws -> LocatorSettings {
        var s = LocatorSettings()
        let modes = [grid != nil, patchSize != nil, window != nil].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("give only one of --grid, --patch-size and --window") }
        if let grid { let (r, c) = try Self.parsePair(grid, option: "--grid"); s.gridRows = r; s.gridColumns = c }
        s.patchSize = patchSize
        if let window { s.mode = "window"; s.windowSize = window; s.windowStride = stride }
        s.features = features.map { [$0] }
        s.scaler = scaler
        if pca != nil && nmf != nil { throw ValidationError("give --pca or --nmf, not both") }
        if let pca {
            guard Int(pca) != nil || Double(pca) != nil else {
                throw ValidationError("--pca \(pca): expected a component count (3) or a variance fraction (0.95)")
            }
            s.reduce = "pca:" + pca
        }
        if let nmf { s.reduce = "nmf:\(nmf)" }
        s.algorithm = method.rawValue; s.linkage = linkage.rawValue; s.metric = metric.rawValue
        s.clusterCount = clusters; s.seed = seed
        s.excludeDark = excludeDark; s.darkMargin = darkMargin; s.pick = pick
        s.similarTo = similarTo; s.similarityThreshold = similarityThreshold; s.kRange = kRange
        s.gradientSigma = gradientSigma; s.glcmDistance = glcmDistance; s.glcmLevels = glcmLevels
        s.flatten = flatten; s.compressTails = compressTails; s.normalizeTiles = normalizeTiles; s.lineCheck = lineCheck
        return s
    }

    func makeOptions() throws -> LocatorOptions {
        guard (0...9).contains(pictureCompression) else {
            throw ValidationError("--picture-compression \(pictureCompression): use a zlib level from 0 (stored, fastest) to 9 (smallest)")
        }
        guard opacity >= 0 && opacity <= 1 else { throw ValidationError("--opacity \(opacity): must be between 0 and 1") }
        do { return try settings().options() } catch let error as LocatorOptionError {
            throw ValidationError(CommandLineNames.message(for: error, command: "locate"))
        }
    }

    func run() throws {
        let options = try makeOptions()
        if let pickName, !(1...100).contains(pickName.count) { throw ValidationError("--pick-name: 1 to 100 characters, got \(pickName.count)") }
        // A saved model is checked before any image is read: a damaged file costs nothing.
        let loadedModel = try model.map { try LocatorModel.load($0) }
        LargeArray.reuseFreedBuffers()  // every tile allocates the same buffers again
        let progress = ProgressBar.make()
        let started = DispatchTime.now().uptimeNanoseconds
        let mosaicLayout = try mosaic.map { try Self.parsePair($0, option: "--mosaic") }
        // A SerialEM montage (one MRC file with its .mdoc beside it): one tile per section, placed by PieceCoordinates.
        let montagePath = LocatorMontage.detect(inputs)
        if montagePath != nil && mosaic != nil {
            throw CleaveError("--mosaic: a SerialEM montage places its pieces by the .mdoc's PieceCoordinates; leave --mosaic out")
        }
        memory.apply()
        let files = try montagePath.map { [$0] } ?? LocatorInput.expand(inputs)
        let sizes = try files.map { path -> MemoryEstimate.Size in
            do { return MemoryEstimate.Size(try ImageFile.info(path)) } catch { throw CleaveError("\(path): cannot read image: \(error)") }
        }
        let megapixels = Double(sizes.reduce(0) { $0 + $1.sampleCount }) / 1e6
        try MemoryEstimate.check(MemoryEstimate.locate(sizes),
                                 for: files.count == 1 ? "locate on \(files[0]) (\(sizes[0]))" : "locate on \(files.count) images (\(String(format: "%.0f", megapixels)) megapixels)")
        let montage = try montagePath.map { try LocatorMontage.load(mrcPath: $0, progress: progress) }
        for warning in montage?.warnings ?? [] { FileHandle.standardError.write(Data(("warning: " + warning + "\n").utf8)) }
        let images = try montage?.images
            ?? LocatorInput.load(inputs, mosaic: mosaicLayout.map { (rows: $0.0, columns: $0.1) }, progress: progress,
                                 warning: { FileHandle.standardError.write(Data(("warning: " + $0 + "\n").utf8)) })
        let loaded = DispatchTime.now().uptimeNanoseconds
        let savedModel = noClassifier ? loadedModel?.withoutClassifier : loadedModel
        let labels = try truth.map { try LocatorTruth.load($0) }
        let result = try Locator.run(images, options: options, model: savedModel, truth: labels, progress: progress)
        // The model to save, learned before any output is written (a refusal leaves nothing behind).
        let learned = try saveModel.map { _ in try modelToSave(result) }
        let computed = DispatchTime.now().uptimeNanoseconds
        let stage = montage.map { $0.stageTargets(result) }
        var extra: [String: Any] = ["inputs": inputs, "read_seconds": Double(loaded - started) / 1e9,
                                    "run_seconds": Double(computed - loaded) / 1e9]
        if let montage, let stage { extra["serialem"] = montage.summary(targets: stage.targets, duplicates: stage.duplicates) }
        if let model, let savedModel {
            var entry: [String: Any] = ["path": model, "route": savedModel.classifier == nil ? "centroids" : "classifier",
                                        "has_classifier": loadedModel?.classifier != nil]
            if let c = savedModel.classifier {
                entry["classifier_training_patches"] = c.trainingPatches
                entry["heat"] = "probability of the picked cluster"
            }
            extra["model"] = entry
        }
        try LocatorOutput.write(result, images: images, to: out, style: .init(opacity: opacity, pictures: !noPictures, pictureCompression: pictureCompression), writePatchTable: patchTable ? true : nil,
                                extraSummary: extra, progress: progress)
        if let montage, let stage {
            try montage.write(stage.targets, to: out)
            print("SerialEM: \(stage.targets.count) targets in stage coordinates → \(out)/targets.nav, \(out)/targets-stage.csv"
                  + (stage.duplicates > 0 ? " (\(stage.duplicates) found twice on overlapping pieces, kept once)" : ""))
            print("  assumed: " + LocatorMontage.stageConvention)
        }
        if let saveModel, let learned {
            try learned.model.save(saveModel)
            print("model → \(saveModel): " + learned.note)
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report(result, total: total)
    }

    /// This run's model for --save-model: with a classifier learned from the pick unless
    /// --no-classifier, or when the run cannot teach one (a similarity run, one cluster).
    func modelToSave(_ result: LocatorResult) throws -> (model: LocatorModel, note: String) {
        if noClassifier { return (result.model.withoutClassifier, "centroids only (--no-classifier)") }
        guard result.pickedBy != "similarity", result.clusterCount >= 2 else {
            return (result.model.withoutClassifier,
                    "centroids only (" + (result.pickedBy == "similarity" ? "a similarity run has no picked cluster" : "one cluster") + " to learn a classifier from)")
        }
        let model = try Locator.learnPicks(result, name: pickName)
        let c = model.classifier!
        var note = "centroids + pick classifier (random forest, \(c.forest.treeCount) trees, trained on \(c.trainingPatches) patches"
        if let oob = c.forest.outOfBagAccuracy { note += String(format: ", out-of-bag accuracy %.3f", oob) }
        return (model, note + ")")
    }

    func report(_ result: LocatorResult, total: Double) {
        print("\(result.imageNames.count) images, \(result.layout.count) patches (\(result.options.sampling)), \(result.featureNames.count) features")
        if let model {
            print(result.pickedBy == "classifier"
                  ? "model \(model): classified by its pick classifier (random forest; heat = probability of the picked cluster; --no-classifier re-clusters from its centroids)"
                  : "model \(model): clustered from its centroids" + (noClassifier ? " (--no-classifier)" : " (the model has no pick classifier)"))
        }
        if let film = result.film { print("film level " + film.description) }
        switch result.darkExclusion {
        case "automatic": print("two-step dark mode: on (automatic: the film level check found black areas; --no-exclude-dark turns it off)")
        case "requested": print("two-step dark mode: on (--exclude-dark)")
        default: print("two-step dark mode: off" + (result.options.automaticDarkExclusion ? " (no black population found)" : ""))
        }
        if let tiles = result.tileNormalization {
            let gains = tiles.gains.map { String(format: "%.3f", $0) }.joined(separator: " ")
            var line = "tiles scaled to film level \(FilmLevel.format(tiles.reference)): gains \(gains)"
            let without = tiles.tilesWithoutFilm.map { result.imageNames[$0] }
            if !without.isEmpty { line += "; no film (kept as is): " + without.joined(separator: ", ") }
            print(line)
        }
        for (label, size) in result.clusterSizes.enumerated() {
            var line = "  \(result.groupNames[label]): \(size) patches"
            if result.particleScores[label].isFinite { line += String(format: ", particle score %.3f", result.particleScores[label]) }
            if label == result.picked && result.pickedBy != "similarity" { line += "  ← picked (\(result.pickedBy))" }
            print(line)
        }
        if let lines = result.lineCheck { print("line check: \(lines)") }
        if let s = result.silhouette { print(String(format: "silhouette %.3f", s)) }
        for (k, s) in result.silhouetteByK { print(String(format: "  k=%d silhouette %.3f", k, s)) }
        if let s = result.scores {
            print(String(format: "scores vs %d labels: ARI %.3f  AMI %.3f  NMI %.3f  homogeneity %.3f  completeness %.3f  V %.3f",
                         result.truthPatchCount, s.adjustedRandIndex, s.adjustedMutualInformation, s.normalizedMutualInformation,
                         s.homogeneity, s.completeness, s.vMeasure))
        }
        print("\(result.targets.count) targets; best:")
        for t in result.targets.prefix(5) {
            var line = "  #\(t.rank) \(t.image) at " + String(format: "(%.0f, %.0f) px", t.x, t.y)
            if let px = t.physicalX, let py = t.physicalY, let unit = t.unit { line += String(format: " = (%.4g, %.4g) ", px, py) + unit }
            line += String(format: ", %d patches, score %.2f", t.patchCount, t.score)
            print(line)
        }
        print(String(format: "done in %.2f s → ", total) + out)
    }
}

extension LocatorOptions.Method: ExpressibleByArgument {}
extension LocatorOptions.Linkage: ExpressibleByArgument {}
extension LocatorOptions.Metric: ExpressibleByArgument {}
