import Foundation
import CleaveCore
import CleaveNeural

/// A trained U-Net pixel classifier, in one self-describing JSON file.
///
/// ```
/// { "kind": "cleave.unet-segmenter", "formatVersion": 1, "cleaveVersion": "0.1.0",
///   "classes": [{"value": 1, "name": "pore", "colour": {…}}, …],      // network output order
///   "input": {"detectorChannels": 2, "slices": 3, "percentiles": [1, 99],
///             "windows": [{"low": …, "high": …}, …]},                  // per detector
///   "architecture": {…UNetConfiguration…},
///   "training": {…}, "weights": {…} }
/// ```
///
/// Prediction feeds plane z of an image as `detectors × slices` channels (planes z−h…z+h,
/// mirrored at the stack ends), each detector mapped through its window to −1…1.
public struct UNetSegmenterModel: Codable {
    /// The version of this file layout.
    public static let currentFormatVersion = 1
    /// The `kind` tag every U-Net model file carries.
    public static let kindTag = "cleave.unet-segmenter"

    /// Always ``kindTag``; ``read(path:)`` refuses other files.
    public let kind: String
    /// The file layout's version (``currentFormatVersion`` when written).
    public let formatVersion: Int
    /// Cleave version that trained the model.
    public let cleaveVersion: String
    /// Classes in the network's output order (ascending label value).
    public let classes: [PixelClass]
    /// Channels, slices and intensity windows of the input.
    public let input: NeuralInputSpec
    /// The network's architecture.
    public let architecture: UNetConfiguration
    /// How the model was trained.
    public let training: UNetTrainingSummary
    /// The network's parameters.
    public let weights: UNetWeights

    /// A model from a finished training run; the architecture must take `input`'s network channels and
    /// give one output per class (a precondition).
    public init(classes: [PixelClass], input: NeuralInputSpec, architecture: UNetConfiguration,
                training: UNetTrainingSummary, weights: UNetWeights) {
        precondition(architecture.classes == classes.count && architecture.inputChannels == input.networkChannels,
                     "UNetSegmenterModel: architecture \(architecture.inputChannels)→\(architecture.classes) does not match \(input.networkChannels) input channels and \(classes.count) classes")
        self.kind = UNetSegmenterModel.kindTag
        self.formatVersion = UNetSegmenterModel.currentFormatVersion
        self.cleaveVersion = CleaveCore.cleaveVersion
        self.classes = classes
        self.input = input
        self.architecture = architecture
        self.training = training
        self.weights = weights
    }

    /// Reads and validates a model file.
    /// - Throws: ``PipelineFileError`` when unreadable; ``ModelFileError`` when not a U-Net model,
    ///   from a newer format, or inconsistent.
    public static func read(path: String) throws -> UNetSegmenterModel {
        let model = try ModelFileKind.decode(UNetSegmenterModel.self, path: path, kindTag: kindTag, formatVersion: currentFormatVersion,
                                             expected: "Cleave U-Net model", kindName: "U-Net model")
        guard model.architecture.classes == model.classes.count,
              model.architecture.inputChannels == model.input.networkChannels,
              model.input.windows.count == model.input.detectorChannels,
              NeuralInputSpec.allowedSlices.contains(model.input.slices) else {
            throw ModelFileError.damaged(path: path, reason: "architecture (\(model.architecture.inputChannels) inputs, \(model.architecture.classes) classes) disagrees with the input spec (\(model.input.detectorChannels) channels × \(model.input.slices) slices) or the \(model.classes.count) classes")
        }
        try PixelClassList.validateSaved(model.classes, path: path)
        if let sigma = model.input.flattening, !(sigma > 0 && sigma.isFinite) {
            throw ModelFileError.damaged(path: path, reason: "input.flattening: \(sigma) is not a positive finite sigma")
        }
        for (d, window) in model.input.windows.enumerated() where !(window.low.isFinite && window.high.isFinite) {
            throw ModelFileError.damaged(path: path, reason: "input.windows[\(d)]: \(window.low)…\(window.high) is not finite")
        }
        // Architecture and weights: every array present with its shape and finite values.
        do { _ = try UNet(weights: model.weights) } catch {
            throw ModelFileError.damaged(path: path, reason: "weights: \(error)")
        }
        guard model.weights.configuration == model.architecture else {
            throw ModelFileError.damaged(path: path, reason: "weights.configuration differs from architecture")
        }
        return model
    }

    /// Writes the model atomically.
    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }

    /// Throws when an input with `channels` channels and `depth` planes cannot be classified.
    public func check(channels: Int, depth: Int, source: String) throws {
        try input.check(channels: channels, depth: depth, source: source)
    }

    /// A pixel radius beyond which input cannot change an output pixel, for Cleave's U-Net with
    /// `depth` levels (P = depth − 1 poolings): two 3×3 convolutions per level, 2×2 pooling, and
    /// bilinear up-sampling + a 3×3 convolution on the way up give 3·(2^P − 1) down, 2·2^P at the
    /// bottleneck and 5·(2^P − 1) up; rounded up to 10 · 2^P.
    public static func receptiveRadius(depth: Int) -> Int { 10 << max(0, depth - 1) }
}

