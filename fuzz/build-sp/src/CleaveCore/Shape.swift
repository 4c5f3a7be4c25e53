/// The extent of an image: width × height × depth (planes) × channels.
///
/// Storage order everywhere in Cleave is (channel, plane, row, column), column fastest:
///
/// ```
/// index = ((channel * depth + plane) * height + row) * width + column
/// ```
public struct Shape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var depth: Int
    public var channels: Int

    /// Creates a shape; every extent must be at least 1.
    public init(width: Int, height: Int, depth: Int = 1, channels: Int = 1) {
        precondition(width >= 1 && height >= 1 && depth >= 1 && channels >= 1,
                     "Shape(width:height:depth:channels:) needs extents >= 1, got \(width)x\(height)x\(depth)x\(channels)")
        self.width = width
        self.height = height
        self.depth = depth
        self.channels = channels
    }

    /// Pixels in one plane of one channel.
    @inlinable public var planeSize: Int { width * height }
    /// Pixels in one channel (all planes).
    @inlinable public var channelSize: Int { width * height * depth }
    /// Samples in the whole image.
    @inlinable public var count: Int { width * height * depth * channels }
    /// True for a single plane.
    @inlinable public var is2D: Bool { depth == 1 }

    /// Linear index of a sample.
    @inlinable public func index(column: Int, row: Int, plane: Int = 0, channel: Int = 0) -> Int {
        ((channel * depth + plane) * height + row) * width + column
    }

    /// The same shape with a single channel.
    public var singleChannel: Shape { Shape(width: width, height: height, depth: depth, channels: 1) }

    public var description: String {
        var text = "\(width)×\(height)"
        if depth > 1 { text += "×\(depth)" }
        if channels > 1 { text += " (\(channels) channels)" }
        return text
    }
}
