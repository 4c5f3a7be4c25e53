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
                throw CleaveError("--method agglomerative: \(space.rows) patches is more than the \(agglomerativeLimit) it handles (memory grows with n²); use --method kmeans or larger patches")
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

    /// Heat of every row for cluster `picked`: `d_other / (d_picked + d_other)` with Euclidean
    /// distances to the picked centre and the nearest other centre — 1 at the picked centre,
    /// 0.5 on the boundary, towards 0 deep inside another cluster.
    static func closeness(_ space: Matrix, centroids: Matrix, to picked: Int) -> [Float] {
        let k = centroids.rows, d = space.columns
        var heat = [Float](largeUninitializedCount: space.rows) { _ in }  // every row written below
        heat.withUnsafeMutableBufferPointer { out in
            space.values.withUnsafeBufferPointer { points in
                centroids.values.withUnsafeBufferPointer { centres in
                    let box = UnsafeMutableSendableBuffer(out)
                    let p = UnsafeSendableBuffer(points), q = UnsafeSendableBuffer(centres)
                    Parallel.forEachChunk(of: space.rows, chunkCount: Parallel.chunkCount(total: space.rows, minimumPerChunk: 4096)) { range in
                        LocatorClustering.closenessKernel(points: p.buffer.baseAddress!, columns: d, rows: range,
                                                          centres: q.buffer.baseAddress!, centreCount: k, picked: picked,
                                                          out: box.buffer.baseAddress!)
                    }
                }
            }
        }
        return heat
    }

    /// ``closeness(_:centroids:to:)`` for `rows`: blocks of rows are transposed so that every
    /// loop below runs across rows (vectorised); each row's arithmetic is the scalar one —
    /// squared distance summed feature by feature, the square root taken once for the picked
    /// and once for the nearest other centre (√ is monotone: √min = min √, bit for bit).
    static func closenessKernel(points: UnsafePointer<Float>, columns d: Int, rows: Range<Int>, centres: UnsafePointer<Float>,
                                centreCount k: Int, picked: Int, out: UnsafeMutablePointer<Float>) {
        if k == 1 {
            for r in rows { out[r] = 1 }
            return
        }
        let block = 1000  // not a power of two: the transposed columns do not alias in the cache
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: block * d)
        tile.initialize(repeating: 0, count: block * d)  // lanes past a short block read zeros
        defer { tile.deallocate() }
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(block, rows.upperBound - start)
            let first = points + start * d
            for j in 0..<d { let column = tile + j * block; for i in 0..<count { column[i] = first[i * d + j] } }
            closenessOfTile(tile, stride: block, count: count, columns: d, centres: centres, centreCount: k, picked: picked,
                            out: out + start)
            start += count
        }
    }

    /// The closeness of `count` ≤ 1000 rows held transposed in `tile` (column `j` at `tile + j · stride`;
    /// readable up to the next multiple of 8 rows).
    @inline(__always)
    static func closenessOfTile(_ tile: UnsafePointer<Float>, stride: Int, count: Int, columns d: Int, centres: UnsafePointer<Float>,
                                centreCount k: Int, picked: Int, out o: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(o + i).storeBytes(of: closeness8(tile + i, stride: stride, columns: d, centres: centres,
                                                                     centreCount: k, picked: picked), as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            let rest = closeness8(tile + i, stride: stride, columns: d, centres: centres, centreCount: k, picked: picked)
            for l in 0..<(count - i) { o[i + l] = rest[l] }
        }
    }

    /// The closeness of eight transposed rows (column `j` at `rows + j · stride`). Each lane does
    /// the scalar arithmetic: squared distance summed feature by feature (products, then sums),
    /// the nearest other centre by `min`, one square root each, `dOther / max(dPick + dOther, 1e-30)`.
    @inline(__always)
    static func closeness8(_ rows: UnsafePointer<Float>, stride: Int, columns d: Int, centres: UnsafePointer<Float>,
                           centreCount k: Int, picked: Int) -> SIMD8<Float> {
        typealias Lanes = SIMD8<Float>
        if k == 1 { return Lanes(repeating: 1) }
        var sPick = Lanes(repeating: 0), sOther = Lanes(repeating: .infinity)
        for c in 0..<k {
            var sum = Lanes(repeating: 0)
            for j in 0..<d {
                let v = UnsafeRawPointer(rows + j * stride).loadUnaligned(as: Lanes.self) - Lanes(repeating: centres[c * d + j])
                sum = sum + v * v
            }
            if c == picked { sPick = sum } else { sOther = sOther.replacing(with: sum, where: sum .< sOther) }  // min(sOther, sum)
        }
        let dPick = sPick.squareRoot(), dOther = sOther.squareRoot()
        let total = dPick + dOther
        let floor = Lanes(repeating: 1e-30)
        return dOther / total.replacing(with: floor, where: floor .>= total)  // max(total, 1e-30)
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

    /// Mean silhouette (Euclidean, on at most 5 000 sampled rows), nil when undefined
    /// (fewer than 2 clusters, or every row its own cluster).
    static func silhouette(_ space: Matrix, labels: [Int32], seed: UInt64) throws -> Double? {
        let distinct = LocatorRows.distinctCount(labels, bound: Int(labels.max() ?? 0) + 1)
        guard distinct >= 2, distinct < labels.count else { return nil }
        return try? silhouetteScore(space, labels: labels, sampleSize: min(space.rows, 5_000), seed: seed)
    }

    /// NMF weights of the min-max scaled features (NMF needs non-negative input).
    static func nmf(_ features: Matrix, components: Int, seed: UInt64) throws -> Matrix {
        guard components <= features.columns else {
            throw CleaveError("--nmf \(components): only \(features.columns) features to factorise")
        }
        let scaled = try Scaler.minMax.fit(features).transform(features)
        return try NMF(componentCount: components).fitTransform(scaled).weights
    }
}

/// CleaveLearning's silhouette under a name that does not clash with ``LocatorClustering/silhouette(_:labels:seed:)``.
private func silhouetteScore(_ matrix: Matrix, labels: [Int32], sampleSize: Int, seed: UInt64) throws -> Double {
    try silhouette(matrix, labels: labels, sampleSize: sampleSize, seed: seed)
}

struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<T>
    init(_ buffer: UnsafeBufferPointer<T>) { self.buffer = buffer }
}

struct UnsafeMutableSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
