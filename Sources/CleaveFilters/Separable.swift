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
    let active = operations.filter { axis, operation in
        switch operation {
        case .correlate(let taps): if taps == [1] { return false } // identity
        case .minimum(let r), .maximum(let r): if r == 0 { return false } // 1-wide window
        }
        if axis == .z && image.depth == 1 { return false }
        return true
    }
    guard !active.isEmpty else { return image }
    let geometryShape = image.shape
    // Ping-pong between two owned buffers; the input array is only read (never written through
    // copy-on-write, which would copy it).
    var first = uninitializedFloats(image.pixels.count)
    var second = active.count > 1 ? uninitializedFloats(image.pixels.count) : []
    for (index, (axis, operation)) in active.enumerated() {
        let geometry = PassGeometry.along(axis, shape: geometryShape)
        let writeFirst = index % 2 == 0
        if index == 0 {
            image.pixels.withUnsafeBufferPointer { source in
                first.withUnsafeMutableBufferPointer { destination in
                    runPass(operation, geometry: geometry, boundary: boundary, source: source, destination: destination)
                }
            }
        } else if writeFirst {
            second.withUnsafeBufferPointer { source in
                first.withUnsafeMutableBufferPointer { destination in
                    runPass(operation, geometry: geometry, boundary: boundary, source: source, destination: destination)
                }
            }
        } else {
            first.withUnsafeBufferPointer { source in
                second.withUnsafeMutableBufferPointer { destination in
                    runPass(operation, geometry: geometry, boundary: boundary, source: source, destination: destination)
                }
            }
        }
    }
    return Image(shape: image.shape, pixels: active.count % 2 == 1 ? first : second, spacing: image.spacing)
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
