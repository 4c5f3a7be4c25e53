import CleaveCore

/// Gaussian scale per axis, in pixels (x = columns, y = rows, z = planes).
///
/// A `z` of 0 means "do not filter across planes": a 3D image is then filtered plane by plane
/// (2D features on a stack). Use ``init(physical:spacing:)`` to give the scale in the image's
/// physical unit, which makes anisotropic voxels (e.g. 0.5 × 0.5 × 2 µm) come out right.
public struct Sigma: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var z: Double

    /// Per-axis scale in pixels; each must be finite and ≥ 0 (0 = no smoothing along that axis).
    public init(x: Double, y: Double, z: Double = 0) {
        precondition(x >= 0 && y >= 0 && z >= 0 && x.isFinite && y.isFinite && z.isFinite,
                     "Sigma(x:y:z:) needs finite values >= 0, got \(x), \(y), \(z)")
        self.x = x; self.y = y; self.z = z
    }

    /// The same scale in x and y (pixels); `z` as given (0 = plane by plane).
    public init(_ sigma: Double, z: Double = 0) {
        self.init(x: sigma, y: sigma, z: z)
    }

    /// A scale in physical units (the unit of `spacing`), converted to pixels per axis.
    /// With `threeD` false, z is 0 (plane by plane).
    public init(physical sigma: Double, spacing: Spacing, threeD: Bool) {
        self.init(x: sigma / spacing.x, y: sigma / spacing.y, z: threeD ? sigma / spacing.z : 0)
    }

    /// Scale along one axis.
    @inlinable public subscript(axis: Axis) -> Double {
        switch axis {
        case .x: return x
        case .y: return y
        case .z: return z
        }
    }

    /// Multiplies every axis by `factor`.
    public func scaled(by factor: Double) -> Sigma { Sigma(x: x * factor, y: y * factor, z: z * factor) }

    /// Kernel radius along each axis: `Int(truncate * sigma + 0.5)` (scipy's rule, truncate 4).
    public func radius(truncate: Double = GaussianKernel.defaultTruncate) -> (x: Int, y: Int, z: Int) {
        (GaussianKernel.radius(sigma: x, truncate: truncate),
         GaussianKernel.radius(sigma: y, truncate: truncate),
         GaussianKernel.radius(sigma: z, truncate: truncate))
    }

    public var description: String {
        if x == y && z == 0 { return "\(x)" }
        return "(\(x), \(y), \(z))"
    }
}
