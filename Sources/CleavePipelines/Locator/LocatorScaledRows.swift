import CleaveCore
import CleaveLearning

/// The clustered rows of a large run (a sliding window's millions of windows) with their scaling
/// applied on the fly, so the scaled table is never built.
///
/// ```
///  raw rows ──┬─ sample (100 000) ─ scale ─▶ k-means fit ─▶ centres
///             ├─ pass 1: scale block ─▶ nearest centre, per-chunk centre sums, scores, counts
///             ├─ pass 2: scale block ─▶ heat (closeness to the picked centre), renumbered labels, picked mask
///             └─ silhouette sample (5 000) ─ scale ─▶ silhouette
/// ```
///
/// Every scaled value is `Float((Double(x) − center) · (1 / scale))`, the expression of
/// `FittedScaler.transform`, and the distances use the operations of CleaveLearning's k-means and
/// of ``LocatorClustering/closeness(_:centroids:to:)`` in the same order, so labels and heat are
/// those of the materialised path bit for bit. Cluster means are summed per fixed row chunk and
/// the chunks combined in order, so they do not depend on the thread count.
struct LocatorScaledRows {
    /// Raw rows (the kept rows of the features table).
    let raw: Matrix
    let center: [Double]
    let inverse: [Double]

    var rows: Int { raw.rows }
    var columns: Int { raw.columns }

    /// Whether `raw` holds the feature table's own values (not tail-compressed), so a score
    /// computed from its columns is the extraction's.
    let rawIsFeatures: Bool

    init(_ raw: Matrix, scaler: FittedScaler, rawIsFeatures: Bool) {
        precondition(raw.columns == scaler.columns, "LocatorScaledRows: \(raw.columns) columns, scaler fitted on \(scaler.columns)")
        self.raw = raw
        self.rawIsFeatures = rawIsFeatures
        center = scaler.center
        inverse = scaler.scale.map { 1 / $0 }
    }

    /// Rows processed together: transposed into a tile of `block × columns` floats. Not a power
    /// of two, so the tile's columns do not alias in the cache.
    static let block = 1000

    /// Fixed row chunks (depend on the row count only).
    var chunkCount: Int { Parallel.chunkCount(total: rows, minimumPerChunk: 65_536) }

    /// The scaled rows at `indices` (row-major).
    func scaled(_ indices: [Int]) -> Matrix {
        let d = columns
        var values = [Float](repeating: 0, count: indices.count * d)
        raw.values.withUnsafeBufferPointer { v in
            for (r, i) in indices.enumerated() {
                for j in 0..<d { values[r * d + j] = Float((Double(v[i * d + j]) - center[j]) * inverse[j]) }
            }
        }
        return Matrix(rows: indices.count, columns: d, values: values)
    }

