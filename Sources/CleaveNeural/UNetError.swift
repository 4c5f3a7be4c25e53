import CleaveCore

/// Why a U-Net cannot be built, loaded or exported: one line naming what, where and why.
public enum UNetError: FieldNamingError, Equatable {
    /// A ``UNetConfiguration`` field outside what the network can be built with.
    case invalidConfiguration(field: String, value: String, reason: String)
    /// Weights that do not fit the network (configuration, a missing, doubled, extra or
    /// mis-shaped array, non-finite values); `array` is the array's name when one is at fault.
    case weightsMismatch(array: String?, reason: String)
    /// The network's weights lack an array the ONNX graph needs, or it has the wrong shape.
    case exportMissingArray(array: String, expected: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .invalidConfiguration(field, value, reason):
            return "U-Net configuration: \(field) \(value): \(reason)"
        case let .weightsMismatch(array, reason):
            return "U-Net weights: " + (array.map { "array '\($0)' \(reason)" } ?? reason)
        case let .exportMissingArray(array, expected):
            return "ONNX export: missing or mis-shaped array '\(array)'" + (expected.isEmpty ? "" : " (\(expected))")
        }
    }
}

extension UNetError {
    /// The configuration field of ``invalidConfiguration(field:value:reason:)``; nil for every other case.
    public var invalidField: InvalidField? {
        guard case let .invalidConfiguration(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }
}
