import CleaveCore
import CleaveLearning

/// The Locator's bridge to CleaveLearning: clustering, centroids, heat.
enum LocatorClustering {
    /// Points above which agglomerative clustering is refused (its memory grows with n²).
    static let agglomerativeLimit = Agglomerative.maximumRowCount

    /// Cluster labels 0..<k for the rows of `space`.
    static func cluster(_ space: Matrix, options: LocatorOptions) throws -> [Int32] {
        switch options.method {
        case .kmeans:
            return try KMeans(clusterCount: options.clusterCount, seed: options.seed).fitAssign(space).labels
        case .agglomerative:
            guard space.rows <= agglomerativeLimit else {
                throw LocatorOptionError(field: "algorithm", value: "agglomerative", reason: "\(space.rows) patches is more than the \(agglomerativeLimit) it handles (memory grows with n²); use kmeans or larger patches")
            }
            return try agglomerative(space, options: options)
        }
    }

    /// Mean of each cluster's rows.
    static func centroids(_ space: Matrix, labels: [Int32], clusterCount: Int) -> Matrix {
        var sums = [Double](repeating: 0, count: clusterCount * space.columns)
        var counts = [Int](repeating: 0, count: clusterCount)
        let d = space.columns
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                space.values.withUnsafeBufferPointer { v in
                    labels.withUnsafeBufferPointer { labels in
                        for r in 0..<space.rows {
                            let c = Int(labels[r]); counts[c] += 1
                            for j in 0..<d { sums[c * d + j] += Double(v[r * d + j]) }
                        }
                    }
                }
            }
        }
        var values = [Float](repeating: 0, count: clusterCount * space.columns)
        for c in 0..<clusterCount where counts[c] > 0 {
            for j in 0..<space.columns { values[c * space.columns + j] = Float(sums[c * space.columns + j] / Double(counts[c])) }
        }
        return Matrix(rows: clusterCount, columns: space.columns, values: values)
    }

    /// Heat of every row for cluster `picked` (``ClusterCloseness/of(_:centroids:to:)``).
    static func closeness(_ space: Matrix, centroids: Matrix, to picked: Int) -> [Float] {
        ClusterCloseness.of(space, centroids: centroids, to: picked)
    }

    /// Cosine similarity of every row to row `row`.
    static func cosineToRow(_ space: Matrix, row: Int) -> [Float] {
        let d = space.columns
        let reference = Array(space.values[(row * d)..<((row + 1) * d)])
        var referenceNorm = 0.0
        for v in reference { referenceNorm += Double(v * v) }
        referenceNorm = referenceNorm.squareRoot()
        return (0..<space.rows).map { r in
            var dot = 0.0, norm = 0.0
            for j in 0..<d { let v = Double(space.values[r * d + j]); dot += v * Double(reference[j]); norm += v * v }
            let denominator = norm.squareRoot() * referenceNorm
            return denominator > 0 ? Float(dot / denominator) : 0
        }
    }

    static func agglomerative(_ space: Matrix, options: LocatorOptions) throws -> [Int32] {
        let linkage = Agglomerative.Linkage(rawValue: options.linkage.rawValue)!
        let metric = DistanceMetric(rawValue: options.metric.rawValue)!
        return try Agglomerative(clusterCount: options.clusterCount, linkage: linkage, metric: metric, seed: options.seed)
            .fit(space).labels
    }

    /// Mean silhouette of `labels` on `sampleSize` sampled rows of `space` (all rows when fewer;
    /// CleaveLearning's ``silhouette(_:labels:metric:sampleSize:seed:)``), or nil when it is not
    /// defined (fewer than two clusters, or every row its own cluster).
    static func silhouette(_ space: Matrix, labels: [Int32], sampleSize: Int, seed: UInt64) -> Double? {
        let distinct = LocatorRows.distinctCount(labels, bound: Int(labels.max() ?? 0) + 1)
        guard sampleSize > 0, distinct >= 2, distinct < labels.count else { return nil }
        return try? CleaveLearning.silhouette(space, labels: labels, sampleSize: min(space.rows, sampleSize), seed: seed)
    }

    /// NMF weights of the min-max scaled features (NMF needs non-negative input).
    static func nmf(_ features: Matrix, components: Int, seed: UInt64) throws -> Matrix {
        guard components <= features.columns else {
            throw LocatorOptionError(field: "reduce", value: "nmf:\(components)", reason: "only \(features.columns) features to factorise")
        }
        let scaled = try Scaler.minMax.fit(features).transform(features)
        return try NMF(componentCount: components).fitTransform(scaled).weights
    }
}

