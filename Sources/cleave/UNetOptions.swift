import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `--method` of `cleave train`.
enum TrainingMethod: String, ExpressibleByArgument, CaseIterable {
    case rf, unet, auto
}

/// U-Net training options shared by `cleave train --method unet` and `cleave experiment`.
struct UNetCommonOptions: ParsableArguments {
    /// The library's defaults, which the flags' defaults repeat (one place to change them).
    static let defaults = UNetTrainingOptions()

    @Option(name: .long, help: "U-Net: training steps (one batch each). Default 500 when --minutes is not given.")
    var steps: Int?

    @Option(name: .long, help: "U-Net: time budget in minutes (training + validation); stops at whichever of --steps / --minutes comes first.")
    var minutes: Double?

    @Option(name: .long, help: "U-Net: patches per step.")
    var batch = UNetCommonOptions.defaults.batchSize

    @Option(name: .customLong("patch-size"), help: "U-Net: side of the square training patches in pixels (a multiple of 2^(depth-1), at most 1024; was --patch, accepted until Cleave 0.2).")
    var patch = UNetCommonOptions.defaults.patchSize

    @Option(name: .long, help: "U-Net: normalisation layers: batch, group or none.")
    var norm = UNetCommonOptions.defaults.normalization

    @Option(name: .long, help: "U-Net: up-sampling: bilinear (+ convolution) or transposed (convolution).")
    var upsampling = UNetCommonOptions.defaults.upsampling

    @Option(name: .long, help: "U-Net: dropout rate in the bottleneck, 0…<1.")
    var dropout = UNetCommonOptions.defaults.dropout

    @Option(name: .customLong("learning-rate"), help: "U-Net: peak AdamW learning rate (linear warm-up over 5 % of the budget, then cosine to 5 %).")
    var learningRate = UNetCommonOptions.defaults.learningRate

    @Option(name: .long, help: ArgumentHelp("U-Net: augmentation: all, none, geometric, or a list of \(NeuralAugmentation.kindNames.joined(separator: ",")).", valueName: "KINDS"))
    var augment = "all"

    @Option(name: .customLong("augment-probability"), help: ArgumentHelp("U-Net: chance that each intensity augmentation (intensity, shading, curtaining, noise) is applied to a training patch, 0…1.", valueName: "P"))
    var augmentProbability = UNetCommonOptions.defaults.augmentation.probability

    @Option(name: .customLong("class-weights"), help: "U-Net: loss weight per class from the label counts: none, sqrt (√ of balanced) or balanced.")
    var classWeights = UNetCommonOptions.defaults.classWeighting.rawValue

    @Option(name: .long, help: "U-Net: weight of the soft Dice loss added to the cross-entropy (0 = cross-entropy only).")
    var dice = UNetCommonOptions.defaults.diceWeight

    @Option(name: .long, help: "U-Net: share of each labelled plane's labels (the bottom rows) held out for validation; 0 = none.")
    var validation = UNetCommonOptions.defaults.validationFraction

    @Option(name: .long, help: "U-Net: validation passes over the budget (the best weights are kept).")
    var evaluations = UNetCommonOptions.defaults.evaluations

    @Option(name: .long, help: "U-Net: stop after this many validation passes without a better mean IoU.")
    var patience = UNetCommonOptions.defaults.patience

    @Option(name: .long, help: ArgumentHelp("U-Net: decay of the moving average of the weights that is validated and kept (0 = the raw weights).", discussion: "Polyak averaging: the kept network is the exponential moving average of the weights over the last ~1/(1 − decay) steps, which smooths out the noise of small batches."))
    var averaging = UNetCommonOptions.defaults.weightAveraging ?? 0

    @Option(name: .long, help: ArgumentHelp("U-Net: intensity window percentiles per channel, LOW,HIGH.", valueName: "LOW,HIGH"))
    var percentiles = "1,99"

