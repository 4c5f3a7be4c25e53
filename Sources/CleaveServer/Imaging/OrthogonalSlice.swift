import CleaveCore

/// Orthogonal views of a stack, as Fiji's Orthogonal Views shows them: the XZ slice through one
/// row (planes downwards, `width × depth`) and the YZ slice through one column (planes to the
/// right, `depth × height`), channel 0 through a display window as 8-bit grey. One pixel per
/// voxel: the page stretches the plane axis by the voxel depth when it knows it.
///
/// ```
///        x →                 z →
///   z  ┌──────┐         y  ┌───┐
///   ↓  │  XZ  │  at row  ↓  │YZ │  at column
///      └──────┘            └───┘
/// ```
public enum OrthogonalSlice {
    /// Which slice: XZ (through a row, planes down) or YZ (through a column, planes down).
    public enum Axis: String, Sendable, CaseIterable {
        case xz, yz
    }

    /// The slice through `at` (a row for XZ, a column for YZ); nil when `at` is outside the image.
    public static func render(_ image: AnyImage, axis: Axis, at: Int, window: ClosedRange<Double>) -> Image<UInt8>? {
        switch image {
        case .uint8(let i): return render(i, axis: axis, at: at, window: window)
        case .uint16(let i): return render(i, axis: axis, at: at, window: window)
        case .float32(let i): return render(i, axis: axis, at: at, window: window)
        }
    }

    static func render<S: PixelScalar>(_ image: Image<S>, axis: Axis, at: Int, window: ClosedRange<Double>) -> Image<UInt8>? {
        let width = image.width, height = image.height, depth = image.depth
        guard at >= 0, at < (axis == .xz ? height : width) else { return nil }
        let (outWidth, outHeight) = axis == .xz ? (width, depth) : (depth, height)
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        for z in 0..<depth {
            let planeStart = image.shape.index(column: 0, row: 0, plane: z, channel: 0)
            switch axis {
            case .xz:
                for x in 0..<width {
                    out[z * outWidth + x] = TilePyramid.windowed(image.pixels[planeStart + at * width + x].doubleValue, window)
                }
            case .yz:
                for y in 0..<height {
                    out[y * outWidth + z] = TilePyramid.windowed(image.pixels[planeStart + y * width + at].doubleValue, window)
                }
            }
        }
        return Image(shape: Shape(width: outWidth, height: outHeight), pixels: out)
    }
}
