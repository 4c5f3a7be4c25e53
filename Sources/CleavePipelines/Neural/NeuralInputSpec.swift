import CleaveCore

/// The intensity window of one detector channel: `low` maps to −1 and `high` to +1.
public struct IntensityWindow: Codable, Sendable, Equatable {
    /// Grey value (after flat-field correction, if any) that maps to −1.
    public var low: Float
    /// Grey value that maps to +1; a window with `high ≤ low` maps everything to 0.
    public var high: Float

    /// A window from `low` to `high` grey values.
    public init(low: Float, high: Float) {
        self.low = low
        self.high = high
    }

    /// 2 · (v − low) / (high − low) − 1 (a flat window maps everything to 0).
    @inlinable public func normalized(_ v: Float) -> Float {
        let span = high - low
        return span > 0 ? 2 * (v - low) / span - 1 : 0
    }
}

/// What a network sees: detector channels × neighbouring slices ("2.5D"), each detector plane
/// optionally flat-field corrected and then normalised by a fixed intensity window measured on
/// the training images.
///
/// Network channel order is detector-major: `(d0, z−h) … (d0, z+h), (d1, z−h) …`, h = slices / 2.
/// Slices beyond the first or last plane are mirrored (plane −1 is plane 1).
public struct NeuralInputSpec: Codable, Sendable, Equatable {
    /// Channels of every input image (two detectors → 2).
    public var detectorChannels: Int
    /// Neighbouring slices per detector: 1 (2D), 3 or 5.
    public var slices: Int
    /// Lower and upper percentile the windows were measured at.
    public var percentiles: [Double]
    /// One window per detector channel.
    public var windows: [IntensityWindow]
    /// σ in pixels of the flat-field correction applied to every plane before its window
    /// (``NeuralFlattening``); nil: none. The windows are measured on corrected planes.
    public var flattening: Double?

    /// A spec; there must be one window per detector channel (a precondition). `slices` is checked
    /// against ``allowedSlices`` by ``checkSlices(_:depth:source:forModel:)``, not here.
    public init(detectorChannels: Int, slices: Int, percentiles: [Double] = [1, 99], windows: [IntensityWindow],
                flattening: Double? = nil) {
        precondition(windows.count == detectorChannels, "NeuralInputSpec: \(windows.count) windows for \(detectorChannels) channels")
        self.detectorChannels = detectorChannels
        self.slices = slices
        self.percentiles = percentiles
        self.windows = windows
        self.flattening = flattening
    }

    /// Channels of the network's input tensor.
    public var networkChannels: Int { detectorChannels * slices }

    /// The slice counts a model can use.
    public static let allowedSlices = [1, 3, 5]

    /// Throws when an input cannot be fed to a network with this spec.
    /// - Parameters:
    ///   - channels: detector channels of the input.
    ///   - depth: planes of the input.
    public func check(channels: Int, depth: Int, source: String) throws {
        guard channels == detectorChannels else {
            throw NeuralError.unusableInput(source: source, reason: "has \(channels) channel\(channels == 1 ? "" : "s"), but the model was trained on \(detectorChannels) (give co-registered channels as IMG1,IMG2,…)")
        }
        try NeuralInputSpec.checkSlices(slices, depth: depth, source: source, forModel: true)
    }

    /// Throws when `slices` neighbouring planes cannot be taken from a stack of `depth` planes.
    public static func checkSlices(_ slices: Int, depth: Int, source: String, forModel: Bool = false) throws {
        guard allowedSlices.contains(slices) else {
            throw NeuralError.invalidOption(field: "slices", value: "\(slices)", reason: "must be 1, 3 or 5")
        }
        let needed = slices == 1 ? 1 : slices / 2 + 1
        if depth < needed {
            let what = forModel ? "the model takes \(slices) neighbouring slices" : "`slices` \(slices) needs \(slices / 2) neighbouring slice\(slices / 2 == 1 ? "" : "s") on each side"
            throw NeuralError.unusableInput(source: source, reason: "has \(depth) plane\(depth == 1 ? "" : "s"), but \(what); give a stack with at least \(needed) planes (or train with `slices` 1)")
        }
    }

    /// Mirrors plane `z + offset` into `0..<depth` (reflect without repeating the edge plane).
    @inlinable public static func reflectedPlane(_ z: Int, depth: Int) -> Int {
        if depth == 1 { return 0 }
        var i = z
        let period = 2 * (depth - 1)
        i %= period
        if i < 0 { i += period }
        return i < depth ? i : period - i
    }
}
