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

    /// The default display window of `channel`: the full 0…255 range for 8-bit data (no silent
    /// stretching), the 0.5–99.5 percentiles of `plane` otherwise. `auto` (what the Auto button
    /// applies) is the 0.5–99.5 percentiles for every pixel type.
    public static func defaultWindow(_ image: AnyImage, plane: Int = 0, channel: Int = 0) -> WindowDTO {
        let w: ClosedRange<Double>
        switch image {
        case .uint8(let i): w = Display.percentileWindow(i.plane(plane, channel: channel), low: 0.5, high: 99.5)
        case .uint16(let i): w = Display.percentileWindow(i.plane(plane, channel: channel), low: 0.5, high: 99.5)
        case .float32(let i): w = Display.percentileWindow(i.plane(plane, channel: channel), low: 0.5, high: 99.5)
        }
        let auto = AutoWindowDTO(low: w.lowerBound, high: w.upperBound, method: "percentiles 0.5-99.5")
        if case .uint8 = image { return WindowDTO(low: 0, high: 255, method: "full-range", auto: auto) }
        return WindowDTO(low: w.lowerBound, high: w.upperBound, method: "percentiles 0.5-99.5", auto: auto)
    }

    /// One channel of a composite: its display window and the colour its window's top maps to.
    public struct Layer: Sendable, Equatable {
        /// The image channel (0-based).
        public var channel: Int
        /// Pixel values mapped to black … the full colour.
        public var window: ClosedRange<Double>
        /// The colour the window's top maps to; layers add up (Fiji's composite mode), clipped at 255.
        public var colour: RGB

        /// A layer of channel `channel`.
        public init(channel: Int, window: ClosedRange<Double>, colour: RGB) {
            self.channel = channel
            self.window = window
            self.colour = colour
        }
    }

    /// Renders one tile of `plane`, channel 0 as 8-bit grey through `window` (values at or below
    /// `low` → 0, at or above `high` → 255). Each output pixel is the mean of up to 4×4 evenly
    /// spaced samples of its 2^L×2^L source block, so high levels stay cheap and deterministic.
    /// Returns nil when the tile lies outside the image.
    public static func render(_ image: AnyImage, level: Int, column: Int, row: Int,
                              window: ClosedRange<Double>, plane: Int = 0) -> Image<UInt8>? {
        guard case let (width, height, means)? = tileMeans(image, level: level, column: column, row: row, plane: plane, channel: 0) else {
            return nil
        }
        return Image(shape: Shape(width: width, height: height), pixels: means.map { windowed($0, window) })
    }

    /// Renders one tile of `plane` as an RGB composite (channels first, 3 × width × height): each
    /// layer's channel through its window, times its colour, added and clipped at 255 (additive
    /// mixing, as Fiji's composite mode). Returns nil when the tile lies outside the image or a
    /// layer names a channel the image does not have.
    public static func renderComposite(_ image: AnyImage, level: Int, column: Int, row: Int, layers: [Layer],
                                       plane: Int = 0) -> Image<UInt8>? {
        let shape = image.shape
        guard layers.allSatisfy({ (0..<shape.channels).contains($0.channel) }), plane >= 0, plane < shape.depth,
              case let (width, height)? = tileExtent(width: shape.width, height: shape.height, level: level, column: column, row: row) else { return nil }
        let n = width * height
        var sums = [Double](repeating: 0, count: 3 * n)
        for layer in layers {
            guard case let (_, _, means)? = tileMeans(image, level: level, column: column, row: row, plane: plane, channel: layer.channel) else {
                return nil
            }
            for (c, component) in [layer.colour.red, layer.colour.green, layer.colour.blue].enumerated() where component > 0 {
                let scale = Double(component) / 255
                for i in 0..<n { sums[c * n + i] += Double(windowed(means[i], layer.window)) * scale }
            }
        }
        return Image(shape: Shape(width: width, height: height, channels: 3), pixels: sums.map { UInt8(min($0, 255).rounded()) })
    }

    /// The size of tile (column, row) of `level`; nil when it lies outside the pyramid.
    static func tileExtent(width: Int, height: Int, level: Int, column: Int, row: Int) -> (Int, Int)? {
        guard level >= 0, level < levelCount(width: width, height: height), column >= 0, row >= 0 else { return nil }
        let counts = tileCounts(width: width, height: height, level: level)
        guard column < counts.columns, row < counts.rows else { return nil }
        let scale = 1 << level
        return (min(tileSize, (width - column * tileSize * scale + scale - 1) / scale),
                min(tileSize, (height - row * tileSize * scale + scale - 1) / scale))
    }

    /// `value` through `window` as 0…255 (NaN: 0).
    static func windowed(_ value: Double, _ window: ClosedRange<Double>) -> UInt8 {
        guard !value.isNaN else { return 0 }
        let t = (value - window.lowerBound) / max(window.upperBound - window.lowerBound, 1e-12)
        return UInt8((min(max(t, 0), 1) * 255).rounded())
    }

    /// The mean of each output pixel's samples of one channel (NaN where all are NaN), and the
    /// tile's size; nil when the tile, plane or channel lies outside the image.
    static func tileMeans(_ image: AnyImage, level: Int, column: Int, row: Int, plane: Int, channel: Int) -> (Int, Int, [Double])? {
        switch image {
        case .uint8(let i): return tileMeans(i, level: level, column: column, row: row, plane: plane, channel: channel)
        case .uint16(let i): return tileMeans(i, level: level, column: column, row: row, plane: plane, channel: channel)
        case .float32(let i): return tileMeans(i, level: level, column: column, row: row, plane: plane, channel: channel)
        }
    }

    static func tileMeans<S: PixelScalar>(_ image: Image<S>, level: Int, column: Int, row: Int,
                                          plane: Int, channel: Int) -> (Int, Int, [Double])? {
        let width = image.width, height = image.height
        guard plane >= 0, plane < image.depth, channel >= 0, channel < image.shape.channels,
              case let (outWidth, outHeight)? = tileExtent(width: width, height: height, level: level, column: column, row: row) else { return nil }
        let planeStart = image.shape.index(column: 0, row: 0, plane: plane, channel: channel)
        let scale = 1 << level
        let x0 = column * tileSize * scale, y0 = row * tileSize * scale
        let samples = min(scale, 4)
        let step = scale / samples
        var out = [Double](repeating: .nan, count: outWidth * outHeight)
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
                    if count > 0 { out[oy * outWidth + ox] = sum / Double(count) }
                }
            }
        }
        return (outWidth, outHeight, out)
    }
}
