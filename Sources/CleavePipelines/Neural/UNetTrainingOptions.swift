import CleaveCore
import CleaveNeural

/// Everything that decides how a U-Net is trained (recorded in the model).
public struct UNetTrainingOptions: Codable, Sendable, Equatable {
    /// Resolution levels of the U-Net including the bottleneck (depth − 1 poolings; patch sides must
    /// be multiples of 2^(depth−1); inference pads). 3 by default: a receptive field of about 40
    /// pixels, a third fewer multiply-adds per step than depth 4 and, in the sandstone protocol,
    /// better scores for the same time (bench/unet/RESULTS.md).
    public var depth = 3
    /// Feature maps of the first level (doubling per level).
    public var baseWidth = 16
    /// `group` (8 groups, or fewer when the width is not a multiple of 8), `batch` or `none`.
    /// Group norm is the default: it does not depend on the batch, so training on 8 small
    /// patches and inference on whole planes normalise alike, and it held up best under the
    /// artefacts (bench/unet/RESULTS.md).
    public var normalization = "group"
    /// `transposed` (2×2 stride-2 convolution) or `bilinear` (+ 3×3 convolution). Transposed is the
    /// default: its up-sampling costs a ninth of the 3×3 convolution's multiply-adds, so about a
    /// quarter of a depth-4 step's work goes, and more steps fit into a time budget.
    public var upsampling = "transposed"
    /// Dropout rate at the bottleneck during training, in [0, 1) (default 0: none).
    public var dropout = 0.0
    /// Neighbouring slices per detector: 1, 3 or 5.
    public var slices = 1
    /// Side of the square training patches: a multiple of 2^(depth − 1), at most 1024.
    public var patchSize = 128
    /// Patches per training step, 1…256.
    public var batchSize = 8
    /// Step budget (nil: use `minutes`; both nil: 500 steps).
    public var steps: Int?
    /// Time budget in minutes, including validation.
    public var minutes: Double?
    /// Seed of the initial weights and of every step's patch draw and augmentation.
    public var seed: UInt64 = 0
    /// Peak learning rate of AdamW (after warm-up; cosine decay to 5 % of it at the end).
    public var learningRate = 0.002
    /// AdamW's decoupled weight decay.
    public var weightDecay = 0.0001
    /// Share of the budget spent warming up linearly.
    public var warmup = 0.05
    /// Which augmentations training patches get (default: all, each intensity kind with probability 0.4).
    public var augmentation = NeuralAugmentation()
    /// How the cross-entropy weighs classes by their labelled pixel counts (default √ of the inverse frequency).
    public var classWeighting = NeuralClassWeighting.sqrt
    /// Weight of the soft Dice loss added to the (class-weighted) cross-entropy; 0 = cross-entropy only.
    public var diceWeight = 0.5
    /// Share of each labelled plane's labels held out for validation (0 = none, no early stopping).
    public var validationFraction = 0.25
    /// Validation passes over the budget.
    public var evaluations = 12
    /// Stop after this many validation passes without a better mean IoU. With the default 12
    /// passes, 8 stops only a run whose best weights came in the first third: a smaller value
    /// cuts the cosine schedule off before its low-learning-rate end, where most runs improve.
    public var patience = 8
    /// Decay of the exponential moving average of the weights that is validated and kept
    /// (Polyak averaging; nil or 0 = the raw weights). Averaging smooths the noise of small-batch
    /// steps, so the kept network is better than any single step's.
    public var weightAveraging: Double? = 0.995
    /// Lower and upper percentile of the intensity windows.
    public var percentiles = [1.0, 99.0]
    /// σ in pixels of the flat-field correction of every input plane (``NeuralFlattening``); nil:
    /// none. 1024 by default: far above the grains and particles the network tells apart by grey
    /// level and the 128-pixel patches it learns from, so what it removes is the slow variation no
    /// patch can show. On a 1k image the fit is one tilted plane; on larger fields it follows the
    /// illumination over about a thousand pixels. The wider the fit, the less the local
    /// composition of the sample leaks into the estimate: in the sandstone protocol (2185 steps)
    /// σ 256, 512 and 1024 scored 0.884, 0.886 and 0.890 on clean slices and 0.859, 0.859 and
    /// 0.861 with the artefacts (no correction: 0.893 / 0.838; bench/unet/RESULTS.md).
    public var flattening: Double? = 1024

    /// The defaults of `cleave train --method unet`; ``validate()`` checks a changed value.
    public init() {}

