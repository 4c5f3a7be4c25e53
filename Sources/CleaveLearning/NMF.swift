import CleaveCore

/// Non-negative matrix factorisation `X ≈ W·H` (W ≥ 0: rows × components, H ≥ 0: components ×
/// features), as scikit-learn's `NMF(solver="cd", beta_loss="frobenius", init="nndsvda")`:
/// NNDSVD-a initialisation from the leading singular vectors of X, then cyclic coordinate descent
/// on W and H until the projected-gradient violation falls to `tolerance` × its first value.
///
/// Scikit-learn takes the singular vectors from a randomized SVD; Cleave uses the exact ones, so
/// results agree to the accuracy of that SVD (reconstruction errors agree closely).
public struct NMF: Sendable {
    /// Number of components (≤ min(rows, features)).
    public let componentCount: Int
    /// Coordinate-descent sweeps at most (default 200, as scikit-learn).
    public let maxIterations: Int
    /// Stop when the projected-gradient violation falls to this fraction of its first value (default 1e-4).
    public let tolerance: Double

    /// - Throws: ``LearningError/invalidParameter(operation:name:value:reason:)`` for a count or
    ///   iteration limit below 1 or a negative tolerance.
    public init(componentCount: Int, maxIterations: Int = 200, tolerance: Double = 1e-4) throws {
        guard componentCount >= 1 else {
            throw LearningError.invalidParameter(operation: "NMF", name: "componentCount", value: "\(componentCount)", reason: "needs at least 1 component")
        }
        guard maxIterations >= 1 else {
            throw LearningError.invalidParameter(operation: "NMF", name: "maxIterations", value: "\(maxIterations)", reason: "needs at least 1 iteration")
        }
        guard tolerance >= 0 else {
            throw LearningError.invalidParameter(operation: "NMF", name: "tolerance", value: "\(tolerance)", reason: "must be ≥ 0")
        }
        self.componentCount = componentCount
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    /// Fits W and H.
    /// - Returns: the model (H and the fit's reconstruction error) and W (`rows × componentCount`).
    /// - Throws: ``LearningError/negativeValue(operation:row:column:value:)`` for negative input,
    ///   and for empty/non-finite input or more components than min(rows, features).
    /// - Complexity: O(iterations × rows × features × components).
    public func fitTransform(_ matrix: Matrix) throws -> (model: FittedNMF, weights: Matrix) {
        try matrix.validate("NMF.fit")
        try NMF.checkNonnegative(matrix, "NMF.fit")
        let n = matrix.rows, p = matrix.columns, k = componentCount
        guard k <= min(n, p) else {
            throw LearningError.invalidParameter(operation: "NMF.fit", name: "componentCount", value: "\(k)",
                                                 reason: "NNDSVD needs at most min(rows, features) = \(min(n, p)) components")
        }
        let x = matrix.values.map(Double.init)
        var (w, h) = NMF.nndsvda(x, rows: n, columns: p, components: k)
        // H is kept transposed (features × components) so both updates share one routine.
        var ht = NMF.transpose(h, rows: k, columns: p)
        let xt = NMF.transpose(x, rows: n, columns: p)
        var initial = 0.0
        var iterations = 0
        for iteration in 1...maxIterations {
            iterations = iteration
            var violation = NMF.coordinateDescent(x: x, rows: n, columns: p, w: &w, ht: ht, components: k)
            violation += NMF.coordinateDescent(x: xt, rows: p, columns: n, w: &ht, ht: w, components: k)
            if iteration == 1 { initial = violation }
            if initial == 0 || violation / initial <= tolerance { break }
        }
        h = NMF.transpose(ht, rows: p, columns: k)
        let error = NMF.reconstructionError(x, w: w, h: h, rows: n, columns: p, components: k)
        let model = FittedNMF(components: Matrix(rows: k, columns: p, values: h.map { Float($0) }),
                              reconstructionError: error, iterations: iterations,
                              maxIterations: maxIterations, tolerance: tolerance)
        return (model, Matrix(rows: n, columns: k, values: w.map { Float($0) }))
    }

    static func checkNonnegative(_ matrix: Matrix, _ operation: String) throws {
        if let i = matrix.values.firstIndex(where: { $0 < 0 }) {
            throw LearningError.negativeValue(operation: operation, row: i / matrix.columns, column: i % matrix.columns, value: matrix.values[i])
        }
    }

    static func transpose(_ a: [Double], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: a.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = a[r * columns + c] } }
        return out
    }

    /// One sweep of scikit-learn's `_update_cdnmf_fast` on W (rows × k) with Hᵀ (columns × k) fixed;
    /// returns the projected-gradient violation.
    static func coordinateDescent(x: [Double], rows n: Int, columns p: Int, w: inout [Double], ht: [Double], components k: Int) -> Double {
        var hht = [Double](repeating: 0, count: k * k)
        for a in 0..<k { for b in 0..<k { var s = 0.0; for j in 0..<p { s += ht[j * k + a] * ht[j * k + b] }; hht[a * k + b] = s } }
        var xht = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            for j in 0..<p {
                let v = x[i * p + j]
                if v == 0 { continue }
                for t in 0..<k { xht[i * k + t] += v * ht[j * k + t] }
            }
        }
        var violation = 0.0
        for t in 0..<k {
            let hess = hht[t * k + t]
            for i in 0..<n {
                var grad = -xht[i * k + t]
                for r in 0..<k { grad += hht[t * k + r] * w[i * k + r] }
                let projected = w[i * k + t] == 0 ? min(0, grad) : grad
                violation += abs(projected)
                if hess != 0 { w[i * k + t] = max(w[i * k + t] - grad / hess, 0) }
            }
        }
        return violation
    }

    /// NNDSVD-a (Boutsidis & Gallopoulos 2008) from the exact leading singular triplets.
    static func nndsvda(_ x: [Double], rows n: Int, columns p: Int, components k: Int) -> (w: [Double], h: [Double]) {
        var gram = [Double](repeating: 0, count: p * p)
        for i in 0..<n { for a in 0..<p { let v = x[i * p + a]; if v == 0 { continue }; for b in 0..<p { gram[a * p + b] += v * x[i * p + b] } } }
        let eigen = SymmetricEigen(symmetric: gram, size: p)
        var w = [Double](repeating: 0, count: n * k), h = [Double](repeating: 0, count: k * p)
        func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        for j in 0..<k {
            let s = max(eigen.values[j], 0).squareRoot()
            let vj = eigen.vectors[j]
            var uj = [Double](repeating: 0, count: n)
            if s > 0 { for i in 0..<n { var d = 0.0; for c in 0..<p { d += x[i * p + c] * vj[c] }; uj[i] = d / s } }
            var u: [Double], v: [Double], sigma: Double
            if j == 0 {
                u = uj.map(abs); v = vj.map(abs); sigma = 1
            } else {
                let up = uj.map { max($0, 0) }, vp = vj.map { max($0, 0) }
                let un = uj.map { abs(min($0, 0)) }, vn = vj.map { abs(min($0, 0)) }
                let (upn, vpn, unn, vnn) = (norm(up), norm(vp), norm(un), norm(vn))
                let mp = upn * vpn, mn = unn * vnn
                if mp > mn { u = up.map { $0 / upn }; v = vp.map { $0 / vpn }; sigma = mp }
                else { u = un.map { mn > 0 ? $0 / unn : 0 }; v = vn.map { mn > 0 ? $0 / vnn : 0 }; sigma = mn }
            }
            let lambda = (s * sigma).squareRoot()
            for i in 0..<n { w[i * k + j] = lambda * u[i] }
            for c in 0..<p { h[j * p + c] = lambda * v[c] }
        }
        let average = x.reduce(0, +) / Double(x.count)
        for i in w.indices where w[i] < 1e-6 { w[i] = average }
        for i in h.indices where h[i] < 1e-6 { h[i] = average }
        return (w, h)
    }

    /// Frobenius norm of X − W·H.
    static func reconstructionError(_ x: [Double], w: [Double], h: [Double], rows n: Int, columns p: Int, components k: Int) -> Double {
        var s = 0.0
        for i in 0..<n {
            for j in 0..<p {
                var v = x[i * p + j]
                for t in 0..<k { v -= w[i * k + t] * h[t * p + j] }
                s += v * v
            }
        }
        return s.squareRoot()
    }
}

