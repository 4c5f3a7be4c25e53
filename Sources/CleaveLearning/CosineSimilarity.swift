extension Matrix {
    /// Cosine similarity of every row to `reference`: `x·r / (‖x‖‖r‖)` in [−1, 1], computed in
    /// Double. A zero row (or a zero reference) gives 0, as scikit-learn's `cosine_similarity`.
    ///
    /// The Locator's similarity mode: the heat of each patch is its similarity to a patch the user
    /// names (`matrix.cosineSimilarity(to: matrix.row(index))`).
    /// - Throws: ``LearningError/columnMismatch(operation:expected:actual:)`` when the reference
    ///   length differs from `columns`.
    /// - Complexity: O(rows × columns).
    public func cosineSimilarity(to reference: [Float]) throws -> [Float] {
        guard reference.count == columns else {
            throw LearningError.columnMismatch(operation: "Matrix.cosineSimilarity", expected: columns, actual: reference.count)
        }
        var referenceNorm = 0.0
        for v in reference { referenceNorm += Double(v) * Double(v) }
        referenceNorm = referenceNorm.squareRoot()
        var out = [Float](repeating: 0, count: rows)
        guard referenceNorm > 0 else { return out }
        for r in 0..<rows {
            var dot = 0.0, norm = 0.0
            for j in 0..<columns {
                let v = Double(values[r * columns + j])
                dot += v * Double(reference[j]); norm += v * v
            }
            out[r] = norm > 0 ? Float(dot / (norm.squareRoot() * referenceNorm)) : 0
        }
        return out
    }
}

/// Cosine similarity of every row of `matrix` to its row `referenceRow`.
/// - Throws: ``LearningError/invalidParameter(operation:name:value:reason:)`` for a row outside the matrix.
public func cosineSimilarity(_ matrix: Matrix, toRow referenceRow: Int) throws -> [Float] {
    guard referenceRow >= 0 && referenceRow < matrix.rows else {
        throw LearningError.invalidParameter(operation: "cosineSimilarity", name: "referenceRow", value: "\(referenceRow)",
                                             reason: "outside 0..<\(matrix.rows)")
    }
    return try matrix.cosineSimilarity(to: matrix.row(referenceRow))
}
