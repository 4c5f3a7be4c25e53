import CleaveCore

/// Dark-ridge (valley) strength of a 2D image at scale `sigma`: `σ² · max(λ₁ − |λ₂|, 0)`, where
/// λ₁ ≥ λ₂ are the eigenvalues of the Hessian of Gaussian (``hessianEigenvalues(_:sigma:boundary:)``:
/// scipy's `gaussian_filter` second derivatives, truncated at 4σ).
///
/// A thin dark line (a fibre on film) curves the grey values up across it (λ₁ large and
/// positive) and not along it (λ₂ ≈ 0): strength ≈ λ₁. A dark blob curves both ways
/// (λ₁ ≈ λ₂): strength ≈ 0. Flat film gives 0; a bright line answers only on its flanks, at about
/// 0.42 × a dark line of the same contrast (the blurred profile curves up there). The factor σ² makes the
/// value scale-normalised (Lindeberg's γ = 2): a line of contrast `c` and width `w` well below σ
/// gives about `c · w / (√(2π) σ)`, in the image's own grey units. The side of a dark step edge
/// responds too (about `0.24 ×` the step height at σ from the edge).
/// - Precondition: a 2D image (depth 1, one channel).
public func darkRidgeStrength(_ image: Image<Float>, sigma: Double, boundary: Boundary = .reflect) -> Image<Float> {
    precondition(image.shape.depth == 1 && image.shape.channels == 1, "darkRidgeStrength needs a 2D greyscale image")
    let eigenvalues = hessianEigenvalues(image, sigma: Sigma(sigma), boundary: boundary)
    let scale = Float(sigma * sigma)
    var out = eigenvalues[0]
    out.pixels.withUnsafeMutableBufferPointer { large in
        eigenvalues[1].pixels.withUnsafeBufferPointer { small in
            for i in 0..<large.count { large[i] = scale * Swift.max(large[i] - Swift.abs(small[i]), 0) }
        }
    }
    return out
}
