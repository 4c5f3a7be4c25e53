import CleaveCore

/// A fitted k-means model: immutable, Codable (saved inside Locator models).
public struct KMeansModel: Codable, Equatable, Sendable {
    /// Cluster centres, `clusterCount × features`.
    public let centroids: Matrix
    /// Sum of squared distances of the fitted rows to their centres.
    public let inertia: Double
    /// Lloyd iterations of the winning run.
    public let iterations: Int
    /// Rows the centroids were fitted on (the sample size when `sampled`).
    public let fittedRowCount: Int
    /// Whether the centroids were fitted on a random sample of the input.
    public let sampled: Bool

    /// Builds a model from known centroids (e.g. loaded or edited).
    public init(centroids: Matrix, inertia: Double = 0, iterations: Int = 0, fittedRowCount: Int = 0, sampled: Bool = false) {
        precondition(centroids.rows >= 1 && centroids.columns >= 1, "KMeansModel needs at least one centroid and one feature")
        self.centroids = centroids
        self.inertia = inertia
        self.iterations = iterations
        self.fittedRowCount = fittedRowCount
        self.sampled = sampled
    }

    /// Number of clusters.
    public var clusterCount: Int { centroids.rows }

    /// The nearest centroid of every row (ties → lower index).
    /// - Throws: ``LearningError/columnMismatch(operation:expected:actual:)``.
    /// - Complexity: O(rows × clusterCount × columns), SIMD over rows, parallel over fixed chunks.
    public func assign(_ matrix: Matrix) throws -> [Int32] {
        try assignWithDistances(matrix, keepDistances: false).labels
    }

    /// Labels and squared Euclidean distance of each row to its centroid.
    public func assignWithDistances(_ matrix: Matrix) throws -> (labels: [Int32], squaredDistances: [Float]) {
        try assignWithDistances(matrix, keepDistances: true)
    }

    func assignWithDistances(_ matrix: Matrix, keepDistances: Bool) throws -> (labels: [Int32], squaredDistances: [Float]) {
        guard matrix.columns == centroids.columns else {
            throw LearningError.columnMismatch(operation: "KMeansModel.assign", expected: centroids.columns, actual: matrix.columns)
        }
        let n = matrix.rows, p = matrix.columns, k = centroids.rows
        var labels = [Int32](repeating: 0, count: n)
        var distances = [Float](repeating: 0, count: keepDistances ? n : 0)
        let block = 1024
        let chunks = Parallel.chunkCount(total: n, minimumPerChunk: 16 * block)
        labels.withUnsafeMutableBufferPointer { l in
            distances.withUnsafeMutableBufferPointer { d in
                matrix.values.withUnsafeBufferPointer { x in
                    centroids.values.withUnsafeBufferPointer { cp in
                        let l = UncheckedSendable(l), d = UncheckedSendable(d), x = UncheckedSendable(x), cp = UncheckedSendable(cp)
                        Parallel.forEachChunk(of: n, chunkCount: chunks) { range in
                            let tiles = UnsafeMutablePointer<Float>.allocate(capacity: block * p)
                            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block)
                            defer { tiles.deallocate(); scratch.deallocate() }
                            var start = range.lowerBound
                            while start < range.upperBound {
                                let end = min(start + block, range.upperBound)
                                Kernels.tile(x.value.baseAddress!, columns: p, range: start..<end, into: tiles)
                                let out = keepDistances ? d.value.baseAddress! + start : scratch
                                Kernels.nearest(tiles: tiles, count: end - start, columns: p,
                                                centroids: cp.value.baseAddress!, centroidCount: k,
                                                labels: l.value.baseAddress! + start, distances: out)
                                start = end
                            }
                        }
                    }
                }
            }
        }
        return (labels, distances)
    }

    /// Euclidean distance of every row to every centroid (`rows × clusterCount`), like
    /// scikit-learn's `KMeans.transform`.
    public func distances(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == centroids.columns else {
            throw LearningError.columnMismatch(operation: "KMeansModel.distances", expected: centroids.columns, actual: matrix.columns)
        }
        let n = matrix.rows, p = matrix.columns, k = centroids.rows
        var out = [Float](repeating: 0, count: n * k)
        for r in 0..<n {
            for c in 0..<k {
                var s = 0.0
                for j in 0..<p { let d = Double(matrix.values[r * p + j]) - Double(centroids.values[c * p + j]); s += d * d }
                out[r * k + c] = Float(s.squareRoot())
            }
        }
        return Matrix(rows: n, columns: k, values: out)
    }
}
