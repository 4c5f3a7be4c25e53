import CleaveCore

/// Orders of the upper-triangle tensor elements for the active axes:
/// 2D `[xx, xy, yy]`, 3D `[xx, xy, xz, yy, yz, zz]` (the order ``eigenvalueFields`` expects).
func secondOrderPairs(_ axes: [Axis]) -> [(Axis, Axis)] {
    axes.count == 2 ? [(.x, .x), (.x, .y), (.y, .y)]
                    : [(.x, .x), (.x, .y), (.x, .z), (.y, .y), (.y, .z), (.z, .z)]
}

/// Eigenvalues of the Hessian of Gaussian, largest first: 2 images in 2D (or plane by plane),
/// 3 when `sigma.z > 0` on a stack.
///
/// The Hessian entries are Gaussian second derivatives at `sigma` (scipy's `gaussian_filter` with
/// order 2 along one axis or 1 along two, like vigra/ilastik). scikit-image's
/// `hessian_matrix(use_gaussian_derivatives=True)` instead applies two first-derivative filters
/// at `sigma/√2` with a wider truncation — the same operator in the continuum, a slightly
/// different discretisation (about 1 % apart at sigma 1, less above).
/// Bright ridges/blobs give a strongly negative smallest eigenvalue, dark ones a positive largest.
public func hessianEigenvalues(_ image: Image<Float>, sigma: Sigma, boundary: Boundary = .reflect) -> [Image<Float>] {
    let axes = activeAxes(sigma, shape: image.shape)
    let orders = secondOrderPairs(axes).map { pair -> DerivativeOrder in
        var o = [0, 0, 0]
        o[pair.0.rawValue] += 1
        o[pair.1.rawValue] += 1
        return DerivativeOrder(x: o[0], y: o[1], z: o[2])
    }
    let entries = gaussianDerivatives(image, sigma: sigma, orders: orders, boundary: boundary)
    return eigenvalueFields(entries.map(\.pixels)).map { Image(shape: image.shape, pixels: $0, spacing: image.spacing) }
}

/// Eigenvalues of the structure tensor, largest first (2 in 2D, 3 when both sigmas have z > 0).
///
/// The tensor is `G(outer) ∗ (∇I ∇Iᵀ)` where `∇I` is the Gaussian gradient at `inner`
/// (vigra's `structureTensor(inner, outer)`, ilastik's feature with outer = inner / 2).
/// scikit-image's `structure_tensor` differs: it takes Sobel derivatives (no inner scale) and
/// only smooths the products. Large first eigenvalue = strong edge; both large = corner/texture.
public func structureTensorEigenvalues(_ image: Image<Float>, inner: Sigma, outer: Sigma,
                                       boundary: Boundary = .reflect) -> [Image<Float>] {
    let axes = activeAxes(inner, shape: image.shape)
    let gradient = gaussianDerivatives(image, sigma: inner, orders: firstOrders(axes), boundary: boundary)
    var elements: [[Float]] = []
    for (a, b) in secondOrderPairs(axes) {
        let u = gradient[a.rawValue].pixels, v = gradient[b.rawValue].pixels
        var product = [Float](repeating: 0, count: u.count)
        for i in 0..<u.count { product[i] = u[i] * v[i] }
        elements.append(gaussian(Image(shape: image.shape, pixels: product), sigma: outer, boundary: boundary).pixels)
    }
    return eigenvalueFields(elements).map { Image(shape: image.shape, pixels: $0, spacing: image.spacing) }
}
