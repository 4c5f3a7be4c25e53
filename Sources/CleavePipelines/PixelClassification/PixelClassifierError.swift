import CleaveCore

/// Why pixel classification (training, a model, prediction, a class list) cannot go on: one
/// line naming what, where and why. Options are named by their field; a field mentioned inside
/// a reason is written in backticks so the command line and the server can say it their way.
public enum PixelClassifierError: FieldNamingError, Equatable {
    /// A normalisation text that does not parse.
    case invalidIntensityNormalization(String, reason: String)
    /// An image of another pixel type than the training images, for a model without normalisation.
    case pixelTypeMismatch(image: String, imageType: PixelType, trainingType: PixelType)
    /// A training option (field of the training options) that cannot be used.
    case invalidOption(field: String, value: String?, reason: String)
    /// A class specification `VALUE=NAME[:#rrggbb]` that does not parse.
    case invalidClass(specification: String, reason: String)
    /// A class list (file, or the classes of a model: `source`) that cannot be used; `line` is
    /// 1-based for CSV files.
    case invalidClassList(source: String, line: Int?, reason: String)
    /// Training was asked for without training images (`operation`: train, method selection).
    case noTrainingImages(operation: String)
    /// An image, label image or set of channels (named by `source`) that does not fit the
    /// others or the model.
    case unusableInput(source: String, reason: String)
    /// Labels that cannot train a classifier (none, one class, a class without pixels, …);
    /// `source` names the label images when the problem is theirs.
    case unusableLabels(source: String?, reason: String)
    /// Method selection (forest against U-Net) cannot compare the two.
    case cannotSelectMethod(reason: String)
    /// A region of interest outside the image.
    case regionOutside(image: String, region: String, shape: String)

    /// The invalid field, its value and the reason, for the command line (flag names) and the server (JSON names) to say in their own words; nil for errors that are not about a field.
    public var invalidField: InvalidField? {
        switch self {
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason)
        case let .invalidIntensityNormalization(text, reason): return InvalidField(field: "intensityNormalization", value: "'\(text)'", reason: reason)
        default: return nil
        }
    }

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case .invalidIntensityNormalization(let text, let reason):
            return "normalisation '\(text)': \(reason)"
        case .pixelTypeMismatch(let image, let imageType, let trainingType):
            return "\(image): is \(imageType), but the model was trained on \(trainingType) images without intensity normalisation; its grey levels would mean other phases (retrain with normalisation percentile, or convert the image)"
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason).description
        case let .invalidClass(specification, reason): return "class '\(specification)': \(reason)"
        case let .invalidClassList(source, line, reason): return line.map { "\(source): line \($0): \(reason)" } ?? "\(source): \(reason)"
        case let .noTrainingImages(operation): return "\(operation): no training images given"
        case let .unusableInput(source, reason): return "\(source): \(reason)"
        case let .unusableLabels(source, reason): return source.map { "\($0): \(reason)" } ?? reason
        case let .cannotSelectMethod(reason): return "method selection: \(reason)"
        case let .regionOutside(image, region, shape): return "\(image): region \(region) is not inside the \(shape) image"
        }
    }
}
