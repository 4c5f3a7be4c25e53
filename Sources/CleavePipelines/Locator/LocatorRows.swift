import CleaveCore
import CleaveLearning

/// The passes over a run's row tables (one row per patch or window) that both `Locator.run`
/// entry points share: which rows are clustered, per-cluster means, label spreading, the picked
/// cluster's signature.
///
/// A sliding-window run has one row per pixel (16.7 M for a 4096² image), so each pass here is a
/// single tight loop over contiguous storage that allocates at most one output table; when no row
/// is dark the clustered rows are all rows and no index table or copy is made.
enum LocatorRows {
    /// Where each row's particle score comes from.
    enum Score {
        /// One value per row.
        case stored([Float])
        /// `std / mean` (0 unless mean > 0) of two columns of a feature table (sliding windows).
        case relativeStd(Matrix, mean: Int, std: Int)

        /// One value per row.
        var values: [Float] {
            switch self {
            case .stored(let values): return values
            case let .relativeStd(table, mean, std): return LocatorRows.relativeStd(table.values, columns: table.columns, mean: mean, std: std)
            }
        }
    }

    /// `std / mean` (0 unless mean > 0) of columns `mean` and `std` of a row-major table, in
    /// Float, in fixed chunks on all cores.
    static func relativeStd(_ table: [Float], columns s: Int, mean meanColumn: Int, std stdColumn: Int) -> [Float] {
        let count = table.count / s
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            table.withUnsafeBufferPointer { m in
                let m = UncheckedSendable(m), out = UncheckedSendable(out)
                Parallel.forEachChunk(of: count, chunkCount: Parallel.chunkCount(total: count, minimumPerChunk: 65_536)) { range in
                    for p in range {
                        let mean = m.value[p * s + meanColumn], std = m.value[p * s + stdColumn]
                        out.value[p] = mean > 0 ? std / mean : 0
                    }
                }
            }
            initialized = count
        }
    }

    /// `!flags[i]` for every row: eight flags per step (a Bool is one byte, 0 or 1), in fixed
    /// chunks on all cores; the 4096² window run's 16.5 M dark flags were a serial `map`.
    static func complement(_ flags: [Bool]) -> [Bool] {
        let count = flags.count
        return [Bool](unsafeUninitializedLargeCount: count) { out in
            flags.withUnsafeBufferPointer { flags in
                guard let source = flags.baseAddress, let target = out.baseAddress else { return }
                let from = UncheckedSendable(UnsafeRawPointer(source)), to = UncheckedSendable(UnsafeMutableRawPointer(target))
                let words = count / 8
                Parallel.forEachChunk(of: words, chunkCount: Parallel.chunkCount(total: words, minimumPerChunk: 32_768)) { range in
                    for w in range {
                        let word = (from.value + 8 * w).loadUnaligned(as: UInt64.self)
                        (to.value + 8 * w).storeBytes(of: word ^ 0x0101_0101_0101_0101, toByteOffset: 0, as: UInt64.self)
                    }
                }
                for i in (8 * words)..<count { out[i] = !flags[i] }
            }
        }
    }

    /// Indices of the rows that are clustered (not dark), or `nil` when that is every row (also
    /// for an empty `dark`: no row is dark).
    static func kept(dark: [Bool]) -> [Int]? {
        guard dark.contains(true) else { return nil }
        return dark.withUnsafeBufferPointer { dark in
            var count = 0
            for flag in dark where !flag { count += 1 }
            return [Int](unsafeUninitializedLargeCount: count) { keep in
                var j = 0
                for i in dark.indices where !dark[i] { keep[j] = i; j += 1 }
            }
        }
    }

    /// Mean particle score of each cluster (`-∞` for an empty one): `score[keep[j]]` summed in
    /// row order per `local[j]`.
    /// - Complexity: O(kept rows), one sequential pass (the sums' order is the rows' order).
    static func clusterMeans(of score: [Float], local: [Int32], keep: [Int]?, clusterCount: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: clusterCount), counts = [Int](repeating: 0, count: clusterCount)
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                score.withUnsafeBufferPointer { score in
                    local.withUnsafeBufferPointer { local in
                        if let keep {
                            for j in 0..<local.count {
                                let c = Int(local[j]); sums[c] += Double(score[keep[j]]); counts[c] += 1
                            }
                        } else {
                            for j in 0..<local.count {
                                let c = Int(local[j]); sums[c] += Double(score[j]); counts[c] += 1
                            }
                        }
                    }
                }
            }
        }
        return (0..<clusterCount).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : -.infinity }
    }

    /// Cluster centres (mean of each cluster's rows of `space`, when `space` is given) and mean
    /// particle scores: two independent sequential passes, run side by side on two threads (each
    /// keeps its own row-order sums, so the results do not depend on the thread count).
    static func centroidsAndScores(_ space: Matrix?, score: [Float], local: [Int32], keep: [Int]?,
                                   clusterCount: Int) -> (centroids: Matrix?, scores: [Double]) {
        nonisolated(unsafe) var centroids: Matrix? = nil
        nonisolated(unsafe) var scores: [Double] = []
        Parallel.forEach(2) { task in
            if task == 0 {
                if let space { centroids = LocatorClustering.centroids(space, labels: local, clusterCount: clusterCount) }
            } else {
                scores = clusterMeans(of: score, local: local, keep: keep, clusterCount: clusterCount)
            }
        }
        return (centroids, scores)
    }

    /// Renumbers `local` in place (`local[j] = newIndex[local[j]]`), in fixed chunks on all cores.
    static func renumber(_ local: inout [Int32], newIndex: [Int32]) {
        newIndex.withUnsafeBufferPointer { map in
            local.withUnsafeMutableBufferPointer { l in
                let l = UncheckedSendable(l), map = UncheckedSendable(map)
                Parallel.forEachChunk(of: l.value.count, chunkCount: Parallel.chunkCount(total: l.value.count, minimumPerChunk: 65_536)) { range in
                    for j in range { l.value[j] = map.value[Int(l.value[j])] }
                }
            }
        }
    }

    /// `values` spread to all `rowCount` rows (`fill` on rows that were not kept); `values`
    /// itself, without a copy, when every row was kept.
    static func spread<T>(_ values: [T], keep: [Int]?, rowCount: Int, fill: T) -> [T] {
        guard let keep else { return values }
        var out = [T](largeRepeating: fill, count: rowCount)
        for (j, i) in keep.enumerated() { out[i] = values[j] }
        return out
    }

    /// Rows per label value `0..<groupCount`.
    static func sizes(_ labels: [Int32], groupCount: Int) -> [Int] {
        var sizes = [Int](repeating: 0, count: groupCount)
        sizes.withUnsafeMutableBufferPointer { s in
            labels.withUnsafeBufferPointer { l in for v in l { s[Int(v)] += 1 } }
        }
        return sizes
    }

    /// Whether each row's label is `picked` (fixed chunks on all cores).
    static func mask(_ labels: [Int32], equalTo picked: Int) -> [Bool] {
        let p = Int32(picked)
        return [Bool](unsafeUninitializedCapacity: labels.count) { out, initialized in
            labels.withUnsafeBufferPointer { l in
                let l = UncheckedSendable(l), out = UncheckedSendable(out)
                Parallel.forEachChunk(of: l.value.count, chunkCount: Parallel.chunkCount(total: l.value.count, minimumPerChunk: 65_536)) { range in
                    for i in range { out.value[i] = l.value[i] == p }
                }
            }
            initialized = labels.count
        }
    }

    /// Mean raw value of each feature over the picked rows (empty when none is picked); each
    /// feature's sum runs in row order.
    static func signature(_ features: Matrix, pickedMask: [Bool], names: [String]) -> [String: Double] {
        let f = features.columns
        var sums = [Double](repeating: 0, count: f)
        var count = 0
        sums.withUnsafeMutableBufferPointer { sums in
            features.values.withUnsafeBufferPointer { v in
                pickedMask.withUnsafeBufferPointer { mask in
                    guard let base = mask.baseAddress else { return }
                    let bytes = UnsafeRawPointer(base)  // a Bool is one byte, 0 or 1
                    var i = 0
                    while i < mask.count {
                        // Eight unpicked rows per step (most rows of a window run are not picked).
                        if i + 8 <= mask.count && (bytes + i).loadUnaligned(as: UInt64.self) == 0 { i += 8; continue }
                        if mask[i] {
                            count += 1
                            for c in 0..<f { sums[c] += Double(v[i * f + c]) }
                        }
                        i += 1
                    }
                }
            }
        }
        var signature: [String: Double] = [:]
        guard count > 0 else { return signature }
        for (c, name) in names.enumerated() { signature[name] = sums[c] / Double(count) }
        return signature
    }

    /// Number of true flags.
    static func count(_ flags: [Bool]) -> Int { ScaledRows.count(flags) }

    /// Number of distinct values among labels `0..<bound` (cluster labels; no hashing of millions of rows).
    static func distinctCount(_ labels: [Int32], bound: Int) -> Int {
        var seen = [Bool](repeating: false, count: bound)
        seen.withUnsafeMutableBufferPointer { seen in
            labels.withUnsafeBufferPointer { l in for v in l { seen[Int(v)] = true } }
        }
        return seen.filter { $0 }.count
    }
}
