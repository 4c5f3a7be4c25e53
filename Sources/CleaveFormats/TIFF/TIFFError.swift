import CleaveCore

/// A TIFF file that Cleave cannot read, with the path, where in the file, and what was expected.
public enum TIFFError: CleaveErrorProtocol, Equatable {
    /// The first bytes are not "II*\0", "MM\0*" (classic) or the BigTIFF equivalents.
    case badMagic(path: String, found: String)
    /// A structure or pixel data runs past the end of the file.
    case truncated(path: String, offset: Int, expected: Int, actual: Int)
    /// A tag's value is missing, of the wrong type, or out of range.
    case invalidTag(path: String, page: Int, tag: Int, reason: String)
    /// Compressed data could not be decoded.
    case corruptData(path: String, page: Int, offset: Int, reason: String)
    /// A legal TIFF feature Cleave does not implement (e.g. JPEG compression).
    case unsupported(path: String, page: Int, feature: String)
    /// The image directory chain is broken (loops, offsets outside the file).
    case invalidDirectory(path: String, offset: Int, reason: String)
    /// The declared size is too large for the data present or for memory.
    case implausibleSize(path: String, page: Int, reason: String)
    /// A page index outside the file.
    case pageOutOfRange(path: String, page: Int, pageCount: Int)
    /// Writing failed (unsupported shape/type or I/O).
    case cannotWrite(path: String, reason: String)

    /// One line: the path, where in the file, and what was expected.
    public var description: String {
        switch self {
        case let .badMagic(path, found):
            return "\(path): not a TIFF file: expected 'II*' or 'MM*' header at offset 0, found \(found)"
        case let .truncated(path, offset, expected, actual):
            return "\(path): TIFF truncated at offset \(offset): expected \(expected) bytes, file has \(actual)"
        case let .invalidTag(path, page, tag, reason):
            return "\(path): page \(page), tag \(tag) (\(TIFFTag.name(tag))): \(reason)"
        case let .corruptData(path, page, offset, reason):
            return "\(path): page \(page), data at offset \(offset): \(reason)"
        case let .unsupported(path, page, feature):
            return "\(path): page \(page): unsupported TIFF feature: \(feature)"
        case let .invalidDirectory(path, offset, reason):
            return "\(path): image directory at offset \(offset): \(reason)"
        case let .implausibleSize(path, page, reason):
            return "\(path): page \(page): implausible size: \(reason)"
        case let .pageOutOfRange(path, page, pageCount):
            return "\(path): page \(page) requested, the file has \(pageCount) page\(pageCount == 1 ? "" : "s") (0…\(pageCount - 1))"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write TIFF: \(reason)"
        }
    }
}
