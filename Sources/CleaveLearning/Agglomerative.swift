import CleaveCore

/// Agglomerative (hierarchical) clustering cut at a cluster count, as scikit-learn's
/// `AgglomerativeClustering(n_clusters, linkage, metric)` (which builds scipy's linkage tree).
///
/// The full merge tree is built with the nearest-neighbour-chain algorithm over a condensed
/// distance matrix updated by the Lance–Williams formulas, then the merges are sorted by height and
/// the last `clusterCount − 1` are undone. All four linkages are reducible, so the tree equals the
/// greedy one (up to exact ties).
///
/// | linkage    | cluster distance                                   | metrics          |
/// |------------|----------------------------------------------------|------------------|
/// | `.ward`    | increase in within-cluster sum of squares          | Euclidean only   |
/// | `.complete`| largest pairwise distance                          | all              |
/// | `.average` | mean pairwise distance (UPGMA)                     | all              |
/// | `.single`  | smallest pairwise distance                         | all              |
///
/// Memory is an `n × n` Float matrix (400 MB at the limit of 10 000 rows); above
/// ``maximumRowCount`` the call throws, or — with `fallbackToKMeans` — clusters with seeded k-means
/// instead (reported in the result).
public struct Agglomerative: Sendable {
    /// How the distance between two clusters is measured.
    public enum Linkage: String, Codable, Sendable, CaseIterable {
        case ward, complete, average, single
    }

    /// Largest row count accepted (the distance matrix needs n² × 4 bytes).
    public static let maximumRowCount = 10_000

    /// Clusters to cut the tree into (1…rows).
    public let clusterCount: Int
    /// Cluster-to-cluster distance rule.
    public let linkage: Linkage
    /// Row-to-row distance (ward needs `.euclidean`).
    public let metric: DistanceMetric
    /// Above ``maximumRowCount`` rows, use k-means (seeded with `seed`) instead of throwing.
    public let fallbackToKMeans: Bool
    /// Seed for the k-means fallback.
    public let seed: UInt64

    /// - Throws: ``LearningError/invalidParameter(operation:name:value:reason:)`` for
    ///   `clusterCount < 1` or ward with a non-Euclidean metric.
    public init(clusterCount: Int, linkage: Linkage = .ward, metric: DistanceMetric = .euclidean,
                fallbackToKMeans: Bool = false, seed: UInt64 = 0) throws {
        guard clusterCount >= 1 else {
            throw LearningError.invalidParameter(operation: "Agglomerative", name: "clusterCount", value: "\(clusterCount)", reason: "needs at least 1 cluster")
        }
        guard linkage != .ward || metric == .euclidean else {
            throw LearningError.invalidParameter(operation: "Agglomerative", name: "metric", value: metric.rawValue,
                                                 reason: "ward linkage is defined for the euclidean metric only; use complete, average or single linkage")
        }
        self.clusterCount = clusterCount
        self.linkage = linkage
        self.metric = metric
        self.fallbackToKMeans = fallbackToKMeans
        self.seed = seed
    }

    /// The outcome: labels (0..<clusterCount, numbered in order of each cluster's first row) and
    /// whether k-means stood in for a too-large input.
    public struct Result: Sendable, Equatable {
        /// Cluster of each row, 0..<clusterCount.
        public let labels: [Int32]
        /// Whether k-means clustered the rows because there were more than ``Agglomerative/maximumRowCount``.
        public let usedKMeansFallback: Bool
    }

    /// Clusters the rows.
    /// - Throws: ``LearningError/tooLarge(operation:count:limit:suggestion:)`` above
    ///   ``maximumRowCount`` (unless `fallbackToKMeans`), or for more clusters than rows, or for
    ///   empty / non-finite input.
    /// - Complexity: O(n²) time and memory (n = rows).
    public func fit(_ matrix: Matrix) throws -> Result {
        try matrix.validate("Agglomerative.fit")
        let n = matrix.rows
        guard clusterCount <= n else {
            throw LearningError.invalidParameter(operation: "Agglomerative.fit", name: "clusterCount", value: "\(clusterCount)",
                                                 reason: "more clusters than rows (\(n))")
        }
        if n > Agglomerative.maximumRowCount {
            if fallbackToKMeans {
                let labels = try KMeans(clusterCount: clusterCount, seed: seed).fitAssign(matrix).labels
                return Result(labels: Agglomerative.renumbered(labels.map(Int.init)), usedKMeansFallback: true)
            }
            throw LearningError.tooLarge(operation: "Agglomerative.fit", count: n, limit: Agglomerative.maximumRowCount,
                                         suggestion: "use k-means, fewer patches, or allow the automatic k-means fallback")
        }
        let merges = mergeTree(matrix)
        // Apply the n − clusterCount lowest merges (stable by discovery order on equal heights).
        let order = merges.indices.sorted { merges[$0].height != merges[$1].height ? merges[$0].height < merges[$1].height : $0 < $1 }
        var parent = Array(0..<n)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for m in order.prefix(n - clusterCount) {
            let a = root(merges[m].a), b = root(merges[m].b)
            if a != b { parent[max(a, b)] = min(a, b) }
        }
        return Result(labels: Agglomerative.renumbered((0..<n).map(root)), usedKMeansFallback: false)
    }

