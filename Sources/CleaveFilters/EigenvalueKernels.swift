import CleaveCore

// Eigenvalues of symmetric 2×2 and 3×3 matrices, one per pixel, sorted descending.

/// Eigenvalues of `[[a, b], [b, c]]`, larger first: `(a+c)/2 ± sqrt(b² + ((a−c)/2)²)`
/// (the closed form scikit-image uses).
@inlinable @inline(__always)
public func symmetricEigenvalues2(_ a: Float, _ b: Float, _ c: Float) -> (Float, Float) {
    let mean = (a + c) * 0.5
    let half = (a - c) * 0.5
    let root = (b * b + half * half).squareRoot()
    return (mean + root, mean - root)
}

/// Eigenvalues of the symmetric matrix `[[a, d, e], [d, b, f], [e, f, c]]`, sorted descending
/// (trigonometric closed form, evaluated in Double so near-degenerate cases stay accurate).
@inlinable @inline(__always)
public func symmetricEigenvalues3(_ a: Float, _ b: Float, _ c: Float,
                                  _ d: Float, _ e: Float, _ f: Float) -> (Float, Float, Float) {
    let a = Double(a), b = Double(b), c = Double(c), d = Double(d), e = Double(e), f = Double(f)
    let offDiagonal = d * d + e * e + f * f
    let q = (a + b + c) / 3
    let aq = a - q, bq = b - q, cq = c - q
    let p2 = aq * aq + bq * bq + cq * cq + 2 * offDiagonal
    if p2 <= 1e-30 * max(1, q * q) {
        let v = Float(q)
        return (v, v, v)
    }
    let p = (p2 / 6).squareRoot()
    // det((A − qI) / p) / 2, clamped into [−1, 1] against rounding.
    let inv = 1 / p
    let m00 = aq * inv, m11 = bq * inv, m22 = cq * inv, m01 = d * inv, m02 = e * inv, m12 = f * inv
    var halfDet = (m00 * (m11 * m22 - m12 * m12) - m01 * (m01 * m22 - m12 * m02) + m02 * (m01 * m12 - m11 * m02)) / 2
    halfDet = min(1, max(-1, halfDet))
    let phi = _acos(halfDet) / 3
    let largest = q + 2 * p * _cos(phi)
    let smallest = q + 2 * p * _cos(phi + 2 * Double.pi / 3)
    let middle = 3 * q - largest - smallest
    return (Float(largest), Float(middle), Float(smallest))
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _acos(_ x: Double) -> Double { Glibc.acos(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _acos(_ x: Double) -> Double { Darwin.acos(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif

/// Per-pixel eigenvalues of a field of symmetric tensors given by their upper-triangle elements:
/// 2D `[xx, xy, yy]`, 3D `[xx, xy, xz, yy, yz, zz]`. Returns 2 or 3 buffers, largest first.
func eigenvalueFields(_ elements: [[Float]]) -> [[Float]] {
    let count = elements[0].count
    let chunks = Parallel.chunkCount(total: count, minimumPerChunk: 65_536)
    if elements.count == 3 {
        var first = uninitializedFloats(count), second = uninitializedFloats(count)
        elements[0].withUnsafeBufferPointer { xx in
            elements[1].withUnsafeBufferPointer { xy in
                elements[2].withUnsafeBufferPointer { yy in
                    first.withUnsafeMutableBufferPointer { f in
                        second.withUnsafeMutableBufferPointer { s in
                            let xx = UncheckedSendable(xx.baseAddress!), xy = UncheckedSendable(xy.baseAddress!)
                            let yy = UncheckedSendable(yy.baseAddress!)
                            let f = UncheckedSendable(f.baseAddress!), s = UncheckedSendable(s.baseAddress!)
                            Parallel.forEachChunk(of: count, chunkCount: chunks) { range in
                                for i in range {
                                    let (l1, l2) = symmetricEigenvalues2(xx.value[i], xy.value[i], yy.value[i])
                                    f.value[i] = l1; s.value[i] = l2
                                }
                            }
                        }
                    }
                }
            }
        }
        return [first, second]
    }
    precondition(elements.count == 6, "eigenvalueFields needs 3 (2D) or 6 (3D) tensor elements, got \(elements.count)")
    var first = uninitializedFloats(count), second = uninitializedFloats(count), third = uninitializedFloats(count)
    let xx = elements[0], xy = elements[1], xz = elements[2], yy = elements[3], yz = elements[4], zz = elements[5]
    first.withUnsafeMutableBufferPointer { f in
        second.withUnsafeMutableBufferPointer { s in
            third.withUnsafeMutableBufferPointer { t in
                let f = UncheckedSendable(f.baseAddress!), s = UncheckedSendable(s.baseAddress!)
                let t = UncheckedSendable(t.baseAddress!)
                Parallel.forEachChunk(of: count, chunkCount: chunks) { range in
                    for i in range {
                        let (l1, l2, l3) = symmetricEigenvalues3(xx[i], yy[i], zz[i], xy[i], xz[i], yz[i])
                        f.value[i] = l1; s.value[i] = l2; t.value[i] = l3
                    }
                }
            }
        }
    }
    return [first, second, third]
}

/// Eigenvalues of a field of symmetric 2×2 or 3×3 tensors, largest first, one image each.
///
/// - Parameter elements: the upper triangle per pixel, all of one shape: 2D `[xx, xy, yy]`,
///   3D `[xx, xy, xz, yy, yz, zz]` (x = columns, y = rows, z = planes).
public func symmetricEigenvalues(_ elements: [Image<Float>]) -> [Image<Float>] {
    precondition(elements.count == 3 || elements.count == 6,
                 "symmetricEigenvalues needs 3 (2D) or 6 (3D) tensor elements, got \(elements.count)")
    for e in elements {
        precondition(e.shape == elements[0].shape, "symmetricEigenvalues: element shape \(e.shape) differs from \(elements[0].shape)")
    }
    return eigenvalueFields(elements.map(\.pixels)).map { Image(shape: elements[0].shape, pixels: $0, spacing: elements[0].spacing) }
}
