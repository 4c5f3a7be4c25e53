import CleaveCore

/// An MRC file Cleave cannot read or write, with the path, the header field or offset, and why.
public enum MRCError: CleaveErrorProtocol, Equatable {
    /// Not an MRC header (no "MAP " stamp and implausible fields).
    case badHeader(path: String, field: String, reason: String)
    /// A data mode Cleave does not read (e.g. complex modes 3, 4).
    case unsupportedMode(path: String, mode: Int)
    /// Data runs past the end of the file.
    case truncated(path: String, offset: Int, expected: Int, actual: Int)
    /// The image cannot be stored as MRC (several channels, …).
    case cannotWrite(path: String, reason: String)

    /// One line: the path, where in the file, and what was expected.
    public var description: String {
        switch self {
        case let .badHeader(path, field, reason): return "\(path): MRC header field \(field): \(reason)"
        case let .unsupportedMode(path, mode):
            return "\(path): MRC mode \(mode) is not supported (expected 0 int8, 1 int16, 2 float32, 6 uint16 or 12 float16)"
        case let .truncated(path, offset, expected, actual):
            return "\(path): MRC truncated at offset \(offset): expected \(expected) bytes, file has \(actual)"
        case let .cannotWrite(path, reason): return "\(path): cannot write MRC: \(reason)"
        }
    }
}
