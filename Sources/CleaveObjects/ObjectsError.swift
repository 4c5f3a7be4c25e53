import CleaveCore

/// Why objects cannot be labelled, measured, outlined or classified by rules: one line naming
/// what, where and why.
public enum ObjectsError: FieldNamingError, Equatable {
    /// A parameter of a measurement call outside its range (`percentiles`, `shellCount`).
    case invalidParameter(field: String, value: String, reason: String)
    /// A label image that cannot be taken as labels (channels, a value that is no label, numbering).
    case invalidLabelImage(reason: String)
    /// Images that must have the same size do not.
    case sizeMismatch(image: String, shape: String, labels: String)
    /// A measurement that the table does not have.
    case unknownMeasurement(name: String, validNames: [String])
    /// A 2D-only measurement asked of 3D objects.
    case twoDimensionalMeasurement(name: String, validNames: [String])
    /// A 3D label image where only 2D is supported (`operation`, e.g. outlines).
    case notTwoDimensional(operation: String, shape: String, reason: String)
    /// A classification rule that does not parse (`rule` 1-based; nil: the rule set as a whole).
    case invalidRule(rule: Int?, text: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(field, value, reason): return "\(field) \(value): \(reason)"
        case let .invalidLabelImage(reason): return "label image: \(reason)"
        case let .sizeMismatch(image, shape, labels):
            return "\(image) is \(shape) but the labels are \(labels); they must have the same size"
        case let .unknownMeasurement(name, valid):
            return "unknown measurement '\(name)'; valid names: \(valid.joined(separator: ", "))"
        case let .twoDimensionalMeasurement(name, valid):
            return "measurement '\(name)' is 2D only and the objects are 3D; 3D measurements: \(valid.joined(separator: ", "))"
        case let .notTwoDimensional(operation, shape, reason): return "\(operation): the label image is 3D (\(shape)); \(reason)"
        case let .invalidRule(rule, text, reason):
            return rule.map { "rule \($0) '\(text)': \(reason)" } ?? "rules: \(reason)"
        }
    }
}

extension ObjectsError {
    /// The parameter field of ``invalidParameter(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidParameter(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}
