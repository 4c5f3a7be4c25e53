import Foundation
import CleaveCore

/// `cleave train --method auto`: trains the random forest and the U-Net on the same labels, scores
/// both on the same held-out labelled pixels, and keeps the better one.
///
/// **Assumption, checked on the data**: which method suits a data set cannot be known before
/// trying; the held-out pixels stand for the images to come. They are every m-th block (m =
/// 1 / validation share; side = the U-Net's patch) in a diagonal lattice over every labelled
/// plane (``NeuralTrainingSet/ValidationSplit/blocks(side:)``), so that in layered samples, whose
/// classes follow the rows, both methods are judged on every layer (the U-Net's own bottom-rows
/// split held out mostly one layer of the coating sets and chose the wrong method there). On the real-data suite the U-Net wins the superalloy sets and loses the
/// coating sets completely, so neither is a safe default alone (bench/suite/RESULTS.md).
///
/// ```
/// labels ─┬─ labels outside the held-out blocks ─→ forest ─→ predict ─→ IoU in the blocks ─┐
///         └─ same blocks ──────────────────────→ U-Net (keeps its best validation pass) ───┴→ better one
/// ```
///
/// The forest that is kept is retrained on every label, exactly as `--method rf` would train it;
/// the U-Net that is kept was trained without the held-out blocks' labels (`--method unet` holds
/// out the bottom rows instead).
/// The U-Net's score is its best of several validation passes, so it is slightly optimistic;
/// ties go to the forest, which predicts faster.
public enum MethodSelection {
    /// The two candidates.
    public enum Method: String, Sendable, Codable {
        /// The random forest (`rf`).
        case forest = "rf"
        /// The U-Net (`unet`).
        case unet
    }

    /// How one candidate scored on the held-out pixels.
    public struct Score: Sendable, Equatable {
        /// Mean over classes of the per-class IoU (classes neither labelled nor predicted there
        /// are left out).
        public var meanIoU: Double
        /// Per class, in the class list's order (NaN where left out).
        public var iou: [Double]
        /// Wall-clock training (and, for the forest, scoring) time.
        public var seconds: Double
    }

    /// What was compared and why the kept model was kept.
    public struct Report: Sendable {
        /// The classes both candidates were scored on, in model order.
        public var classes: [PixelClass]
        /// Held-out labelled pixels per class.
        public var validationCounts: [Int]
        /// The random forest's score (trained without the held-out blocks' labels).
        public var forest: Score
        /// The U-Net's score (its best validation pass).
        public var unet: Score
        /// The method kept (``choose(forest:unet:)`` on the two mean IoUs).
        public var chosen: Method
        /// One sentence for the user.
        public var reason: String
    }

    /// The kept model.
    public enum Trained {
        /// The forest, retrained on every label.
        case forest(PixelClassifierModel)
        /// The U-Net trained without the held-out blocks' labels.
        case unet(UNetSegmenterModel)
    }

    /// The chosen method: the U-Net only when its held-out mean IoU is strictly higher.
    public static func choose(forest: Double, unet: Double) -> Method {
        unet > forest ? .unet : .forest
    }

