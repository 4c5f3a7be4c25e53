import CleaveCore

/// How grey values are made comparable between images before the filter bank sees them.
///
/// A pixel classifier learns grey levels. When a test image was recorded with another exposure,
/// brightness/contrast setting or bit depth than the training images, the same phase has other
/// values and a forest trained on raw values classifies it as whatever phase had those values.
/// Each normalisation maps every image (each channel on its own) through an affine window before
/// features are computed; the model file records which one, so prediction repeats it.
///
/// - ``percentiles(low:high:)`` (the default, `percentile:0.1:99.9`): each image's own `low` and
///   `high` percentiles map to −1 and +1. It makes bit depth, exposure and contrast irrelevant.
///   Assumption: the darkest and the brightest phase of every image cover more than 0.1 % of
///   it, so the window's ends lie in the same phases in every image whatever their proportions.
///   A window end that falls *inside* a phase moves with that phase's share: at 1–99 % the
///   sandstone slices' bright minerals (1.4 % of pixels) moved the window from slice to slice and
///   cost 0.22 mIoU; at 0.1–99.9 no split of the suite lost to the reference (bench/suite/RESULTS.md).
///   `cleave predict` prints each image's window.
/// - ``pixelType``: divides by the largest value of the stored type (255, 65535; float data is
///   left as it is), as scikit-image's `img_as_float` does: bit depth is handled, exposure is not.
/// - ``none``: the values as stored. A model trained this way refuses images of another pixel type.
///
/// The forest's splits are invariant to one affine map applied to all images, so on a set whose
/// images share one exposure the three give the same segmentation; they differ where images differ.
public enum IntensityNormalization: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The values as stored (`none`).
    case none
    /// Divided by the stored type's largest value, 255 or 65535; float data as stored (`type`).
    case pixelType
    /// Each image's own `low` and `high` percentiles (0…100) map to −1 and +1 (`percentile:LOW:HIGH`).
    case percentiles(low: Double, high: Double)

    /// The default for new models (chosen on the whole real-data suite; bench/suite/RESULTS.md).
    public static let `default` = IntensityNormalization.percentiles(low: 0.1, high: 99.9)

    /// `none`, `type`, `percentile` (0.1–99.9) or `percentile:LOW:HIGH`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .pixelType: return "type"
        case .percentiles(let low, let high): return "percentile:\(Self.number(low)):\(Self.number(high))"
        }
    }

    /// Parses ``description``'s syntax.
    /// - Throws: ``PixelClassifierError/invalidNormalisation(_:reason:)``.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "none" where parts.count == 1: self = .none
        case "type" where parts.count == 1: self = .pixelType
        case "percentile", "percentiles":
            if parts.count == 1 { self = .default; return }
            guard parts.count == 3, let low = Double(parts[1]), let high = Double(parts[2]) else {
                throw PixelClassifierError.invalidIntensityNormalization(text, reason: "write percentile:LOW:HIGH, e.g. percentile:0.1:99.9")
            }
            guard low >= 0, high <= 100, low < high else {
                throw PixelClassifierError.invalidIntensityNormalization(text, reason: "needs 0 ≤ LOW < HIGH ≤ 100")
            }
            self = .percentiles(low: low, high: high)
        default:
            throw PixelClassifierError.invalidIntensityNormalization(text, reason: "expected none, type, percentile or percentile:LOW:HIGH")
        }
    }

    /// Most planes of a stack the percentiles are measured on (evenly spaced, first and last
    /// included), so a streamed stack is not read a second time just for its window.
    public static let maximumWindowPlanes = 16

    /// The per-channel windows of `input` (nil: values used as stored). Percentiles are numpy's
    /// linear percentiles of every channel over the whole image (on at most ~2 million samples
    /// taken at a fixed stride; of a stack, on at most ``maximumWindowPlanes`` evenly spaced
    /// planes), so they do not depend on block sizes.
    /// - Throws: what reading a streamed plane throws.
    public func windows(for input: PixelClassifierInput) throws -> [IntensityWindow]? {
        switch self {
        case .none:
            return nil
        case .pixelType:
            let maximum: Float
            switch input.pixelType {
            case .uint8: maximum = 255
            case .uint16: maximum = 65535
            case .float32: return nil
            }
            return Array(repeating: IntensityWindow(low: 0, high: maximum), count: input.channelCount)
        case .percentiles(let low, let high):
            let depth = input.spatialShape.depth, count = min(depth, Self.maximumWindowPlanes)
            let planes = count <= 1 ? [0] : (0..<count).map { $0 * (depth - 1) / (count - 1) }
            return try NeuralPlaneSource.measureWindows([(input, planes)], percentiles: [low, high])
        }
    }

    /// `input` with its windows attached (kept when it already has some, e.g. the whole image's
    /// windows on a crop).
    /// - Throws: what reading a streamed plane throws.
    public func prepare(_ input: PixelClassifierInput) throws -> PixelClassifierInput {
        guard input.featureWindows == nil, let windows = try windows(for: input) else { return input }
        return input.withFeatureWindows(windows)
    }

    private static func number(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}

extension IntensityNormalization: Codable {
    /// Reads the text form (``description``'s syntax, e.g. `percentile:0.1:99.9`) that models store.
    /// - Throws: `DecodingError.dataCorrupted` when the text does not parse.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    /// Writes the text form (``description``).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
