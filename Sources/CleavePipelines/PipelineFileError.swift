import CleaveCore

/// A file or folder a pipeline could not read, create or write: one line naming the path and
/// the operating system's reason. Outputs are written whole or not at all (``AtomicFile``), so
/// after this error nothing half-written is left behind.
public enum PipelineFileError: CleaveErrorProtocol, Equatable {
    /// A file that cannot be opened or read; `what` says what it was meant to be ("the class list").
    case cannotRead(path: String, what: String)
    /// A folder that cannot be created (`field` is the option that named it, e.g. `out`).
    case cannotCreateFolder(path: String, field: String?, reason: String)
    /// A file that cannot be created, written or moved into place.
    case cannotWrite(path: String, reason: String?)
    /// Reading a file back (a scratch file the pipeline wrote itself) failed.
    case readFailed(path: String, reason: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .cannotRead(path, what): return "\(path): cannot read \(what)"
        case let .cannotCreateFolder(path, field, reason):
            return field.map { "\($0) \(path): cannot create the folder: \(reason)" } ?? "\(path): cannot create the folder: \(reason)"
        case let .cannotWrite(path, reason): return reason.map { "\(path): cannot write: \($0)" } ?? "\(path): cannot write"
        case let .readFailed(path, reason): return "\(path): \(reason)"
        }
    }
}

extension PipelineFileError: FieldNamingError {
    /// A folder named by an option is that option's problem (`--out DIR: cannot create …`).
    public var invalidField: InvalidField? {
        guard case let .cannotCreateFolder(path, field?, reason) = self else { return nil }
        return InvalidField(field: field, value: path, reason: "cannot create the folder: \(reason)")
    }
}

/// A saved model that cannot be used: unreadable, of another kind, of a newer format, damaged, or
/// inconsistent with itself or with the input. Loading a model into the wrong pipeline is this
/// error, never a crash.
public enum ModelFileError: CleaveErrorProtocol, Equatable {
    /// A file of another kind (`expected` e.g. "Cleave U-Net model"; `found` what it holds instead).
    case wrongKind(path: String, expected: String, found: String)
    /// A format version this Cleave does not read.
    case unsupportedVersion(path: String, kind: String, found: String, supported: Int)
    /// The file is damaged: invalid JSON, a field out of range, parts that disagree (`kind`:
    /// what the file is, e.g. "Locator model").
    case damaged(path: String, kind: String = "model file", reason: String)
    /// A sound model that does not fit what it is applied to or resumed with.
    case mismatch(path: String, reason: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .wrongKind(path, expected, found): return "\(path): not a \(expected) (\(found)); was it saved by another command?"
        case let .unsupportedVersion(path, kind, found, supported):
            return "\(path): \(kind) format version \(found) is not supported (this Cleave \(cleaveVersion) reads version \(supported))"
        case let .damaged(path, kind, reason): return "\(path): damaged \(kind) (\(reason))"
        case let .mismatch(path, reason): return "\(path): \(reason)"
        }
    }
}