/// What a U-Net was trained on and how (provenance; prediction does not use it).
public struct UNetTrainingSummary: Codable, Sendable, Equatable {
    /// Names of the training images.
    public var images: [String]
    /// Labelled training / validation pixels per class.
    public var trainingPixels: [Int]
    /// Labelled validation pixels per class (zeros without validation).
    public var validationPixels: [Int]
    /// The options training ran with.
    public var options: UNetTrainingOptions
    /// Steps run, and the step whose weights were kept (best validation mIoU).
    public var steps: Int
    /// The kept step (the last step when there was no validation).
    public var bestStep: Int
    /// Validation scores of the kept weights (nil without validation).
    public var validationMeanIoU: Double?
    /// Validation IoU per class of the kept weights (NaN for classes neither labelled nor predicted there).
    public var validationIoU: [Double]?
    /// Wall-clock training seconds (summed over resumed runs).
    public var seconds: Double
    /// Every validation pass, in order.
    public var history: [UNetEvaluation]
}

/// One validation pass during training.
public struct UNetEvaluation: Codable, Sendable, Equatable {
    /// Steps done when the pass ran.
    public var step: Int
    /// Mean training batch loss since the previous pass.
    public var loss: Double
    /// Mean over classes of the validation IoU (classes left out where NaN).
    public var meanIoU: Double
    /// Validation IoU per class (NaN for classes neither labelled nor predicted).
    public var iou: [Double]
    /// Training seconds elapsed at the pass (counting earlier runs of a resumed training).
    public var seconds: Double
}

/// Tells model files apart by their `"kind"`.
public enum ModelFileKind: Equatable, Sendable {
    case randomForest, unet, unknown(String?)

    /// The kind of the model file at `path`.
    /// - Throws: ``PipelineFileError/cannotRead(path:what:)`` when the file cannot be read.
    public static func detect(path: String) throws -> ModelFileKind {
        guard let data = FileManager.default.contents(atPath: path) else { throw PipelineFileError.cannotRead(path: path, what: "the model file") }
        let kind = try header(data, path: path).kind
        switch kind {
        case PixelClassifierModel.kindTag: return .randomForest
        case UNetSegmenterModel.kindTag: return .unet
        default: return .unknown(kind)
        }
    }

    /// The JSON model at `path`, decoded once its header shows `kindTag` and `formatVersion`: the one
    /// reading of model files (pixel classifier and U-Net). The caller checks what only it knows.
    /// - Throws: ``PipelineFileError/cannotRead(path:what:)`` when unreadable;
    ///   ``ModelFileError/wrongKind(path:expected:found:)`` (saying `expected`),
    ///   ``ModelFileError/unsupportedVersion(path:kind:found:supported:)`` (saying `kindName`) or
    ///   ``ModelFileError/damaged(path:reason:)``.
    static func decode<Model: Decodable>(_ type: Model.Type, path: String, kindTag: String, formatVersion: Int,
                                         expected: String, kindName: String) throws -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineFileError.cannotRead(path: path, what: "the model file")
        }
        let found = try header(data, path: path)
        guard found.kind == kindTag else {
            throw ModelFileError.wrongKind(path: path, expected: expected, found: "no \"kind\": \"\(kindTag)\"")
        }
        guard found.formatVersion == formatVersion else {
            throw ModelFileError.unsupportedVersion(path: path, kind: kindName, found: found.formatVersion.map(String.init) ?? "?",
                                                    supported: formatVersion)
        }
        do {
            return try JSONDecoder().decode(Model.self, from: data)
        } catch let error as DecodingError {
            throw ModelFileError.damaged(path: path, reason: describe(error))
        }
    }

    /// `kind` and `formatVersion` of a JSON model without decoding the rest (nil when absent or
    /// when the file is JSON of another shape).
    /// - Throws: ``ModelFileError/damaged(path:reason:)`` when the file is not valid JSON (typically
    ///   a truncated copy), rather than reporting its kind as missing.
    static func header(_ data: Data, path: String) throws -> (kind: String?, formatVersion: Int?) {
        struct Header: Decodable { let kind: String?; let formatVersion: Int? }
        do {
            let h = try JSONDecoder().decode(Header.self, from: data)
            return (h.kind, h.formatVersion)
        } catch DecodingError.dataCorrupted {
            throw ModelFileError.damaged(path: path, reason: "\(data.count) bytes of incomplete or invalid JSON; a truncated copy?")
        } catch {
            return (nil, nil)
        }
    }
}