    @Flag(name: .customLong("flatten"), inversion: .prefixedNo,
          help: "U-Net: flat-field correction of every input plane (default on; σ from --flatten-sigma). Same switch as cleave locate --flatten.")
    var flattenOn = UNetCommonOptions.defaults.flattening != nil

    @Option(name: .customLong("flatten-sigma"), help: ArgumentHelp("U-Net: σ in pixels of the flat-field correction (--flatten); was --flatten SIGMA, and --flatten none is now --no-flatten (accepted until Cleave 0.2).", discussion: "Each plane is divided by its illumination relative to the plane's average: a local linear fit of the typical level of its brighter half (the pixels above its median). Uneven detector response and shading across the field of view then reach the network as almost nothing, while grey levels keep their units. SIGMA should be well above the size of the structures to segment. The model records it, and cleave predict applies the same correction.", valueName: "SIGMA"))
    var flattenSigma = UNetCommonOptions.defaults.flattening ?? 1024

    /// Options with everything but depth, width and slices filled in.
    func trainingOptions(seed: UInt64) throws -> UNetTrainingOptions {
        var o = UNetTrainingOptions()
        o.steps = steps
        o.minutes = minutes
        o.batchSize = batch
        o.patchSize = patch
        o.normalization = norm.lowercased()
        o.upsampling = upsampling.lowercased()
        o.dropout = dropout
        o.learningRate = learningRate
        o.augmentation = try NeuralAugmentation.parse(augment)
        o.augmentation.probability = augmentProbability
        guard let weighting = NeuralClassWeighting(rawValue: classWeights.lowercased()) else {
            throw ValidationError("--class-weights must be none, sqrt or balanced, got '\(classWeights)'.")
        }
        o.classWeighting = weighting
        o.diceWeight = dice
        o.validationFraction = validation
        o.evaluations = evaluations
        o.patience = patience
        o.weightAveraging = averaging > 0 ? averaging : nil
        let parts = percentiles.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2 else { throw ValidationError("--percentiles must be LOW,HIGH, got '\(percentiles)'.") }
        o.percentiles = parts
        o.flattening = flattenOn ? flattenSigma : nil
        o.seed = seed
        return o
    }
}

/// The U-Net's shape for `cleave train --method unet`.
struct UNetNetworkOptions: ParsableArguments {
    @Option(name: .long, help: "U-Net: resolution levels including the bottleneck (depth − 1 poolings); --patch-size must be a multiple of 2^(depth−1).")
    var depth = UNetCommonOptions.defaults.depth

    @Option(name: .long, help: "U-Net: feature maps of the first level (doubling per level).")
    var width = UNetCommonOptions.defaults.baseWidth

    @Option(name: .long, help: "U-Net: neighbouring slices per channel (1, 3 or 5; 3 = the plane and one above and below, mirrored at the stack ends).")
    var slices = UNetCommonOptions.defaults.slices

    @Option(name: .long, help: ArgumentHelp("U-Net: checkpoint file, written after every validation pass.", valueName: "FILE"))
    var checkpoint: String?

    @Flag(name: .long, help: "U-Net: continue from --checkpoint when it exists.")
    var resume = false

    func validate() throws {
        if resume && checkpoint == nil {
            throw ValidationError("--resume continues from a checkpoint: give --checkpoint FILE too.")
        }
    }
}

/// Reads a class list from --classes or --class flags (nil when neither was given).
func readClassList(file: String?, specifications: [String]) throws -> [PixelClass]? {
    if let file { return try PixelClassList.read(path: file) }
    if specifications.isEmpty { return nil }
    let parsed = try specifications.enumerated().map { try PixelClassList.parse(specification: $1, position: $0) }
    try PixelClassList.validate(parsed, source: "--class")
    return parsed
}

