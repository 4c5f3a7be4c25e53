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
    @inline(__always) func coefficient(_ totals: (Int) -> Double, own: Int) -> Double {
        if sizes[own] <= 1 { return 0 }
        let a = totals(own) / Double(sizes[own] - 1)
        var b = Double.infinity
        for c in 0..<k where c != own { b = min(b, totals(c) / Double(sizes[c])) }
        let m = max(a, b)
        return m > 0 ? (b - a) / m : 0
    }
    coefficients.withUnsafeMutableBufferPointer { out in
        data.values.withUnsafeBufferPointer { x in
            cluster.withUnsafeBufferPointer { cluster in
                let out = UncheckedSendable(out), x = UncheckedSendable(x), cluster = UncheckedSendable(cluster)
                Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 16)) { range in
                    if let block {
                        silhouetteRows(range, block: block, data: x.value.baseAddress!, columns: data.columns, cluster: cluster.value.baseAddress!,
                                       clusterCount: k) { i, totals in out.value[i] = coefficient(totals, own: cluster.value[i]) }
                        return
                    }
                    var totals = [Double](repeating: 0, count: k)
                    for i in range {
                        for c in 0..<k { totals[c] = 0 }
                        for other in 0..<n where other != i {
                            totals[cluster.value[other]] += metric.distance(x.value.baseAddress!, columns: data.columns, i, other, norms: norms)
                        }
                        out.value[i] = coefficient({ totals[$0] }, own: cluster.value[i])
                    }
                }
            }
        }
    }
    return coefficients.reduce(0, +) / Double(n)
}

/// Euclidean silhouette sums for rows `range`: for each row `i`, `totals(c)` = Σ √d²(i, j) over
/// the rows `j ≠ i` of cluster `c`, summed in row order in Double (the square of a row's distance to
/// itself is exactly 0, so including it adds 0). Eight rows share each pass over the others: their
/// squared distances (SIMD, Float) and square roots (Double) run in SIMD lanes, each lane summing in
/// the same order as a row on its own.
private func silhouetteRows(_ range: Range<Int>, block: PointBlock, data: UnsafePointer<Float>, columns: Int,
                            cluster: UnsafePointer<Int>, clusterCount k: Int, _ report: (Int, (Int) -> Double) -> Void) {
    let n = block.count
    let distances = UnsafeMutablePointer<Float>.allocate(capacity: 8 * n)
    let totals = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: 2 * k)
    defer { distances.deallocate(); totals.deallocate() }
    block.tiles.withUnsafeBufferPointer { tiles in
        var first = range.lowerBound
        while first < range.upperBound {
            let lanes = min(8, range.upperBound - first)
            for lane in 0..<8 {
                let i = first + min(lane, lanes - 1)  // short group: repeat the last row (not reported)
                Kernels.squaredDistances(tiles: tiles.baseAddress!, count: n, columns: columns, to: data + i * columns,
                                         out: distances + lane * n)
            }
            totals.initialize(repeating: .zero, count: 2 * k)
            let d0 = distances, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n, d4 = d3 + n, d5 = d4 + n, d6 = d5 + n, d7 = d6 + n
            for other in 0..<n {
                let low = SIMD4<Double>(Double(d0[other]), Double(d1[other]), Double(d2[other]), Double(d3[other])).squareRoot()
                let high = SIMD4<Double>(Double(d4[other]), Double(d5[other]), Double(d6[other]), Double(d7[other])).squareRoot()
                let c = cluster[other]
                totals[2 * c] += low
                totals[2 * c + 1] += high
            }
            for lane in 0..<lanes {
                report(first + lane) { c in totals[2 * c + lane / 4][lane % 4] }
            }
            first += lanes
        }
    }
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
