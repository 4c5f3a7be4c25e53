/// An image whose pixel type is known only at run time (what a file reader returns).
public enum AnyImage: Sendable {
    case uint8(Image<UInt8>)
    case uint16(Image<UInt16>)
    case float32(Image<Float>)

    public init<Scalar: PixelScalar>(_ image: Image<Scalar>) {
        switch image {
        case let i as Image<UInt8>: self = .uint8(i)
        case let i as Image<UInt16>: self = .uint16(i)
        case let i as Image<Float>: self = .float32(i)
        default: fatalError("AnyImage(_:) got an unknown pixel type \(Scalar.self)")
        }
    }

    public var shape: Shape {
        switch self {
        case .uint8(let i): return i.shape
        case .uint16(let i): return i.shape
        case .float32(let i): return i.shape
        }
    }

    public var pixelType: PixelType {
        switch self {
        case .uint8: return .uint8
        case .uint16: return .uint16
        case .float32: return .float32
        }
    }

    public var spacing: Spacing? {
        get {
            switch self {
            case .uint8(let i): return i.spacing
            case .uint16(let i): return i.spacing
            case .float32(let i): return i.spacing
            }
        }
        set {
            switch self {
            case .uint8(var i): i.spacing = newValue; self = .uint8(i)
            case .uint16(var i): i.spacing = newValue; self = .uint16(i)
            case .float32(var i): i.spacing = newValue; self = .float32(i)
            }
        }
    }

    /// The image converted to a given pixel type (round and clamp, no rescaling).
    public func converted<Target: PixelScalar>(to type: Target.Type) -> Image<Target> {
        switch self {
        case .uint8(let i): return i.converted(to: type)
        case .uint16(let i): return i.converted(to: type)
        case .float32(let i): return i.converted(to: type)
        }
    }

    /// The image as Float samples (exact for every pixel type). The usual input of filters.
    public func floatImage() -> Image<Float> { converted(to: Float.self) }

    /// Smallest and largest sample as Doubles.
    public func minMax() -> (min: Double, max: Double)? {
        switch self {
        case .uint8(let i): return i.minMax().map { ($0.min.doubleValue, $0.max.doubleValue) }
        case .uint16(let i): return i.minMax().map { ($0.min.doubleValue, $0.max.doubleValue) }
        case .float32(let i): return i.minMax().map { ($0.min.doubleValue, $0.max.doubleValue) }
        }
    }

    /// Applies a generic operation to the wrapped image.
    public func withImage<Result>(_ body: (any ImageProtocol) throws -> Result) rethrows -> Result {
        switch self {
        case .uint8(let i): return try body(i)
        case .uint16(let i): return try body(i)
        case .float32(let i): return try body(i)
        }
    }
}

/// What code that is generic over the pixel type can ask of any ``Image``.
public protocol ImageProtocol: Sendable {
    associatedtype Scalar: PixelScalar
    var shape: Shape { get }
    var spacing: Spacing? { get }
    var pixels: [Scalar] { get }
}

extension Image: ImageProtocol {}
