import CleaveCore

/// Connected-component labelling (2D and 3D), numbered like `skimage.measure.label`.
///
/// Objects are numbered 1…n in raster order of their first pixel (plane, then row, then
/// column), so Cleave's label 7 is scikit-image's label 7 on the same input.
///
/// Three ways to say what the foreground is:
/// - a mask (`label(mask:…)`): true pixels;
/// - one class of a class image (`label(_:class:…)`): pixels equal to the value;
/// - all non-zero values of an image (`label(_:…)`): pixels connect only to neighbours of the
///   same value (a class image gives one object per connected patch of each class, and an
///   instance-label image keeps touching instances apart).
///
/// - Complexity: O(pixels · α) with a pixel-based union-find (two passes, row chunks labelled
///   in parallel, then stitched); memory two Int32 per pixel.
public enum ConnectedComponents {
    /// Labels the true pixels of a mask.
    public static func label(mask: [Bool], shape: Shape, connectivity: Connectivity = .full,
                             spacing: Spacing? = nil) -> LabelImage {
        precondition(mask.count == shape.singleChannel.count,
                     "ConnectedComponents.label(mask:) needs \(shape.singleChannel.count) values for \(shape), got \(mask.count)")
        let keys = mask.map { $0 ? UInt32(1) : 0 }
        return label(keys: keys, shape: shape.singleChannel, connectivity: connectivity, spacing: spacing)
    }

    /// Labels connected patches of equal non-zero value (channel 0).
    public static func label(_ image: AnyImage, connectivity: Connectivity = .full) -> LabelImage {
        label(keys: keys(image) { $0 }, shape: image.shape.singleChannel, connectivity: connectivity, spacing: image.spacing)
    }

    /// Labels the pixels equal to `value` (channel 0), e.g. one class of a pixel classification.
    public static func label(_ image: AnyImage, class value: Double, connectivity: Connectivity = .full) -> LabelImage {
        let keys = keys(image) { $0 == value ? 1 : 0 }
        return label(keys: keys, shape: image.shape.singleChannel, connectivity: connectivity, spacing: image.spacing)
    }

    /// Labels the pixels brighter than `threshold` (channel 0), e.g. a grey image.
    public static func label(_ image: AnyImage, threshold: Double, connectivity: Connectivity = .full) -> LabelImage {
        let keys = keys(image) { $0 > threshold ? 1 : 0 }
        return label(keys: keys, shape: image.shape.singleChannel, connectivity: connectivity, spacing: image.spacing)
    }

    /// Labels pixels by key: 0 is background; neighbours connect when their keys are equal.
    public static func label(keys: [UInt32], shape: Shape, connectivity: Connectivity = .full,
                             spacing: Spacing? = nil) -> LabelImage {
        precondition(keys.count == shape.count && shape.channels == 1,
                     "ConnectedComponents.label(keys:) needs \(shape.count) keys for one channel of \(shape), got \(keys.count)")
        precondition(shape.count < Int(Int32.max), "ConnectedComponents.label: \(shape) has more than 2³¹ pixels")
        let (labels, count) = ComponentKernels.label(keys: keys, width: shape.width, height: shape.height,
                                                     depth: shape.depth, connectivity: connectivity)
        return LabelImage(shape: shape, labels: labels, objectCount: count, spacing: spacing)
    }

    /// Channel 0 of an image mapped to keys (the transform sees each value as a Double;
    /// values are compared exactly, so a Float image's keys are its bit patterns).
    static func keys(_ image: AnyImage, _ transform: (Double) -> Double) -> [UInt32] {
        let count = image.shape.channelSize
        var out = [UInt32](repeating: 0, count: count)
        func fill<S: PixelScalar>(_ pixels: [S], _ convert: (S) -> UInt32) {
            for i in 0..<count { out[i] = convert(pixels[i]) }
        }
        switch image {
        case .uint8(let i):
            var table = [UInt32](repeating: 0, count: 256)
            for v in 0..<256 { table[v] = UInt32(transform(Double(v))) }
            i.pixels.withUnsafeBufferPointer { p in for k in 0..<count { out[k] = table[Int(p[k])] } }
        case .uint16(let i):
            var table = [UInt32](repeating: 0, count: 65_536)
            for v in 0..<65_536 { table[v] = UInt32(transform(Double(v))) }
            i.pixels.withUnsafeBufferPointer { p in for k in 0..<count { out[k] = table[Int(p[k])] } }
        case .float32(let i):
            fill(i.pixels) { v in
                let t = Float(transform(Double(v)))
                return t == 0 || t.isNaN ? 0 : t.bitPattern
            }
        }
        return out
    }
}
