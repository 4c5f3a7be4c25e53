import CleaveCore

/// Turning scientific images into pictures people look at.
public enum Display {
    /// The values at the `low` and `high` percentiles (0…100) of a channel's samples, NaN and
    /// ±infinity skipped (0…1 when none is finite):
    /// the usual auto-contrast window for 16-bit and float data. Uses an exact sort of a
    /// deterministic subsample of at most 1,000,000 values.
    public static func percentileWindow<Scalar: PixelScalar>(_ image: Image<Scalar>, low: Double = 0.5, high: Double = 99.5,
                                                           channel: Int = 0) -> ClosedRange<Double> {
        let start = channel * image.shape.channelSize
        let count = image.shape.channelSize
        let step = max(1, count / 1_000_000)
        var values: [Double] = []
        values.reserveCapacity(count / step + 1)
        var i = 0
        while i < count {
            let v = image.pixels[start + i].doubleValue
            if v.isFinite { values.append(v) }
            i += step
        }
        guard !values.isEmpty else { return 0...1 }
        values.sort()
        func at(_ p: Double) -> Double {
            let pos = p / 100 * Double(values.count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, values.count - 1)
            return values[lo] + (values[hi] - values[lo]) * (pos - Double(lo))
        }
        let a = at(low), b = at(high)
        return a < b ? a...b : a...(a + 1)
    }

    /// A 2D plane as 8-bit grey through a contrast window (values below → 0, above → 255).
    public static func grey<Scalar: PixelScalar>(_ image: Image<Scalar>, window: ClosedRange<Double>? = nil,
                                                 plane: Int = 0, channel: Int = 0) -> Image<UInt8> {
        let slice = image.plane(plane, channel: channel)
        let range = window ?? percentileWindow(slice)
        return slice.rescaled(to: UInt8.self, from: range)
    }

    /// Grey image → RGB (3 channels, 8-bit).
    public static func rgb(fromGrey grey: Image<UInt8>) -> Image<UInt8> {
        precondition(grey.channels == 1 && grey.depth == 1, "Display.rgb(fromGrey:) needs a 2D single-channel image, got \(grey.shape)")
        return Image.stackingChannels([grey, grey, grey])
    }

    /// Blends category colours over a grey picture: `labels[i]` (0 = none, drawn unchanged when
    /// `skipZero`) picks `colours[label]`; `opacity` in 0…1. Returns a 3-channel RGB image.
    public static func overlay(grey: Image<UInt8>, labels: [Int32], colours: (Int32) -> RGB?,
                               opacity: Double = 0.45) -> Image<UInt8> {
        precondition(grey.channels == 1 && grey.depth == 1 && labels.count == grey.shape.planeSize,
                     "Display.overlay: \(labels.count) labels for a \(grey.shape) image")
        let n = grey.shape.planeSize
        var out = [UInt8](repeating: 0, count: 3 * n)
        let alpha = min(max(opacity, 0), 1)
        var cache: [Int32: RGB?] = [:]
        for i in 0..<n {
            let g = Double(grey.pixels[i])
            let label = labels[i]
            let colour: RGB?
            if let c = cache[label] { colour = c } else { colour = colours(label); cache[label] = colour }
            if let c = colour {
                out[i] = UInt8((g * (1 - alpha) + Double(c.red) * alpha).rounded())
                out[n + i] = UInt8((g * (1 - alpha) + Double(c.green) * alpha).rounded())
                out[2 * n + i] = UInt8((g * (1 - alpha) + Double(c.blue) * alpha).rounded())
            } else {
                out[i] = grey.pixels[i]; out[n + i] = grey.pixels[i]; out[2 * n + i] = grey.pixels[i]
            }
        }
        return Image(shape: Shape(width: grey.width, height: grey.height, channels: 3), pixels: out, spacing: grey.spacing)
    }

    /// Maps a continuous field (e.g. a similarity heat or an uncertainty) in `range` through
    /// viridis and blends it over a grey picture with `opacity`. NaN values leave the grey as is.
    public static func heat(grey: Image<UInt8>, values: [Float], range: ClosedRange<Double>, opacity: Double = 0.5) -> Image<UInt8> {
        precondition(grey.channels == 1 && grey.depth == 1 && values.count == grey.shape.planeSize,
                     "Display.heat: \(values.count) values for a \(grey.shape) image")
        let n = grey.shape.planeSize
        var out = [UInt8](repeating: 0, count: 3 * n)
        let span = range.upperBound - range.lowerBound
        let alpha = min(max(opacity, 0), 1)
        for i in 0..<n {
            let g = Double(grey.pixels[i])
            let v = Double(values[i])
            if v.isNaN {
                out[i] = grey.pixels[i]; out[n + i] = grey.pixels[i]; out[2 * n + i] = grey.pixels[i]
                continue
            }
            let c = Palette.viridis(span > 0 ? (v - range.lowerBound) / span : 0)
            out[i] = UInt8((g * (1 - alpha) + Double(c.red) * alpha).rounded())
            out[n + i] = UInt8((g * (1 - alpha) + Double(c.green) * alpha).rounded())
            out[2 * n + i] = UInt8((g * (1 - alpha) + Double(c.blue) * alpha).rounded())
        }
        return Image(shape: Shape(width: grey.width, height: grey.height, channels: 3), pixels: out, spacing: grey.spacing)
    }
}
