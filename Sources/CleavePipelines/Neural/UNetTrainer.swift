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
            let logits = network.forward(input, training: true)
            let crossEntropy = Loss.softmaxCrossEntropy(logits: logits, labels: batch.labels, classWeights: weights)
            var gradient = crossEntropy.gradient
            var loss = Double(crossEntropy.loss)
            if options.diceWeight > 0 {
                let dice = Loss.dice(logits: logits, labels: batch.labels)
                let w = Float(options.diceWeight)
                for i in gradient.storage.indices { gradient.storage[i] += w * dice.gradient.storage[i] }
                loss += options.diceWeight * Double(dice.loss)
            }
            _ = network.backward(gradient)
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
