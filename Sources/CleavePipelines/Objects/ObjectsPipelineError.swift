import CleaveCore

/// Why the objects pipeline cannot go on: one line naming what, where and why. Options are named
/// by their field (``ObjectsPipeline/Options``, ``ObjectClustering``); the command line and the
/// server say their flag or JSON name instead.
public enum ObjectsPipelineError: FieldNamingError, Equatable {
    /// An option that cannot be used (`value` nil: its absence or a combination).
    case invalidOption(field: String, value: String?, reason: String)
    /// An image that cannot be turned into objects.
    case unusableImage(reason: String)
    /// A classifier training file (`label,class` lines) that cannot be read; `line` is 1-based.
    case invalidTrainingFile(path: String, line: Int?, reason: String)
    /// The labelled objects cannot train a classifier.
    case cannotTrain(reason: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason).description
        case let .unusableImage(reason): return "objects: \(reason)"
        case let .invalidTrainingFile(path, line, reason): return line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)"
        case let .cannotTrain(reason): return "classifier training: \(reason)"
        }
    }
}

extension ObjectsPipelineError {
    /// The option field of ``invalidOption(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidOption(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}
