import CleaveCore

// Gaussian smoothing and Gaussian derivatives. Every function filters each channel separately;
// a 3D image is filtered in 3D when `sigma.z > 0` and plane by plane when `sigma.z == 0`.
// Values match scipy.ndimage (same kernels, same boundary modes, truncate = 4) within float32
// rounding. Derivatives are per pixel step (not per physical unit).

/// Gaussian smoothing (`scipy.ndimage.gaussian_filter`).
///
/// - Parameters:
///   - image: any shape; every channel is filtered separately.
///   - sigma: scale per axis in pixels (z = 0: plane by plane).
///   - boundary: edge handling (default `.reflect`, scipy's default).
///   - truncate: kernel radius in sigmas; radius = `Int(truncate · sigma + 0.5)`.
/// - Complexity: O(pixels · Σ_axis (2·radius + 1)), SIMD and parallel.
public func gaussian(_ image: Image<Float>, sigma: Sigma, boundary: Boundary = .reflect,
                     truncate: Double = GaussianKernel.defaultTruncate) -> Image<Float> {
    separablePasses(image, gaussianOperations(sigma: sigma, order: DerivativeOrder(), truncate: truncate), boundary: boundary)
}

/// Gaussian smoothing with the same sigma along x and y (2D, plane by plane).
public func gaussian(_ image: Image<Float>, sigma: Double, boundary: Boundary = .reflect) -> Image<Float> {
    gaussian(image, sigma: Sigma(sigma), boundary: boundary)
}

/// A Gaussian derivative: the image convolved with ∂^(ox+oy+oz) G / ∂x^ox ∂y^oy ∂z^oz
/// (`scipy.ndimage.gaussian_filter(image, sigma, order=(oz, oy, ox))`).
/// An axis with order > 0 needs sigma > 0 along it.
public func gaussianDerivative(_ image: Image<Float>, sigma: Sigma, order: DerivativeOrder,
                               boundary: Boundary = .reflect,
                               truncate: Double = GaussianKernel.defaultTruncate) -> Image<Float> {
    checkSigma(sigma, order: order, function: "gaussianDerivative")
    return separablePasses(image, gaussianOperations(sigma: sigma, order: order, truncate: truncate), boundary: boundary)
}

/// Several Gaussian derivatives at one scale, sharing the passes they have in common
/// (e.g. the six 2D Hessian/gradient outputs need 3 x-passes and 6 y-passes, not 12 passes).
/// Returns one image per requested order, in order.
public func gaussianDerivatives(_ image: Image<Float>, sigma: Sigma, orders: [DerivativeOrder],
                                boundary: Boundary = .reflect,
                                truncate: Double = GaussianKernel.defaultTruncate) -> [Image<Float>] {
    for order in orders { checkSigma(sigma, order: order, function: "gaussianDerivatives") }
    var kernels: [Axis: [Int: LineOperation]] = [:]
    func operation(_ axis: Axis, _ order: Int) -> LineOperation? {
        if sigma[axis] == 0 && order == 0 { return nil }
        if let known = kernels[axis]?[order] { return known }
        let op = LineOperation.correlate(GaussianKernel(sigma: sigma[axis], order: order, truncate: truncate).taps)
        kernels[axis, default: [:]][order] = op
        return op
    }
    // Cache of partial results keyed by the orders applied so far (x, then x+y).
    var afterX: [Int: Image<Float>] = [:]
    var afterXY: [[Int]: Image<Float>] = [:]
    var results: [Image<Float>] = []
    for order in orders {
        let xImage: Image<Float>
        if let cached = afterX[order.x] {
            xImage = cached
        } else {
            xImage = operation(.x, order.x).map { separablePasses(image, [(.x, $0)], boundary: boundary) } ?? image
            afterX[order.x] = xImage
        }
        let key = [order.x, order.y]
        let xyImage: Image<Float>
        if let cached = afterXY[key] {
            xyImage = cached
        } else {
            xyImage = operation(.y, order.y).map { separablePasses(xImage, [(.y, $0)], boundary: boundary) } ?? xImage
            afterXY[key] = xyImage
        }
        results.append(operation(.z, order.z).map { separablePasses(xyImage, [(.z, $0)], boundary: boundary) } ?? xyImage)
    }
    return results
}

