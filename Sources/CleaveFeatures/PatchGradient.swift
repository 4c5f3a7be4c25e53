import CleaveCore
import CleaveFilters

/// Gaussian gradient magnitude for the patch gradient statistics.
///
/// Equals `scipy.ndimage.gaussian_gradient_magnitude(image, sigma)` (mode `reflect`,
/// `truncate=4.0`, kernel radius `Int(4·sigma + 0.5)`) within Float rounding; computed by
/// CleaveFilters' ``gaussianGradientMagnitude(_:sigma:boundary:)``.
public enum PatchGradient {
    /// The gradient magnitude of a 2D single-channel image; `sigma` in pixels (> 0).
    /// - Complexity: O(width · height · sigma), parallel.
    public static func magnitude(_ image: Image<Float>, sigma: Double) -> Image<Float> {
        precondition(sigma > 0 && image.channels == 1 && image.depth == 1,
                     "PatchGradient.magnitude needs sigma > 0 and a 2D single-channel image, got sigma \(sigma), \(image.shape)")
        return gaussianGradientMagnitude(image, sigma: Sigma(sigma), boundary: .reflect)
    }
}

