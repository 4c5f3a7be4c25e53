import Foundation
import CleaveCore
import CleaveFeatures
import CleaveLearning

/// A trained pixel classifier: everything needed to apply it to new images, in one JSON file.
///
/// ```
/// { "kind": "cleave.pixel-classifier", "formatVersion": 1, "cleaveVersion": "0.1.0",
///   "classes": [{"value": 1, "name": "pore", "colour": {…}}, …],   // forest class order
///   "featureBank": {…}, "featureNames": ["ch0:gaussian:s0", …],
///   "channelCount": 1, "spacingConvention": "…", "trainingSpacing": null,
///   "training": {…}, "forest": {…} }
/// ```
///
/// The model is immutable; ``check(channelCount:source:)`` turns a mismatch with an input into a
/// one-line error instead of a crash.
public struct PixelClassifierModel: Codable, Sendable, Equatable {
    /// The version of this file layout.
    public static let currentFormatVersion = 1
    /// The `kind` tag every pixel-classifier file carries.
    public static let kindTag = "cleave.pixel-classifier"
    /// How scales relate to pixels and spacing (written into every model so a reader knows).
    public static let spacingConventionText =
        "filter scales are Gaussian sigmas in pixels along x; y (and z for 3D banks) follow the image's voxel anisotropy when its spacing is known"

    /// Always ``kindTag``; ``read(path:)`` refuses other files.
    public let kind: String
    /// The file layout's version (``currentFormatVersion`` when written).
    public let formatVersion: Int
    /// Cleave version that trained the model.
    public let cleaveVersion: String
    /// Classes in the forest's order (ascending label value).
    public let classes: [PixelClass]
    /// The exact feature bank the forest was trained on.
    public let featureBank: FilterBank
    /// Feature names, one per forest feature.
    public let featureNames: [String]
    /// Channels every input image must have.
    public let channelCount: Int
    /// See ``spacingConventionText``.
    public let spacingConvention: String
    /// Spacing of the first training image (nil when uncalibrated).
    public let trainingSpacing: Spacing?
    /// What the model was trained on.
    public let training: PixelClassifierTrainingSummary
    /// The classifier.
    public let forest: RandomForest
    /// How each image's grey values were mapped before features (models written before it was
    /// recorded read as ``IntensityNormalization/none``, which is what they did).
    public let intensityNormalization: IntensityNormalization
    /// Pixel type of the first training image (nil in older models).
    public let trainingPixelType: PixelType?

    /// A model from a finished training run. The classes must be the forest's classes in its order and
    /// the bank must give the forest's feature count for `channelCount` channels (preconditions).
    public init(classes: [PixelClass], featureBank: FilterBank, channelCount: Int, trainingSpacing: Spacing?,
                training: PixelClassifierTrainingSummary, forest: RandomForest,
                intensityNormalization: IntensityNormalization = .none, trainingPixelType: PixelType? = nil) {
        precondition(classes.map(\.value) == forest.classes,
                     "PixelClassifierModel: classes \(classes.map(\.value)) differ from the forest's \(forest.classes)")
        precondition(featureBank.featureCount(channelCount: channelCount) == forest.featureCount,
                     "PixelClassifierModel: bank gives \(featureBank.featureCount(channelCount: channelCount)) features, forest has \(forest.featureCount)")
        self.kind = PixelClassifierModel.kindTag
        self.formatVersion = PixelClassifierModel.currentFormatVersion
        self.cleaveVersion = CleaveCore.cleaveVersion
        self.classes = classes
        self.featureBank = featureBank
        self.featureNames = featureBank.featureNames(channelCount: channelCount)
        self.channelCount = channelCount
        self.spacingConvention = PixelClassifierModel.spacingConventionText
        self.trainingSpacing = trainingSpacing
        self.training = training
        self.forest = forest
        self.intensityNormalization = intensityNormalization
        self.trainingPixelType = trainingPixelType
    }

    private enum CodingKeys: String, CodingKey {
        case kind, formatVersion, cleaveVersion, classes, featureBank, featureNames, channelCount, spacingConvention,
             trainingSpacing, training, forest, trainingPixelType
        /// The file keeps the key it has always had.
        case intensityNormalization = "normalisation"
    }

