import Foundation
import CleaveCore
import CleaveNeural

/// Trains a U-Net on a ``NeuralTrainingSet``.
///
/// Each step draws a batch of augmented patches from its own random stream
/// (`SeededGenerator.stream(seed:index: step)`), so a run is reproducible for a seed and a step
/// budget, and a resumed run continues exactly where the checkpoint left off. The loss is
/// class-weighted softmax cross-entropy plus `diceWeight` × soft Dice; the learning rate warms up
/// linearly, then follows a cosine down to 5 % (over steps, or over time for a time budget).
/// The network is scored on the validation crops `evaluations` times over the budget; the weights
/// with the best validation mean IoU are kept, and training stops early after `patience` passes
/// without improvement.
public enum UNetTrainer {
    /// A training run's state on disk (`--checkpoint`), written after every validation pass.
    public struct Checkpoint: Codable {
        /// The `kind` tag of checkpoint files.
        public static let kindTag = "cleave.unet-checkpoint"
        /// Always ``kindTag``; a checkpoint of another kind is refused on resume.
        public var kind = Checkpoint.kindTag
        /// The options of the run (the architecture must match to resume).
        public var options: UNetTrainingOptions
        /// The classes, in network output order (must match to resume).
        public var classes: [PixelClass]
        /// Channels, slices and windows of the input.
        public var input: NeuralInputSpec
        /// Steps done.
        public var step: Int
        /// Training seconds so far (summed over resumed runs).
        public var seconds: Double
        /// The network's current weights.
        public var weights: UNetWeights
        /// The optimiser with its moments and step count.
        public var optimizer: AdamW
        /// The best weights so far (by validation mean IoU; the moving average when used), nil before the first pass.
        public var best: UNetWeights?
        /// The step of ``best``.
        public var bestStep: Int
        /// Validation mean IoU of ``best`` (−1 before the first pass).
        public var bestScore: Double
        /// Validation passes since ``best`` improved (training stops at ``UNetTrainingOptions/patience``).
        public var sinceBest: Int
        /// Every validation pass so far.
        public var history: [UNetEvaluation]
        /// The moving average of the weights (``UNetTrainingOptions/weightAveraging``), if used.
        public var average: UNetWeights?
    }

    /// Where to keep a checkpoint and whether to start from it.
    public struct CheckpointPolicy: Sendable {
        /// The checkpoint file; nil = no checkpoint.
        public var path: String?
        /// Continue from the checkpoint when the file exists (a fresh start otherwise).
        public var resume: Bool
        /// A policy; by default no checkpoint.
        public init(path: String? = nil, resume: Bool = false) {
            self.path = path
            self.resume = resume
        }
    }

    /// Where training stands after a step (for live charts and cancelling).
    public struct Status: Sendable {
        /// Steps done.
        public var step: Int
        /// The step budget, nil when only a time budget is given.
        public var totalSteps: Int?
        /// Share of the budget used, 0…1.
        public var progress: Double
        /// This step's batch loss.
        public var loss: Double
        /// The latest validation pass, if any.
        public var evaluation: UNetEvaluation?
    }

