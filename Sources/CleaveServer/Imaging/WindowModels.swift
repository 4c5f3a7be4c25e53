import Foundation
import Hummingbird

/// The default contrast window of an image (what tiles use without `low`/`high`), and the
/// window the page's Auto button applies.
public struct WindowDTO: ResponseCodable, Equatable, Sendable {
    /// Pixel value shown black.
    public var low: Double
    /// Pixel value shown white.
    public var high: Double
    /// "full-range" (8-bit) or "percentiles 0.5-99.5".
    public var method: String
    /// Auto contrast: the 0.5–99.5 percentiles of the plane, for every pixel type (for 8-bit
    /// images the default stays the full 0…255 range, so nothing is stretched silently).
    public var auto: AutoWindowDTO? = nil
}

/// The window the Auto button applies: `low`…`high` in pixel values, and how it was measured.
public struct AutoWindowDTO: Codable, Equatable, Sendable {
    /// Pixel value shown black (the 0.5th percentile).
    public var low: Double
    /// Pixel value shown white (the 99.5th percentile).
    public var high: Double
    /// How the window was measured, e.g. "percentiles 0.5-99.5".
    public var method: String
}
