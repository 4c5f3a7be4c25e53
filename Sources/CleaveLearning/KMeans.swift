import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// k-means clustering: k-means++ seeding, Lloyd iterations, several seeded restarts.
///
/// Follows scikit-learn's `KMeans(algorithm="lloyd")`: greedy k-means++ (2 + ⌊ln k⌋ candidates
/// per centre), convergence when labels stop changing or the squared centre shift falls below
/// `tolerance × mean(feature variance)`, empty clusters re-seeded with the points farthest from
/// their centres, and a final assignment step so labels match the returned centroids.
///
/// For large inputs (`rows > sampleSize`) the centroids are fitted on a seeded random sample of
/// `sampleSize` rows (without replacement) and every row is then assigned — the standard
/// "fit on a sample, predict all" approach, which keeps millions of sliding-window points fast.
///
/// Results depend only on the data and `seed`: work is split into chunks whose boundaries depend
/// on the row count alone and partial sums are combined in chunk order, so any thread count gives
/// bit-identical centroids and labels.
public struct KMeans: Sendable {
    /// Number of clusters (≥ 1, ≤ number of rows fitted).
    public let clusterCount: Int
    /// Independent k-means++ runs (the one with the lowest inertia wins); `nil` picks
    /// ``defaultRestarts(rowCount:)`` for the number of rows fitted.
    public let restarts: Int?
    /// Lloyd iteration limit per run.
    public let maxIterations: Int
    /// Relative tolerance on the squared centre shift (times the mean feature variance).
    public let tolerance: Double
    /// Seed for k-means++ and sampling.
    public let seed: UInt64
    /// Above this many rows, fit on a random sample of this size and assign all rows.
    public let sampleSize: Int

    /// Default restarts for `rowCount` rows: 10 up to 10 000 rows, then fewer so that large inputs
    /// stay interactive (3 up to 50 000, 1 beyond; k-means++ seeding is already good, and
    /// scikit-learn ≥ 1.4 also uses a single k-means++ run by default).
    public static func defaultRestarts(rowCount: Int) -> Int {
        rowCount <= 10_000 ? 10 : (rowCount <= 50_000 ? 3 : 1)
    }

    /// - Parameters:
    ///   - clusterCount: k ≥ 1.
    ///   - restarts: runs ≥ 1; `nil` → ``defaultRestarts(rowCount:)`` of the fitted rows.
    ///   - maxIterations: ≥ 1 (default 300, as scikit-learn).
    ///   - tolerance: ≥ 0 (default 1e-4, as scikit-learn).
    ///   - seed: random seed.
    ///   - sampleSize: ≥ clusterCount (default 100 000).
    /// - Throws: ``LearningError/invalidParameter(operation:name:value:reason:)``.
    public init(clusterCount: Int, restarts: Int? = nil, maxIterations: Int = 300, tolerance: Double = 1e-4,
                seed: UInt64 = 0, sampleSize: Int = 100_000) throws {
        func bad(_ name: String, _ value: Any, _ reason: String) -> LearningError {
            .invalidParameter(operation: "KMeans", name: name, value: "\(value)", reason: reason)
        }
        guard clusterCount >= 1 else { throw bad("clusterCount", clusterCount, "needs at least 1 cluster") }
        if let restarts, restarts < 1 { throw bad("restarts", restarts, "needs at least 1 run") }
        guard maxIterations >= 1 else { throw bad("maxIterations", maxIterations, "needs at least 1 iteration") }
        guard tolerance >= 0, tolerance.isFinite else { throw bad("tolerance", tolerance, "must be finite and ≥ 0") }
        guard sampleSize >= clusterCount else { throw bad("sampleSize", sampleSize, "must be at least clusterCount (\(clusterCount))") }
        self.clusterCount = clusterCount
        self.restarts = restarts
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.seed = seed
        self.sampleSize = sampleSize
    }

