/// How far apart two feature rows are.
public enum DistanceMetric: String, Codable, Sendable, CaseIterable {
    /// √Σ(xᵢ − yᵢ)².
    case euclidean
    /// 1 − x·y / (‖x‖‖y‖); a zero row has similarity 0 to everything (distance 1), as scikit-learn.
    case cosine
    /// Σ|xᵢ − yᵢ| (city block, L1).
    case manhattan

    /// Distance between rows `a` and `b` of `matrix`, in Double.
    func distance(_ matrix: UnsafePointer<Float>, columns: Int, _ a: Int, _ b: Int, norms: [Double]) -> Double {
        let x = matrix + a * columns, y = matrix + b * columns
        switch self {
        case .euclidean:
            var s = 0.0
            for j in 0..<columns { let d = Double(x[j]) - Double(y[j]); s += d * d }
            return s.squareRoot()
        case .manhattan:
            var s = 0.0
            for j in 0..<columns { s += abs(Double(x[j]) - Double(y[j])) }
            return s
        case .cosine:
            var dot = 0.0
            for j in 0..<columns { dot += Double(x[j]) * Double(y[j]) }
            let denominator = norms[a] * norms[b]
            return denominator > 0 ? 1 - dot / denominator : 1
        }
    }

    /// Row norms (only the cosine metric needs them).
    func norms(_ matrix: Matrix) -> [Double] {
        guard self == .cosine else { return [] }
        return (0..<matrix.rows).map { r in
            var s = 0.0
            for j in 0..<matrix.columns { let v = Double(matrix.values[r * matrix.columns + j]); s += v * v }
            return s.squareRoot()
        }
    }
}