/// Prints a progress line to standard error.
func logLine(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

extension TrainCommand {
    /// The U-Net's options from the U-Net flags.
    func unetTrainingOptions() throws -> UNetTrainingOptions {
        var options = try unet.trainingOptions(seed: seed)
        options.depth = unetNetwork.depth
        options.baseWidth = unetNetwork.width
        options.slices = unetNetwork.slices
        try options.validate()
        return options
    }

    /// Refuses, before reading, a U-Net training set that would not fit the memory budget.
    func checkUNetMemory(_ options: UNetTrainingOptions) throws {
        var need = 0
        for (spec, labelPath) in zip(image, labels) {
            let infos = try spec.split(separator: ",").map { try ImageFile.info(String($0)) }
            let channels = infos.reduce(0) { $0 + $1.channels } * options.slices
            need += MemoryEstimate.unetTrain(infos.map(MemoryEstimate.Size.init), labels: MemoryEstimate.Size(try ImageFile.info(labelPath)),
                                             networkChannels: channels, largestSide: max(infos[0].width, infos[0].height),
                                             batch: options.batchSize, patch: options.patchSize, width: options.baseWidth)
        }
        try MemoryEstimate.check(need, for: "U-Net training on \(image.count == 1 ? image[0] : "\(image.count) images")")
    }

    /// The training images with their labels, read in order.
    func readExamples() throws -> [PixelClassifier.TrainingExample] {
        try zip(image, labels).map { spec, labelPath in
            PixelClassifier.TrainingExample(input: try readInput(spec), labels: try ImageFile.readFinite(labelPath), labelsName: labelPath)
        }
    }

    /// `cleave train --method unet`.
    func runUNet() throws {
        let options = try unetTrainingOptions()
        let classList = try readClassList(file: classes, specifications: classSpecs)
        try checkUNetMemory(options)
        let examples = try readExamples()
        let start = Date()
        let cpu0 = UNetExperiment.processCPUSeconds()
        let set = try NeuralTrainingSet(examples, classes: classList, slices: options.slices,
                                        validationFraction: options.validationFraction, percentiles: options.percentiles,
                                        flattening: options.flattening)
        logLine("training pixels per class: \(zip(set.classes, set.trainingCounts).map { "\($0.value): \($1)" }.joined(separator: ", ")); validation: \(set.validationCounts.map(String.init).joined(separator: ", "))")
        let trained = try UNetTrainer.train(set, options: options, images: image,
                                            checkpoint: UNetTrainer.CheckpointPolicy(path: unetNetwork.checkpoint, resume: unetNetwork.resume),
                                            log: logLine)
        try trained.write(path: model)
        printUNetSummary(trained)
        print(String(format: "time: %.1f s (CPU %.1f s)", Date().timeIntervalSince(start), UNetExperiment.processCPUSeconds() - cpu0))
    }

    func printUNetSummary(_ trained: UNetSegmenterModel) {
        let a = trained.architecture
        print("model: \(model) (U-Net depth \(a.depth), width \(a.baseWidth), \(trained.input.detectorChannels) channel(s) × \(trained.input.slices) slice(s))")
        print("classes: \(trained.classes.map(\.description).joined(separator: ", "))")
        print("steps: \(trained.training.steps), kept step \(trained.training.bestStep)")
        if let v = trained.training.validationMeanIoU {
            print(String(format: "validation mean IoU: %.4f (", v) + (trained.training.validationIoU ?? []).map { $0.isNaN ? "–" : String(format: "%.4f", $0) }.joined(separator: ", ") + ")")
        }
    }

    /// `cleave train --method auto`: both methods on the same held-out rows; the better one is written.
    func runAuto() throws {
        let unetOptions = try unetTrainingOptions()
        let classList = try readClassList(file: classes, specifications: classSpecs)
        try checkForestMemory(bank: try filterBank())
        try checkUNetMemory(unetOptions)
        let examples = try readExamples()
        let start = Date()
        let cpu0 = UNetExperiment.processCPUSeconds()
        let (trained, report) = try MethodSelection.train(
            examples, classes: classList, forest: try forestTrainingOptions(), unet: unetOptions, images: image,
            budgetMinutes: unet.minutes, progress: ProgressBar.make(), log: logLine)
        switch trained {
        case .forest(let m): try m.write(path: model)
        case .unet(let m): try m.write(path: model)
        }
        func cell(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
        print("method: \(report.chosen.rawValue) — \(report.reason)")
        print("held-out IoU per class (" + report.classes.map(\.description).joined(separator: ", ") + "), pixels " +
              report.validationCounts.map(String.init).joined(separator: ", "))
        print(String(format: "  forest: mean %.3f  (", report.forest.meanIoU) + report.forest.iou.map(cell).joined(separator: ", ") +
              String(format: ")  %.1f s", report.forest.seconds))
        print(String(format: "  U-Net:  mean %.3f  (", report.unet.meanIoU) + report.unet.iou.map(cell).joined(separator: ", ") +
              String(format: ")  %.1f s", report.unet.seconds))
        switch trained {
        case .forest(let m):
            print("model: \(model) (random forest, \(m.forest.treeCount) trees, \(m.forest.featureCount) features)")
            print("classes: \(m.classes.map(\.description).joined(separator: ", "))")
        case .unet(let m):
            printUNetSummary(m)
        }
        print(String(format: "time: %.1f s (CPU %.1f s)", Date().timeIntervalSince(start), UNetExperiment.processCPUSeconds() - cpu0))
    }
}

extension PredictCommand {
    /// `cleave predict` with a U-Net model.
    func runUNet() throws {
        let network = try UNetSegmenterModel.read(path: model)
        for spec in images {
            let paths = spec.split(separator: ",").map(String.init)
            let infos = try paths.map { try ImageFile.info($0) }
            try network.check(channels: infos.reduce(0) { $0 + $1.channels }, depth: infos[0].depth, source: spec)
            if PredictCommand.isVolume(spec) { continue } // block by block: memory follows the planes of one block
            // Read whole (not streamed); the network's activations are per tile.
            try MemoryEstimate.check(MemoryEstimate.predict(infos.map(MemoryEstimate.Size.init), featureCount: 4 * network.architecture.baseWidth,
                                                            blockSize: tile ?? blockSize), for: "predict on \(spec) (\(MemoryEstimate.Size(infos[0])))")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var options = PixelClassificationOutputOptions()
        options.probabilities = !noProbabilities
        options.uncertainty = !noUncertainty
        options.overlay = !noOverlay
        var segmenter = try UNetSegmenter(model: network, tileSize: tile ?? blockSize, overlap: 32, halo: halo)
        segmenter.views = views
        let progress = ProgressBar.make()
        var fractions: [ClassFractions] = []
        var stems = Set<String>()
        let start = Date()
        let share = try blocks.map { try BlockShare(parsing: $0) }
        for spec in images {
            let unique = PredictCommand.uniqueStem(spec, &stems)
            if PredictCommand.isVolume(spec) {
                if let result = try predictVolume(spec, method: .unet(network, segmenter), stem: unique, share: share, progress: progress) {
                    fractions.append(result)
                }
                continue
            }
            let input = try readInput(spec)
            let result = try UNetOutputs.write(input, model: network, segmenter: segmenter, directory: out, stem: unique,
                                               options: options, progress: progress)
            fractions.append(result)
            print("\(spec): " + zip(result.classes, result.percents).map { "\($0.name) " + String(format: "%.2f%%", $1) }.joined(separator: ", "))
        }
        if share != nil { return }
        try PixelClassificationOutputs.writeFractions(fractions, to: (out as NSString).appendingPathComponent("class-fractions.csv"))
        print("wrote \(images.count) image(s) to \(out) in " + String(format: "%.2f s", Date().timeIntervalSince(start)))
    }
}