    /// Fits centroids (on a sample when `rows > sampleSize`) and labels every row.
    /// - Returns: the model and one label per row of `matrix` (0..<clusterCount).
    /// - Throws: ``LearningError`` for empty/non-finite input or more clusters than rows.
    /// - Complexity: O(restarts × iterations × min(rows, sampleSize) × k × columns) + O(rows × k × columns).
    public func fitAssign(_ matrix: Matrix) throws -> (model: KMeansModel, labels: [Int32]) {
        try matrix.validate("KMeans.fit")
        guard clusterCount <= matrix.rows else {
            throw LearningError.invalidParameter(operation: "KMeans.fit", name: "clusterCount", value: "\(clusterCount)",
                                                 reason: "more clusters than rows (\(matrix.rows))")
        }
        if matrix.rows <= sampleSize {
            let points = PointBlock(matrix)
            let run = bestRun(points)
            return (run.model(sampled: false), run.labels)
        }
        let points = PointBlock(matrix.selectingRows(sampledRows(rowCount: matrix.rows)!))
        let model = bestRun(points).model(sampled: true)
        return (model, try model.assign(matrix))
    }

    /// Fits centroids (on a sample when `rows > sampleSize`).
    public func fit(_ matrix: Matrix) throws -> KMeansModel {
        try matrix.validate("KMeans.fit")
        guard clusterCount <= matrix.rows else {
            throw LearningError.invalidParameter(operation: "KMeans.fit", name: "clusterCount", value: "\(clusterCount)",
                                                 reason: "more clusters than rows (\(matrix.rows))")
        }
        if matrix.rows <= sampleSize { return bestRun(PointBlock(matrix)).model(sampled: false) }
        return bestRun(PointBlock(matrix.selectingRows(sampledRows(rowCount: matrix.rows)!))).model(sampled: true)
    }

    /// The rows ``fit(_:)`` and ``fitAssign(_:)`` fit the centroids on for a matrix of `rowCount`
    /// rows: `sampleSize` seeded distinct indices, sorted, or `nil` when every row is used.
    /// `fit(matrix.selectingRows(rows))` then gives the same centroids as `fit(matrix)`, so a
    /// caller can fit on rows it prepares itself (e.g. scaled on the fly) without building the
    /// whole input.
    /// - Complexity: O(sampleSize).
    public func sampledRows(rowCount: Int) -> [Int]? {
        guard rowCount > sampleSize else { return nil }
        var rng = SeededGenerator.stream(seed: seed, index: -1)
        return KMeans.sampleIndices(count: sampleSize, from: rowCount, using: &rng)
    }

    /// One Lloyd run from given initial centroids (no k-means++, no restarts, no sampling), for
    /// warm starts and for comparing with scikit-learn's `KMeans(init=array, n_init=1)`.
    public func fitAssign(_ matrix: Matrix, initialCentroids: Matrix) throws -> (model: KMeansModel, labels: [Int32]) {
        try matrix.validate("KMeans.fit")
        guard initialCentroids.rows == clusterCount else {
            throw LearningError.lengthMismatch(operation: "KMeans.fit(initialCentroids:)", expected: clusterCount, actual: initialCentroids.rows)
        }
        guard initialCentroids.columns == matrix.columns else {
            throw LearningError.columnMismatch(operation: "KMeans.fit(initialCentroids:)", expected: initialCentroids.columns, actual: matrix.columns)
        }
        let run = lloyd(PointBlock(matrix), initial: initialCentroids.values)
        return (run.model(sampled: false), run.labels)
    }

    // MARK: - Internals

