import CleaveCore

/// Points stored column-major (feature by feature) for the SIMD distance kernels, plus the
/// chunked, thread-count-independent reductions k-means needs.
struct PointBlock {
    /// `columns × count`, column `j` of point `i` at `soa[j * count + i]`.
    let soa: [Float]
    let count: Int
    let columns: Int
    /// Fixed chunk count (depends on `count` only).
    let chunks: Int

    init(_ matrix: Matrix) {
        count = matrix.rows
        columns = matrix.columns
        var soa = [Float](repeating: 0, count: matrix.values.count)
        matrix.values.withUnsafeBufferPointer { x in
            soa.withUnsafeMutableBufferPointer { s in
                Kernels.transposeBlock(x.baseAddress!, columns: matrix.columns, range: 0..<matrix.rows, into: s.baseAddress!)
            }
        }
        self.soa = soa
        chunks = Parallel.chunkCount(total: matrix.rows, minimumPerChunk: 2048)
    }

    @inline(__always) func value(row: Int, column: Int) -> Float { soa[column * count + row] }

    func row(_ index: Int) -> [Float] { (0..<columns).map { soa[$0 * count + index] } }

    /// Mean over features of the population variance (scikit-learn's tolerance scale).
    var meanVariance: Double {
        var total = 0.0
        for j in 0..<columns {
            var sum = 0.0
            for i in 0..<count { sum += Double(soa[j * count + i]) }
            let mean = sum / Double(count)
            var sq = 0.0
            for i in 0..<count { let d = Double(soa[j * count + i]) - mean; sq += d * d }
            total += sq / Double(count)
        }
        return total / Double(columns)
    }

    @inline(__always) func chunkRange(_ c: Int) -> Range<Int> { (count * c / chunks)..<(count * (c + 1) / chunks) }

    /// Sum in Double, chunk by chunk, combined in chunk order.
    func sum(_ values: [Float]) -> Double {
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                let out = UncheckedSendable(out), v = UncheckedSendable(v)
                Parallel.forEach(chunks) { c in
                    var s = 0.0
                    for i in chunkRange(c) { s += Double(v.value[i]) }
                    out.value[c] = s
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Squared distances of every point to `point`.
    func squaredDistances(to point: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            soa.withUnsafeBufferPointer { s in
                point.withUnsafeBufferPointer { q in
                    let o = UncheckedSendable(o), s = UncheckedSendable(s), q = UncheckedSendable(q)
                    Parallel.forEach(chunks) { c in
                        let r = chunkRange(c)
                        Kernels.squaredDistances(soa: s.value.baseAddress! + r.lowerBound, stride: count, count: r.count,
                                                 columns: columns, to: q.value.baseAddress!, out: o.value.baseAddress! + r.lowerBound)
                    }
                }
            }
        }
        return out
    }

    struct Step {
        var sums: [Double]
        var counts: [Int]
        var inertia: Double
    }

    /// Assigns every point to its nearest centroid and sums the points per cluster.
    func assignAndSum(centroids: [Float], clusterCount k: Int, labels: inout [Int32], distances: inout [Float]) -> Step {
        let p = columns, n = count
        var partialSums = [[Double]](repeating: [], count: chunks)
        var partialCounts = [[Int]](repeating: [], count: chunks)
        var partialInertia = [Double](repeating: 0, count: chunks)
        labels.withUnsafeMutableBufferPointer { l in
            distances.withUnsafeMutableBufferPointer { d in
                soa.withUnsafeBufferPointer { s in
                    centroids.withUnsafeBufferPointer { cp in
                        partialSums.withUnsafeMutableBufferPointer { ps in
                            partialCounts.withUnsafeMutableBufferPointer { pc in
                                partialInertia.withUnsafeMutableBufferPointer { pi in
                                    let l = UncheckedSendable(l), d = UncheckedSendable(d), s = UncheckedSendable(s)
                                    let cp = UncheckedSendable(cp), ps = UncheckedSendable(ps), pc = UncheckedSendable(pc)
                                    let pi = UncheckedSendable(pi)
                                    Parallel.forEach(chunks) { c in
                                        let r = chunkRange(c)
                                        let base = s.value.baseAddress!
                                        let labels = l.value.baseAddress!, dist = d.value.baseAddress!
                                        Kernels.nearest(soa: base + r.lowerBound, stride: n, count: r.count, columns: p,
                                                        centroids: cp.value.baseAddress!, centroidCount: k,
                                                        labels: labels + r.lowerBound, distances: dist + r.lowerBound)
                                        var sums = [Double](repeating: 0, count: k * p)
                                        var counts = [Int](repeating: 0, count: k)
                                        var inertia = 0.0
                                        for i in r {
                                            counts[Int(labels[i])] += 1
                                            inertia += Double(dist[i])
                                        }
                                        for j in 0..<p {
                                            let column = base + j * n
                                            for i in r { sums[Int(labels[i]) * p + j] += Double(column[i]) }
                                        }
                                        ps.value[c] = sums; pc.value[c] = counts; pi.value[c] = inertia
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var step = Step(sums: [Double](repeating: 0, count: k * p), counts: [Int](repeating: 0, count: k), inertia: 0)
        for c in 0..<chunks {
            for i in 0..<(k * p) { step.sums[i] += partialSums[c][i] }
            for i in 0..<k { step.counts[i] += partialCounts[c][i] }
            step.inertia += partialInertia[c]
        }
        return step
    }

    /// Gives each empty cluster the point farthest from its centre (scikit-learn's rule), moving
    /// that point's contribution out of its old cluster's sums.
    func relocateEmpty(_ step: inout Step, labels: [Int32], distances: [Float]) {
        let empty = step.counts.indices.filter { step.counts[$0] == 0 }
        guard !empty.isEmpty else { return }
        let p = columns
        // Farthest first; ties broken by index so the choice is deterministic.
        let far = (0..<count).sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }
        for (e, point) in zip(empty, far) {
            let old = Int(labels[point])
            for j in 0..<p {
                let v = Double(value(row: point, column: j))
                step.sums[old * p + j] -= v
                step.sums[e * p + j] = v
            }
            step.counts[old] -= 1
            step.counts[e] = 1
        }
    }
}
