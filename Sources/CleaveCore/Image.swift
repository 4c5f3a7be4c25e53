/// A dense 2D or 3D image with one or more channels, owning its pixels.
///
/// Pixels are stored in one contiguous array in (channel, plane, row, column) order, column
/// fastest (see ``Shape``). `Image` is a value type: copies are cheap until written to.
///
/// ```
/// channel 0: plane 0 [row 0: c0 c1 … | row 1: …] plane 1 […] …
/// channel 1: …
/// ```
public struct Image<Scalar: PixelScalar>: Sendable {
    /// Extent of the image.
    public private(set) var shape: Shape
    /// Physical pixel size, or nil when the source did not say.
    public var spacing: Spacing?
    /// The samples, `shape.count` of them, in storage order. Writers must keep the count
    /// (no observer checks it, so that in-place kernels do not copy the array).
    public var pixels: [Scalar]

    /// Wraps existing samples. `pixels.count` must equal `shape.count`.
    public init(shape: Shape, pixels: [Scalar], spacing: Spacing? = nil) {
        precondition(pixels.count == shape.count,
                     "Image(shape:pixels:) needs \(shape.count) samples for shape \(shape), got \(pixels.count)")
        self.shape = shape
        self.pixels = pixels
        self.spacing = spacing
    }

    /// An image filled with one value.
    public init(shape: Shape, repeating value: Scalar = .zero, spacing: Spacing? = nil) {
        self.shape = shape
        self.pixels = [Scalar](largeRepeating: value, count: shape.count)
        self.spacing = spacing
    }

    /// A 2D single-channel image filled with one value.
    public init(width: Int, height: Int, repeating value: Scalar = .zero, spacing: Spacing? = nil) {
        self.init(shape: Shape(width: width, height: height), repeating: value, spacing: spacing)
    }

    @inlinable public var width: Int { shape.width }
    @inlinable public var height: Int { shape.height }
    @inlinable public var depth: Int { shape.depth }
    @inlinable public var channels: Int { shape.channels }
    /// The pixel type tag of this image.
    public var pixelType: PixelType { Scalar.pixelType }

    /// Reads or writes one sample. Indices are checked.
    @inlinable public subscript(column: Int, row: Int, plane: Int = 0, channel: Int = 0) -> Scalar {
        get {
            precondition(column >= 0 && column < shape.width && row >= 0 && row < shape.height
                         && plane >= 0 && plane < shape.depth && channel >= 0 && channel < shape.channels,
                         "Image subscript (\(column), \(row), \(plane), \(channel)) outside \(shape)")
            return pixels[shape.index(column: column, row: row, plane: plane, channel: channel)]
        }
        set {
            precondition(column >= 0 && column < shape.width && row >= 0 && row < shape.height
                         && plane >= 0 && plane < shape.depth && channel >= 0 && channel < shape.channels,
                         "Image subscript (\(column), \(row), \(plane), \(channel)) outside \(shape)")
            pixels[shape.index(column: column, row: row, plane: plane, channel: channel)] = newValue
        }
    }

    /// Changes the shape without touching the samples (e.g. channels ↔ planes). Counts must match.
    public func reshaped(to newShape: Shape) -> Image {
        precondition(newShape.count == shape.count, "Image.reshaped(to:) from \(shape) to \(newShape) changes the sample count")
        return Image(shape: newShape, pixels: pixels, spacing: spacing)
    }

    /// One plane of one channel as a 2D single-channel image.
    public func plane(_ plane: Int, channel: Int = 0) -> Image {
        precondition(plane >= 0 && plane < depth && channel >= 0 && channel < channels,
                     "Image.plane(\(plane), channel: \(channel)) outside \(shape)")
        let start = shape.index(column: 0, row: 0, plane: plane, channel: channel)
        return Image(shape: Shape(width: width, height: height),
                     pixels: Array(pixels[start..<start + shape.planeSize]), spacing: spacing)
    }

    /// One channel (all planes) as a single-channel image.
    public func channel(_ channel: Int) -> Image {
        precondition(channel >= 0 && channel < channels, "Image.channel(\(channel)) outside \(shape)")
        let start = channel * shape.channelSize
        return Image(shape: shape.singleChannel, pixels: Array(pixels[start..<start + shape.channelSize]), spacing: spacing)
    }

    /// Stacks single-channel images of equal size as channels.
    public static func stackingChannels(_ images: [Image]) -> Image {
        precondition(!images.isEmpty, "Image.stackingChannels needs at least one image")
        let base = images[0].shape
        for image in images {
            precondition(image.shape.width == base.width && image.shape.height == base.height && image.shape.depth == base.depth,
                         "Image.stackingChannels: shape \(image.shape) differs from \(base)")
        }
        var pixels: [Scalar] = []
        pixels.reserveCapacity(base.channelSize * images.reduce(0) { $0 + $1.channels })
        for image in images { pixels.append(contentsOf: image.pixels) }
        let channels = images.reduce(0) { $0 + $1.channels }
        return Image(shape: Shape(width: base.width, height: base.height, depth: base.depth, channels: channels),
                     pixels: pixels, spacing: images[0].spacing)
    }

