import CleaveCore

/// A plane of network input: `channels × height × width` Floats, channel-major (one `Tensor` item).
public struct NeuralPlane: Sendable, Equatable {
    /// Channels (detectors × slices for network input).
    public var channels: Int
    /// Columns per channel, pixels.
    public var width: Int
    /// Rows per channel, pixels.
    public var height: Int
    /// The `channels × height × width` values, channel-major, column fastest.
    public var values: [Float]

    /// A plane; `values.count` must be `channels × width × height` (a precondition).
    public init(channels: Int, width: Int, height: Int, values: [Float]) {
        precondition(values.count == channels * width * height, "NeuralPlane: \(values.count) values for \(channels)×\(height)×\(width)")
        self.channels = channels; self.width = width; self.height = height; self.values = values
    }

    /// Rows `rows` of every channel.
    public func rows(_ rows: Range<Int>) -> NeuralPlane {
        var out: [Float] = []
        out.reserveCapacity(channels * rows.count * width)
        for c in 0..<channels {
            let base = c * width * height
            out.append(contentsOf: values[(base + rows.lowerBound * width)..<(base + rows.upperBound * width)])
        }
        return NeuralPlane(channels: channels, width: width, height: rows.count, values: out)
    }
}

/// Builds normalised network input planes from a ``PixelClassifierInput`` one plane at a time
/// (stacks are never converted to Float as a whole). Keeps the last few normalised detector planes
/// so walking a stack plane by plane converts each plane once.
public final class NeuralPlaneSource {
    /// The image the planes are taken from (in memory or streamed).
    public let input: PixelClassifierInput
    /// Channels, slices, windows and flat-field correction applied to every plane.
    public let spec: NeuralInputSpec
    private var cache: [Int: [Float]] = [:] // key: plane * channels + detector
    private var order: [Int] = []

    /// - Throws: ``NeuralError`` when the input's channels or depth do not fit `spec`.
    public init(input: PixelClassifierInput, spec: NeuralInputSpec) throws {
        try spec.check(channels: input.channelCount, depth: input.spatialShape.depth, source: input.name)
        self.input = input
        self.spec = spec
    }

    /// Network input for plane `z` (detector-major, neighbouring slices mirrored at the ends).
    /// - Throws: what reading a streamed plane throws (an unreadable plane, non-finite pixels).
    public func plane(_ z: Int) throws -> NeuralPlane {
        let shape = input.spatialShape
        let n = shape.planeSize
        let h = spec.slices / 2
        var values = [Float](repeating: 0, count: spec.networkChannels * n)
        var channel = 0
        for d in 0..<spec.detectorChannels {
            for k in -h...h {
                let source = try normalizedDetectorPlane(NeuralInputSpec.reflectedPlane(z + k, depth: shape.depth), detector: d)
                values.replaceSubrange((channel * n)..<((channel + 1) * n), with: source)
                channel += 1
            }
        }
        return NeuralPlane(channels: spec.networkChannels, width: shape.width, height: shape.height, values: values)
    }

    private func normalizedDetectorPlane(_ z: Int, detector: Int) throws -> [Float] {
        let key = z * spec.detectorChannels + detector
        if let hit = cache[key] { return hit }
        let shape = input.spatialShape
        let block = try input.readBlock(Region(x: 0, y: 0, z: z, width: shape.width, height: shape.height, depth: 1))
        let window = spec.windows[detector]
        var out = NeuralPlaneSource.channelPlane(block, channel: detector, flattening: spec.flattening)
        for i in 0..<shape.planeSize { out[i] = window.normalized(out[i]) }
        cache[key] = out
        order.append(key)
        let keep = spec.detectorChannels * (spec.slices + 1)
        while order.count > keep { cache[order.removeFirst()] = nil }
        return out
    }

    /// Channel `channel` of a one-plane block, flat-field corrected when `flattening` is a σ: what
    /// both the windows and the network's input are computed from.
    static func channelPlane(_ block: Image<Float>, channel: Int, flattening: Double?) -> [Float] {
        let (width, height) = (block.shape.width, block.shape.height)
        let start = channel * width * height
        var plane = Array(block.pixels[start..<(start + width * height)])
        if let sigma = flattening { NeuralFlattening.flatten(&plane, width: width, height: height, sigma: sigma) }
        return plane
    }

    /// Intensity windows (`percentiles` of each detector channel) measured on the given planes of
    /// the inputs, on at most ~2 million samples per channel taken at a fixed stride; with
    /// `flattening`, on the flat-field corrected planes. Each plane is read once for all channels.
    /// - Throws: what reading a streamed plane throws.
    public static func measureWindows(_ inputs: [(input: PixelClassifierInput, planes: [Int])], percentiles: [Double] = [1, 99],
                                      flattening: Double? = nil) throws -> [IntensityWindow] {
        precondition(!inputs.isEmpty && percentiles.count == 2, "NeuralPlaneSource.measureWindows: no inputs")
        let channels = inputs[0].input.channelCount
        let total = inputs.reduce(0) { $0 + $1.planes.count * $1.input.spatialShape.planeSize }
        let stride = max(1, total / 2_000_000)
        var samples = [[Float]](repeating: [], count: channels)
        for c in 0..<channels { samples[c].reserveCapacity(total / stride + 1) }
        for (input, planes) in inputs {
            let shape = input.spatialShape
            for z in planes {
                let block = try input.readBlock(Region(x: 0, y: 0, z: z, width: shape.width, height: shape.height, depth: 1))
                for c in 0..<channels {
                    let plane = channelPlane(block, channel: c, flattening: flattening)
                    for i in Swift.stride(from: 0, to: shape.planeSize, by: stride) { samples[c].append(plane[i]) }
                }
            }
        }
        var windows: [IntensityWindow] = []
        for c in 0..<channels {
            var sample = samples[c]
            samples[c] = []
            var copy = sample
            let low = OrderStatistics.percentile(&copy, percentiles[0])
            let high = OrderStatistics.percentile(&sample, percentiles[1])
            windows.append(IntensityWindow(low: Float(low), high: Float(high > low ? high : low + 1)))
        }
        return windows
    }
}
