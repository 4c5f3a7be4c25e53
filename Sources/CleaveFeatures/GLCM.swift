import CleaveCore
import CleaveFilters

/// Grey-level co-occurrence texture of a patch, as scikit-image computes it — the per-patch front
/// end of the one GLCM implementation (``Cooccurrence`` in CleaveFilters, which the pixel
/// classifier's sliding `glcmTexture` shares).
///
/// 1. Quantisation (Cleave's definition, since scikit-image expects integer levels): with the
///    patch's own `lo = min` and `hi = max`, level = `Int((v − lo) · (levels / (hi − lo)))`,
///    clamped to `levels − 1`; a constant patch is all level 0 (``GreyLevelQuantiser/init(levels:minimum:maximum:)``).
/// 2. `skimage.feature.graycomatrix(q, [distance], [0, π/4, π/2, 3π/4], levels, symmetric=True,
///    normed=True)`: the offset for angle a is `(row, col) = (round(sin a · d), round(cos a · d))`.
/// 3. `graycoprops` contrast, homogeneity, energy, correlation (1 when the variance is 0) and
///    entropy (natural log), each averaged over the four angles (``HaralickProperties``).
public enum GLCM {
    /// The five properties in the order contrast, homogeneity, energy, correlation, entropy.
    public typealias Properties = HaralickProperties

    /// Texture of a 2D patch given as row-major Float values.
    /// - Complexity: O(width · height · 4 + levels² · 4).
    public static func properties(values: [Float], width: Int, height: Int, distance: Int = 1, levels: Int = 32) -> Properties {
        precondition(values.count == width * height && levels >= 2 && distance >= 1,
                     "GLCM.properties: \(values.count) values for \(width)x\(height), levels \(levels), distance \(distance)")
        var scratch = CooccurrenceScratch()
        return values.withUnsafeBufferPointer {
            Cooccurrence.unsafePatchProperties($0, width: width, region: Region(x: 0, y: 0, width: width, height: height),
                                               distance: distance, levels: levels, scratch: &scratch)
        }
    }
}
