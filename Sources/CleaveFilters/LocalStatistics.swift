import CleaveCore

/// A box window: full side lengths in pixels along x, y and z, each odd and ≥ 1
/// (depth 1 = plane by plane). The window is centred on the pixel it describes.
public struct WindowSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var depth: Int

    public init(width: Int, height: Int, depth: Int = 1) {
        precondition(width >= 1 && height >= 1 && depth >= 1 && width % 2 == 1 && height % 2 == 1 && depth % 2 == 1,
                     "WindowSize(width:height:depth:) needs odd sizes >= 1, got \(width)x\(height)x\(depth)")
        self.width = width; self.height = height; self.depth = depth
    }

    /// A square (2D) or cubic (`threeD`) window of side `side` (odd).
    public init(_ side: Int, threeD: Bool = false) {
        self.init(width: side, height: side, depth: threeD ? side : 1)
    }

    /// Half widths along x, y, z.
    public var radius: (x: Int, y: Int, z: Int) { (width / 2, height / 2, depth / 2) }

    public var description: String { depth > 1 ? "\(width)×\(height)×\(depth)" : "\(width)×\(height)" }
}

func boxOperations(_ window: WindowSize, shape: Shape) -> [(Axis, LineOperation)] {
    var result: [(Axis, LineOperation)] = []
    for (axis, size) in [(Axis.x, window.width), (.y, window.height), (.z, window.depth)] where size > 1 {
        if axis == .z && shape.depth == 1 { continue }
        result.append((axis, .correlate([Float](repeating: 1 / Float(size), count: size))))
    }
    return result
}

/// Mean over a box window (`scipy.ndimage.uniform_filter(image, size)` for odd sizes).
///
/// Computed as a separable correlation with equal taps rather than running sums, so every
/// output depends only on the samples under its window (tiles match the whole image bit for
/// bit) at O(side) per pixel per axis, cheap with SIMD at feature-sized windows.
public func localMean(_ image: Image<Float>, window: WindowSize, boundary: Boundary = .reflect) -> Image<Float> {
    separablePasses(image, boxOperations(window, shape: image.shape), boundary: boundary)
}

/// Standard deviation over a box window: `sqrt(max(0, mean(I²) − mean(I)²))` (population).
public func localStandardDeviation(_ image: Image<Float>, window: WindowSize, boundary: Boundary = .reflect) -> Image<Float> {
    let mean = localMean(image, window: window, boundary: boundary)
    let squares = image.map { $0 * $0 }
    var result = localMean(squares, window: window, boundary: boundary)
    mean.pixels.withUnsafeBufferPointer { m in
        for i in 0..<result.pixels.count {
            result.pixels[i] = max(0, result.pixels[i] - m[i] * m[i]).squareRoot()
        }
    }
    return result
}

/// Minimum over a box window (`scipy.ndimage.minimum_filter`), van Herk / Gil–Werman:
/// about 3 comparisons per pixel per axis whatever the window.
public func localMinimum(_ image: Image<Float>, window: WindowSize, boundary: Boundary = .reflect) -> Image<Float> {
    separablePasses(image, extremumOperations(window, shape: image.shape, minimum: true), boundary: boundary)
}

/// Maximum over a box window (`scipy.ndimage.maximum_filter`), van Herk / Gil–Werman.
public func localMaximum(_ image: Image<Float>, window: WindowSize, boundary: Boundary = .reflect) -> Image<Float> {
    separablePasses(image, extremumOperations(window, shape: image.shape, minimum: false), boundary: boundary)
}

func extremumOperations(_ window: WindowSize, shape: Shape, minimum: Bool) -> [(Axis, LineOperation)] {
    var result: [(Axis, LineOperation)] = []
    for (axis, size) in [(Axis.x, window.width), (.y, window.height), (.z, window.depth)] where size > 1 {
        if axis == .z && shape.depth == 1 { continue }
        result.append((axis, minimum ? .minimum(size / 2) : .maximum(size / 2)))
    }
    return result
}
