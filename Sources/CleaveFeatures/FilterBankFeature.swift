import CleaveCore
import CleaveFilters

/// One kind of pixel feature in a ``FilterBank``. Raw values are the names used in feature names,
/// bank descriptions and CLI flags.
public enum FilterFeature: String, Sendable, Hashable, Codable, CaseIterable {
    /// Gaussian smoothing (scale 0 = the raw intensity): "what is the brightness here".
    case gaussian
    /// Gaussian gradient magnitude: edges and boundaries at that scale.
    case gradientMagnitude = "gradient_magnitude"
    /// Laplacian of Gaussian: blobs/spots of size ≈ scale·√2 (negative on bright blobs).
    case laplacian
    /// Difference of Gaussians G(0.66·scale) − G(scale): a band-pass like the LoG, cheaper edges.
    case differenceOfGaussians = "dog"
    /// Hessian-of-Gaussian eigenvalues (2 in 2D, 3 in 3D): ridges, sheets, blobs and their polarity.
    case hessianEigenvalues = "hessian_eigenvalues"
    /// Structure-tensor eigenvalues (inner = scale, outer = scale/2): edge strength vs. corner/texture.
    case structureTensorEigenvalues = "structure_tensor_eigenvalues"
    /// Mean in a box window.
    case localMean = "local_mean"
    /// Standard deviation in a box window: local roughness/texture.
    case localStandardDeviation = "local_std"
    /// Minimum in a box window (dark pores nearby).
    case localMinimum = "local_min"
    /// Maximum in a box window (bright inclusions nearby).
    case localMaximum = "local_max"

    /// Accepts the raw names plus a few aliases ("intensity", "smoothing", "log", "std", …).
    public init(name: String) throws {
        let key = String(name.lowercased().map { $0 == "-" ? "_" : $0 })
        if let known = FilterFeature(rawValue: key) { self = known; return }
        switch key {
        case "intensity", "smoothing", "gaussian_smoothing": self = .gaussian
        case "gradient", "edges", "ggm": self = .gradientMagnitude
        case "log", "laplacian_of_gaussian": self = .laplacian
        case "difference_of_gaussians": self = .differenceOfGaussians
        case "hessian": self = .hessianEigenvalues
        case "structure_tensor", "st": self = .structureTensorEigenvalues
        case "mean": self = .localMean
        case "std", "local_standard_deviation": self = .localStandardDeviation
        case "min", "minimum": self = .localMinimum
        case "max", "maximum": self = .localMaximum
        default: throw FilterBankError.unknownFeature(name)
        }
    }

    /// Output images per scale and channel.
    public func componentCount(threeD: Bool) -> Int {
        switch self {
        case .hessianEigenvalues, .structureTensorEigenvalues: return threeD ? 3 : 2
        default: return 1
        }
    }

    /// The outer scale of the structure tensor relative to its inner scale (ilastik's choice).
    static let structureTensorOuterFactor = 0.5
    /// The fine scale of the difference of Gaussians relative to its coarse scale (ilastik's).
    static let dogFineFactor = 0.66

    /// How far (pixels per axis) this feature at `scale` reads from the pixel it describes.
    func reach(scale: Double, bank: FilterBank, spacing: Spacing?) -> (x: Int, y: Int, z: Int) {
        let sigma = bank.sigma(scale: scale, spacing: spacing)
        switch self {
        case .gaussian, .gradientMagnitude, .laplacian, .hessianEigenvalues, .differenceOfGaussians:
            let r = sigma.radius()
            return (r.x, r.y, r.z)
        case .structureTensorEigenvalues:
            let a = sigma.radius(), b = sigma.scaled(by: FilterFeature.structureTensorOuterFactor).radius()
            return (a.x + b.x, a.y + b.y, a.z + b.z)
        case .localMean, .localStandardDeviation, .localMinimum, .localMaximum:
            let r = bank.window(scale: scale, spacing: spacing).radius
            return (r.x, r.y, r.z)
        }
    }
}
