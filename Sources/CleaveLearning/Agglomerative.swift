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
/// Memory is `n(n−1)/2` Doubles (400 MB at the limit of 10 000 rows); above
/// ``maximumRowCount`` the call throws, or — with `fallbackToKMeans` — clusters with seeded k-means
/// instead (reported in the result).
public struct Agglomerative: Sendable {
    /// How the distance between two clusters is measured.
    public enum Linkage: String, Codable, Sendable, CaseIterable {
        case ward, complete, average, single
    }

    /// Largest row count accepted (the distance matrix needs n(n−1)/2 × 8 bytes).
    public static let maximumRowCount = 10_000

    public let clusterCount: Int
    public let linkage: Linkage
    public let metric: DistanceMetric
    /// Above ``maximumRowCount`` rows, use k-means (seeded with `seed`) instead of throwing.
    public let fallbackToKMeans: Bool
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
        public let labels: [Int32]
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
    func mergeTree(_ matrix: Matrix) -> [Merge] {
        let n = matrix.rows
        guard n > 1 else { return [] }
        // Condensed upper triangle: pair (i < j) at i*n − i(i+1)/2 + (j − i − 1).
        var distance = [Double](repeating: 0, count: n * (n - 1) / 2)
        let norms = metric.norms(matrix)
        let ward = linkage == .ward
        distance.withUnsafeMutableBufferPointer { d in
            matrix.values.withUnsafeBufferPointer { x in
                let d = UncheckedSendable(d), x = UncheckedSendable(x)
                Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 32)) { rows in
                    for i in rows {
                        let base = i * n - i * (i + 1) / 2 - i - 1
                        for j in (i + 1)..<n {
                            let v = metric.distance(x.value.baseAddress!, columns: matrix.columns, i, j, norms: norms)
                            // Ward works on squared Euclidean distances (Lance–Williams form).
                            d.value[base + j] = ward ? v * v : v
                        }
                    }
                }
            }
        }
        @inline(__always) func at(_ i: Int, _ j: Int) -> Int {
            let (a, b) = i < j ? (i, j) : (j, i)
            return a * n - a * (a + 1) / 2 + (b - a - 1)
        }
        var size = [Int](repeating: 1, count: n)
        var active = [Bool](repeating: true, count: n)
        var merges: [Merge] = []
        merges.reserveCapacity(n - 1)
        var chain: [Int] = []
        chain.reserveCapacity(n)
        while merges.count < n - 1 {
            if chain.isEmpty { chain.append(active.firstIndex(of: true)!) }
            var a = 0, b = 0, best = 0.0
            while true {
                a = chain[chain.count - 1]
                let previous = chain.count >= 2 ? chain[chain.count - 2] : -1
                b = previous
                best = previous >= 0 ? distance[at(a, previous)] : .infinity
                for x in 0..<n where active[x] && x != a {
                    let v = distance[at(a, x)]
                    if v < best { best = v; b = x }
                }
                if b == previous { break }
                chain.append(b)
            }
            chain.removeLast(2)
            // Merge a and b into the lower index; update distances to every other active cluster.
            let (keep, drop) = a < b ? (a, b) : (b, a)
            let sa = Double(size[a]), sb = Double(size[b])
            for x in 0..<n where active[x] && x != a && x != b {
                let da = distance[at(a, x)], db = distance[at(b, x)]
                let merged: Double
                switch linkage {
                case .single: merged = min(da, db)
                case .complete: merged = max(da, db)
                case .average: merged = (sa * da + sb * db) / (sa + sb)
                case .ward:
                    let sx = Double(size[x])
                    merged = ((sa + sx) * da + (sb + sx) * db - sx * best) / (sa + sb + sx)
                }
                distance[at(keep, x)] = merged
            }
            // scipy's ward height is √(Lance–Williams value); monotone, so the order is the same.
            merges.append(Merge(a: keep, b: drop, height: ward ? best.squareRoot() : best))
            size[keep] += size[drop]
            active[drop] = false
        }
        return merges
    }
}