    /// Checks ranges and combinations.
    /// - Throws: ``NeuralError/invalidOption(field:value:reason:)`` naming the field.
    public func validate() throws(NeuralError) {
        guard (1...6).contains(depth) else { throw NeuralError.invalidOption(field: "depth", value: "\(depth)", reason: "must be 1…6") }
        guard (2...128).contains(baseWidth) else { throw NeuralError.invalidOption(field: "baseWidth", value: "\(baseWidth)", reason: "must be 2…128") }
        guard ["batch", "group", "none"].contains(normalization) else { throw NeuralError.invalidOption(field: "normalization", value: "\(normalization)", reason: "must be batch, group or none") }
        guard ["bilinear", "transposed"].contains(upsampling) else { throw NeuralError.invalidOption(field: "upsampling", value: "\(upsampling)", reason: "must be bilinear or transposed") }
        guard dropout >= 0 && dropout < 1 else { throw NeuralError.invalidOption(field: "dropout", value: "\(dropout)", reason: "must be in [0, 1)") }
        guard NeuralInputSpec.allowedSlices.contains(slices) else { throw NeuralError.invalidOption(field: "slices", value: "\(slices)", reason: "must be 1, 3 or 5") }
        let multiple = 1 << (depth - 1)
        guard patchSize >= multiple, patchSize % multiple == 0, patchSize <= 1024 else {
            throw NeuralError.invalidOption(field: "patchSize", value: "\(patchSize)", reason: "must be a multiple of 2^(depth−1) = \(multiple), at most 1024")
        }
        guard (1...256).contains(batchSize) else { throw NeuralError.invalidOption(field: "batchSize", value: "\(batchSize)", reason: "must be 1…256") }
        if let steps, steps < 1 { throw NeuralError.invalidOption(field: "steps", value: "\(steps)", reason: "must be at least 1") }
        if let minutes, !(minutes > 0) { throw NeuralError.invalidOption(field: "minutes", value: "\(minutes)", reason: "must be positive") }
        guard learningRate > 0 && learningRate < 1 else { throw NeuralError.invalidOption(field: "learningRate", value: "\(learningRate)", reason: "must be in (0, 1)") }
        guard (0...1).contains(augmentation.probability) else {
            throw NeuralError.invalidOption(field: "augmentation.probability", value: "\(augmentation.probability)", reason: "must be in [0, 1]")
        }
        guard diceWeight >= 0 else { throw NeuralError.invalidOption(field: "diceWeight", value: "\(diceWeight)", reason: "must be ≥ 0") }
        if let weightAveraging, !(weightAveraging >= 0 && weightAveraging < 1) {
            throw NeuralError.invalidOption(field: "weightAveraging", value: "\(weightAveraging)", reason: "must be in [0, 1)")
        }
        guard evaluations >= 1, patience >= 1 else { throw NeuralError.invalidOption(field: evaluations < 1 ? "evaluations" : "patience", value: "\(min(evaluations, patience))", reason: "must be at least 1") }
        guard percentiles.count == 2, percentiles[0] >= 0, percentiles[0] < percentiles[1], percentiles[1] <= 100 else {
            throw NeuralError.invalidOption(field: "percentiles", value: "\(percentiles)", reason: "need LOW,HIGH with 0 ≤ LOW < HIGH ≤ 100")
        }
        if let flattening, !(flattening >= 1 && flattening <= 10_000) {
            throw NeuralError.invalidOption(field: "flattening", value: "\(flattening)", reason: "σ must be 1…10000 pixels")
        }
    }

    /// Groups for group normalisation: the largest of 8, 4, 2, 1 dividing the base width (so every level's width).
    func groupCount(_ width: Int) -> Int { [8, 4, 2, 1].first { width % $0 == 0 }! }

    /// The network configuration for `inputChannels` inputs and `classCount` classes.
    public func configuration(inputChannels: Int, classCount: Int) throws -> UNetConfiguration {
        var configuration: UNetConfiguration
        switch normalization {
        case "group":
            configuration = UNetConfiguration(inputChannels: inputChannels, classes: classCount, depth: depth, baseWidth: baseWidth,
                                              normalization: .group(groupCount(baseWidth)))
        case "none":
            configuration = UNetConfiguration(inputChannels: inputChannels, classes: classCount, depth: depth, baseWidth: baseWidth,
                                              normalization: .none)
        default:
            configuration = UNetConfiguration(inputChannels: inputChannels, classes: classCount, depth: depth, baseWidth: baseWidth,
                                              normalization: .batch)
        }
        if upsampling == "transposed" { configuration.upsampling = .transposed }
        configuration.dropout = .init(dropout)
        try configuration.validate()
        return configuration
    }
}
