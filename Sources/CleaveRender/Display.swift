import CleaveCore

/// Turning scientific images into pictures people look at.
public enum Display {
    /// The values at the `low` and `high` percentiles (0…100) of a channel's samples, NaN and
    /// ±infinity skipped (0…1 when none is finite):
    /// the usual auto-contrast window for 16-bit and float data. Exact order statistics of a
    /// deterministic subsample of at most 1,000,000 values (every `count / 1,000,000`-th sample),
    /// interpolated linearly between neighbouring ranks — the values a sort of the subsample gives,
    /// to the bit. 8- and 16-bit images count the subsample into a histogram; float images select
    /// the four ranks (``OrderStatistics/select(_:_:)-array``) instead of sorting.
    /// - Complexity: O(n) for n subsampled values (plus 65,536 bins for 16-bit images).
    public static func percentileWindow<Scalar: PixelScalar>(_ image: Image<Scalar>, low: Double = 0.5, high: Double = 99.5,
                                                           channel: Int = 0) -> ClosedRange<Double> {
        let start = channel * image.shape.channelSize
        let count = image.shape.channelSize
        let step = max(1, count / 1_000_000)
        let samples = stride(from: start, to: start + count, by: step)
        if let bytes = image as? Image<UInt8> {
            return histogramWindow(bytes.pixels, samples, bins: 256, low: low, high: high)
        }
        if let words = image as? Image<UInt16> {
            return histogramWindow(words.pixels, samples, bins: 65_536, low: low, high: high)
        }
        guard let floats = image as? Image<Float> else {
            // No other pixel type exists today; a new one gets the sort's values by sorting.
            let sorted = samples.map { image.pixels[$0].doubleValue }.filter(\.isFinite).sorted()
            guard !sorted.isEmpty else { return 0...1 }
            return interpolatedWindow(count: sorted.count, low: low, high: high) { sorted[$0] }
        }
        var values: [Float] = []
        values.reserveCapacity(count / step + 1)
        for i in samples where floats.pixels[i].isFinite { values.append(floats.pixels[i]) }
        guard !values.isEmpty else { return 0...1 }
        let sample = values
        return interpolatedWindow(count: values.count, low: low, high: high) { k in
            let v = OrderStatistics.select(&values, k)
            return Double(v == 0 ? stableZero(sample, rank: k) : v)
        }
    }

    /// The window of the 8- or 16-bit samples at `samples`: every value counted into `bins`, the
    /// rank-`k` value read off the running count (all integers are finite).
    private static func histogramWindow<T: FixedWidthInteger & UnsignedInteger>(
        _ pixels: [T], _ samples: StrideTo<Int>, bins: Int, low: Double, high: Double) -> ClosedRange<Double> {
        var counts = [Int](repeating: 0, count: bins)
        var n = 0
        for i in samples { counts[Int(pixels[i])] += 1; n += 1 }
        guard n > 0 else { return 0...1 }
        return interpolatedWindow(count: n, low: low, high: high) { k in
            var seen = 0
            for (value, c) in counts.enumerated() {
                seen += c
                if seen > k { return Double(value) }
            }
            return Double(bins - 1)
        }
    }

    /// A zero at rank `k` as a stable sort of `sample` places it: −0 and +0 compare equal and keep
    /// their order, so the rank-`k` value is the (k − negatives)-th zero of `sample` with its sign.
    private static func stableZero(_ sample: [Float], rank k: Int) -> Float {
        var zerosBefore = k - sample.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        for v in sample where v == 0 {
            if zerosBefore == 0 { return v }
            zerosBefore -= 1
        }
        return 0
    }

    /// The `low`…`high` percentile window of `count` ordered values, `value(k)` the rank-`k` one:
    /// position p/100·(count−1), linear between the ranks around it (as numpy's "linear" method
    /// with this formula); a window of width 1 from the lower value when both coincide.
    private static func interpolatedWindow(count: Int, low: Double, high: Double,
                                           _ value: (Int) -> Double) -> ClosedRange<Double> {
        func at(_ p: Double) -> Double {
            let pos = p / 100 * Double(count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, count - 1)
            let a = value(lo), b = value(hi)
            return a + (b - a) * (pos - Double(lo))
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

    /// The same for an image of any stored type (``grey(_:window:plane:channel:)`` on its pixels).
    public static func grey(_ image: AnyImage, window: ClosedRange<Double>? = nil, plane: Int = 0, channel: Int = 0) -> Image<UInt8> {
        switch image {
        case .uint8(let i): return grey(i, window: window, plane: plane, channel: channel)
        case .uint16(let i): return grey(i, window: window, plane: plane, channel: channel)
        case .float32(let i): return grey(i, window: window, plane: plane, channel: channel)
        }
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
