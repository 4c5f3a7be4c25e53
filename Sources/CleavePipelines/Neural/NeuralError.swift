import CleaveCore

/// Why U-Net training or prediction cannot go on: one line naming what, where and why. Options
/// are named by their ``UNetTrainingOptions`` field; a field mentioned inside a reason is written
/// in backticks (`` `slices` ``) so that the command line and the server can say it their way.
public enum NeuralError: FieldNamingError, Equatable {
    /// A ``UNetTrainingOptions`` (or experiment) field that cannot be used.
    case invalidOption(field: String, value: String?, reason: String)
    /// Training was asked for without any training image.
    case noTrainingImages
    /// An input (image, label image, stack; named by `source`) that does not fit the others, the
    /// model or the options.
    case unusableInput(source: String, reason: String)
    /// The labels cannot train a network (too few labelled pixels, classes, a held-out split).
    case unusableLabels(source: String?, reason: String)
    /// A region of interest outside the image.
    case regionOutside(region: String, image: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason).description
        case .noTrainingImages: return "no training images given"
        case let .unusableInput(source, reason): return "\(source): \(reason)"
        case let .unusableLabels(source, reason): return source.map { "\($0): \(reason)" } ?? reason
        case let .regionOutside(region, image): return "region \(region) is not inside the \(image) image"
        }
    }
}

extension NeuralError {
    /// The option field of ``invalidOption(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidOption(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}
