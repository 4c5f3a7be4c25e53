import CleaveCore

/// A SerialEM autodoc (`.mdoc` montage metadata, `.nav` navigator) that Cleave cannot use, with
/// the file, the line (1-based) and the field, and why.
public enum SerialEMError: CleaveErrorProtocol, Equatable {
    /// A line that is neither `key = value`, `[type = name]`, a `#` comment nor blank.
    case malformedLine(path: String, line: Int, text: String)
    /// A section (or the global header when `section` is nil) lacks a field Cleave needs.
    /// `line` is the section's header line (1 for the global header).
    case missingField(path: String, line: Int, section: String?, field: String)
    /// A field's value does not parse as what it must be.
    case badValue(path: String, line: Int, field: String, value: String, expected: String)
    /// The file has no `[ZValue = n]` sections.
    case noSections(path: String)
    /// Two sections claim the same Z value.
    case duplicateSection(path: String, line: Int, zValue: Int, firstLine: Int)
    /// The metadata describes another number of pieces than the MRC file holds.
    case sectionCountMismatch(path: String, line: Int, mdocSections: Int, mrcPath: String, mrcSections: Int)
    /// A `[ZValue = n]` beyond the MRC file's sections.
    case sectionOutOfRange(path: String, line: Int, zValue: Int, mrcPath: String, mrcSections: Int)
    /// The metadata's piece size (`ImageSize`) differs from the MRC file's sections.
    case pieceSizeMismatch(path: String, line: Int, field: String, mdocWidth: Int, mdocHeight: Int,
                           mrcPath: String, mrcWidth: Int, mrcHeight: Int)
    /// The file cannot be read or written.
    case io(path: String, reason: String)

    /// One line: the file, the line and field, what was found and what was expected.
    public var description: String {
        switch self {
        case let .malformedLine(path, line, text):
            return "\(path):\(line): not an autodoc line (expected \"key = value\" or \"[type = name]\"): \(text.prefix(80))"
        case let .missingField(path, line, section, field):
            let place = section.map { "section [\($0)]" } ?? "the global header"
            return "\(path):\(line): \(place) has no \(field)"
        case let .badValue(path, line, field, value, expected):
            return "\(path):\(line): \(field) = \(value.prefix(60)): expected \(expected)"
        case let .noSections(path):
            return "\(path): no [ZValue = n] sections; not a SerialEM image metadata file"
        case let .duplicateSection(path, line, zValue, firstLine):
            return "\(path):\(line): ZValue \(zValue) appears again (first on line \(firstLine))"
        case let .sectionCountMismatch(path, line, mdocSections, mrcPath, mrcSections):
            return "\(path):\(line): ZValue: \(mdocSections) sections described but \(mrcPath) holds \(mrcSections); the metadata does not match the image file"
        case let .sectionOutOfRange(path, line, zValue, mrcPath, mrcSections):
            return "\(path):\(line): ZValue = \(zValue) but \(mrcPath) holds only \(mrcSections) sections (0…\(mrcSections - 1))"
        case let .pieceSizeMismatch(path, line, field, mw, mh, mrcPath, rw, rh):
            return "\(path):\(line): \(field) = \(mw) \(mh) but the sections of \(mrcPath) are \(rw)×\(rh) pixels; the metadata belongs to another file"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}
