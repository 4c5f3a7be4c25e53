import CleaveCore

/// Mean silhouette coefficient, as scikit-learn's `silhouette_score`.
///
/// For each sample, `a` is its mean distance to the other members of its cluster and `b` the
/// smallest mean distance to the members of another cluster; its coefficient is
/// `(b − a) / max(a, b)`, and 0 for a sample alone in its cluster. The score is the mean over
/// samples, in [−1, 1]; higher means tighter, better separated clusters.
///
/// With `sampleSize`, the score is computed on that many rows drawn without replacement (seeded),
/// exactly as scikit-learn's `sample_size` does (its draw uses numpy's generator, so the sampled
/// rows differ; the estimate is statistically the same).
///
/// - Parameters:
///   - matrix: one row per sample.
///   - labels: cluster label per row.
///   - metric: distance (default Euclidean).
///   - sampleSize: rows to use (`nil` → all). Cost grows as sampleSize².
///   - seed: seed for the sample.
/// - Throws: ``LearningError`` for mismatched lengths, or fewer than 2 / more than n − 1 distinct
///   labels in the rows used (scikit-learn's condition).
/// - Complexity: O(m² × columns) for m rows used; parallel over rows, thread-count independent.
public func silhouette(_ matrix: Matrix, labels: [Int32], metric: DistanceMetric = .euclidean,
                       sampleSize: Int? = nil, seed: UInt64 = 0) throws -> Double {
    try matrix.validate("silhouette")
    guard labels.count == matrix.rows else {
        throw LearningError.lengthMismatch(operation: "silhouette", expected: matrix.rows, actual: labels.count)
    }
    var data = matrix, used = labels
    if let sampleSize, sampleSize < matrix.rows {
        guard sampleSize >= 2 else {
            throw LearningError.invalidParameter(operation: "silhouette", name: "sampleSize", value: "\(sampleSize)", reason: "needs at least 2 rows")
        }
        let rows = silhouetteSampleRows(rowCount: matrix.rows, sampleSize: sampleSize, seed: seed)
        data = matrix.selectingRows(rows)
        used = rows.map { labels[$0] }
    }
    let names = Array(Set(used)).sorted()
    guard names.count >= 2 && names.count <= data.rows - 1 else {
        throw LearningError.invalidParameter(operation: "silhouette", name: "labels", value: "\(names.count) distinct",
                                             reason: "needs 2 ≤ clusters ≤ samples − 1 (\(data.rows - 1))")
    }
    var index = [Int32: Int]()
    for (i, name) in names.enumerated() { index[name] = i }
    let cluster = used.map { index[$0]! }
    let k = names.count, n = data.rows
    var sizes = [Int](repeating: 0, count: k)
    for c in cluster { sizes[c] += 1 }
    let norms = metric.norms(data)
    let block = metric == .euclidean ? PointBlock(data) : nil
    var coefficients = [Double](repeating: 0, count: n)
    coefficients.withUnsafeMutableBufferPointer { out in
        data.values.withUnsafeBufferPointer { x in
            let out = UncheckedSendable(out), x = UncheckedSendable(x)
            Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 16)) { range in
                var totals = [Double](repeating: 0, count: k)
                var scratch = [Float](repeating: 0, count: block == nil ? 0 : n)
                for i in range {
                    for c in 0..<k { totals[c] = 0 }
                    if let block {
                        // SIMD squared distances to all rows (Float), square roots summed in Double.
                        let point = Array(x.value[(i * data.columns)..<((i + 1) * data.columns)])
                        scratch.withUnsafeMutableBufferPointer { d in
                            block.tiles.withUnsafeBufferPointer { t in
                                Kernels.squaredDistances(tiles: t.baseAddress!, count: n, columns: data.columns,
                                                         to: point, out: d.baseAddress!)
                            }
                            for other in 0..<n where other != i { totals[cluster[other]] += Double(d[other]).squareRoot() }
                        }
                    } else {
                        for other in 0..<n where other != i {
                            totals[cluster[other]] += metric.distance(x.value.baseAddress!, columns: data.columns, i, other, norms: norms)
                        }
                    }
                    let own = cluster[i]
                    if sizes[own] <= 1 { out.value[i] = 0; continue }
                    let a = totals[own] / Double(sizes[own] - 1)
                    var b = Double.infinity
                    for c in 0..<k where c != own { b = min(b, totals[c] / Double(sizes[c])) }
                    let m = max(a, b)
                    out.value[i] = m > 0 ? (b - a) / m : 0
                }
            }
        }
    }
    return coefficients.reduce(0, +) / Double(n)
}

/// The rows ``silhouette(_:labels:metric:sampleSize:seed:)`` scores when `sampleSize < rowCount`:
/// `sampleSize` seeded distinct indices, sorted. `silhouette(matrix.selectingRows(rows), labels:
/// rows.map { labels[$0] })` equals `silhouette(matrix, labels:, sampleSize:, seed:)`, so a caller
/// can score rows it prepares itself without building the whole input.
/// - Complexity: O(sampleSize).
public func silhouetteSampleRows(rowCount: Int, sampleSize: Int, seed: UInt64) -> [Int] {
    var rng = SeededGenerator(seed: seed)
    return KMeans.sampleIndices(count: min(sampleSize, rowCount), from: rowCount, using: &rng)
}
