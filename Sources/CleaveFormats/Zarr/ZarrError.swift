import CleaveCore

/// An OME-Zarr / Zarr store Cleave cannot read or write, with the path (of the store, array
/// or chunk), the metadata field or chunk, and why. One line each.
public enum ZarrError: CleaveErrorProtocol, Equatable {
    /// A metadata document (`.zarray`, `.zattrs`, `.zgroup`, `zarr.json`) is missing, not JSON,
    /// or a field has the wrong type or an impossible value.
    case badMetadata(path: String, field: String, reason: String)
    /// Declared sizes (shape, chunk shape) that no reader could allocate.
    case absurdSize(path: String, field: String, reason: String)
    /// A codec, filter, data type or layout Cleave does not read.
    case unsupported(path: String, what: String, reason: String)
    /// A chunk is corrupt or truncated (decoding failed or gave the wrong number of bytes).
    case badChunk(path: String, chunk: String, reason: String)
    /// The request cannot be met by this store (region outside the array, level out of range…).
    case invalidRequest(path: String, reason: String)
    /// The store (or a chunk) could not be written.
    case cannotWrite(path: String, reason: String)

    /// One line: the path, the field or chunk, and what was expected.
    public var description: String {
        switch self {
        case let .badMetadata(path, field, reason): return "\(path): Zarr metadata field \(field): \(reason)"
        case let .absurdSize(path, field, reason): return "\(path): Zarr \(field): \(reason)"
        case let .unsupported(path, what, reason): return "\(path): \(what) is not supported: \(reason)"
        case let .badChunk(path, chunk, reason): return "\(path): chunk \(chunk) is corrupt or truncated: \(reason)"
        case let .invalidRequest(path, reason): return "\(path): \(reason)"
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}
