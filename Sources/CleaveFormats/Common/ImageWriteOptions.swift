/// How ``ImageFile/write(_:to:options:)`` stores an image.
public struct ImageWriteOptions: Sendable, Equatable {
    /// Compression for TIFF output (PNG is always deflated; MRC never compressed).
    public enum Compression: String, Sendable, CaseIterable {
        /// Uncompressed (fastest to read; ImageJ opens stacks without decoding).
        case none
        /// zlib/Deflate with a predictor (horizontal for integers, floating-point for floats).
        case deflate
    }

    /// How a multi-channel image is laid out in a TIFF.
    public enum ChannelLayout: String, Sendable, CaseIterable {
        /// 8-bit 3/4-channel images as interleaved RGB(A) (viewable colour); others as pages.
        case automatic
        /// Interleaved samples in one page per plane (PlanarConfiguration 1).
        case interleaved
        /// One page per plane with separate sample planes (PlanarConfiguration 2).
        case planar
        /// One page per (plane, channel) in ImageJ hyperstack order (channel fastest).
        case pages
    }

    /// TIFF compression (default none).
    public var compression: Compression
    /// TIFF channel layout (default automatic).
    public var channelLayout: ChannelLayout
    /// Force BigTIFF (true), classic TIFF (false), or decide by size (nil: BigTIFF only past 4 GB).
    public var bigTIFF: Bool?
    /// Deflate level 1…9 (default 6).
    public var deflateLevel: Int

    /// Options; see the properties for meaning. `deflateLevel` must be 1…9.
    public init(compression: Compression = .none, channelLayout: ChannelLayout = .automatic,
                bigTIFF: Bool? = nil, deflateLevel: Int = 6) {
        precondition((1...9).contains(deflateLevel), "ImageWriteOptions: deflateLevel must be 1…9, got \(deflateLevel)")
        self.compression = compression
        self.channelLayout = channelLayout
        self.bigTIFF = bigTIFF
        self.deflateLevel = deflateLevel
    }

    /// Uncompressed, automatic layout.
    public static let `default` = ImageWriteOptions()
}