/// The axes a scale filters along (derivatives are taken along these): x and y, plus z when `sigma.z > 0` and the image has planes.
public func activeAxes(_ sigma: Sigma, shape: Shape) -> [Axis] {
    sigma.z > 0 && shape.depth > 1 ? [.x, .y, .z] : [.x, .y]
}

/// First-derivative orders for the active axes.
public func firstOrders(_ axes: [Axis]) -> [DerivativeOrder] {
    axes.map { DerivativeOrder(x: $0 == .x ? 1 : 0, y: $0 == .y ? 1 : 0, z: $0 == .z ? 1 : 0) }
}

/// Gradient magnitude `sqrt(Σ_axis (∂G/∂axis ∗ I)²)` (`scipy.ndimage.gaussian_gradient_magnitude`;
/// over x and y, plus z when `sigma.z > 0`).
public func gaussianGradientMagnitude(_ image: Image<Float>, sigma: Sigma, boundary: Boundary = .reflect) -> Image<Float> {
    let derivatives = gaussianDerivatives(image, sigma: sigma, orders: firstOrders(activeAxes(sigma, shape: image.shape)),
                                          boundary: boundary)
    return magnitude(derivatives)
}

/// `sqrt(Σ images²)` sample by sample (e.g. the gradient magnitude from its components).
public func magnitude(_ images: [Image<Float>]) -> Image<Float> {
    precondition(!images.isEmpty, "magnitude needs at least one image")
    let count = images[0].pixels.count
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { o in
        for image in images {
            precondition(image.pixels.count == count, "magnitude: image shapes differ")
            image.pixels.withUnsafeBufferPointer { p in
                for i in 0..<count { o[i] = o[i].addingProduct(p[i], p[i]) }
            }
        }
        for i in 0..<count { o[i] = o[i].squareRoot() }
    }
    return Image(shape: images[0].shape, pixels: out, spacing: images[0].spacing)
}

/// Laplacian of Gaussian `Σ_axis ∂²G/∂axis² ∗ I` (`scipy.ndimage.gaussian_laplace`; over x and y,
/// plus z when `sigma.z > 0`). Negative on bright blobs of size ≈ sigma·√2.
public func laplacianOfGaussian(_ image: Image<Float>, sigma: Sigma, boundary: Boundary = .reflect) -> Image<Float> {
    let axes = activeAxes(sigma, shape: image.shape)
    let orders = axes.map { DerivativeOrder(x: $0 == .x ? 2 : 0, y: $0 == .y ? 2 : 0, z: $0 == .z ? 2 : 0) }
    return sum(gaussianDerivatives(image, sigma: sigma, orders: orders, boundary: boundary))
}

/// Sample-by-sample sum of images of equal shape (e.g. the Laplacian from ∂²/∂x² and ∂²/∂y²).
public func sum(_ images: [Image<Float>]) -> Image<Float> {
    precondition(!images.isEmpty, "sum needs at least one image")
    var out = images[0].pixels
    out.withUnsafeMutableBufferPointer { o in
        for image in images.dropFirst() {
            precondition(image.pixels.count == o.count, "sum: image shapes differ")
            image.pixels.withUnsafeBufferPointer { p in
                for i in 0..<o.count { o[i] += p[i] }
            }
        }
    }
    return Image(shape: images[0].shape, pixels: out, spacing: images[0].spacing)
}

/// Difference of Gaussians `G(fine) ∗ I − G(coarse) ∗ I` (skimage's `difference_of_gaussians`
/// without its band options): a band-pass that is positive on bright structures between the
/// two scales. `fine` should be smaller than `coarse`.
public func differenceOfGaussians(_ image: Image<Float>, fine: Sigma, coarse: Sigma, boundary: Boundary = .reflect) -> Image<Float> {
    difference(gaussian(image, sigma: fine, boundary: boundary), gaussian(image, sigma: coarse, boundary: boundary))
}

/// `a − b` sample by sample.
public func difference(_ a: Image<Float>, _ b: Image<Float>) -> Image<Float> {
    precondition(a.shape == b.shape, "difference: shapes \(a.shape) and \(b.shape) differ")
    var out = a.pixels
    out.withUnsafeMutableBufferPointer { o in
        b.pixels.withUnsafeBufferPointer { q in
            for i in 0..<o.count { o[i] -= q[i] }
        }
    }
    return Image(shape: a.shape, pixels: out, spacing: a.spacing)
}