    /// Decodes a model; `normalisation` absent (older files) reads as ``IntensityNormalization/none``.
    /// Use ``read(path:)`` for files: it also checks the classes, forest and bank against each other.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        cleaveVersion = try c.decode(String.self, forKey: .cleaveVersion)
        classes = try c.decode([PixelClass].self, forKey: .classes)
        featureBank = try c.decode(FilterBank.self, forKey: .featureBank)
        featureNames = try c.decode([String].self, forKey: .featureNames)
        channelCount = try c.decode(Int.self, forKey: .channelCount)
        spacingConvention = try c.decode(String.self, forKey: .spacingConvention)
        trainingSpacing = try c.decodeIfPresent(Spacing.self, forKey: .trainingSpacing)
        training = try c.decode(PixelClassifierTrainingSummary.self, forKey: .training)
        forest = try c.decode(RandomForest.self, forKey: .forest)
        intensityNormalization = try c.decodeIfPresent(IntensityNormalization.self, forKey: .intensityNormalization) ?? .none
        trainingPixelType = try c.decodeIfPresent(PixelType.self, forKey: .trainingPixelType)
    }

    /// Throws when `input` cannot be classified by this model: another channel count, or another
    /// pixel type than the training images when the model maps no intensities.
    public func check(_ input: PixelClassifierInput) throws {
        try check(channelCount: input.channelCount, pixelType: input.pixelType, source: input.name)
    }

    /// ``check(_:)`` from what a file header says.
    public func check(channelCount inputChannels: Int, pixelType: PixelType, source: String) throws {
        try check(channelCount: inputChannels, source: source)
        if intensityNormalization == .none, let trainingPixelType, pixelType != trainingPixelType {
            throw PixelClassifierError.pixelTypeMismatch(image: source, imageType: pixelType, trainingType: trainingPixelType)
        }
    }

    /// Throws when an input with `channelCount` channels cannot be classified by this model.
    public func check(channelCount inputChannels: Int, source: String) throws {
        guard inputChannels == channelCount else {
            throw PixelClassifierError.unusableInput(source: source, reason: "has \(inputChannels) channel\(inputChannels == 1 ? "" : "s"), but the model was trained on \(channelCount) (give co-registered channels as IMG1,IMG2,…)")
        }
    }

    /// Reads and validates a model file.
    /// - Throws: ``ModelFileError`` naming the file when it is unreadable, not a pixel classifier,
    ///   from a newer format, or internally inconsistent.
    public static func read(path: String) throws -> PixelClassifierModel {
        let model = try ModelFileKind.decode(PixelClassifierModel.self, path: path, kindTag: kindTag, formatVersion: currentFormatVersion,
                                             expected: "Cleave pixel-classifier model", kindName: "model")
        try PixelClassList.validateSaved(model.classes, path: path)
        guard model.classes.map(\.value) == model.forest.classes else {
            throw ModelFileError.damaged(path: path, reason: "class list \(model.classes.map(\.value)) disagrees with the forest's classes \(model.forest.classes)")
        }
        guard model.channelCount >= 1, model.featureBank.featureCount(channelCount: model.channelCount) == model.forest.featureCount else {
            throw ModelFileError.damaged(path: path, reason: "feature bank gives \(model.featureBank.featureCount(channelCount: max(1, model.channelCount))) features for \(model.channelCount) channels, the forest expects \(model.forest.featureCount)")
        }
        return model
    }

    /// Writes the model as JSON atomically (a temporary file renamed into place), so a failed
    /// write never leaves half a model.
    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFile.write(data, to: path)
    }
}

/// What a model was trained on (for provenance; not used by prediction).
public struct PixelClassifierTrainingSummary: Codable, Sendable, Equatable {
    /// Training images (paths or names; channels joined by ",").
    public var images: [String]
    /// Labelled pixels available per class (forest order).
    public var labelledPixels: [Int]
    /// Pixels actually used per class (after sampling).
    public var usedPixels: [Int]
    /// Out-of-bag accuracy of the forest.
    public var outOfBagAccuracy: Double?
    /// Seed of the pixel sampling and the forest.
    public var seed: UInt64

    /// A summary; the per-class arrays are in the forest's class order.
    public init(images: [String], labelledPixels: [Int], usedPixels: [Int], outOfBagAccuracy: Double?, seed: UInt64) {
        self.images = images
        self.labelledPixels = labelledPixels
        self.usedPixels = usedPixels
        self.outOfBagAccuracy = outOfBagAccuracy
        self.seed = seed
    }
}

func describe(_ error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
        let where_ = context.codingPath.map(\.stringValue).joined(separator: ".")
        return where_.isEmpty ? context.debugDescription : "\(where_): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
        return "missing \(path)"
    @unknown default:
        return "\(error)"
    }
}
