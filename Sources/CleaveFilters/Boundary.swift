/// How a filter reads samples beyond the edge of an image.
///
/// The names and behaviour follow `scipy.ndimage` (`mode=`), shown for a line `a b c d`:
///
/// ```
/// reflect   d c b a | a b c d | d c b a   (half-sample symmetric; the default)
/// mirror    d c b   | a b c d | c b a     (whole-sample symmetric, edge not repeated)
/// nearest   a a a a | a b c d | d d d d
/// constant  k k k k | a b c d | k k k k   (k = the given value)
/// ```
///
/// Extensions repeat periodically, so kernels wider than the line behave like scipy's too.
public enum Boundary: Sendable, Hashable, Codable, CustomStringConvertible {
    case reflect
    case mirror
    case nearest
    case constant(Float)

    /// The source index for position `index` on a line of `count` samples, or nil when the
    /// position reads the constant value.
    @inlinable
    public func sourceIndex(_ index: Int, count: Int) -> Int? {
        if index >= 0 && index < count { return index }
        switch self {
        case .reflect:
            let period = 2 * count
            var j = index % period
            if j < 0 { j += period }
            return j >= count ? period - 1 - j : j
        case .mirror:
            if count == 1 { return 0 }
            let period = 2 * count - 2
            var j = index % period
            if j < 0 { j += period }
            return j >= count ? period - j : j
        case .nearest:
            return index < 0 ? 0 : count - 1
        case .constant:
            return nil
        }
    }

    /// The fill value for `.constant`, 0 otherwise (unused).
    @inlinable
    var fillValue: Float {
        if case .constant(let value) = self { return value }
        return 0
    }

    public var description: String {
        switch self {
        case .reflect: return "reflect"
        case .mirror: return "mirror"
        case .nearest: return "nearest"
        case .constant(let value): return "constant(\(value))"
        }
    }

    /// Parses "reflect", "mirror", "nearest", "constant" or "constant:VALUE" (e.g. from a CLI flag);
    /// nil for anything else, including a VALUE that is NaN or infinite.
    public init?(name: String) {
        switch name {
        case "reflect": self = .reflect
        case "mirror": self = .mirror
        case "nearest": self = .nearest
        case "constant": self = .constant(0)
        default:
            guard name.hasPrefix("constant:"), let value = Float(name.dropFirst("constant:".count)), value.isFinite else { return nil }
            self = .constant(value)
        }
    }
}

/// An image axis: x = columns, y = rows, z = planes.
public enum Axis: Int, Sendable, Hashable, Codable, CaseIterable {
    case x = 0, y = 1, z = 2
}
