import CleaveCore

/// Derivative orders per axis (0, 1 or 2 each) for ``gaussianDerivative(_:sigma:order:boundary:)``.
public struct DerivativeOrder: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var z: Int

    public init(x: Int = 0, y: Int = 0, z: Int = 0) {
        precondition((0...2).contains(x) && (0...2).contains(y) && (0...2).contains(z),
                     "DerivativeOrder(x:y:z:) supports orders 0...2, got \(x), \(y), \(z)")
        self.x = x; self.y = y; self.z = z
    }

    @inlinable public subscript(axis: Axis) -> Int {
        switch axis {
        case .x: return x
        case .y: return y
        case .z: return z
        }
    }

    public var description: String { "(\(x), \(y), \(z))" }
}

/// Applies a 1D operation along each axis in turn (x, then y, then z), skipping identities.
/// The result is a new image with the input's shape and spacing.
func separablePasses(_ image: Image<Float>, _ operations: [(Axis, LineOperation)], boundary: Boundary) -> Image<Float> {
    var current = image.pixels
    var scratch = [Float]()
    for (axis, operation) in operations {
        if case .correlate(let taps) = operation, taps == [1] { continue }
        if operation.radius == 0, case .minimum = operation { continue }
        if operation.radius == 0, case .maximum = operation { continue }
        if axis == .z && image.depth == 1 && operation.radius == 0 { continue }
        if scratch.count != current.count { scratch = uninitializedFloats(current.count) }
        let geometry = PassGeometry.along(axis, shape: image.shape)
        current.withUnsafeBufferPointer { source in
            scratch.withUnsafeMutableBufferPointer { destination in
                runPass(operation, geometry: geometry, boundary: boundary, source: source, destination: destination)
            }
        }
        swap(&current, &scratch)
    }
    return Image(shape: image.shape, pixels: current, spacing: image.spacing)
}

/// Checks a scale against an image: z smoothing needs planes, derivatives need sigma > 0.
func checkSigma(_ sigma: Sigma, order: DerivativeOrder, function: String) {
    for axis in Axis.allCases where order[axis] > 0 {
        precondition(sigma[axis] > 0, "\(function): a derivative along \(axis) needs sigma.\(axis) > 0, got \(sigma)")
    }
}

/// 1D passes for a Gaussian derivative (axes with sigma 0 and order 0 are skipped).
func gaussianOperations(sigma: Sigma, order: DerivativeOrder, truncate: Double) -> [(Axis, LineOperation)] {
    var result: [(Axis, LineOperation)] = []
    for axis in Axis.allCases where sigma[axis] > 0 || order[axis] > 0 {
        let kernel = GaussianKernel(sigma: sigma[axis], order: order[axis], truncate: truncate)
        result.append((axis, .correlate(kernel.taps)))
    }
    return result
}

/// A Float array of `count` samples whose contents the caller overwrites entirely
/// (skips zero-filling 4 MB per pass).
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialized = count
    }
}