    /// Trains and returns the model (with the best validation weights).
    /// - Parameters:
    ///   - images: names recorded in the model's training summary.
    ///   - log: receives one progress line per validation pass (and a few others).
    ///   - onStep: called after every step; an error it throws stops training and is rethrown
    ///     (a cancelled job).
    /// - Throws: ``NeuralError`` for invalid options, ``ModelFileError`` for an unusable checkpoint; whatever `onStep` throws.
    /// - Complexity: per step a forward and backward pass over `batchSize` patches, about
    ///   O(batchSize × patchSize² × depth × baseWidth²) multiply-adds; per validation pass one
    ///   inference of every validation crop (see ``UNetSegmenter/probabilities(_:)``).
    public static func train(_ set: NeuralTrainingSet, options: UNetTrainingOptions, images: [String],
                             checkpoint: CheckpointPolicy = CheckpointPolicy(),
                             log: (String) -> Void = { _ in },
                             onStep: (Status) throws -> Void = { _ in }) throws -> UNetSegmenterModel {
        try options.validate()
        guard set.spec.slices == options.slices else {
            throw NeuralError.invalidOption(field: "slices", value: "\(options.slices)", reason: "the training set has \(set.spec.slices) slices per detector")
        }
        let K = set.classes.count
        let configuration = try options.configuration(inputChannels: set.spec.networkChannels, classCount: K)
        var network = try UNet(configuration: configuration, seed: options.seed)
        var optimizer = AdamW(learningRate: Float(options.learningRate), beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                              weightDecay: Float(options.weightDecay))
        var step = 0
        var previousSeconds = 0.0
        var best: UNetWeights?
        var bestStep = 0, sinceBest = 0
        var bestScore = -1.0
        var history: [UNetEvaluation] = []
        var resumedAverage: UNetWeights?

        if checkpoint.resume, let path = checkpoint.path, FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw PipelineFileError.cannotRead(path: path, what: "the checkpoint") }
            let saved: Checkpoint
            do { saved = try JSONDecoder().decode(Checkpoint.self, from: data) } catch {
                throw ModelFileError.damaged(path: path, reason: "not a usable U-Net checkpoint: \(error)")
            }
            guard saved.kind == Checkpoint.kindTag, saved.classes.map(\.value) == set.classes.map(\.value),
                  saved.input.networkChannels == set.spec.networkChannels,
                  try saved.options.configuration(inputChannels: set.spec.networkChannels, classCount: K) == configuration else {
                throw ModelFileError.mismatch(path: path, reason: "the checkpoint was made for other classes, channels or architecture; delete it or train without `resume`")
            }
            network = try UNet(weights: saved.weights)
            optimizer = saved.optimizer
            step = saved.step; previousSeconds = saved.seconds
            best = saved.best; bestStep = saved.bestStep; bestScore = saved.bestScore; sinceBest = saved.sinceBest
            history = saved.history
            resumedAverage = saved.average
            log("resumed from \(path) at step \(step)")
        }

        let weights = set.classWeights(options.classWeighting)
        let totalSteps = options.steps ?? (options.minutes == nil ? 500 : Int.max)
        let budgetSeconds = options.minutes.map { $0 * 60 }
        let start = Date()
        func elapsed() -> Double { previousSeconds + Date().timeIntervalSince(start) }
        func progress() -> Double {
            var p = totalSteps == Int.max ? 0 : Double(step) / Double(totalSteps)
            if let budgetSeconds { p = max(p, elapsed() / budgetSeconds) }
            return min(1, p)
        }
        let hasValidation = !set.validation.isEmpty
        // Exponential moving average of all arrays (weights and batch-norm statistics); its decay
        // ramps up as (1 + t) / (10 + t) so the random start is forgotten quickly.
        let decay = options.weightAveraging ?? 0
        var average: UNetWeights? = decay > 0 ? (resumedAverage ?? network.weights()) : nil
        func updateAverage() {
            guard average != nil else { return }
            let d = Float(min(decay, Double(1 + step) / Double(10 + step)))
            // `weights()` shares the network's arrays (no copy); the average is updated in place.
            let latest = network.weights()
            for a in latest.arrays.indices {
                latest.arrays[a].values.withUnsafeBufferPointer { w in
                    average!.arrays[a].values.withUnsafeMutableBufferPointer { e in
                        for i in e.indices { e[i] = d * e[i] + (1 - d) * w[i] }
                    }
                }
            }
        }
        var nextEvaluation = (Int(progress() * Double(options.evaluations)) + 1)
        var lossSum = 0.0, lossCount = 0
        let side = options.patchSize

        func evaluate() throws {
            let loss = lossCount > 0 ? lossSum / Double(lossCount) : .nan
            lossSum = 0; lossCount = 0
            guard hasValidation else {
                log(String(format: "step %d  loss %.4f  lr %.2e  %.0f s", step, loss, Double(optimizer.learningRate), elapsed()))
                return
            }
            let validated = try average.map { try UNet(weights: $0) } ?? network
            let scores = validationScores(network: validated, set: set, depth: options.depth)
            let evaluation = UNetEvaluation(step: step, loss: loss, meanIoU: scores.meanIoU, iou: scores.iou, seconds: elapsed())
            history.append(evaluation)
            if scores.meanIoU > bestScore {
                bestScore = scores.meanIoU; bestStep = step; best = average ?? network.weights(); sinceBest = 0
            } else {
                sinceBest += 1
            }
            let perClass = scores.iou.map { $0.isNaN ? "  –  " : String(format: "%.3f", $0) }.joined(separator: "/")
            log(String(format: "step %d  loss %.4f  val mIoU %.4f (%@)  best %.4f @ %d  lr %.2e  %.0f s", step, loss, scores.meanIoU,
                       perClass, bestScore, bestStep, Double(optimizer.learningRate), elapsed()))
            if let path = checkpoint.path {
                let state = Checkpoint(options: options, classes: set.classes, input: set.spec, step: step, seconds: elapsed(),
                                       weights: network.weights(), optimizer: optimizer, best: best, bestStep: bestStep,
                                       bestScore: bestScore, sinceBest: sinceBest, history: history, average: average)
                try AtomicFile.write(try JSONEncoder().encode(state), to: path)
            }
        }

        while step < totalSteps && progress() < 1 && !(hasValidation && sinceBest >= options.patience) {
            let p = progress()
            let warm = max(1e-9, options.warmup)
            let factor = p < warm ? (p + 1e-3) / warm : 0.05 + 0.95 * 0.5 * (1 + cos(Double.pi * (p - warm) / (1 - warm)))
            optimizer.learningRate = Float(options.learningRate * min(1, factor))
            var random = SeededGenerator.stream(seed: options.seed, index: step)
            let batch = set.batch(size: options.batchSize, side: side, augmentation: options.augmentation, random: &random)
            let input = Tensor(batch: options.batchSize, channels: set.spec.networkChannels, height: side, width: side, storage: batch.inputs)
            network.zeroGradients()
            let logits = try network.forward(input, training: true)
            let crossEntropy = try Loss.softmaxCrossEntropy(logits: logits, labels: batch.labels, classWeights: weights)
            var gradient = crossEntropy.gradient
            var loss = Double(crossEntropy.loss)
            if options.diceWeight > 0 {
                let dice = try Loss.dice(logits: logits, labels: batch.labels)
                let w = Float(options.diceWeight)
                for i in gradient.storage.indices { gradient.storage[i] += w * dice.gradient.storage[i] }
                loss += options.diceWeight * Double(dice.loss)
            }
            _ = try network.backward(gradient)
            optimizer.step(network)
            updateAverage()
            step += 1
            lossSum += loss; lossCount += 1
            if progress() * Double(options.evaluations) >= Double(nextEvaluation) || step == totalSteps {
                try evaluate()
                nextEvaluation = Int(progress() * Double(options.evaluations)) + 1
            }
            try onStep(Status(step: step, totalSteps: totalSteps == Int.max ? nil : totalSteps, progress: progress(), loss: loss,
                              evaluation: history.last))
        }
        if lossCount > 0 { try evaluate() }
        if hasValidation && sinceBest >= options.patience { log("early stop: no better validation mIoU for \(options.patience) passes") }
        let kept = best ?? average ?? network.weights()
        let keptScores = history.first { $0.step == bestStep }
        let summary = UNetTrainingSummary(images: images, trainingPixels: set.trainingCounts, validationPixels: set.validationCounts,
                                          options: options, steps: step, bestStep: hasValidation ? bestStep : step,
                                          validationMeanIoU: keptScores?.meanIoU, validationIoU: keptScores?.iou,
                                          seconds: elapsed(), history: history)
        return UNetSegmenterModel(classes: set.classes, input: set.spec, architecture: configuration, training: summary, weights: kept)
    }

    /// Per-class IoU (NaN for classes absent from validation and never predicted) and their mean
    /// over the validation crops' labelled pixels.
    public static func validationScores(network: UNet, set: NeuralTrainingSet, depth: Int) -> (meanIoU: Double, iou: [Double]) {
        let K = set.classes.count
        var intersection = [Int](repeating: 0, count: K), union = [Int](repeating: 0, count: K)
        let segmenter = UNetSegmenter(network: network, classCount: K, depth: depth)
        for crop in set.validation {
            let probabilities = segmenter.probabilities(crop.plane)
            let n = crop.plane.width * crop.plane.height
            for p in 0..<n where crop.labels[p] >= 0 {
                var bestK = 0
                var bestP = probabilities[p]
                for k in 1..<K where probabilities[k * n + p] > bestP { bestP = probabilities[k * n + p]; bestK = k }
                let truth = Int(crop.labels[p])
                if truth == bestK { intersection[truth] += 1; union[truth] += 1 } else { union[truth] += 1; union[bestK] += 1 }
            }
        }
        let iou = (0..<K).map { union[$0] == 0 ? Double.nan : Double(intersection[$0]) / Double(union[$0]) }
        let valid = iou.filter { !$0.isNaN }
        return (valid.isEmpty ? 0 : valid.reduce(0, +) / Double(valid.count), iou)
    }
}

