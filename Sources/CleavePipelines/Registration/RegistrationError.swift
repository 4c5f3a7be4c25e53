import CleaveCore
import Foundation

/// Bad input to a registration, or a registration that cannot be trusted: one line naming what,
/// where and why. Registration refuses rather than return a transform it cannot support.
public enum RegistrationError: CleaveErrorProtocol, Equatable {
    /// An image that cannot be registered (wrong dimensionality, too small, constant, …).
    case unusableImage(path: String, reason: String)
    /// The landmark file cannot be read or a line is malformed.
    case badLandmarks(path: String, line: Int, reason: String)
    /// Fewer landmark pairs than the model needs.
    case tooFewLandmarks(path: String, count: Int, needed: Int, model: String)
    /// The landmark pairs do not determine the transform (e.g. all on one line).
    case degenerateLandmarks(path: String, reason: String)
    /// Under the best transform the moving image hardly overlaps the fixed one.
    case noOverlap(overlapFraction: Double, minimum: Double)
    /// The best score found is not distinguishable from that of random transforms.
    case indistinguishableFromChance(score: Double, chanceMean: Double, chanceDeviation: Double, zScore: Double, minimumZ: Double)
    /// The transform found cannot be inverted, so nothing can be warped onto the fixed grid.
    case singularTransform
    /// The moving class map cannot become training labels on the fixed image (`image` names
    /// the fixed image when the problem is the pair's).
    case cannotTransferLabels(image: String?, reason: String)

    /// One line naming the file (or the measured numbers), what is wrong and what would help.
    public var description: String {
        switch self {
        case let .unusableImage(path, reason):
            return "\(path): cannot be registered (\(reason))"
        case let .badLandmarks(path, line, reason):
            return "\(path), line \(line): \(reason)"
        case let .tooFewLandmarks(path, count, needed, model):
            return "\(path): \(count) landmark pair\(count == 1 ? "" : "s"), a \(model) transform needs at least \(needed)"
        case let .degenerateLandmarks(path, reason):
            return "\(path): the landmarks do not determine a transform (\(reason))"
        case let .noOverlap(fraction, minimum):
            return "the moving image does not overlap the fixed image: at best \(percent(fraction)) of its pixels land inside (need \(percent(minimum)))"
        case let .indistinguishableFromChance(score, mean, deviation, z, minimumZ):
            return "no trustworthy match: the best correlation ratio \(fixed3(score)) is only \(fixed1(z)) standard deviations above random placements (\(fixed3(mean)) ± \(fixed3(deviation)); need \(fixed1(minimumZ))); give `landmarks`, or check that the images show the same region"
        case .singularTransform:
            return "the registration's transform is singular; nothing written"
        case let .cannotTransferLabels(image, reason):
            return image.map { "\($0): \(reason)" } ?? "cannot transfer the labels: \(reason)"
        }
    }
}

private func percent(_ value: Double) -> String { String(format: "%.1f %%", 100 * value) }
private func fixed3(_ value: Double) -> String { String(format: "%.3f", value) }
private func fixed1(_ value: Double) -> String { String(format: "%.1f", value) }
