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

    @Option(name: .customLong("layer-norm"), help: "U-Net: normalisation layers: batch, group or none (was --norm, accepted until Cleave 0.2; the images' intensity mapping is --normalize).")
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
