import CleaveCore

/// A PNG file Cleave cannot read or write, with the path, the chunk or offset, and why.
public enum PNGError: CleaveErrorProtocol, Equatable {
    /// The first 8 bytes are not the PNG signature.
    case badSignature(path: String, found: String)
    /// A chunk runs past the end of the file.
    case truncated(path: String, offset: Int, expected: Int, actual: Int)
    /// A chunk's stored CRC does not match its content.
    case crcMismatch(path: String, chunk: String, offset: Int)
    /// A header or chunk field is invalid.
    case invalidChunk(path: String, chunk: String, offset: Int, reason: String)
    /// Compressed image data could not be decoded.
    case corruptData(path: String, reason: String)
    /// A legal PNG feature Cleave does not implement.
    case unsupported(path: String, feature: String)
    /// The image cannot be stored as PNG (float samples, several planes, …).
    case cannotWrite(path: String, reason: String)

    /// One line: the path, where in the file, and what was expected.
    public var description: String {
        switch self {
        case let .badSignature(path, found): return "\(path): not a PNG file: expected the PNG signature at offset 0, found \(found)"
        case let .truncated(path, offset, expected, actual):
            return "\(path): PNG truncated at offset \(offset): expected \(expected) bytes, file has \(actual)"
        case let .crcMismatch(path, chunk, offset): return "\(path): PNG chunk \(chunk) at offset \(offset): CRC mismatch (file damaged)"
        case let .invalidChunk(path, chunk, offset, reason): return "\(path): PNG chunk \(chunk) at offset \(offset): \(reason)"
        case let .corruptData(path, reason): return "\(path): PNG image data: \(reason)"
        case let .unsupported(path, feature): return "\(path): unsupported PNG feature: \(feature)"
        case let .cannotWrite(path, reason): return "\(path): cannot write PNG: \(reason)"
        }
    }
}