/// Runs a network over whole planes with ``NeuralTiling``.
public struct UNetSegmenter {
    /// The network (not thread-safe: one plane at a time per segmenter).
    public let network: UNet
    /// Output classes of the network.
    public let classCount: Int
    /// Tile sides are multiples of this (2^(depth − 1), the network's poolings).
    public let multiple: Int
    /// How planes are cut into tiles (default 1024-pixel tiles, 32-pixel overlap, halo = the receptive radius).
    public var tiling: NeuralTiling

    /// - Parameter depth: the network's poolings (sets the size multiple and the exact halo).
    public init(network: UNet, classCount: Int, depth: Int, tileSize: Int = 1024, overlap: Int = 32, halo: Int? = nil) {
        self.network = network
        self.classCount = classCount
        self.multiple = network.configuration.sizeMultiple
        self.tiling = NeuralTiling(tileSize: max(tileSize, multiple), overlap: min(overlap, tileSize / 4),
                                   halo: halo ?? UNetSegmenterModel.receptiveRadius(depth: depth))
    }

    /// Loads a model's network.
    public init(model: UNetSegmenterModel, tileSize: Int = 1024, overlap: Int = 32, halo: Int? = nil) throws {
        self.init(network: try UNet(weights: model.weights), classCount: model.classes.count,
                  depth: model.architecture.depth, tileSize: tileSize, overlap: overlap, halo: halo)
    }

