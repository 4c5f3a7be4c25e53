import CleaveCore

/// Errors of the format-independent front door (``ImageFile``): opening, reading, writing and
/// choosing a format. Format-specific problems are ``TIFFError``, ``PNGError`` and ``MRCError``.
public enum ImageFileError: CleaveErrorProtocol, Equatable {
    /// The file could not be opened (missing, no permission, a directory…).
    case cannotOpen(path: String, reason: String)
    /// The operating system failed a read.
    case cannotRead(path: String, offset: Int, reason: String)
    /// The file could not be created or written.
    case cannotWrite(path: String, reason: String)
    /// The content matches no supported format.
    case unknownFormat(path: String, firstBytes: String)
    /// Writing: the file name's extension names no supported format.
    case unknownExtension(path: String)
    /// A read ran past the end of the input.
    case truncated(path: String, offset: Int, expected: Int, actual: Int)
    /// The request cannot be satisfied by this image (page out of range, type a format can't hold…).
    case invalidRequest(path: String, reason: String)
    /// A float image holds NaN or ±infinity where an analysis needs finite values (the first
    /// such sample in storage order); see ``ImageFile/requireFinite(_:path:firstPlane:)``.
    case notFinite(path: String, pixel: NonFinitePixel)

    /// One line: the path, where in the file, and what was expected.
    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open: \(reason)"
        case let .cannotRead(path, offset, reason): return "\(path): read failed at offset \(offset): \(reason)"
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        case let .unknownFormat(path, firstBytes):
            return "\(path): not a TIFF, PNG or MRC file (first bytes \(firstBytes))"
        case let .unknownExtension(path):
            return "\(path): unknown output format; use a .tif, .tiff, .png, .mrc or .ome.zarr name"
        case let .truncated(path, offset, expected, actual):
            return "\(path): truncated at offset \(offset): expected \(expected) bytes, only \(actual) available"
        case let .invalidRequest(path, reason): return "\(path): \(reason)"
        case let .notFinite(path, pixel):
            return "\(path): pixel values must be finite, found \(pixel) (replace NaN and infinity first, e.g. Fiji's Process > Math > Remove NaNs)"
        }
    }
}

/// Hex dump of the first few bytes, for "what did we find" messages.
func hexPrefix(_ bytes: [UInt8], count: Int = 8) -> String {
    let digits = Array("0123456789abcdef")
    return bytes.prefix(count).map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: " ")
}