    /// Trains both methods and keeps the better (see the type's description).
    ///
    /// - Parameters:
    ///   - forest: the forest's options (as `--method rf`).
    ///   - unet: the U-Net's options (as `--method unet`); its `validationFraction` and `patchSize`
    ///     set the held-out lattice for both. With `budgetMinutes`, the U-Net gets what the forest left of it.
    ///   - images: names of the training images (recorded in the U-Net model).
    ///   - budgetMinutes: total time for both candidates (nil: the U-Net's own steps/minutes).
    ///   - onStep: called after every U-Net step (the workbench's chart and Cancel: what it throws
    ///     stops the training and is rethrown).
    /// - Throws: ``PixelClassifierError`` when there is no validation split (`validationFraction` 0), when a
    ///   class has labels only in the held-out blocks, and whatever training either method throws.
    /// - Complexity: a forest training without the held-out blocks' labels, a whole-image forest
    ///   prediction of every training image, one U-Net training (bounded by its steps or minutes),
    ///   and, when the forest is kept, its retraining on every label.
    public static func train(_ examples: [PixelClassifier.TrainingExample], classes: [PixelClass]?,
                             forest: PixelClassifier.TrainingOptions, unet: UNetTrainingOptions, images: [String],
                             budgetMinutes: Double? = nil, progress: CleaveCore.Progress = .silent,
                             log: (String) -> Void = { _ in },
                             onStep: (UNetTrainer.Status) throws -> Void = { _ in }) throws -> (model: Trained, report: Report) {
        guard !examples.isEmpty else { throw PixelClassifierError.noTrainingImages(operation: "method selection") }
        guard unet.validationFraction > 0 else {
            throw PixelClassifierError.invalidOption(field: "validationFraction", value: "0", reason: "method selection needs held-out labels to compare the methods on; the validation share is 0")
        }
        try unet.validate()
        let start = Date()
        let lattice = NeuralTrainingSet.ValidationSplit.blocks(side: unet.patchSize)
        let split = try HeldOutSplit(examples, fraction: unet.validationFraction, split: lattice)

        // Both candidates must see every class in their training part.
        let classValues = try classList(classes, found: split.allValues)
        for c in classValues where split.trainingValues[c.value, default: 0] == 0 {
            throw PixelClassifierError.cannotSelectMethod(reason: "class \(c) is labelled only in the held-out blocks of its planes (\(examples.map(\.labelsName).joined(separator: ", "))); label it higher up too, or choose the method yourself")
        }

        // 1. Forest on the rows above the split, scored on the rows below.
        log("method selection: training the forest on the labels outside the held-out blocks")
        let reduced = examples.enumerated().map { e, example in
            PixelClassifier.TrainingExample(input: example.input, labels: split.trainingLabels[e], labelsName: example.labelsName)
        }
        let forestModel = try PixelClassifier.train(reduced, classes: classes, options: forest, progress: progress)
        var confusion = Confusion(classes: classValues.map(\.value))
        for (e, example) in examples.enumerated() where !split.heldOut[e].isEmpty {
            let prediction = try PixelClassifier.predict(example.input, model: forestModel, blockSize: forest.blockSize)
            for (pixel, truth) in split.heldOut[e] { confusion.add(truth: truth, predicted: prediction.labels[pixel]) }
        }
        let forestSeconds = Date().timeIntervalSince(start)
        let forestScores = confusion.scores()
        log(String(format: "method selection: forest held-out mean IoU %.4f (%.1f s)", forestScores.mean, forestSeconds))

        // 2. U-Net with the same held-out blocks.
        var unetOptions = unet
        if let budgetMinutes {
            let left = budgetMinutes - forestSeconds / 60
            guard left > 0.05 else {
                throw PixelClassifierError.cannotSelectMethod(reason: String(format: "the forest took %.1f of the %.1f minutes budgeted; nothing is left for the U-Net — give more `minutes`", forestSeconds / 60, budgetMinutes))
            }
            unetOptions.minutes = min(unetOptions.minutes ?? .infinity, left)
        }
        let unetStart = Date()
        let set = try NeuralTrainingSet(examples, classes: classes, slices: unetOptions.slices,
                                        validationFraction: unetOptions.validationFraction,
                                        percentiles: unetOptions.percentiles, flattening: unetOptions.flattening, split: lattice)
        let network = try UNetTrainer.train(set, options: unetOptions, images: images, log: log, onStep: onStep)
        let unetScore = Score(meanIoU: network.training.validationMeanIoU ?? 0,
                              iou: network.training.validationIoU ?? [], seconds: Date().timeIntervalSince(unetStart))

        // 3. Keep the better one.
        let chosen = choose(forest: forestScores.mean, unet: unetScore.meanIoU)
        let heldOutPixels = split.validationCounts(classValues.map(\.value)).reduce(0, +)
        let comparison = String(format: "held-out mean IoU: U-Net %.3f, forest %.3f on %d labelled pixels (every %dth block of %d px, spread over each labelled plane)",
                                unetScore.meanIoU, forestScores.mean, heldOutPixels, max(2, Int((1 / unet.validationFraction).rounded())), unet.patchSize)
        let model: Trained
        let reason: String
        switch chosen {
        case .unet:
            model = .unet(network)
            reason = "kept the U-Net: " + comparison
        case .forest:
            log("method selection: retraining the forest on every label")
            model = .forest(try PixelClassifier.train(examples, classes: classes, options: forest, progress: progress))
            reason = "kept the forest (retrained on every label)" + (unetScore.meanIoU == forestScores.mean ? ", a tie goes to the faster forest: " : ": ") + comparison
        }
        let report = Report(classes: classValues, validationCounts: split.validationCounts(classValues.map(\.value)),
                            forest: Score(meanIoU: forestScores.mean, iou: forestScores.iou, seconds: forestSeconds),
                            unet: unetScore, chosen: chosen, reason: reason)
        return (model, report)
    }

