/// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations, in `Double`.
///
/// The one symmetric eigen solver of Cleave: covariance matrices in PCA/NMF (features × features,
/// a few hundred at most) and 3×3 inertia tensors of objects, where Jacobi is accurate to rounding
/// and simple enough to trust.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, descending.
    public let values: [Double]
    /// Eigenvectors as rows (`vectors[i]` belongs to `values[i]`), unit length.
    public let vectors: [[Double]]

    /// - Parameter matrix: `size × size` row-major symmetric matrix.
    /// - Complexity: O(size³) per sweep; converges in ~6–10 sweeps.
    public init(symmetric matrix: [Double], size: Int) {
        precondition(matrix.count == size * size, "SymmetricEigen: \(matrix.count) values for size \(size)")
        var a = matrix
        var v = [Double](repeating: 0, count: size * size)
        for i in 0..<size { v[i * size + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0, diag = 0.0
            for i in 0..<size {
                diag += a[i * size + i] * a[i * size + i]
                for j in (i + 1)..<max(i + 1, size) { off += a[i * size + j] * a[i * size + j] }
            }
            if off <= 1e-30 * max(diag, 1e-300) || off == 0 { break }
            for p in 0..<size {
                for q in (p + 1)..<max(p + 1, size) {
                    let apq = a[p * size + q]
                    if apq == 0 { continue }
                    let app = a[p * size + p], aqq = a[q * size + q]
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    // A ← Jᵀ A J, touching rows/columns p and q only.
                    for k in 0..<size {
                        let akp = a[k * size + p], akq = a[k * size + q]
                        a[k * size + p] = c * akp - s * akq
                        a[k * size + q] = s * akp + c * akq
                    }
                    for k in 0..<size {
                        let apk = a[p * size + k], aqk = a[q * size + k]
                        a[p * size + k] = c * apk - s * aqk
                        a[q * size + k] = s * apk + c * aqk
                    }
                    a[p * size + q] = 0; a[q * size + p] = 0
                    for k in 0..<size {
                        let vkp = v[k * size + p], vkq = v[k * size + q]
                        v[k * size + p] = c * vkp - s * vkq
                        v[k * size + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<size).sorted { a[$0 * size + $0] > a[$1 * size + $1] }
        values = order.map { a[$0 * size + $0] }
        vectors = order.map { col in (0..<size).map { v[$0 * size + col] } }
    }
}
