import CleaveCore

/// What a file holds, read from its headers without decoding pixels.
public struct ImageInfo: Sendable, Equatable {
    /// The container format.
    public var format: ImageFormat
    /// Format variant worth knowing ("classic", "BigTIFF", "MRC2014"…).
    public var variant: String
    /// Columns (pixels per row).
    public var width: Int
    /// Rows.
    public var height: Int
    /// Planes: the z extent (TIFF pages / hyperstack slices, MRC sections).
    public var depth: Int
    /// Channels of the image ``ImageFile/read(_:)`` returns (RGB = 3, palette expanded to 3 or 4).
    public var channels: Int
    /// Pages (TIFF image directories) in the file; 1 for PNG, `nz` for MRC.
    public var pageCount: Int
    /// The pixel type ``ImageFile/read(_:)`` returns.
    public var pixelType: PixelType
    /// The sample format as stored, e.g. "uint16", "int16", "float64", "bit1", "palette8".
    public var storedSampleType: String
    /// "none", "lzw", "deflate", "packbits" (MRC: "none").
    public var compression: String
    /// "little" or "big".
    public var byteOrder: String
    /// Colour model as stored: "grey", "rgb", "rgba", "palette", "grey+alpha"…
    public var photometric: String
    /// Physical pixel size when the file says (ImageJ, OME, resolution tags, vendor tags, MRC header).
    public var spacing: Spacing?
    /// Where the spacing came from ("ImageJ", "OME", "resolution tags", "FEI", "ZEISS", "MRC header").
    public var spacingSource: String?
    /// Everything else worth showing: descriptions, software, vendor keys. Keys are stable names.
    public var metadata: [String: String]

    /// The shape ``ImageFile/read(_:)`` returns.
    public var shape: Shape { Shape(width: width, height: height, depth: depth, channels: channels) }
}