/// A fitted NMF: the components H (Codable, part of saved models).
public struct FittedNMF: Codable, Equatable, Sendable {
    /// H, `componentCount × features`, nonnegative.
    public let components: Matrix
    /// ‖X − W·H‖_F on the fitted data (scikit-learn's `reconstruction_err_`).
    public let reconstructionError: Double
    /// Coordinate-descent sweeps used.
    public let iterations: Int
    /// Sweep limit used by ``transform(_:)``.
    public let maxIterations: Int
    /// Stopping tolerance used by ``transform(_:)``.
    public let tolerance: Double

    /// Nonnegative weights W for new rows with H fixed (coordinate descent from W = 0, as
    /// scikit-learn's `NMF.transform`).
    /// - Throws: ``LearningError`` for a column mismatch or negative input.
    public func transform(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == components.columns else {
            throw LearningError.columnMismatch(operation: "FittedNMF.transform", expected: components.columns, actual: matrix.columns)
        }
        try matrix.validate("FittedNMF.transform")
        try NMF.checkNonnegative(matrix, "FittedNMF.transform")
        let n = matrix.rows, p = matrix.columns, k = components.rows
        let x = matrix.values.map(Double.init)
        let ht = NMF.transpose(components.values.map(Double.init), rows: k, columns: p)
        var w = [Double](repeating: 0, count: n * k)
        var initial = 0.0
        for iteration in 1...maxIterations {
            let violation = NMF.coordinateDescent(x: x, rows: n, columns: p, w: &w, ht: ht, components: k)
            if iteration == 1 { initial = violation }
            if initial == 0 || violation / initial <= tolerance { break }
        }
        return Matrix(rows: n, columns: k, values: w.map { Float($0) })
    }
}
