import CleaveCore

/// A synthetic sample's options that cannot be used: one line naming the field of the sample's
/// `Options`, the value and why. (Files that cannot be written are ``PipelineFileError``.)
public enum SampleError: FieldNamingError, Equatable {
    /// An options field outside its range, or a combination of fields that does not go together.
    case invalidOption(field: String, value: String?, reason: String)

    /// `field value: reason` (fields by their API names; ``invalidField`` gives the parts to the
    /// command line and the server).
    public var description: String {
        switch self {
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason).description
        }
    }
}

extension SampleError {
    /// The option field of ``invalidOption(field:value:reason:)`` (every sample error is one).
    public var invalidField: InvalidField? {
        switch self {
        case let .invalidOption(field, value, reason): return InvalidField(field: field, value: value, reason: reason)
        }
    }
}