    /// Scaled rows `start ..< start + count` transposed into `tile` (column `j` at `tile + j · block`).
    /// Returns whether every value is finite.
    @inline(__always)
    static func scaleBlock(_ source: UnsafePointer<Float>, columns d: Int, start: Int, count: Int,
                           center: UnsafePointer<Double>, inverse: UnsafePointer<Double>,
                           into tile: UnsafeMutablePointer<Float>) -> Bool {
        let first = source + start * d
        // Exponent bits plus one exponent step carry into bit 31 only when all ones (NaN, ±∞).
        var flags = SIMD4<UInt32>(repeating: 0)
        let exponent = SIMD4<UInt32>(repeating: 0x7F80_0000), step = SIMD4<UInt32>(repeating: 0x0080_0000)
        @inline(__always) func scale(_ v: SIMD4<Float>, _ c: SIMD4<Double>, _ s: SIMD4<Double>) -> SIMD4<Float> {
            let x = (SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) - c) * s
            let y = SIMD4<Float>(Float(x[0]), Float(x[1]), Float(x[2]), Float(x[3]))
            flags |= (unsafeBitCast(y, to: SIMD4<UInt32>.self) & exponent) &+ step
            return y
        }
        var i = 0
        if d == 4 {
            // Four rows of four features are 16 contiguous floats: split into the four columns.
            let c0 = SIMD4<Double>(repeating: center[0]), c1 = SIMD4<Double>(repeating: center[1])
            let c2 = SIMD4<Double>(repeating: center[2]), c3 = SIMD4<Double>(repeating: center[3])
            let s0 = SIMD4<Double>(repeating: inverse[0]), s1 = SIMD4<Double>(repeating: inverse[1])
            let s2 = SIMD4<Double>(repeating: inverse[2]), s3 = SIMD4<Double>(repeating: inverse[3])
            let raw = UnsafeRawPointer(first), out = UnsafeMutableRawPointer(tile)
            while i + 4 <= count {
                let a = (raw + i * 16).loadUnaligned(as: SIMD16<Float>.self)
                let even = a.evenHalf, odd = a.oddHalf  // columns 0, 2 / 1, 3 of the four rows, interleaved
                (out + 4 * i).storeBytes(of: scale(even.evenHalf, c0, s0), as: SIMD4<Float>.self)
                (out + 4 * (block + i)).storeBytes(of: scale(odd.evenHalf, c1, s1), as: SIMD4<Float>.self)
                (out + 4 * (2 * block + i)).storeBytes(of: scale(even.oddHalf, c2, s2), as: SIMD4<Float>.self)
                (out + 4 * (3 * block + i)).storeBytes(of: scale(odd.oddHalf, c3, s3), as: SIMD4<Float>.self)
                i += 4
            }
        }
        var flag: UInt32 = flags[0] | flags[1] | flags[2] | flags[3]
        for j in 0..<d {
            let c = center[j], s = inverse[j], column = tile + j * block
            for r in i..<count {
                let y = Float((Double(first[r * d + j]) - c) * s)
                column[r] = y
                flag |= (y.bitPattern & 0x7F80_0000) &+ 0x0080_0000
            }
        }
        return flag & 0x8000_0000 == 0
    }

    /// What pass 1 gives: the nearest centre of every row and each cluster's mean row and mean
    /// particle score.
    struct Assignment {
        var labels: [Int32]
        /// Mean scaled row of each cluster (`clusterCount × columns`; zeros for an empty cluster).
        var centroids: Matrix
        /// Mean particle score of each cluster (`-∞` for an empty one).
        var scores: [Double]
        var counts: [Int]
    }

    /// k-means as ``LocatorClustering/cluster(_:options:)`` on the scaled rows (centres fitted on
    /// the k-means sample, every row assigned), then the cluster means of the assigned rows and of
    /// `score[keep[j]]` (`score[j]` without `keep`).
    /// - Precondition: more rows than the k-means sample.
    func kMeans(clusterCount k: Int, seed: UInt64, score: LocatorRows.Score, keep: [Int]?) throws -> Assignment {
        let kmeans = try KMeans(clusterCount: k, seed: seed)
        guard let sample = kmeans.sampledRows(rowCount: rows) else {
            preconditionFailure("LocatorScaledRows.kMeans: \(rows) rows is not more than the k-means sample")
        }
        let model = try kmeans.fit(scaled(sample))
        return try assign(centres: model.centroids, score: score, keep: keep)
    }

    /// Pass 1 (see ``kMeans(clusterCount:seed:score:keep:)``) for given centres.
    func assign(centres: Matrix, score: LocatorRows.Score, keep: [Int]?) throws -> Assignment {
        let n = rows, d = columns, k = centres.rows
        let chunks = chunkCount
        var labels = [Int32](largeUninitializedCount: n) { _ in }  // every row written below
        // Per chunk: k·d centre sums, k score sums (Double), k counts, a finite flag.
        var sums = [Double](repeating: 0, count: chunks * (k * d + k))
        var counts = [Int](repeating: 0, count: chunks * k)
        var finite = [Bool](repeating: true, count: chunks)
        // Scores: std / mean of two of the rows' own raw columns, or a table (indexed through `keep`).
        var storedScore: [Float] = [0]
        var meanColumn = -1, stdColumn = -1
        switch score {
        case let .relativeStd(_, mean, std) where rawIsFeatures: meanColumn = mean; stdColumn = std
        default: storedScore = score.values
        }
        labels.withUnsafeMutableBufferPointer { labelBuffer in
            sums.withUnsafeMutableBufferPointer { sumBuffer in
                counts.withUnsafeMutableBufferPointer { countBuffer in
                    finite.withUnsafeMutableBufferPointer { finiteBuffer in
                        raw.values.withUnsafeBufferPointer { source in
                            center.withUnsafeBufferPointer { center in
                                inverse.withUnsafeBufferPointer { inverse in
                                    centres.values.withUnsafeBufferPointer { centres in
                                        storedScore.withUnsafeBufferPointer { stored in
                                            let box = AssignBuffers(labels: labelBuffer.baseAddress!, sums: sumBuffer.baseAddress!,
                                                                    counts: countBuffer.baseAddress!, finite: finiteBuffer.baseAddress!,
                                                                    source: source.baseAddress!, center: center.baseAddress!,
                                                                    inverse: inverse.baseAddress!, centres: centres.baseAddress!,
                                                                    score: stored.baseAddress!, meanColumn: meanColumn, stdColumn: stdColumn)
                                            keep.withUnsafeBufferPointerIfPresent { keepPointer in
                                                let keepPointer = UnsafeSendablePointer(keepPointer)
                                                Parallel.forEach(chunks) { c in
                                                    let range = (n * c / chunks)..<(n * (c + 1) / chunks)
                                                    box.finite[c] = LocatorScaledRows.assignKernel(
                                                        box, keep: keepPointer.pointer, columns: d, centreCount: k, rows: range,
                                                        sums: box.sums + c * (k * d + k), counts: box.counts + c * k)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard finite.allSatisfy({ $0 }) else {
            throw CleaveError("locate: some scaled features are not finite (NaN or infinity); check the input images")
        }
        // Combine the chunks in chunk order.
        var centreSums = [Double](repeating: 0, count: k * d), scoreSums = [Double](repeating: 0, count: k)
        var total = [Int](repeating: 0, count: k)
        for c in 0..<chunks {
            let base = c * (k * d + k)
            for i in 0..<(k * d) { centreSums[i] += sums[base + i] }
            for i in 0..<k { scoreSums[i] += sums[base + k * d + i]; total[i] += counts[c * k + i] }
        }
        var means = [Float](repeating: 0, count: k * d)
        for c in 0..<k where total[c] > 0 {
            for j in 0..<d { means[c * d + j] = Float(centreSums[c * d + j] / Double(total[c])) }
        }
        let scores = (0..<k).map { total[$0] > 0 ? scoreSums[$0] / Double(total[$0]) : -.infinity }
        return Assignment(labels: labels, centroids: Matrix(rows: k, columns: d, values: means), scores: scores, counts: total)
    }

    struct AssignBuffers: @unchecked Sendable {
        let labels: UnsafeMutablePointer<Int32>
        let sums: UnsafeMutablePointer<Double>
        let counts: UnsafeMutablePointer<Int>
        let finite: UnsafeMutablePointer<Bool>
        let source: UnsafePointer<Float>
        let center: UnsafePointer<Double>
        let inverse: UnsafePointer<Double>
        let centres: UnsafePointer<Float>
        /// Stored scores (when `meanColumn` < 0).
        let score: UnsafePointer<Float>
        /// Raw columns of mean and std when the score is their ratio, else -1.
        let meanColumn: Int
        let stdColumn: Int
    }

    /// Pass 1 over `rows`: nearest centre by squared distance (columns summed in order, the first
    /// as a product and the others fused multiply-adds, as CleaveLearning's k-means; ties to the
    /// lower index), then each cluster's sums of scaled values, scores and members. The sums run
    /// in four lanes (rows 4i, 4i + 1, …) combined in a fixed order at the end of the chunk.
    static func assignKernel(_ b: AssignBuffers, keep: UnsafePointer<Int>?, columns d: Int, centreCount k: Int, rows: Range<Int>,
                             sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) -> Bool {
        typealias Lanes = SIMD8<Float>
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: block * d)
        tile.initialize(repeating: 0, count: block * d)  // lanes past a short block read zeros
        let bestLabel = UnsafeMutablePointer<Int32>.allocate(capacity: block)
        // Lane accumulators: k·d centre sums, k score sums, k counts.
        let accumulators = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: k * d + 2 * k)
        accumulators.initialize(repeating: .zero, count: k * d + 2 * k)
        defer { tile.deallocate(); bestLabel.deallocate(); accumulators.deallocate() }
        let scoreAccumulators = accumulators + k * d, countAccumulators = scoreAccumulators + k
        // The particle score of a row, as Locator's feature extraction computes it.
        @inline(__always) func rowScore(_ row: Int) -> Double {
            if b.meanColumn >= 0 {
                let mean = b.source[row * d + b.meanColumn], std = b.source[row * d + b.stdColumn]
                return Double(mean > 0 ? std / mean : 0)
            }
            return Double(b.score[keep.map { $0[row] } ?? row])
        }
        // The scores of rows `row ..< row + 4`.
        @inline(__always) func scores4(_ row: Int) -> SIMD4<Double> {
            if b.meanColumn >= 0 {
                let p = b.source + row &* d
                let mean = SIMD4<Float>(p[b.meanColumn], p[d &+ b.meanColumn], p[2 &* d &+ b.meanColumn], p[3 &* d &+ b.meanColumn])
                let std = SIMD4<Float>(p[b.stdColumn], p[d &+ b.stdColumn], p[2 &* d &+ b.stdColumn], p[3 &* d &+ b.stdColumn])
                let ratio = LocatorScaledRows.select(std / mean, where: mean .> 0)  // mean > 0 ? std / mean : 0
                return SIMD4<Double>(Double(ratio[0]), Double(ratio[1]), Double(ratio[2]), Double(ratio[3]))
            }
            return SIMD4<Double>(rowScore(row), rowScore(row &+ 1), rowScore(row &+ 2), rowScore(row &+ 3))
        }
        var allFinite = true
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(block, rows.upperBound - start)
            allFinite = scaleBlock(b.source, columns: d, start: start, count: count, center: b.center, inverse: b.inverse, into: tile)
                && allFinite
            // Nearest centre, eight rows per step (block is a multiple of 8).
            var i = 0
            while i < count {
                let label = d == 4
                    ? nearest8(columns4: tile + i, centres: b.centres, centreCount: k)
                    : nearest8(tile + i, columns: d, centres: b.centres, centreCount: k)
                UnsafeMutableRawPointer(bestLabel + i).storeBytes(of: label, as: SIMD8<Int32>.self)
                i &+= 8
            }
            (b.labels + start).update(from: bestLabel, count: count)
            // Cluster sums, four rows per step: a row adds its value in its cluster's lane and 0 elsewhere.
            @inline(__always) func column(_ j: Int, _ i: Int) -> SIMD4<Double> {
                let x = UnsafeRawPointer(tile + (j &* block &+ i)).loadUnaligned(as: SIMD4<Float>.self)
                return SIMD4<Double>(Double(x[0]), Double(x[1]), Double(x[2]), Double(x[3]))
            }
            i = 0
            while i + 4 <= count {
                let l = SIMD4<Double>(Double(bestLabel[i]), Double(bestLabel[i &+ 1]), Double(bestLabel[i &+ 2]), Double(bestLabel[i &+ 3]))
                let score = scores4(start &+ i)
                let ones = SIMD4<Double>(repeating: 1)
                if d == 4 {
                    let x0 = column(0, i), x1 = column(1, i), x2 = column(2, i), x3 = column(3, i)
                    for c in 0..<k {
                        let inside = l .== SIMD4<Double>(repeating: Double(c))
                        let a = accumulators + c &* 4
                        a[0] += select(x0, where: inside)
                        a[1] += select(x1, where: inside)
                        a[2] += select(x2, where: inside)
                        a[3] += select(x3, where: inside)
                        scoreAccumulators[c] += select(score, where: inside)
                        countAccumulators[c] += select(ones, where: inside)
                    }
                } else {
                    for c in 0..<k {
                        let inside = l .== SIMD4<Double>(repeating: Double(c))
                        for j in 0..<d { accumulators[c &* d &+ j] += select(column(j, i), where: inside) }
                        scoreAccumulators[c] += select(score, where: inside)
                        countAccumulators[c] += select(ones, where: inside)
                    }
                }
                i &+= 4
            }
            while i < count {  // the rest of a short block: lane 0
                let c = Int(bestLabel[i]), row = start + i
                for j in 0..<d { accumulators[c * d + j][0] += Double(tile[j * block + i]) }
                scoreAccumulators[c][0] += rowScore(row)
                countAccumulators[c][0] += 1
                i += 1
            }
            start += count
        }
        @inline(__always) func total(_ v: SIMD4<Double>) -> Double { (v[0] + v[1]) + (v[2] + v[3]) }
        for i in 0..<(k * d) { sums[i] = total(accumulators[i]) }
        for c in 0..<k { sums[k * d + c] = total(scoreAccumulators[c]); counts[c] = Int(total(countAccumulators[c])) }
        return allFinite
    }

    /// `value` where `mask` is set, +0 elsewhere (a bitwise and: no per-lane branches).
    @inline(__always)
    static func select(_ value: SIMD4<Double>, where mask: SIMDMask<SIMD4<Int64>>) -> SIMD4<Double> {
        unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt64>.self) & unsafeBitCast(mask, to: SIMD4<UInt64>.self), to: SIMD4<Double>.self)
    }

    /// `value` where `mask` is set, +0 elsewhere.
    @inline(__always)
    static func select(_ value: SIMD4<Float>, where mask: SIMDMask<SIMD4<Int32>>) -> SIMD4<Float> {
        unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt32>.self) & unsafeBitCast(mask, to: SIMD4<UInt32>.self), to: SIMD4<Float>.self)
    }

    /// The nearest of `k` centres for eight transposed rows (column `j` at `rows + j · block`):
    /// squared distance with the columns summed in order (a product, then fused multiply-adds, as
    /// CleaveLearning's k-means), ties to the lower index.
    @inline(__always)
    static func nearest8(_ rows: UnsafePointer<Float>, columns d: Int, centres: UnsafePointer<Float>, centreCount k: Int) -> SIMD8<Int32> {
        typealias Lanes = SIMD8<Float>
        var best = Lanes(repeating: .infinity), label = SIMD8<Int32>(repeating: 0)
        for c in 0..<k {
            let q = centres + c &* d
            var v = UnsafeRawPointer(rows).loadUnaligned(as: Lanes.self) - Lanes(repeating: q[0])
            var s = v * v
            for j in 1..<max(d, 1) {
                v = UnsafeRawPointer(rows + j &* block).loadUnaligned(as: Lanes.self) - Lanes(repeating: q[j])
                s.addProduct(v, v)
            }
            let closer = s .< best
            best.replace(with: s, where: closer)
            label.replace(with: SIMD8(repeating: Int32(c)), where: closer)
        }
        return label
    }

    /// ``nearest8(_:columns:centres:centreCount:)`` for four columns (the sliding-window features):
    /// the rows stay in registers across the centres.
    @inline(__always)
    static func nearest8(columns4 rows: UnsafePointer<Float>, centres: UnsafePointer<Float>, centreCount k: Int) -> SIMD8<Int32> {
        typealias Lanes = SIMD8<Float>
        let x0 = UnsafeRawPointer(rows).loadUnaligned(as: Lanes.self)
        let x1 = UnsafeRawPointer(rows + block).loadUnaligned(as: Lanes.self)
        let x2 = UnsafeRawPointer(rows + 2 * block).loadUnaligned(as: Lanes.self)
        let x3 = UnsafeRawPointer(rows + 3 * block).loadUnaligned(as: Lanes.self)
        var best = Lanes(repeating: .infinity), label = SIMD8<Int32>(repeating: 0)
        for c in 0..<k {
            let q = centres + c &* 4
            var v = x0 - Lanes(repeating: q[0])
            var s = v * v
            v = x1 - Lanes(repeating: q[1]); s.addProduct(v, v)
            v = x2 - Lanes(repeating: q[2]); s.addProduct(v, v)
            v = x3 - Lanes(repeating: q[3]); s.addProduct(v, v)
            let closer = s .< best
            best.replace(with: s, where: closer)
            label.replace(with: SIMD8(repeating: Int32(c)), where: closer)
        }
        return label
    }

    /// What pass 2 gives.
    struct Heat {
        /// Closeness of every row to the picked centre (see ``LocatorClustering/closeness(_:centroids:to:)``).
        var heat: [Float]
        /// Whether each row's (renumbered) label is the picked one.
        var picked: [Bool]
    }

    /// Pass 2: renumbers `labels` in place (`labels[j] = newIndex[labels[j]]`) and computes the heat
    /// of every row for cluster `picked` of `centres` (already in the new numbering) and the
    /// picked mask.
    func heat(centres: Matrix, picked: Int, labels: inout [Int32], newIndex: [Int32]) -> Heat {
        let n = rows, d = columns, k = centres.rows
        var heat = [Float](largeUninitializedCount: n) { _ in }  // every row written below
        var mask = [Bool](largeUninitializedCount: n) { _ in }
        heat.withUnsafeMutableBufferPointer { heat in
            mask.withUnsafeMutableBufferPointer { mask in
                labels.withUnsafeMutableBufferPointer { labels in
                    newIndex.withUnsafeBufferPointer { newIndex in
                        raw.values.withUnsafeBufferPointer { source in
                            center.withUnsafeBufferPointer { center in
                                inverse.withUnsafeBufferPointer { inverse in
                                    centres.values.withUnsafeBufferPointer { centres in
                                        let box = HeatBuffers(heat: heat.baseAddress!, mask: mask.baseAddress!, labels: labels.baseAddress!,
                                                              newIndex: newIndex.baseAddress!, source: source.baseAddress!,
                                                              center: center.baseAddress!, inverse: inverse.baseAddress!,
                                                              centres: centres.baseAddress!)
                                        let chunks = chunkCount
                                        Parallel.forEach(chunks) { c in
                                            let range = (n * c / chunks)..<(n * (c + 1) / chunks)
                                            LocatorScaledRows.heatKernel(box, columns: d, centreCount: k, picked: picked, rows: range)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Heat(heat: heat, picked: mask)
    }

    struct HeatBuffers: @unchecked Sendable {
        let heat: UnsafeMutablePointer<Float>
        let mask: UnsafeMutablePointer<Bool>
        let labels: UnsafeMutablePointer<Int32>
        let newIndex: UnsafePointer<Int32>
        let source: UnsafePointer<Float>
        let center: UnsafePointer<Double>
        let inverse: UnsafePointer<Double>
        let centres: UnsafePointer<Float>
    }

    static func heatKernel(_ b: HeatBuffers, columns d: Int, centreCount k: Int, picked: Int, rows: Range<Int>) {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: block * d)
        tile.initialize(repeating: 0, count: block * d)
        defer { tile.deallocate() }
        let p = Int32(picked)
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(block, rows.upperBound - start)
            _ = scaleBlock(b.source, columns: d, start: start, count: count, center: b.center, inverse: b.inverse, into: tile)
            LocatorClustering.closenessOfTile(tile, stride: block, count: count, columns: d, centres: b.centres, centreCount: k,
                                              picked: picked, out: b.heat + start)
            let labels = b.labels + start, mask = b.mask + start
            // Renumbering and the picked flags (for up to four clusters a chain of selects, which
            // the compiler vectorises; beyond that a table lookup).
            if k <= 4 {
                let t0 = b.newIndex[0], t1 = k > 1 ? b.newIndex[1] : 0, t2 = k > 2 ? b.newIndex[2] : 0, t3 = k > 3 ? b.newIndex[3] : 0
                for i in 0..<count {
                    let old = labels[i]
                    let label = old == 0 ? t0 : (old == 1 ? t1 : (old == 2 ? t2 : t3))
                    labels[i] = label
                    mask[i] = label == p
                }
            } else {
                for i in 0..<count {
                    let label = b.newIndex[Int(labels[i])]
                    labels[i] = label
                    mask[i] = label == p
                }
            }
            start += count
        }
    }
}

struct UnsafeSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>?
    init(_ pointer: UnsafePointer<T>?) { self.pointer = pointer }
}

extension Optional where Wrapped == [Int] {
    /// Calls `body` with the array's base address, or with `nil` when there is no array.
    func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafePointer<Int>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case .some(let array): return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}

extension LocatorScaledRows {
    /// The scaled-on-the-fly path for `kept`, or `nil` when the run needs the scaled table itself
    /// (a saved model's warm start, PCA/NMF, agglomerative clustering, `--similar-to`) or the
    /// table is small enough for k-means to use every row.
    static func ifLarge(_ kept: Matrix, scaler: FittedScaler, options: LocatorOptions, model: LocatorModel?) throws -> LocatorScaledRows? {
        guard model == nil, options.method == .kmeans, options.similarTo == nil else { return nil }
        guard case .none = options.reduction else { return nil }
        guard kept.rows > (try KMeans(clusterCount: options.clusterCount, seed: options.seed).sampleSize) else { return nil }
        return LocatorScaledRows(kept, scaler: scaler, rawIsFeatures: !options.compressTails)
    }

    /// Everything `Locator.run` takes from clustering the scaled rows.
    struct Outcome {
        var local: [Int32]
        var labels: [Int32]
        var centroids: Matrix
        var clusterScore: [Double]
        var sizes: [Int]
        var picked: Int
        var pickedBy: String
        var heat: [Float]
        var pickedMask: [Bool]
        var silhouette: Double?
        var silhouetteByK: [(k: Int, score: Double)]
    }

    /// k-means, canonical numbering (cluster 0 the most particle-like), pick, heat, silhouettes:
    /// what `Locator.run` does with a materialised table, in two passes over the rows.
    /// - Parameters:
    ///   - score: particle score per row of the full table; `keep` maps clustered rows to it.
    ///   - rowCount: rows of the full table (kept and dark).
    ///   - silhouetteSampleSize: rows the silhouette is estimated on (0: none).
    func cluster(options: LocatorOptions, score: LocatorRows.Score, keep: [Int]?, rowCount n: Int, darkGroup: Bool,
                 kRange: ClosedRange<Int>?, silhouetteSampleSize: Int = 5_000) throws -> Outcome {
        let k = options.clusterCount
        var fitted = try kMeans(clusterCount: k, seed: options.seed, score: score, keep: keep)
        let order = (0..<k).sorted { fitted.scores[$0] != fitted.scores[$1] ? fitted.scores[$0] > fitted.scores[$1] : $0 < $1 }
        var newIndex = [Int32](repeating: 0, count: k)
        for (new, old) in order.enumerated() { newIndex[old] = Int32(new) }
        let centroids = fitted.centroids.selectingRows(order)
        var picked = 0, pickedBy = "automatic"  // canonical order puts the most particle-like first
        if let user = options.pick {
            guard user < k else { throw CleaveError("--pick \(user): there are only \(k) clusters (0…\(k - 1))") }
            picked = user; pickedBy = "user"
        }
        var local = fitted.labels
        fitted.labels = []  // `local` is renumbered in place: no second owner, no copy
        let pass = heat(centres: centroids, picked: picked, labels: &local, newIndex: newIndex)
        let labels = LocatorRows.spread(local, keep: keep, rowCount: n, fill: Int32(k))
        var sizes = order.map { fitted.counts[$0] }
        if darkGroup { sizes.append(n - rows) }
        let pickedMask = keep == nil ? pass.picked : LocatorRows.mask(labels, equalTo: picked)  // dark rows carry label k ≠ picked
        var silhouette: Double? = nil
        let distinct = fitted.counts.filter { $0 > 0 }.count
        if silhouetteSampleSize > 0 && k >= 2 && rows > k && distinct >= 2 && distinct < rows {
            silhouette = sampledSilhouette(local, sampleSize: silhouetteSampleSize, seed: options.seed)
        }
        var silhouetteByK: [(k: Int, score: Double)] = []
        if let kRange {
            for candidate in kRange where candidate < rows {
                let other = try kMeans(clusterCount: candidate, seed: options.seed, score: score, keep: keep)
                let distinct = other.counts.filter { $0 > 0 }.count
                guard distinct >= 2 && distinct < rows, let value = sampledSilhouette(other.labels, sampleSize: 5_000, seed: options.seed) else { continue }
                silhouetteByK.append((candidate, value))
            }
        }
        return Outcome(local: local, labels: labels, centroids: centroids, clusterScore: order.map { fitted.scores[$0] },
                       sizes: sizes, picked: picked, pickedBy: pickedBy,
                       heat: LocatorRows.spread(pass.heat, keep: keep, rowCount: n, fill: 0), pickedMask: pickedMask,
                       silhouette: silhouette, silhouetteByK: silhouetteByK)
    }

    /// The mean silhouette on `sampleSize` sampled rows (``LocatorClustering/silhouette(_:labels:seed:)``
    /// uses 5 000), scaling only the sampled rows.
    func sampledSilhouette(_ labels: [Int32], sampleSize: Int, seed: UInt64) -> Double? {
        let sample = silhouetteSampleRows(rowCount: rows, sampleSize: sampleSize, seed: seed)
        return try? CleaveLearning.silhouette(scaled(sample), labels: sample.map { labels[$0] })
    }
}
