import CleaveCore
import CleaveFilters

/// A choice of pixel features: a feature × scale matrix, computed for every input channel.
///
/// ```
///                       0    0.7  1.0  1.6  3.5  5.0  10.0   (scale, pixels)
/// gaussian              ●    ●    ●    ●    ●    ●    ●      (scale 0 = the raw intensity)
/// gradient_magnitude         ●    ●    ●    ●    ●    ●
/// …
/// ```
///
/// A bank is an immutable, validated, `Codable` value, so a model file can store the exact bank
/// it was trained with. Features come out in a stable order (``featureNames(channelCount:)``):
/// for each channel, for each entry in order, for each scale in order, for each component
/// (eigenvalues largest first), named like `ch0:gaussian:s1.6` or
/// `ch0:hessian_eigenvalues[1]:s3.5`.
///
/// Scales are Gaussian sigmas in pixels along x. In 3D mode (``threeD``) the filters run in 3D
/// and, when the image has a ``Spacing``, the sigma along y and z is scaled by the voxel
/// anisotropy so that the smoothing is isotropic in physical space. Windowed features use a box
/// of side `2·round(2·scale) + 1` (0.7 → 3, 1 → 5, 1.6 → 7, 3.5 → 15, 5 → 21, 10 → 41), which
/// covers about the same neighbourhood as the Gaussian of that scale.
///
/// See ``FilterBank/pixelClassifierDefault`` for the default bank and the reasoning behind it.
public struct FilterBank: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The version of this description's layout; stored in model files.
    public static let formatVersion = 1

    /// One row of the matrix: a feature at a list of scales.
    public struct Entry: Sendable, Hashable, Codable {
        public var feature: FilterFeature
        public var scales: [Double]

        public init(_ feature: FilterFeature, scales: [Double]) {
            self.feature = feature
            self.scales = scales
        }
    }

    /// The rows, in output order.
    public let entries: [Entry]
    /// 3D filters on stacks (true) or plane-by-plane 2D filters (false).
    public let threeD: Bool
    /// Edge handling for every filter (default `.reflect`).
    public let boundary: Boundary
    /// Layout version this bank was written with.
    public let version: Int
    /// Grey-level quantisation of the `texture` feature (nil = 16 levels over 0…255).
    public let textureOptions: TextureOptions?

    /// The texture settings in effect.
    public var effectiveTextureOptions: TextureOptions { textureOptions ?? TextureOptions() }

    /// Creates a bank, checking every entry.
    /// - Throws: ``FilterBankError`` for an empty bank, a repeated feature, an empty or repeated
    ///   scale list, or a scale that is negative, not finite, above 64, or 0 for a feature
    ///   other than `gaussian`.
    public init(entries: [Entry], threeD: Bool = false, boundary: Boundary = .reflect,
                textureOptions: TextureOptions? = nil) throws {
        guard !entries.isEmpty else { throw FilterBankError.invalid("a filter bank needs at least one feature") }
        var seen = Set<FilterFeature>()
        for entry in entries {
            guard seen.insert(entry.feature).inserted else {
                throw FilterBankError.invalid("feature \(entry.feature.rawValue) is listed twice")
            }
            guard !entry.scales.isEmpty else {
                throw FilterBankError.invalid("feature \(entry.feature.rawValue) has no scales")
            }
            guard Set(entry.scales).count == entry.scales.count else {
                throw FilterBankError.invalid("feature \(entry.feature.rawValue) repeats a scale in \(entry.scales)")
            }
            for scale in entry.scales {
                guard scale.isFinite, scale >= 0, scale <= 64 else {
                    throw FilterBankError.invalid("scale \(scale) of \(entry.feature.rawValue) is outside 0...64 pixels")
                }
                guard scale > 0 || entry.feature == .gaussian else {
                    throw FilterBankError.invalid("scale 0 (the raw image) is only allowed for gaussian, not \(entry.feature.rawValue)")
                }
            }
        }
        self.entries = entries
        self.threeD = threeD
        self.boundary = boundary
        self.version = FilterBank.formatVersion
        self.textureOptions = textureOptions
    }

    /// ilastik's default scales (pixels): fine enough for 1–2 px detail, coarse enough for grains.
    public static let defaultScales: [Double] = [0.7, 1.0, 1.6, 3.5, 5.0, 10.0]

    public var description: String {
        entries.map { "\($0.feature.rawValue)@\($0.scales.map { formatScale($0) }.joined(separator: ","))" }
            .joined(separator: " ") + (threeD ? " (3D)" : "")
    }

    // MARK: Names and sizes

    /// Features computed per input channel.
    public var featuresPerChannel: Int {
        entries.reduce(0) { $0 + $1.scales.count * $1.feature.componentCount(threeD: threeD) }
    }

    /// Total number of features for an image with `channelCount` channels.
    public func featureCount(channelCount: Int) -> Int { featuresPerChannel * channelCount }

    /// Stable, ordered feature names, e.g. `ch0:gaussian:s1.6`, `ch1:hessian_eigenvalues[0]:s3.5`.
    public func featureNames(channelCount: Int) -> [String] {
        var names: [String] = []
        names.reserveCapacity(featureCount(channelCount: channelCount))
        for channel in 0..<channelCount {
            for entry in entries {
                let components = entry.feature.componentCount(threeD: threeD)
                for scale in entry.scales {
                    for component in 0..<components {
                        let feature = entry.feature.componentName(component, threeD: threeD)
                        names.append("ch\(channel):\(feature):s\(formatScale(scale))")
                    }
                }
            }
        }
        return names
    }

    // MARK: Scales and halo

    /// The Gaussian sigma (pixels per axis) for `scale` on an image with `spacing`.
    public func sigma(scale: Double, spacing: Spacing?) -> Sigma {
        guard threeD else { return Sigma(x: scale, y: scale * yFactor(spacing), z: 0) }
        let z = spacing.map { scale * $0.x / $0.z } ?? scale
        return Sigma(x: scale, y: scale * yFactor(spacing), z: z)
    }

    private func yFactor(_ spacing: Spacing?) -> Double { spacing.map { $0.x / $0.y } ?? 1 }

    /// The window of the windowed features at `scale`.
    public func window(scale: Double, spacing: Spacing?) -> WindowSize {
        let s = sigma(scale: scale, spacing: spacing)
        func side(_ sigma: Double) -> Int { 2 * Int(2 * sigma + 0.5) + 1 }
        return WindowSize(width: side(s.x), height: side(s.y), depth: threeD ? side(s.z) : 1)
    }

    /// The (odd) window side of the texture feature at `scale`: as the box windows, at least 3.
    public func textureWindow(scale: Double, spacing: Spacing?) -> Int {
        max(3, window(scale: scale, spacing: spacing).width)
    }

    /// Pixels beyond a block that its features depend on, per axis: the largest kernel radius
    /// (summed for cascaded filters such as the structure tensor). Computing a block grown by
    /// this halo gives the same values inside the block as computing the whole image.
    public func halo(spacing: Spacing? = nil) -> (x: Int, y: Int, z: Int) {
        var hx = 0, hy = 0, hz = 0
        for entry in entries {
            for scale in entry.scales {
                let r = entry.feature.reach(scale: scale, bank: self, spacing: spacing)
                hx = max(hx, r.x); hy = max(hy, r.y); hz = max(hz, r.z)
            }
        }
        return (hx, hy, threeD ? hz : 0)
    }
}

/// Formats a scale without trailing zeros: 1.0 → "1", 1.6 → "1.6", 0 → "0".
func formatScale(_ scale: Double) -> String {
    if scale == scale.rounded() { return String(Int(scale)) }
    return String(scale)
}

/// A bank description that cannot be used.
public enum FilterBankError: CleaveErrorProtocol, Equatable {
    case invalid(String)
    case unknownFeature(String)
    case unknownBank(String)
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .invalid(let why): return "invalid filter bank: \(why)"
        case .unknownFeature(let name):
            return "unknown feature '\(name)'; known: \(FilterFeature.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownBank(let name):
            return "unknown filter bank '\(name)'; known: \(FilterBank.namedBanks.joined(separator: ", "))"
        case .shapeMismatch(let why): return "feature input shape mismatch: \(why)"
        }
    }
}
