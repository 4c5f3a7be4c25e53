import CleaveCore

/// Orders of the upper-triangle tensor elements for the active axes:
/// 2D `[xx, xy, yy]`, 3D `[xx, xy, xz, yy, yz, zz]` (the order ``eigenvalueFields`` expects).
public func secondOrderPairs(_ axes: [Axis]) -> [(Axis, Axis)] {
    axes.count == 2 ? [(.x, .x), (.x, .y), (.y, .y)]
                    : [(.x, .x), (.x, .y), (.x, .z), (.y, .y), (.y, .z), (.z, .z)]
}

/// Derivative orders of the upper-triangle Hessian elements for the active axes (see ``secondOrderPairs(_:)``).
public func secondOrders(_ axes: [Axis]) -> [DerivativeOrder] {
    secondOrderPairs(axes).map { pair in
        var o = [0, 0, 0]
        o[pair.0.rawValue] += 1
        o[pair.1.rawValue] += 1
        return DerivativeOrder(x: o[0], y: o[1], z: o[2])
    }
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
    let entries = gaussianDerivatives(image, sigma: sigma, orders: secondOrders(axes), boundary: boundary)
    return symmetricEigenvalues(entries)
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
    return structureTensorEigenvalues(gradient: gradient, outer: outer, boundary: boundary)
}

/// Structure-tensor eigenvalues from a gradient already computed (components in axis order
/// x, y[, z], e.g. from ``gaussianDerivatives(_:sigma:orders:boundary:truncate:)`` with
/// ``firstOrders(_:)``), smoothing the products at `outer`.
public func structureTensorEigenvalues(gradient: [Image<Float>], outer: Sigma, boundary: Boundary = .reflect) -> [Image<Float>] {
    precondition(gradient.count == 2 || gradient.count == 3, "structureTensorEigenvalues needs 2 or 3 gradient components")
    let axes: [Axis] = gradient.count == 2 ? [.x, .y] : [.x, .y, .z]
    var elements: [Image<Float>] = []
    for (a, b) in secondOrderPairs(axes) {
        let u = gradient[a.rawValue], v = gradient[b.rawValue]
        var product = uninitializedFloats(u.pixels.count)
        product.withUnsafeMutableBufferPointer { out in
            u.pixels.withUnsafeBufferPointer { p in
                v.pixels.withUnsafeBufferPointer { q in
                    for i in 0..<out.count { out[i] = p[i] * q[i] }
                }
            }
        }
        elements.append(gaussian(Image(shape: u.shape, pixels: product, spacing: u.spacing), sigma: outer, boundary: boundary))
    }
    return symmetricEigenvalues(elements)
}