    struct Merge { let a: Int; let b: Int; let height: Double }

    /// Labels renumbered 0, 1, … in order of first appearance.
    static func renumbered(_ raw: [Int]) -> [Int32] {
        var map = [Int: Int32]()
        return raw.map { r in
            if let v = map[r] { return v }
            let v = Int32(map.count); map[r] = v; return v
        }
    }

    /// All n − 1 merges (NN-chain). Each cluster is identified by one of its original rows.
    ///
    /// The distances live in a full symmetric `n × n` Float matrix, so the nearest-neighbour scan
    /// of a cluster reads one contiguous row; the Lance–Williams updates are computed in Double.
    func mergeTree(_ matrix: Matrix) -> [Merge] {
        let n = matrix.rows
        guard n > 1 else { return [] }
        var distance = [Float](repeating: 0, count: n * n)
        let norms = metric.norms(matrix)
        let ward = linkage == .ward
        let block = metric == .euclidean ? PointBlock(matrix) : nil
        distance.withUnsafeMutableBufferPointer { d in
            matrix.values.withUnsafeBufferPointer { x in
                let d = UncheckedSendable(d), x = UncheckedSendable(x)
                Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 32)) { rows in
                    for i in rows {
                        let row = d.value.baseAddress! + i * n
                        if let block {
                            // SIMD squared Euclidean distances to every row; ward keeps them squared.
                            let point = Array(x.value[(i * matrix.columns)..<((i + 1) * matrix.columns)])
                            block.tiles.withUnsafeBufferPointer { t in
                                Kernels.squaredDistances(tiles: t.baseAddress!, count: n, columns: matrix.columns, to: point, out: row)
                            }
                            if !ward { for j in 0..<n { row[j] = row[j].squareRoot() } }
                        } else {
                            for j in 0..<n where j != i {
                                row[j] = Float(metric.distance(x.value.baseAddress!, columns: matrix.columns, i, j, norms: norms))
                            }
                        }
                        row[i] = 0
                    }
                }
            }
        }
        return distance.withUnsafeMutableBufferPointer { d in
            nnChain(d.baseAddress!, count: n)
        }
    }

    private func nnChain(_ distance: UnsafeMutablePointer<Float>, count n: Int) -> [Merge] {
        let ward = linkage == .ward
        var size = [Int](repeating: 1, count: n)
        // Active clusters in ascending order (scans visit them in index order: ties → lower index).
        var active = Array(0..<n)
        var merges: [Merge] = []
        merges.reserveCapacity(n - 1)
        var chain: [Int] = []
        chain.reserveCapacity(n)
        while merges.count < n - 1 {
            if chain.isEmpty { chain.append(active[0]) }
            var a = 0, b = 0, best: Float = 0
            while true {
                a = chain[chain.count - 1]
                let previous = chain.count >= 2 ? chain[chain.count - 2] : -1
                b = previous
                best = previous >= 0 ? distance[a * n + previous] : .infinity
                let row = distance + a * n
                for x in active where x != a && row[x] < best { best = row[x]; b = x }
                if b == previous { break }
                chain.append(b)
            }
            chain.removeLast(2)
            // Merge a and b into the lower index; update distances to every other active cluster.
            let (keep, drop) = a < b ? (a, b) : (b, a)
            let sa = Double(size[a]), sb = Double(size[b])
            let bestDistance = Double(best)
            for x in active where x != a && x != b {
                let da = Double(distance[a * n + x]), db = Double(distance[b * n + x])
                let merged: Double
                switch linkage {
                case .single: merged = min(da, db)
                case .complete: merged = max(da, db)
                case .average: merged = (sa * da + sb * db) / (sa + sb)
                case .ward:
                    let sx = Double(size[x])
                    merged = ((sa + sx) * da + (sb + sx) * db - sx * bestDistance) / (sa + sb + sx)
                }
                distance[keep * n + x] = Float(merged)
                distance[x * n + keep] = Float(merged)
            }
            // scipy's ward height is √(Lance–Williams value); monotone, so the order is the same.
            merges.append(Merge(a: keep, b: drop, height: ward ? bestDistance.squareRoot() : bestDistance))
            size[keep] += size[drop]
            var lo = 0, hi = active.count
            while lo < hi { let mid = (lo + hi) / 2; if active[mid] < drop { lo = mid + 1 } else { hi = mid } }
            active.remove(at: lo)
        }
        return merges
    }
}
