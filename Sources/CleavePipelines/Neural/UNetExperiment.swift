import Foundation
import CleaveCore
import CleaveLearning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The design study before committing to a model: train a grid of U-Net variants (depth × width ×
/// detector channels × slices) on the same labels under one budget, and score each on the
/// validation split and on held-out test planes.
public enum UNetExperiment {
    /// One point of the grid.
    public struct Variant: Codable, Sendable, Equatable, CustomStringConvertible {
        /// Resolution levels of the U-Net, bottleneck included (``UNetConfiguration/depth``).
        public var depth: Int
        /// Channels of the first level (``UNetConfiguration/baseWidth``).
        public var baseWidth: Int
        /// The first `channels` detector channels of the inputs are used.
        public var channels: Int
        /// Neighbouring slices per detector: 1, 3 or 5.
        public var slices: Int
        /// A grid point; values are checked when ``UNetExperiment/run(_:classes:tests:variants:options:log:)`` validates the options.
        public init(depth: Int, baseWidth: Int, channels: Int, slices: Int) {
            self.depth = depth; self.baseWidth = baseWidth; self.channels = channels; self.slices = slices
        }
        /// `d<depth>-w<baseWidth>-c<channels>-s<slices>`, e.g. `d4-w16-c1-s3` (the CSV's `variant` column).
        public var description: String { "d\(depth)-w\(baseWidth)-c\(channels)-s\(slices)" }
    }

    /// Planes of an image with true labels to test on.
    public struct TestImage: Sendable {
        /// The test image (its first `channels` channels are used per variant).
        public var input: PixelClassifierInput
        /// Truth label values, whole image (0 = unknown, not scored).
        public var truth: [Int32]
        /// 0-based planes scored.
        public var planes: [Int]
        /// A test image; `truth` must hold one value per pixel of the whole image.
        public init(input: PixelClassifierInput, truth: [Int32], planes: [Int]) {
            self.input = input; self.truth = truth; self.planes = planes
        }
    }

    /// The result of one variant.
    public struct Row: Sendable {
        /// The grid point.
        public var variant: Variant
        /// Training steps run.
        public var steps: Int
        /// The step whose weights were kept (best validation mean IoU).
        public var bestStep: Int
        /// Wall-clock training seconds.
        public var seconds: Double
        /// Process CPU seconds (all threads) of training the variant.
        public var cpuSeconds: Double
        /// The model's classes, in the order of the per-class scores.
        public var classes: [PixelClass]
        /// Validation mean IoU of the kept weights (nil without validation).
        public var validationMeanIoU: Double?
        /// Validation IoU per class (NaN for classes neither labelled nor predicted there).
        public var validationIoU: [Double]?
        /// Scores on the test planes (nil without test images).
        public var test: SegmentationScores?
    }

    /// The grid, in order: depth, width, channels, slices (slices fastest).
    public static func grid(depths: [Int], widths: [Int], channels: [Int], slices: [Int]) -> [Variant] {
        var out: [Variant] = []
        for d in depths { for w in widths { for c in channels { for s in slices { out.append(Variant(depth: d, baseWidth: w, channels: c, slices: s)) } } } }
        return out
    }

    /// Trains and scores every variant.
    /// - Parameters:
    ///   - options: shared options; each variant overrides depth, width and slices. Its step or
    ///     minute budget applies per variant.
    /// - Throws: ``NeuralError`` for bad input (checked for every variant before any training).
    public static func run(_ examples: [NeuralTrainingSet.Example], classes: [PixelClass]?, tests: [TestImage],
                           variants: [Variant], options: UNetTrainingOptions, log: (String) -> Void = { _ in }) throws -> [Row] {
        guard let first = examples.first else { throw NeuralError.noTrainingImages }
        for v in variants where v.channels < 1 || v.channels > first.input.channelCount {
            throw NeuralError.invalidOption(field: "channels", value: "\(v.channels)", reason: "the training images have \(first.input.channelCount) channel\(first.input.channelCount == 1 ? "" : "s")")
        }
        // Build every training set first so that bad input fails before hours of training.
        var sets: [NeuralTrainingSet] = []
        for v in variants {
            var o = options
            o.depth = v.depth; o.baseWidth = v.baseWidth; o.slices = v.slices
            try o.validate()
            let subset = try examples.map {
                NeuralTrainingSet.Example(input: try $0.input.firstChannels(v.channels), labels: $0.labels, labelsName: $0.labelsName)
            }
            sets.append(try NeuralTrainingSet(subset, classes: classes, slices: v.slices, validationFraction: o.validationFraction,
                                              percentiles: o.percentiles, flattening: o.flattening))
        }
        var rows: [Row] = []
        for (v, set) in zip(variants, sets) {
            var o = options
            o.depth = v.depth; o.baseWidth = v.baseWidth; o.slices = v.slices
            log("variant \(v) (\(rows.count + 1)/\(variants.count))")
            let cpu0 = processCPUSeconds()
            let model = try UNetTrainer.train(set, options: o, images: examples.map(\.input.name)) { log("  " + $0) }
            let cpu = processCPUSeconds() - cpu0
            var scores: SegmentationScores?
            if !tests.isEmpty {
                let segmenter = try UNetSegmenter(model: model)
                var truth: [Int32] = [], predicted: [Int32] = []
                for test in tests {
                    let input = try test.input.firstChannels(v.channels)
                    let labels = try UNetOutputs.predictLabels(input, model: model, segmenter: segmenter, planes: test.planes)
                    let n = input.spatialShape.planeSize
                    for z in test.planes {
                        truth.append(contentsOf: test.truth[(z * n)..<((z + 1) * n)])
                        predicted.append(contentsOf: labels[z]!)
                    }
                }
                scores = try SegmentationScores(truth: truth, predicted: predicted, classes: model.classes.map(\.value), ignore: 0)
            }
            rows.append(Row(variant: v, steps: model.training.steps, bestStep: model.training.bestStep, seconds: model.training.seconds,
                            cpuSeconds: cpu, classes: model.classes, validationMeanIoU: model.training.validationMeanIoU,
                            validationIoU: model.training.validationIoU, test: scores))
            if let s = scores { log(String(format: "  test mIoU %.4f", s.meanIoU)) }
        }
        return rows
    }

    /// CSV with one line per variant: the grid point, steps, times, validation and test scores
    /// (per-class IoU and Dice).
    public static func csv(_ rows: [Row]) -> String {
        guard let first = rows.first else { return "" }
        let names = first.classes.map { $0.name.replacingOccurrences(of: ",", with: " ") }
        var header = ["variant", "depth", "width", "channels", "slices", "steps", "best_step", "seconds", "cpu_seconds", "val_miou", "test_miou", "test_accuracy"]
        header += names.map { "val_iou_\($0)" } + names.map { "test_iou_\($0)" } + names.map { "test_dice_\($0)" }
        var lines = [header.joined(separator: ",")]
        func f(_ v: Double?) -> String { v.map { $0.isNaN ? "" : String(format: "%.4f", $0) } ?? "" }
        for r in rows {
            var fields = [r.variant.description, "\(r.variant.depth)", "\(r.variant.baseWidth)", "\(r.variant.channels)", "\(r.variant.slices)",
                          "\(r.steps)", "\(r.bestStep)", String(format: "%.1f", r.seconds), String(format: "%.1f", r.cpuSeconds),
                          f(r.validationMeanIoU), f(r.test?.meanIoU), f(r.test?.pixelAccuracy)]
            fields += names.indices.map { f(r.validationIoU?[$0]) }
            fields += names.indices.map { f(r.test?.iou[$0]) }
            fields += names.indices.map { f(r.test?.dice[$0]) }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A fixed-width table for the terminal.
    public static func table(_ rows: [Row]) -> String {
        guard let first = rows.first else { return "" }
        let names = first.classes.map(\.name)
        func f(_ v: Double?) -> String { v.map { $0.isNaN ? "  –   " : String(format: "%.4f", $0) } ?? "  –   " }
        var out = "variant          steps   time s  cpu s   val mIoU  test mIoU  test IoU (\(names.joined(separator: " / ")))\n"
        for r in rows {
            let name = r.variant.description.padding(toLength: 16, withPad: " ", startingAt: 0)
            let iou = r.test.map { $0.iou.map { f($0) }.joined(separator: " ") } ?? ""
            out += "\(name) \(String(format: "%6d  %7.1f %6.0f", r.steps, r.seconds, r.cpuSeconds))   \(f(r.validationMeanIoU))    \(f(r.test?.meanIoU))    \(iou)\n"
        }
        return out
    }

    /// Label values of a label image as Int32 (0 = unlabelled).
    /// - Throws: ``CleaveError`` when a value is negative, fractional or above 65535.
    public static func labelValues(_ image: AnyImage, name: String) throws -> [Int32] {
        try PixelClassifier.labelValues(image, name: name)
    }

    /// User + system CPU seconds of this process so far.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

extension PixelClassifierInput {
    /// The first `count` channels (e.g. one detector of two).
    /// - Throws: ``NeuralError/unusableInput(source:reason:)`` when the input has fewer channels.
    public func firstChannels(_ count: Int) throws -> PixelClassifierInput {
        guard count <= channelCount else { throw NeuralError.unusableInput(source: name, reason: "has \(channelCount) channels, \(count) requested") }
        if count == channelCount { return self }
        var parts: [AnyImage] = []
        var taken = 0
        for part in self.parts where taken < count {
            let c = part.shape.channels
            if taken + c <= count {
                parts.append(part)
                taken += c
            } else {
                let keep = count - taken
                func firstOf<S: PixelScalar>(_ image: Image<S>) -> Image<S> {
                    Image.stackingChannels((0..<keep).map { image.channel($0) })
                }
                switch part {
                case .uint8(let i): parts.append(.uint8(firstOf(i)))
                case .uint16(let i): parts.append(.uint16(firstOf(i)))
                case .float32(let i): parts.append(.float32(firstOf(i)))
                }
                taken = count
            }
        }
        return try PixelClassifierInput(name: name, parts: parts)
    }
}
