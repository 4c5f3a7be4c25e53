import CleaveCore

/// One statistic Cleave can compute for an image patch.
///
/// The raw values are the names the CLI and the patch tables use (`--features mean,std,…`).
/// Definitions follow numpy / scipy / scikit-image so that results can be checked against them:
///
/// | name | definition |
/// |---|---|
/// | `mean`, `std` | arithmetic mean; population standard deviation (numpy `ddof=0`) |
/// | `relstd` | `std / mean` (0 when the mean is 0) |
/// | `skewness` | scipy.stats.skew (biased, `m3 / m2^1.5`); 0 for a constant patch |
/// | `kurtosis` | scipy.stats.kurtosis (biased, Fisher: `m4 / m2² − 3`); 0 for a constant patch |
/// | `mode` | centre of the fullest of 1024 equal bins over the patch's min…max (numpy.histogram binning, first bin on ties); the value itself for a constant patch |
/// | `min`, `max`, `range`, `median` | order statistics; `range = max − min` |
/// | `p1` … `p99` | numpy.percentile with linear interpolation |
/// | `iqr` | `p75 − p25` |
/// | `lowtail`, `uptail` | `median − p1`, `p99 − median` |
/// | `darkfraction` | fraction of the patch's pixels below the dark threshold (see ``PatchStatisticsOptions/darkThreshold``) |
/// | `gradmean`, `gradstd`, `gradp95` | mean, std and 95th percentile of the Gaussian gradient magnitude (scipy.ndimage.gaussian_gradient_magnitude, reflect border, truncate 4) inside the patch; the gradient is computed on the whole image, so patch borders see their neighbours |
/// | `glcm_*` | scikit-image graycomatrix (symmetric, normed) averaged over angles 0°, 45°, 90°, 135° at one distance, then graycoprops contrast, homogeneity, energy, correlation and entropy (natural log); grey levels quantised over the patch's min…max (see ``GLCM``) |
public enum PatchStatistic: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case mean, std, relstd, skewness, kurtosis, mode
    case min, max, range, median
    case p1, p5, p25, p75, p95, p99
    case iqr, lowtail, uptail
    case darkfraction
    case gradmean, gradstd, gradp95
    case glcmContrast = "glcm_contrast"
    case glcmHomogeneity = "glcm_homogeneity"
    case glcmEnergy = "glcm_energy"
    case glcmCorrelation = "glcm_correlation"
    case glcmEntropy = "glcm_entropy"

    public var description: String { rawValue }

    /// The six statistics of the original Micro-Crystal Locator study, in its column order.
    public static let study: [PatchStatistic] = [.std, .relstd, .mean, .skewness, .kurtosis, .mode]

    /// Grey-value distribution statistics: moments, order statistics, tails and dark fraction.
    public static let intensity: [PatchStatistic] = [
        .mean, .std, .relstd, .skewness, .kurtosis, .mode, .min, .max, .range, .median,
        .p1, .p5, .p25, .p75, .p95, .p99, .iqr, .lowtail, .uptail, .darkfraction,
    ]
    /// Edge-strength statistics from the Gaussian gradient magnitude.
    public static let gradient: [PatchStatistic] = [.gradmean, .gradstd, .gradp95]
    /// Grey-level co-occurrence texture statistics.
    public static let texture: [PatchStatistic] = [.glcmContrast, .glcmHomogeneity, .glcmEnergy, .glcmCorrelation, .glcmEntropy]

    /// Cleave's default feature set: the intensity and gradient statistics (not the texture).
    ///
    /// Why: micro-crystals differ from the carbon film by being darker (low percentiles, dark
    /// fraction, lower tail), by widening and skewing the grey-value distribution (std, IQR,
    /// skewness) and by adding edges (gradient magnitude). The order statistics describe the same
    /// distribution as the six study moments but robustly, so one outlier pixel or a sliver of a
    /// neighbouring feature does not dominate. GLCM texture is quantised over each patch's own
    /// min…max, so it is blind to absolute darkness and mostly measures noise structure on film;
    /// it is available on request (`--features all` or by name), not in the default.
    public static let defaults: [PatchStatistic] = intensity + gradient

    /// Every statistic.
    public static let all: [PatchStatistic] = allCases

    /// True for statistics that need the gradient-magnitude image.
    public var needsGradient: Bool { PatchStatistic.gradient.contains(self) }
    /// True for GLCM texture statistics.
    public var isTexture: Bool { PatchStatistic.texture.contains(self) }

    /// Parses a comma-separated list of names or group names (`study`, `intensity`, `gradient`,
    /// `texture`, `defaults`, `all`); duplicates are dropped, order kept.
    /// - Throws: ``PatchStatisticError`` naming the unknown word and the valid names.
    public static func parseList(_ text: String) throws -> [PatchStatistic] {
        var result: [PatchStatistic] = []
        for raw in text.split(separator: ",") {
            let word = raw.trimmingSpaces().lowercased()
            if word.isEmpty { continue }
            let group: [PatchStatistic]
            switch word {
            case "study", "six": group = study
            case "intensity": group = intensity
            case "gradient": group = gradient
            case "texture", "glcm": group = texture
            case "default", "defaults": group = defaults
            case "all": group = all
            case "skew": group = [.skewness]
            case "kurt": group = [.kurtosis]
            case "dark": group = [.darkfraction]
            default:
                guard let one = PatchStatistic(rawValue: word) else {
                    throw PatchStatisticError(message: "unknown feature '\(word)'; valid: "
                        + PatchStatistic.allCases.map(\.rawValue).joined(separator: ",")
                        + " or a group: study, intensity, gradient, texture, defaults, all")
                }
                group = [one]
            }
            for s in group where !result.contains(s) { result.append(s) }
        }
        if result.isEmpty { throw PatchStatisticError(message: "the feature list is empty; give at least one feature name") }
        return result
    }
}

/// A bad feature list or patch layout; `description` is one line. A layout problem names its
/// field (`gridRows`, `patchSize`, `windowSize`, `windowStride`: the Locator's setting names),
/// never a command-line flag.
public struct PatchStatisticError: FieldNamingError, Sendable {
    public let message: String
    public let invalidField: InvalidField?
    public init(message: String) { self.message = message; self.invalidField = nil }
    /// A layout field that cannot be used with this image.
    public init(field: String, value: String, reason: String) {
        let invalid = InvalidField(field: field, value: value, reason: reason)
        self.message = invalid.description; self.invalidField = invalid
    }
    public var description: String { message }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
