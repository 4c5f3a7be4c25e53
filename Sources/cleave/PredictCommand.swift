import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleaveLearning
import CleavePipelines

/// `cleave predict`: apply a trained pixel classifier to images.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify every pixel of images with a model from `cleave train`.",
        discussion: """
        For each image writes, into --out:
          <stem>-labels.tif         label values as in training (8-bit, or 16-bit for values > 255)
          <stem>-probabilities.tif  float32, one page per class (stacks: class-major over planes)
          <stem>-uncertainty.tif    float32, 1 - (p_first - p_second): 0 = sure, 1 = a tie
          <stem>-overlay.png        class colours over the grey image (middle plane of a stack)
        and one class-fractions.csv (area or volume % per class, physical size when the file \
        has a pixel size). Images are processed block by block with a halo as wide as the largest \
        filter, so the result equals whole-image prediction while memory follows --block-size; \
        multi-page TIFF and MRC stacks are read plane by plane, never whole. \
        Co-registered channels are given as one comma-separated argument (a.tif,b.tif). Files are \
        written complete or not at all.

        Examples:
          cleave predict --model rock.model.json --out results/ slice*.tif
          cleave predict --model multi.json --out out/ bse.tif,si.tif

        U-Net models (from `cleave train --method unet`) write the same files; stacks go plane by \
        plane with their neighbouring slices, in tiles (--tile, --halo) blended without seams.

        OME-Zarr volumes (VOL.ome.zarr, e.g. from `cleave convert` or `cleave sample --kind fibsem`) \
        of any size are predicted block by block into DIR/VOL-labels.ome.zarr: an OME-Zarr image \
        whose first level holds the labels (uint8, or uint16 for values > 255), with the input's \
        chunks, axes and scale, plus its pyramid, class-fractions.csv and VOL-overlay.png. Each \
        block (--block-size in x and y, whole chunks, one chunk deep) reads only the chunks it and \
        its halo touch, so memory follows the block size, not the volume. Finished blocks are \
        recorded in VOL-labels.ome.zarr/.cleave-blocks/: a run that was killed continues where it \
        stopped when the same command is given again, and the result equals an uninterrupted run \
        byte for byte. --blocks i/N computes only share i of N (blocks i, i+N, …) and does not \
        finish; the same command without --blocks computes what is left and finishes (pyramid, \
        summary) — the shape of a cluster array job:
          cleave predict --model m.json --out out/ --blocks 0/4 vol.ome.zarr   (tasks 0…3, any machine)
          cleave predict --model m.json --out out/ vol.ome.zarr                (afterwards: finish)
        Probability and uncertainty TIFFs are not written for OME-Zarr volumes.
        """)

    @Option(name: .long, help: ArgumentHelp("Model file from `cleave train`.", valueName: "MODEL"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("Output directory (created if missing).", valueName: "DIR"))
    var out: String

    @Argument(help: ArgumentHelp("Images to classify (comma-separate co-registered channels).", valueName: "IMAGES"))
    var images: [String] = []

    @Option(name: .long, help: "Block side in pixels; memory grows with its square (OME-Zarr: rounded up to whole chunks, at least the model's halo).")
    var blockSize = 1024

    @Option(name: .long, help: ArgumentHelp("OME-Zarr volumes: compute only share i of N of the blocks (0-based: 0/4 … 3/4) and do not finish.", discussion: "Shares are blocks i, i+N, i+2N, … Processes may run the shares at the same time on machines that share the output folder; afterwards the same command without --blocks computes any block still missing, builds the labels' pyramid and writes the summary.", valueName: "i/N"))
    var blocks: String?

    @Flag(name: .long, help: "Do not write the probability TIFFs.")
    var noProbabilities = false

    @Flag(name: .long, help: "Do not write the uncertainty TIFFs.")
    var noUncertainty = false

    @Flag(name: .long, help: "Do not write the overlay PNGs.")
    var noOverlay = false

    @Flag(name: .long, help: ArgumentHelp("Re-weight the probabilities to class frequencies estimated on each image (EM, Saerens et al. 2002).", discussion: "Off by default. The forest's prior is the class balance of the training pixels. The estimate helps when the training pixels' balance is far from the images' and class appearance does not change between images; on the real-data suite (bench/suite/RESULTS.md) it made six of seven splits worse, because a shift in a class's appearance is read as a shift in its frequency."))
    var adaptPrior = false

    @Flag(name: .long, help: ArgumentHelp("Keep the training labels' class balance as the prior (the default; kept for older scripts).", visibility: .hidden))
    var trainingPrior = false

    @Flag(name: .long, help: ArgumentHelp("Print wall and CPU time per phase (reading, features, forest, outputs) to stderr.", discussion: "Times are summed over all images; 'features + forest' per megapixel is what the scikit-image/scikit-learn reference's numbers measure. Multi-page TIFF and MRC stacks are always read plane by plane."))
    var timings = false

    @Option(name: .long, help: ArgumentHelp("Tree walk: binned or thresholds (identical results; for benchmarks).", visibility: .hidden))
    var forestWalk = "binned"

    @Option(name: .long, help: "U-Net models: tile side in pixels (default: --block-size); tiles overlap by 32 px and are blended.")
    var tile: Int?

    @Option(name: .long, help: "U-Net models: context pixels around each tile (default: the network's receptive radius, which makes tiled = whole-image inference).")
    var halo: Int?

    @Option(name: .long, help: ArgumentHelp("U-Net models: orientations averaged per plane: 1, 2, 4 or 8 (every flip and 90° rotation).", discussion: "Test-time augmentation: the network sees each plane in several orientations and the class probabilities are mapped back and averaged. Costs up to that many times the inference time; evens out orientation-dependent mistakes. In the sandstone protocol of bench/unet, 8 views raised mean IoU by about 0.005 (clean 0.889 → 0.895) for 2.7× the time."))
    var views = 1

    @OptionGroup var memory: MemoryBudgetOption

    @OptionGroup var fractionOptions: FractionOptions

    func validate() throws {
        guard [1, 2, 4, 8].contains(views) else { throw ValidationError("--views \(views): must be 1, 2, 4 or 8.") }
        if let tile, tile < 16 { throw ValidationError("--tile must be at least 16, got \(tile).") }
        if let halo, halo < 0 { throw ValidationError("--halo must be at least 0, got \(halo).") }
        if images.isEmpty { throw ValidationError("Give at least one image to classify.") }
        if blockSize < 16 { throw ValidationError("--block-size must be at least 16, got \(blockSize).") }
        if adaptPrior && trainingPrior { throw ValidationError("--adapt-prior and --training-prior contradict each other; give one.") }
        let volumes = images.filter(PredictCommand.isVolume)
        if blocks != nil && volumes.count != images.count {
            let other = images.first { !PredictCommand.isVolume($0) }!
            let why = FileManager.default.fileExists(atPath: other) ? "" : " (no such file or folder)"
            throw ValidationError("--blocks shares the blocks of OME-Zarr volumes; \(other) is not one\(why).")
        }
        if adaptPrior, let volume = volumes.first {
            throw ValidationError("--adapt-prior is not available for OME-Zarr volumes (\(volume)): block-wise prediction keeps the training prior.")
        }
    }

    /// An OME-Zarr volume (a directory), predicted block by block.
    static func isVolume(_ spec: String) -> Bool { !spec.contains(",") && OMEZarrImage.isDirectory(spec) }

    /// A block-run error with the pipeline's field names replaced by this command's flags.
    static func commandLineMessage(_ error: BlockRunError) -> String {
        switch error {
        case let .blockSmallerThanHalo(_, blockSize, halo, method):
            return "--block-size \(blockSize) is smaller than the \(halo)-pixel halo \(method) reads around every block; give --block-size \(halo) or more"
        case let .invalidShare(_, value, reason):
            return "--blocks \(value): \(reason)"
        case let .unsupportedOption(field, reason):
            let flags = ["fillHoles": "--fill-holes", "splitHeight": "--split", "intensity": "--intensity"]
            return "\(flags[field] ?? field) is not available for OME-Zarr volumes (block by block): \(reason)"
        default:
            return error.description
        }
    }

    func run() throws {
        memory.apply()
        switch try ModelFileKind.detect(path: model) {
        case .unet: try runUNet(); return
        case .randomForest: break
        case .unknown(let kind):
            throw CleaveError("\(model): not a Cleave model (kind \(kind.map { "\"\($0)\"" } ?? "missing"); expected \"\(PixelClassifierModel.kindTag)\" or \"\(UNetSegmenterModel.kindTag)\")")
        }
        let classifier = try PixelClassifierModel.read(path: model)
        let share = try blocks.map { try BlockShare(parsing: $0) }
        // Check every input's channels and pixel type against the model before writing anything.
        for spec in images where PredictCommand.isVolume(spec) {
            let info = try ImageFile.info(spec)
            try classifier.check(channelCount: info.channels, pixelType: info.pixelType, source: spec)
        }
        for spec in images where !PredictCommand.isVolume(spec) {
            let paths = spec.split(separator: ",").map(String.init)
            let infos = try paths.map { try ImageFile.info($0) }
            try classifier.check(channelCount: infos.reduce(0) { $0 + $1.channels }, pixelType: infos[0].pixelType, source: spec)
            try PredictCommand.checkMemory(infos, spec: spec, featureCount: classifier.forest.featureCount, blockSize: blockSize)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var options = PixelClassificationOutputOptions()
        options.blockSize = blockSize
        options.probabilities = !noProbabilities
        options.uncertainty = !noUncertainty
        options.overlay = !noOverlay
        options.adaptPrior = adaptPrior
        options.fractionEstimator = fractionOptions.estimator
        guard let walk = ForestWalk.allCases.first(where: { "\($0)" == forestWalk }) else {
            throw ValidationError("--forest-walk must be binned or thresholds, got '\(forestWalk)'.")
        }
        options.walk = walk
        let progress = ProgressBar.make()
        var fractions: [ClassFractions] = []
        var stems = Set<String>()
        let start = Date()
        let clock = PredictionTimings()
        for spec in images {
            if PredictCommand.isVolume(spec) {
                let stem = PredictCommand.uniqueStem(spec, &stems)
                if let result = try predictVolume(spec, method: .forest(classifier), stem: stem, share: share, progress: progress) {
                    fractions.append(result)
                }
                continue
            }
            let paths = spec.split(separator: ",").map(String.init)
            let opened = try clock.measure("open / read input") { try PixelClassifierInput.open(paths: paths, name: spec) }
            let input = try clock.measure("intensity windows") { try classifier.intensityNormalization.prepare(opened) }
            let unique = PredictCommand.uniqueStem(spec, &stems)
            let result = try PixelClassificationOutputs.write(input, model: classifier, directory: out, stem: unique,
                                                              options: options, progress: progress, timings: clock)
            fractions.append(result)
            var line = "\(spec): \(FractionOptions.summary(result))"
            if let windows = input.featureWindows, case .percentiles = classifier.intensityNormalization {
                line += " (grey window " + windows.map { "\(PredictCommand.number($0.low))–\(PredictCommand.number($0.high))" }.joined(separator: ", ") + ")"
            }
            if let prior = result.estimatedPrior {
                line += " (estimated prior " + prior.map { String(format: "%.3f", $0) }.joined(separator: "/") + ")"
            }
            print(line)
        }
        if share != nil { return }
        let csv = (out as NSString).appendingPathComponent("class-fractions.csv")
        let pooled = fractions.count > 1
            ? ClassFractions.pooled(fractions, estimator: fractionOptions.estimator, calibration: classifier.forest.outOfBagCalibration) : nil
        if let pooled { print("all \(fractions.count) images: " + FractionOptions.summary(pooled)) }
        if let check = (pooled ?? fractions.first)?.estimate?.check { print("fractions: \(check)") }
        try PixelClassificationOutputs.writeFractions(fractions, to: csv, pooled: pooled ?? fractions.first)
        if timings { FileHandle.standardError.write(Data((clock.report + "\n").utf8)) }
        print("wrote \(images.count) image(s) to \(out) in " + String(format: "%.2f s", Date().timeIntervalSince(start)))
    }

    /// Predicts an OME-Zarr volume block by block (``BlockPrediction``) and prints what was done;
    /// returns the class areas when the run was finished (no share).
    func predictVolume(_ spec: String, method: BlockMethod, stem: String, share: BlockShare?, progress: CleaveCore.Progress) throws -> ClassFractions? {
        var options = BlockPredictionOptions()
        options.blockSize = blockSize
        options.share = share
        options.overlay = !noOverlay
        options.walk = ForestWalk.allCases.first { "\($0)" == forestWalk } ?? .binned
        let report = try BlockPrediction.run(volume: spec, method: method, modelIdentity: try BlockRunFingerprint.fileHash(model),
                                             directory: out, stem: stem, options: options, progress: progress)
        guard let result = report.fractions else {
            print("\(spec): share \(share.map { "\($0)" } ?? "") — \(report.computed) block(s) computed, \(report.skipped) already done, of \(report.blockCount); run the same command without --blocks to finish")
            return nil
        }
        print("\(spec): " + zip(result.classes, result.percents).map { "\($0.name) " + String(format: "%.2f%%", $1) }.joined(separator: ", ")
              + " (\(report.blockCount) blocks, \(report.computed) computed now; labels in \(report.output))")
        return result
    }

    /// Refuses an input whose prediction would not fit the memory budget (before any output).
    static func checkMemory(_ infos: [ImageInfo], spec: String, featureCount: Int, blockSize: Int) throws {
        let streamed = PixelClassifierInput.isStreamable(infos)
        let sizes = infos.map(MemoryEstimate.Size.init)
        let need = MemoryEstimate.predict(sizes, streamedPlane: streamed ? infos[0].width * infos[0].height : nil,
                                          featureCount: featureCount, blockSize: blockSize)
        try MemoryEstimate.check(need, for: "predict on \(spec) (\(sizes[0]))")
    }

    /// The output stem of an input ("vol" for vol.ome.zarr, "a" for a.tif,b.tif), made unique.
    static func uniqueStem(_ spec: String, _ stems: inout Set<String>) -> String {
        var stem = URL(fileURLWithPath: String(spec.split(separator: ",")[0])).deletingPathExtension().lastPathComponent
        if stem.hasSuffix(".ome") { stem = String(stem.dropLast(4)) }
        var unique = stem, k = 2
        while !stems.insert(unique).inserted { unique = "\(stem)-\(k)"; k += 1 }
        return unique
    }

    static func number(_ v: Float) -> String { v == v.rounded() && v.magnitude < 1e15 ? String(Int(v)) : String(format: "%.4g", v) }
}
