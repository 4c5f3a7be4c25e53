import CleaveCore

/// Why the Locator cannot run on its input: one line naming what, where and why. Settings that
/// cannot be used are ``LocatorOptionError`` (named by their ``LocatorSettings`` field).
public enum LocatorError: CleaveErrorProtocol, Equatable {
    /// No images to work on (`reason` says what was given instead).
    case noImages(reason: String)
    /// An input (file, folder, montage, tile; named by `source`) that cannot be used.
    case unusableInput(source: String, reason: String)
    /// A patch-label (truth) CSV that cannot be read or does not fit the run; `line` is 1-based.
    case invalidTruth(path: String, line: Int?, reason: String)
    /// Features that cannot be clustered (not finite, computed for other settings).
    case unusableFeatures(reason: String)

    /// One line: what, where and why (fields by their API names).
    public var description: String {
        switch self {
        case let .noImages(reason): return "locate: \(reason)"
        case let .unusableInput(source, reason): return "\(source): \(reason)"
        case let .invalidTruth(path, line, reason): return line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)"
        case let .unusableFeatures(reason): return "locate: \(reason)"
        }
    }
}
