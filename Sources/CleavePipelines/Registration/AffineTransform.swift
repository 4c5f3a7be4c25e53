import CleaveFilters
import Foundation

/// A 2D affine transform of pixel coordinates (x = column, y = row, pixel centres at integers):
///
/// ```
/// ⎡x'⎤   ⎡a  b⎤ ⎡x⎤   ⎡tx⎤
/// ⎣y'⎦ = ⎣c  d⎦ ⎣y⎦ + ⎣ty⎦
/// ```
///
/// In a registration it maps a moving pixel to fixed pixel coordinates. Because rows point down,
/// a positive ``rotationDegrees`` turns the picture clockwise on screen.
public struct AffineTransform: Sendable, Equatable, Codable {
    /// The matrix entries (`a b; c d`) and the translation (`tx`, `ty`, pixels), as in the diagram above.
    public var a, b, tx, c, d, ty: Double

    /// A transform from its six coefficients.
    public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
        self.a = a; self.b = b; self.tx = tx; self.c = c; self.d = d; self.ty = ty
    }

    /// The identity.
    public static let identity = AffineTransform(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    /// `scale · R(angle) · M` followed by a translation, where M flips x when `mirrored`.
    public static func similarity(angleRadians: Double, scale: Double, mirrored: Bool,
                                  translation: (x: Double, y: Double)) -> AffineTransform {
        let cs = cos(angleRadians) * scale, sn = sin(angleRadians) * scale
        let m = mirrored ? -1.0 : 1.0
        return AffineTransform(a: cs * m, b: -sn, tx: translation.x, c: sn * m, d: cs, ty: translation.y)
    }

    /// `[[a, b, tx], [c, d, ty]]`, the JSON contract's layout.
    public var rows: [[Double]] { [[a, b, tx], [c, d, ty]] }

    /// Builds a transform from `[[a, b, tx], [c, d, ty]]`; nil unless the layout is exactly that.
    public init?(rows: [[Double]]) {
        guard rows.count == 2, rows.allSatisfy({ $0.count == 3 }) else { return nil }
        self.init(a: rows[0][0], b: rows[0][1], tx: rows[0][2], c: rows[1][0], d: rows[1][1], ty: rows[1][2])
    }

    /// Applies the transform to a point.
    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    /// Determinant of the linear part (negative when the transform mirrors).
    public var determinant: Double { a * d - b * c }

    /// True when the linear part flips orientation.
    public var isMirrored: Bool { determinant < 0 }

    /// The inverse, or nil when the linear part is singular.
    public var inverse: AffineTransform? {
        let det = determinant
        guard abs(det) > 1e-12 else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return AffineTransform(a: ia, b: ib, tx: -(ia * tx + ib * ty), c: ic, d: id, ty: -(ic * tx + id * ty))
    }

    /// `self ∘ other`: apply `other` first, then `self`.
    public func composed(after other: AffineTransform) -> AffineTransform {
        AffineTransform(a: a * other.a + b * other.c, b: a * other.b + b * other.d, tx: a * other.tx + b * other.ty + tx,
                        c: c * other.a + d * other.c, d: c * other.b + d * other.d, ty: c * other.tx + d * other.ty + ty)
    }

    /// Mean scale: √|det|.
    public var scale: Double { abs(determinant).squareRoot() }

    /// Rotation angle in degrees in (−180, 180], of the linear part after removing a mirror of x:
    /// the angle of the image of the y axis (which a mirror of x leaves alone), as atan2(−b, d).
    public var rotationDegrees: Double { atan2(-b, d) * 180 / .pi }

    /// The largest distance between the images of the points under `self` and `other`.
    public func maximumDistance(to other: AffineTransform, at points: [(x: Double, y: Double)]) -> Double {
        points.map { p in
            let u = apply(p.x, p.y), v = other.apply(p.x, p.y)
            return ((u.x - v.x) * (u.x - v.x) + (u.y - v.y) * (u.y - v.y)).squareRoot()
        }.max() ?? 0
    }

    /// The kernels' plain form.
    public var coefficients: AffineCoefficients { AffineCoefficients(a: a, b: b, tx: tx, c: c, d: d, ty: ty) }
}
