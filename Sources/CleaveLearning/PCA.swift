import CleaveCore

/// Principal component analysis, as scikit-learn's `PCA` (exact solver).
///
/// Centres the data, takes the eigenvectors of the covariance matrix (ddof 1) in descending
/// eigenvalue order, and flips each component's sign so that its largest-magnitude entry is
/// positive (scikit-learn's `svd_flip(u_based_decision=False)`), so components and projections
/// compare one to one with scikit-learn.
public struct PCA: Sendable {
    /// How many components to keep.
    public enum Components: Sendable, Equatable {
        /// A fixed number of components (1…features).
        case count(Int)
        /// The fewest components whose cumulative explained-variance ratio exceeds this fraction (0 < f < 1).
        case varianceFraction(Double)
    }

    /// The component choice.
    public let components: Components
    /// Scale projections to unit variance (scikit-learn `whiten=True`).
    public let whiten: Bool

    /// - Throws: ``LearningError/invalidParameter(operation:name:value:reason:)`` for a count < 1 or
    ///   a fraction outside (0, 1).
    public init(components: Components, whiten: Bool = false) throws {
        switch components {
        case .count(let n) where n < 1:
            throw LearningError.invalidParameter(operation: "PCA", name: "components", value: "\(n)", reason: "needs at least 1 component")
        case .varianceFraction(let f) where !(f > 0 && f < 1):
            throw LearningError.invalidParameter(operation: "PCA", name: "variance fraction", value: "\(f)", reason: "must lie strictly between 0 and 1")
        default: break
        }
        self.components = components
        self.whiten = whiten
    }

    /// Fits the components.
    /// - Throws: ``LearningError`` for an empty or non-finite matrix, fewer than 2 rows, or more
    ///   components than features.
    /// - Complexity: O(rows × columns²) for the covariance plus O(columns³) for the eigenvectors.
    public func fit(_ matrix: Matrix) throws -> FittedPCA {
        try matrix.validate("PCA.fit")
        guard matrix.rows >= 2 else {
            throw LearningError.invalidParameter(operation: "PCA.fit", name: "rows", value: "\(matrix.rows)", reason: "needs at least 2 rows")
        }
        let p = matrix.columns
        let mean = matrix.columnMeans()
        let covariance = Kernels.covariance(matrix, mean: mean)
        let eigen = SymmetricEigen(symmetric: covariance, size: p)
        let variances = eigen.values.map { max($0, 0) }
        let total = variances.reduce(0, +)
        let ratios = variances.map { total > 0 ? $0 / total : 0 }
        let keep: Int
        switch components {
        case .count(let n):
            guard n <= min(p, matrix.rows) else {
                throw LearningError.invalidParameter(operation: "PCA.fit", name: "components", value: "\(n)",
                                                     reason: "at most min(rows, features) = \(min(p, matrix.rows))")
            }
            keep = n
        case .varianceFraction(let f):
            var cumulative = 0.0, n = 0
            // scikit-learn: searchsorted(cumsum, f, side="right") + 1
            for r in ratios { cumulative += r; if cumulative <= f { n += 1 } else { break } }
            keep = min(n + 1, p)
        }
        var vectors = Array(eigen.vectors.prefix(keep))
        for i in vectors.indices {
            var maxIndex = 0
            for j in 0..<p where abs(vectors[i][j]) > abs(vectors[i][maxIndex]) { maxIndex = j }
            if vectors[i][maxIndex] < 0 { vectors[i] = vectors[i].map { -$0 } }
        }
        return FittedPCA(mean: mean, components: vectors,
                         explainedVariance: Array(variances.prefix(keep)),
                         explainedVarianceRatio: Array(ratios.prefix(keep)),
                         whiten: whiten)
    }
}

/// A fitted PCA: immutable, Codable (part of saved Locator models).
public struct FittedPCA: Codable, Equatable, Sendable {
    /// Per-feature mean subtracted before projecting.
    public let mean: [Double]
    /// Components as rows (`componentCount × features`), unit length, sign-normalised.
    public let components: [[Double]]
    /// Variance along each component (ddof 1), descending.
    public let explainedVariance: [Double]
    /// Fraction of the total variance along each component.
    public let explainedVarianceRatio: [Double]
    /// Whether projections are divided by √explainedVariance.
    public let whiten: Bool

    /// Number of kept components.
    public var componentCount: Int { components.count }

    /// Projects rows onto the components: `(x − mean) · componentsᵀ` (`rows × componentCount`).
    /// - Throws: ``LearningError/columnMismatch(operation:expected:actual:)``.
    /// - Complexity: O(rows × columns × componentCount), parallel over rows.
    public func transform(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == mean.count else {
            throw LearningError.columnMismatch(operation: "FittedPCA.transform", expected: mean.count, actual: matrix.columns)
        }
        let p = mean.count, k = components.count
        // Fold the mean into an offset per component: y = x·W − mean·W.
        var weights = [Double](repeating: 0, count: p * k)   // p × k
        var offset = [Double](repeating: 0, count: k)
        for c in 0..<k {
            let factor = whiten ? 1 / max(explainedVariance[c], 1e-300).squareRoot() : 1
            for j in 0..<p {
                weights[j * k + c] = components[c][j] * factor
                offset[c] += mean[j] * components[c][j] * factor
            }
        }
        var out = [Float](repeating: 0, count: matrix.rows * k)
        out.withUnsafeMutableBufferPointer { o in
            matrix.values.withUnsafeBufferPointer { x in
                let o = UncheckedSendable(o), x = UncheckedSendable(x)
                Parallel.forEachChunk(of: matrix.rows, chunkCount: Parallel.chunkCount(total: matrix.rows, minimumPerChunk: 4096)) { range in
                    var acc = [Double](repeating: 0, count: k)
                    for r in range {
                        for c in 0..<k { acc[c] = -offset[c] }
                        for j in 0..<p {
                            let v = Double(x.value[r * p + j])
                            for c in 0..<k { acc[c] += v * weights[j * k + c] }
                        }
                        for c in 0..<k { o.value[r * k + c] = Float(acc[c]) }
                    }
                }
            }
        }
        return Matrix(rows: matrix.rows, columns: k, values: out)
    }

    /// Maps projections back to feature space: `y · components + mean`.
    public func inverseTransform(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == componentCount else {
            throw LearningError.columnMismatch(operation: "FittedPCA.inverseTransform", expected: componentCount, actual: matrix.columns)
        }
        let p = mean.count, k = componentCount
        var out = [Float](repeating: 0, count: matrix.rows * p)
        for r in 0..<matrix.rows {
            for j in 0..<p {
                var s = mean[j]
                for c in 0..<k {
                    let factor = whiten ? explainedVariance[c].squareRoot() : 1
                    s += Double(matrix.values[r * k + c]) * factor * components[c][j]
                }
                out[r * p + j] = Float(s)
            }
        }
        return Matrix(rows: matrix.rows, columns: p, values: out)
    }
}