    /// Views of the plane averaged at inference: 1 (the plane as it is), 2 (plus its mirror image),
    /// 4 (plus the 180° rotation and the vertical mirror) or 8 (every flip and 90° rotation — the
    /// eight symmetries of the square, the same group the training augmentation draws from).
    /// Probabilities are mapped back to the original orientation and averaged, which evens out the
    /// network's orientation-dependent errors; time grows with the count.
    public var views = 1

    /// Class probabilities `classCount × height × width` of a plane.
    /// - Complexity: O(views × pixels × depth × baseWidth²) multiply-adds, plus the halo recomputed
    ///   around every tile; memory O(classes × pixels) plus one tile's activations.
    public func probabilities(_ plane: NeuralPlane) -> [Float] {
        guard views > 1 else { return oriented(plane) }
        let used = DihedralView.all.prefix(views)
        var sum = [Float](repeating: 0, count: classCount * plane.width * plane.height)
        for view in used {
            let back = view.inverse(of: oriented(view.apply(to: plane)), channels: classCount,
                                    width: plane.width, height: plane.height)
            for i in sum.indices { sum[i] += back[i] }
        }
        let scale = 1 / Float(used.count)
        for i in sum.indices { sum[i] *= scale }
        return sum
    }

    private func oriented(_ plane: NeuralPlane) -> [Float] {
        tiling.probabilities(of: plane, classCount: classCount, multiple: multiple) { tile in
            Loss.softmax(network.forward(tile, training: false))
        }
    }
}

/// One of the eight symmetries of the square acting on channel-major planes: optional transpose
/// (swap x and y), then optional mirror of x and of y.
struct DihedralView: Sendable, Equatable {
    var transpose: Bool
    var flipX: Bool
    var flipY: Bool

    /// Identity first, then the mirror, the 180° rotation and the vertical mirror, then the
    /// transposed four — so any prefix of 1, 2, 4 or 8 is a balanced set.
    static let all: [DihedralView] = [
        DihedralView(transpose: false, flipX: false, flipY: false), DihedralView(transpose: false, flipX: true, flipY: false),
        DihedralView(transpose: false, flipX: true, flipY: true), DihedralView(transpose: false, flipX: false, flipY: true),
        DihedralView(transpose: true, flipX: false, flipY: false), DihedralView(transpose: true, flipX: true, flipY: false),
        DihedralView(transpose: true, flipX: true, flipY: true), DihedralView(transpose: true, flipX: false, flipY: true),
    ]

    /// The viewed plane: output pixel (x, y) of channel c is source pixel `source(x, y)`.
    func apply(to plane: NeuralPlane) -> NeuralPlane {
        let (w, h) = transpose ? (plane.height, plane.width) : (plane.width, plane.height)
        var out = [Float](repeating: 0, count: plane.values.count)
        let n = plane.width * plane.height
        for c in 0..<plane.channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y, width: w, height: h)
                    out[c * n + y * w + x] = plane.values[c * n + sy * plane.width + sx]
                }
            }
        }
        return NeuralPlane(channels: plane.channels, width: w, height: h, values: out)
    }

    /// Maps channel-major values computed on the viewed plane back to the original `width × height`.
    func inverse(of values: [Float], channels: Int, width: Int, height: Int) -> [Float] {
        let (w, h) = transpose ? (height, width) : (width, height)
        var out = [Float](repeating: 0, count: values.count)
        let n = width * height
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = source(x, y, width: w, height: h)
                    out[c * n + sy * width + sx] = values[c * n + y * w + x]
                }
            }
        }
        return out
    }

    /// Source coordinates (in the original plane) of viewed pixel (x, y) in a `width × height` view.
    @inline(__always)
    private func source(_ x: Int, _ y: Int, width: Int, height: Int) -> (Int, Int) {
        let vx = flipX ? width - 1 - x : x
        let vy = flipY ? height - 1 - y : y
        return transpose ? (vy, vx) : (vx, vy)
    }
}
