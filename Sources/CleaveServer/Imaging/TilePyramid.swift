import CleaveCore
import CleaveFormats
import CleaveRender

/// The tile pyramid of an image: 256×256 tiles; level 0 is full resolution and level L shows the
/// image downsampled by 2^L, down to the level where the whole image fits one tile.
///
/// ```
/// level L, tile (x, y) covers source columns [x·256·2^L, (x+1)·256·2^L) ∩ [0, width)
/// ```
/// Edge tiles are smaller than 256 where the image ends.
public enum TilePyramid {
    /// The edge length of a full tile in pixels (256); edge tiles may be smaller.
    public static let tileSize = 256

    /// Number of levels for an image of this size (at least 1).
    public static func levelCount(width: Int, height: Int) -> Int {
        var level = 0
        while max(width, height) > tileSize << level { level += 1 }
        return level + 1
    }

    /// Tiles across and down at `level`.
    public static func tileCounts(width: Int, height: Int, level: Int) -> (columns: Int, rows: Int) {
        let span = tileSize << level
        return ((width + span - 1) / span, (height + span - 1) / span)
    }

    /// The default display window: the full 0…255 range for 8-bit data (no silent stretching),
    /// the 0.5–99.5 percentiles of `plane`, channel 0 otherwise. `auto` (what the Auto button
    /// applies) is the 0.5–99.5 percentiles for every pixel type.
    public static func defaultWindow(_ image: AnyImage, plane: Int = 0) -> WindowDTO {
        let w: ClosedRange<Double>
        switch image {
        case .uint8(let i): w = Display.percentileWindow(i.plane(plane), low: 0.5, high: 99.5)
        case .uint16(let i): w = Display.percentileWindow(i.plane(plane), low: 0.5, high: 99.5)
        case .float32(let i): w = Display.percentileWindow(i.plane(plane), low: 0.5, high: 99.5)
        }
        let auto = AutoWindowDTO(low: w.lowerBound, high: w.upperBound, method: "percentiles 0.5-99.5")
        if case .uint8 = image { return WindowDTO(low: 0, high: 255, method: "full-range", auto: auto) }
        return WindowDTO(low: w.lowerBound, high: w.upperBound, method: "percentiles 0.5-99.5", auto: auto)
    }

    /// Renders one tile of `plane`, channel 0 as 8-bit grey through `window` (values at or below
    /// `low` → 0, at or above `high` → 255). Each output pixel is the mean of up to 4×4 evenly
    /// spaced samples of its 2^L×2^L source block, so high levels stay cheap and deterministic.
    /// Returns nil when the tile lies outside the image.
    public static func render(_ image: AnyImage, level: Int, column: Int, row: Int,
                              window: ClosedRange<Double>, plane: Int = 0) -> Image<UInt8>? {
        switch image {
        case .uint8(let i): return render(i, level: level, column: column, row: row, window: window, plane: plane)
        case .uint16(let i): return render(i, level: level, column: column, row: row, window: window, plane: plane)
        case .float32(let i): return render(i, level: level, column: column, row: row, window: window, plane: plane)
        }
    }

    static func render<S: PixelScalar>(_ image: Image<S>, level: Int, column: Int, row: Int,
                                       window: ClosedRange<Double>, plane: Int = 0) -> Image<UInt8>? {
        let width = image.width, height = image.height
        guard plane >= 0, plane < image.depth else { return nil }
        let planeStart = image.shape.index(column: 0, row: 0, plane: plane, channel: 0)
        guard level >= 0, level < levelCount(width: width, height: height), column >= 0, row >= 0 else { return nil }
        let counts = tileCounts(width: width, height: height, level: level)
        guard column < counts.columns, row < counts.rows else { return nil }
        let scale = 1 << level
        let x0 = column * tileSize * scale, y0 = row * tileSize * scale
        let outWidth = min(tileSize, (width - x0 + scale - 1) / scale)
        let outHeight = min(tileSize, (height - y0 + scale - 1) / scale)
        let samples = min(scale, 4)
        let step = scale / samples
        let low = window.lowerBound, span = max(window.upperBound - window.lowerBound, 1e-12)
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        image.pixels.withUnsafeBufferPointer { pixels in
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    var sum = 0.0, count = 0
                    for sy in 0..<samples {
                        let y = y0 + oy * scale + sy * step
                        guard y < height else { break }
                        for sx in 0..<samples {
                            let x = x0 + ox * scale + sx * step
                            guard x < width else { break }
                            let v = pixels[planeStart + y * width + x].doubleValue
                            if !v.isNaN { sum += v; count += 1 }
                        }
                    }
                    guard count > 0 else { continue }
                    let t = ((sum / Double(count)) - low) / span
                    out[oy * outWidth + ox] = UInt8((min(max(t, 0), 1) * 255).rounded())
                }
            }
        }
        return Image(shape: Shape(width: outWidth, height: outHeight), pixels: out)
    }
}