    /// Copies a box out of the image (all channels). The region must lie inside.
    public func cropped(to region: Region) -> Image {
        precondition(region.isInside(shape), "Image.cropped(to: \(region)) outside \(shape)")
        let out = Shape(width: region.width, height: region.height, depth: region.depth, channels: channels)
        var result = [Scalar]()
        result.reserveCapacity(out.count)
        for c in 0..<channels {
            for z in region.z..<(region.z + region.depth) {
                for y in region.y..<(region.y + region.height) {
                    let start = shape.index(column: region.x, row: y, plane: z, channel: c)
                    result.append(contentsOf: pixels[start..<start + region.width])
                }
            }
        }
        return Image(shape: out, pixels: result, spacing: spacing)
    }

    /// Writes `source` (all channels) into this image with its origin at `origin`.
    public mutating func paste(_ source: Image, at origin: (x: Int, y: Int, z: Int)) {
        let region = Region(x: origin.x, y: origin.y, z: origin.z, width: source.width, height: source.height, depth: source.depth)
        precondition(region.isInside(shape) && source.channels == channels,
                     "Image.paste: \(source.shape) at \(origin) does not fit \(shape)")
        let srcShape = source.shape
        let shape = self.shape, channels = self.channels
        pixels.withUnsafeMutableBufferPointer { dst in
            source.pixels.withUnsafeBufferPointer { src in
                for c in 0..<channels {
                    for z in 0..<srcShape.depth {
                        for y in 0..<srcShape.height {
                            let s = srcShape.index(column: 0, row: y, plane: z, channel: c)
                            let d = shape.index(column: origin.x, row: origin.y + y, plane: origin.z + z, channel: c)
                            for x in 0..<srcShape.width { dst[d + x] = src[s + x] }
                        }
                    }
                }
            }
        }
    }

    /// Smallest and largest sample (NaNs are skipped for floats). Nil when every sample is NaN.
    public func minMax() -> (min: Scalar, max: Scalar)? {
        var lo = Scalar.highest
        var hi = Scalar.lowest
        var seen = false
        for v in pixels where v == v {
            if v < lo { lo = v }
            if v > hi { hi = v }
            seen = true
        }
        return seen ? (lo, hi) : nil
    }

    /// Converts every sample to another pixel type **without rescaling**: values are rounded
    /// to nearest and clamped to the target range (e.g. 300.0 → UInt8 255, -2 → 0).
    /// Use ``rescaled(to:from:)`` to map a value range explicitly.
    public func converted<Target: PixelScalar>(to type: Target.Type) -> Image<Target> {
        if let same = self as? Image<Target> { return same }
        var out = [Target]()
        out.reserveCapacity(pixels.count)
        for v in pixels { out.append(Target(roundingClamping: v.doubleValue)) }
        return Image<Target>(shape: shape, pixels: out, spacing: spacing)
    }

    /// Maps `range` linearly onto the target's full range (floats: 0…1), clamping outside values.
    /// This is the explicit way to change the dynamic range (e.g. a 16-bit window to 8-bit display).
    public func rescaled<Target: PixelScalar>(to type: Target.Type, from range: ClosedRange<Double>) -> Image<Target> {
        precondition(range.upperBound > range.lowerBound || range.upperBound == range.lowerBound,
                     "Image.rescaled: empty range \(range)")
        let top: Double = Target.pixelType == .float32 ? 1 : Target.highest.doubleValue
        let width = range.upperBound - range.lowerBound
        let scale = width > 0 ? top / width : 0
        var out = [Target]()
        out.reserveCapacity(pixels.count)
        for v in pixels {
            let t = (v.doubleValue - range.lowerBound) * scale
            // Clamped to 0…top; NaN (a NaN sample, or an infinite one in a zero-width range) → 0.
            out.append(Target(roundingClamping: t > 0 ? (t < top ? t : top) : 0))
        }
        return Image<Target>(shape: shape, pixels: out, spacing: spacing)
    }

    /// Applies a function to every sample, producing a new image of any pixel type.
    @inlinable public func map<Target: PixelScalar>(_ transform: (Scalar) throws -> Target) rethrows -> Image<Target> {
        Image<Target>(shape: shape, pixels: try pixels.map(transform), spacing: spacing)
    }
}

extension Image: Equatable where Scalar: Equatable {
    public static func == (lhs: Image, rhs: Image) -> Bool {
        lhs.shape == rhs.shape && lhs.spacing == rhs.spacing && lhs.pixels == rhs.pixels
    }
}