    func bestRun(_ points: PointBlock) -> Run {
        let runs = restarts ?? KMeans.defaultRestarts(rowCount: points.count)
        var best: Run?
        for r in 0..<runs {
            var rng = SeededGenerator.stream(seed: seed, index: r)
            let initial = plusPlus(points, using: &rng)
            let run = lloyd(points, initial: initial)
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        return best!
    }

    struct Run {
        var centroids: [Float]
        var columns: Int
        var labels: [Int32]
        var inertia: Double
        var iterations: Int
        var rowCount: Int
        func model(sampled: Bool) -> KMeansModel {
            KMeansModel(centroids: Matrix(rows: centroids.count / columns, columns: columns, values: centroids),
                        inertia: inertia, iterations: iterations, fittedRowCount: rowCount, sampled: sampled)
        }
    }

    /// Greedy k-means++ (as scikit-learn): each new centre is the best of 2 + ⌊ln k⌋ candidates
    /// drawn with probability ∝ squared distance to the nearest chosen centre.
    func plusPlus(_ points: PointBlock, using rng: inout SeededGenerator) -> [Float] {
        let n = points.count, p = points.columns, k = clusterCount
        var centroids = [Float](repeating: 0, count: k * p)
        let first = rng.next(below: n)
        for j in 0..<p { centroids[j] = points.value(row: first, column: j) }
        var closest = points.squaredDistances(to: Array(centroids[0..<p]))
        var potential = points.sum(closest)
        let trials = 2 + Int(log(Double(k)))
        var cumulative = [Double](largeRepeating: 0, count: n)
        for c in 1..<max(k, 1) {
            var running = 0.0
            for i in 0..<n { running += Double(closest[i]); cumulative[i] = running }
            var bestCandidate = -1, bestPotential = Double.infinity
            var bestDistances: [Float] = []
            for _ in 0..<trials {
                let target = rng.nextDouble() * potential
                // numpy searchsorted(side="left"): first index with cumulative ≥ target.
                var lo = 0, hi = n
                while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < target { lo = mid + 1 } else { hi = mid } }
                let candidate = min(lo, n - 1)
                let (distances, candidatePotential) = points.candidate(points.row(candidate), closest: closest)
                if candidatePotential < bestPotential {
                    bestPotential = candidatePotential; bestCandidate = candidate; bestDistances = distances
                }
            }
            for j in 0..<p { centroids[c * p + j] = points.value(row: bestCandidate, column: j) }
            closest = bestDistances
            potential = bestPotential
        }
        return centroids
    }

    /// Lloyd iterations from `initial` centroids.
    func lloyd(_ points: PointBlock, initial: [Float]) -> Run {
        let n = points.count, p = points.columns, k = initial.count / p
        let threshold = tolerance * points.meanVariance
        var centroids = initial
        var labels = [Int32](largeRepeating: -1, count: n)
        var previous = labels
        var distances = [Float](largeRepeating: 0, count: n)
        var iterations = 0
        for iteration in 0..<maxIterations {
            iterations = iteration + 1
            var step = points.assignAndSum(centroids: centroids, clusterCount: k, labels: &labels, distances: &distances)
            points.relocateEmpty(&step, labels: labels, distances: distances)
            var shift = 0.0
            for c in 0..<k where step.counts[c] > 0 {
                for j in 0..<p {
                    let updated = step.sums[c * p + j] / Double(step.counts[c])
                    let delta = updated - Double(centroids[c * p + j])
                    shift += delta * delta
                    centroids[c * p + j] = Float(updated)
                }
            }
            if labels == previous { break }
            if shift <= threshold { break }
            previous = labels
        }
        // Final assignment so labels and inertia belong to the returned centroids.
        let final = points.assignAndSum(centroids: centroids, clusterCount: k, labels: &labels, distances: &distances)
        return Run(centroids: centroids, columns: p, labels: labels, inertia: final.inertia,
                   iterations: iterations, rowCount: n)
    }

    /// `count` distinct indices from `0..<total`, sorted (Floyd's algorithm; O(count) memory, or a
    /// bit set of `total` bits when that is at most 16 words per index drawn).
    static func sampleIndices(count: Int, from total: Int, using rng: inout SeededGenerator) -> [Int] {
        precondition(count <= total, "sampleIndices: \(count) of \(total)")
        if count == total { return Array(0..<total) }
        if total / 64 <= 16 * count {
            // Dense enough for a bit set (at most 2 bits of memory per drawn index): the same
            // draws and the same set, read out in order (no hashing, no sort).
            var bits = [UInt64](repeating: 0, count: (total + 63) / 64)
            for j in (total - count)..<total {
                let t = rng.next(below: j + 1)
                let chosen = bits[t >> 6] & (1 << UInt64(t & 63)) != 0
                let index = chosen ? j : t
                bits[index >> 6] |= 1 << UInt64(index & 63)
            }
            var out: [Int] = []
            out.reserveCapacity(count)
            for (w, word) in bits.enumerated() {
                var rest = word
                while rest != 0 {
                    out.append(w * 64 + rest.trailingZeroBitCount)
                    rest &= rest - 1
                }
            }
            return out
        }
        var chosen = Set<Int>(minimumCapacity: count)
        for j in (total - count)..<total {
            let t = rng.next(below: j + 1)
            if !chosen.insert(t).inserted { chosen.insert(j) }
        }
        return chosen.sorted()
    }
}
