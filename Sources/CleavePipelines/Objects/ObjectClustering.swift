import CleaveCore
import CleaveLearning
import CleaveObjects

/// Groups objects by chosen measurements: columns are z-scored, then clustered.
public struct ObjectClustering: Sendable {
    /// Clustering algorithm: k-means, or agglomerative (Ward), which falls back to k-means above ``Agglomerative/maximumRowCount`` objects.
    public enum Method: String, Sendable, CaseIterable { case kmeans, agglomerative }
    /// Clusters (≥ 1, at most the number of objects).
    public let clusterCount: Int
    /// Measurement columns clustered on (each z-scored).
    public let columns: [String]
    /// The algorithm (default k-means).
    public let method: Method
    /// Seed of k-means++ (and of the agglomerative fallback).
    public let seed: UInt64

    /// - Throws: ``ObjectsPipelineError`` for fewer than 1 cluster or no columns.
    public init(clusterCount: Int, columns: [String], method: Method = .kmeans, seed: UInt64 = 0) throws {
        guard clusterCount >= 1 else { throw ObjectsPipelineError.invalidOption(field: "clusterCount", value: "\(clusterCount)", reason: "must be at least 1") }
        guard !columns.isEmpty else { throw ObjectsPipelineError.invalidOption(field: "columns", value: nil, reason: "clustering needs measurements to cluster on (e.g. area,eccentricity)") }
        self.clusterCount = clusterCount
        self.columns = columns
        self.method = method
        self.seed = seed
    }

    /// Cluster number (1…clusterCount) per object, numbered in order of each cluster's first object.
    /// - Throws: for unknown columns (listing the valid names), NaN values, or more clusters than objects.
    /// - Complexity: O(objects × columns) to scale; k-means as ``KMeans/fitAssign(_:)``, agglomerative
    ///   O(objects²) time and memory.
    public func assign(_ table: ObjectTable) throws -> [Int] {
        guard table.count > 0 else { return [] }
        guard clusterCount <= table.count else {
            throw ObjectsPipelineError.invalidOption(field: "clusterCount", value: "\(clusterCount)", reason: "only \(table.count) objects to cluster")
        }
        for name in columns {
            let values = try table.column(name)
            let bad = values.filter { !$0.isFinite }.count
            if bad > 0 { throw ObjectsPipelineError.invalidOption(field: "columns", value: name, reason: "\(bad) objects have no finite value (e.g. circularity of one-pixel objects); choose other measurements or a larger `minimumSize`") }
        }
        let matrix = Matrix(rows: table.count, columns: columns.count, values: try table.matrix(columns: columns).map { Float($0) })
        let scaled = try Scaler.zScore.fit(matrix).transform(matrix)
        let raw: [Int32]
        switch method {
        case .kmeans: raw = try KMeans(clusterCount: clusterCount, seed: seed).fitAssign(scaled).labels
        case .agglomerative: raw = try Agglomerative(clusterCount: clusterCount, fallbackToKMeans: true, seed: seed).fit(scaled).labels
        }
        // renumber by first appearance so the numbering does not depend on the algorithm's order
        var map: [Int32: Int] = [:]
        return raw.map { c in
            if let m = map[c] { return m }
            map[c] = map.count + 1
            return map.count
        }
    }
}
