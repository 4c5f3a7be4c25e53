import CleaveCore

/// A synthetic sample's options that cannot be used: one line naming the field of the sample's
/// `Options`, the value and why. (Files that cannot be written are ``PipelineFileError``.)
public enum SampleError: FieldNamingError, Equatable {
    /// An options field outside its range, or a combination of fields that does not go together.
    case invalidOption(field: String, value: String?, reason: String)

    /// The invalid field, its value and the reason, for the command line (flag names) and the server (JSON names) to say in their own words; nil for errors that are not about a field.
    public var invalidField: InvalidField? {
        guard case let .invalidOption(field, value, reason) = self else { return nil }
        return InvalidField(field: field, value: value, reason: reason)
    }

    /// The invalid field, its value and the reason, for the command line (flag names) and the server (JSON names) to say in their own words; nil for errors that are not about a field.
    public var description: String { invalidField!.description }
}
