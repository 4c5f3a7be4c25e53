/// The sample types an ``Image`` can hold.
///
/// Files may store other sample formats (1-bit, signed or 32-bit integers, doubles); readers
/// convert those to the nearest type that holds every value exactly where possible and say so
/// in the file's metadata. Conversions between types are always explicit
/// (``Image/converted(to:)``); Cleave never rescales data silently.
public enum PixelType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case uint8
    case uint16
    case float32

    /// Bytes one sample occupies in memory.
    public var bytesPerSample: Int {
        switch self {
        case .uint8: return 1
        case .uint16: return 2
        case .float32: return 4
        }
    }

    public var description: String { rawValue }
}

/// A scalar type that can be a pixel of an ``Image``.
public protocol PixelScalar: Numeric, Comparable, Sendable, Hashable {
    /// The ``PixelType`` tag of this scalar.
    static var pixelType: PixelType { get }
    /// Smallest and largest representable values (for floats: -/+ greatestFiniteMagnitude).
    static var lowest: Self { get }
    static var highest: Self { get }
    /// The value as a Float (exact for UInt8 and UInt16).
    var floatValue: Float { get }
    /// The value as a Double (exact for all three types).
    var doubleValue: Double { get }
    /// Converts a Double by rounding to nearest and clamping to the type's range; NaN becomes 0.
    init(roundingClamping value: Double)
}

extension UInt8: PixelScalar {
    public static var pixelType: PixelType { .uint8 }
    public static var lowest: UInt8 { 0 }
    public static var highest: UInt8 { 255 }
    @inlinable public var floatValue: Float { Float(self) }
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public init(roundingClamping value: Double) {
        if !(value > 0) { self = 0 } else if value >= 255 { self = 255 } else { self = UInt8(value.rounded()) }
    }
}

extension UInt16: PixelScalar {
    public static var pixelType: PixelType { .uint16 }
    public static var lowest: UInt16 { 0 }
    public static var highest: UInt16 { 65535 }
    @inlinable public var floatValue: Float { Float(self) }
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public init(roundingClamping value: Double) {
        if !(value > 0) { self = 0 } else if value >= 65535 { self = 65535 } else { self = UInt16(value.rounded()) }
    }
}

extension Float: PixelScalar {
    public static var pixelType: PixelType { .float32 }
    public static var lowest: Float { -Float.greatestFiniteMagnitude }
    public static var highest: Float { Float.greatestFiniteMagnitude }
    @inlinable public var floatValue: Float { self }
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public init(roundingClamping value: Double) {
        // Floats keep their value (no rounding); only the range is clamped.
        if value.isNaN { self = 0 } else { self = Float(Swift.max(Swift.min(value, Double(Float.greatestFiniteMagnitude)), -Double(Float.greatestFiniteMagnitude))) }
    }
}