    /// The class list both candidates use: the given one, or every label value found.
    static func classList(_ requested: [PixelClass]?, found: Set<Int32>) throws -> [PixelClass] {
        if let requested { return requested.sorted { $0.value < $1.value } }
        return found.sorted().enumerated().map { PixelClass.unnamed($1, position: $0) }
    }
}

/// The labels of every example cut into the part above each labelled plane's split row (training)
/// and the labelled pixels below it (held out).
struct HeldOutSplit {
    /// Per example: the label image with the held-out labels cleared.
    var trainingLabels: [AnyImage] = []
    /// Per example: (linear pixel index, label value) of every held-out labelled pixel.
    var heldOut: [[(Int, Int32)]] = []
    /// Labelled training pixels per label value.
    var trainingValues: [Int32: Int] = [:]
    /// Every label value found.
    var allValues = Set<Int32>()

    init(_ examples: [PixelClassifier.TrainingExample], fraction: Double, split: NeuralTrainingSet.ValidationSplit) throws {
        for example in examples {
            let shape = example.input.spatialShape
            guard example.labels.shape.singleChannel == shape, example.labels.shape.channels == 1 else {
                throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "label image is \(example.labels.shape), but \(example.input.name) is \(shape); they must match")
            }
            var values = try PixelClassifier.labelValues(example.labels, name: example.labelsName)
            guard let largest = values.max(), largest <= Int32(UInt16.max) else {
                throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "label values must lie in 0…65535")
            }
            var held: [(Int, Int32)] = []
            for z in 0..<shape.depth {
                let first = z * shape.planeSize
                let plane = Array(values[first..<(first + shape.planeSize)])
                guard plane.contains(where: { $0 != 0 }) else { continue }
                let mask = NeuralTrainingSet.validationMask(plane, width: shape.width, height: shape.height, fraction: fraction, split: split)
                for (q, isHeld) in mask.enumerated() where isHeld && plane[q] != 0 {
                    held.append((first + q, plane[q]))
                    values[first + q] = 0
                }
            }
            for v in values where v != 0 { trainingValues[v, default: 0] += 1; allValues.insert(v) }
            for (_, v) in held { allValues.insert(v) }
            trainingLabels.append(.uint16(Image<UInt16>(shape: example.labels.shape, pixels: values.map { UInt16($0) },
                                                        spacing: example.labels.spacing)))
            heldOut.append(held)
        }
    }

    func validationCounts(_ classValues: [Int32]) -> [Int] {
        var counts: [Int32: Int] = [:]
        for part in heldOut { for (_, v) in part { counts[v, default: 0] += 1 } }
        return classValues.map { counts[$0, default: 0] }
    }
}

/// Pooled intersection and union per class, as the U-Net's validation scores count them.
struct Confusion {
    let classValues: [Int32]
    private let index: [Int32: Int]
    private var intersection: [Int]
    private var union: [Int]

    init(classes: [Int32]) {
        classValues = classes
        index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        intersection = [Int](repeating: 0, count: classes.count)
        union = intersection
    }

    mutating func add(truth: Int32, predicted: Int32) {
        guard let t = index[truth] else { return }
        if truth == predicted {
            intersection[t] += 1; union[t] += 1
        } else {
            union[t] += 1
            if let p = index[predicted] { union[p] += 1 }
        }
    }

    /// Per-class IoU (NaN where the class is neither labelled nor predicted) and their mean.
    func scores() -> (mean: Double, iou: [Double]) {
        let iou = zip(intersection, union).map { $1 == 0 ? Double.nan : Double($0) / Double($1) }
        let valid = iou.filter { !$0.isNaN }
        return (valid.isEmpty ? 0 : valid.reduce(0, +) / Double(valid.count), iou)
    }
}
