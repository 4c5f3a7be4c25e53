import CleaveCore

/// An image of object labels: 0 is background, objects are numbered 1…``objectCount``.
///
/// One channel, 2D (`depth == 1`) or 3D; labels are stored like ``Image`` pixels
/// (plane, row, column; column fastest). Produced by ``ConnectedComponents`` and consumed by
/// ``ObjectMeasurement``, outlines and renderers.
public struct LabelImage: Sendable, Equatable {
    /// Extent (one channel).
    public let shape: Shape
    /// Physical pixel size, when known.
    public var spacing: Spacing?
    /// One label per pixel, 0 = background.
    public var labels: [Int32]
    /// Largest label; every label in 1…objectCount is used when the image is sequential.
    public private(set) var objectCount: Int

    /// Wraps labels. Every label must be in `0...objectCount`.
    public init(shape: Shape, labels: [Int32], objectCount: Int, spacing: Spacing? = nil) {
        precondition(shape.channels == 1 && labels.count == shape.count,
                     "LabelImage(shape:labels:) needs \(shape.singleChannel.count) labels for one channel of \(shape), got \(labels.count)")
        self.shape = shape
        self.labels = labels
        self.objectCount = objectCount
        self.spacing = spacing
    }

    /// Takes the pixel values of an existing label image as labels (values must be whole,
    /// non-negative and below 2³¹; e.g. a label TIFF written by Cleave or scikit-image).
    /// - Throws: ``ObjectsError`` naming the first bad value and its position, or when the largest
    ///   label is absurdly large for the image (per-label tables are sized by it).
    public init<Scalar: PixelScalar>(values image: Image<Scalar>) throws {
        guard image.channels == 1 else {
            throw ObjectsError.invalidLabelImage(reason: "expected one channel, got \(image.channels)")
        }
        var labels = [Int32](repeating: 0, count: image.shape.count)
        var largest: Int32 = 0
        for i in 0..<labels.count {
            let v = image.pixels[i].doubleValue
            guard v >= 0, v < 2_147_483_648, v == v.rounded() else {
                throw ObjectsError.invalidLabelImage(reason: "pixel \(i) has value \(v); labels must be whole numbers in 0…2147483647")
            }
            labels[i] = Int32(v)
            largest = max(largest, labels[i])
        }
        // Per-label tables are sized by the largest label: refuse absurdly sparse numbering.
        guard Int(largest) <= 4 * image.shape.count + 65_536 else {
            throw ObjectsError.invalidLabelImage(reason: "largest label \(largest) is far above the \(image.shape.count) pixels; renumber the labels consecutively")
        }
        self.init(shape: image.shape, labels: labels, objectCount: Int(largest), spacing: image.spacing)
    }

    /// True for a single plane.
    public var is2D: Bool { shape.depth == 1 }

    /// Pixels per label (index 0 = background), `objectCount + 1` entries.
    public func pixelCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: objectCount + 1)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }

    /// Applies a label map (`map[old]` = new label, 0 removes) and sets the object count.
    /// - Complexity: O(pixels), parallel.
    public func relabelled(_ map: [Int32], objectCount newCount: Int) -> LabelImage {
        precondition(map.count == objectCount + 1, "LabelImage.relabelled needs \(objectCount + 1) entries, got \(map.count)")
        var out = labels
        let total = out.count
        out.withUnsafeMutableBufferPointer { dst in
            let dstBox = UncheckedSendable(dst)
            map.withUnsafeBufferPointer { m in
                let mBox = UncheckedSendable(m)
                Parallel.forEachChunk(of: total, chunkCount: Parallel.chunkCount(total: total, minimumPerChunk: 1 << 16)) { range in
                    for i in range { dstBox.value[i] = mBox.value[Int(dstBox.value[i])] }
                }
            }
        }
        return LabelImage(shape: shape, labels: out, objectCount: newCount, spacing: spacing)
    }

    /// Removes objects smaller than `minimumSize` pixels and renumbers the rest 1…n, keeping
    /// their order (the raster order of their first pixel stays the numbering order).
    public func removingSmallObjects(minimumSize: Int) -> LabelImage {
        guard minimumSize > 1 else { return self }
        let counts = pixelCounts()
        var map = [Int32](repeating: 0, count: objectCount + 1)
        var next: Int32 = 0
        for label in 1..<max(1, objectCount + 1) where counts[label] >= minimumSize {
            next += 1
            map[label] = next
        }
        return relabelled(map, objectCount: Int(next))
    }

    /// The labels as an image of the smallest pixel type that holds them (UInt16 up to 65 535
    /// objects, Float above: exact up to 2²⁴).
    public func image() -> AnyImage {
        if objectCount <= 65_535 {
            return .uint16(Image(shape: shape, pixels: labels.map { UInt16($0) }, spacing: spacing))
        }
        return .float32(Image(shape: shape, pixels: labels.map { Float($0) }, spacing: spacing))
    }
}

