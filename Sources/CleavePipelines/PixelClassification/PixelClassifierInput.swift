import CleaveCore

/// An image to classify: one or more co-registered images stacked as channels (e.g. two detectors,
/// BSE + element maps). Pixels stay in their file type; blocks are converted to Float on demand so
/// memory follows the block, not the image.
public struct PixelClassifierInput: Sendable {
    /// A name for messages and outputs (usually the first file's path).
    public let name: String
    /// The parts, all with the same width × height × depth.
    public let parts: [AnyImage]
    /// Spatial shape with `channels` = total channel count.
    public let shape: Shape
    /// Spacing of the first part.
    public var spacing: Spacing? { parts[0].spacing }
    /// Total channels over all parts.
    public var channelCount: Int { shape.channels }
    /// Spatial shape (one channel).
    public var spatialShape: Shape { shape.singleChannel }

    /// - Throws: ``CleaveError`` when there are no parts or their sizes differ.
    public init(name: String, parts: [AnyImage], partNames: [String]? = nil) throws {
        guard let first = parts.first else { throw CleaveError("\(name): no images given") }
        let base = first.shape.singleChannel
        for (i, part) in parts.enumerated() where part.shape.singleChannel != base {
            let partName = partNames.map { $0[i] } ?? "channel image \(i)"
            throw CleaveError("\(partName): is \(part.shape.singleChannel), but \(partNames?[0] ?? "channel image 0") is \(base); co-registered channels must have the same size")
        }
        self.name = name
        self.parts = parts
        let channels = parts.reduce(0) { $0 + $1.shape.channels }
        self.shape = Shape(width: base.width, height: base.height, depth: base.depth, channels: channels)
    }

    /// A single image (all its channels).
    public init(name: String, image: AnyImage) {
        self.name = name
        self.parts = [image]
        self.shape = image.shape
    }

    /// The pixels of `region` (all channels) as Float, exactly (no rescaling).
    public func floatBlock(_ region: Region) -> Image<Float> {
        let pieces = parts.map { part -> Image<Float> in
            switch part {
            case .uint8(let image): return image.cropped(to: region).converted(to: Float.self)
            case .uint16(let image): return image.cropped(to: region).converted(to: Float.self)
            case .float32(let image): return image.cropped(to: region)
            }
        }
        var block = pieces.count == 1 ? pieces[0] : Image.stackingChannels(pieces)
        block.spacing = spacing
        return block
    }

    /// Channel 0, plane `plane`, as stored (for overlays).
    public func displayPlane(_ plane: Int) -> AnyImage {
        switch parts[0] {
        case .uint8(let image): return .uint8(image.plane(plane))
        case .uint16(let image): return .uint16(image.plane(plane))
        case .float32(let image): return .float32(image.plane(plane))
        }
    }
}
