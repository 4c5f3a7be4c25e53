import CleaveCore

/// Points stored in tiles of 8 (see `Kernels.tile`) for the SIMD distance kernels, plus the
/// chunked, thread-count-independent reductions k-means needs.
struct PointBlock {
    /// Tiled copy: column `j` of point `i` at `tiles[(i / 8) * 8 * columns + j * 8 + i % 8]`.
    let tiles: [Float]
    let count: Int
    let columns: Int
    /// Fixed chunk count (depends on `count` only).
    let chunks: Int

    init(_ matrix: Matrix) {
        count = matrix.rows
        columns = matrix.columns
        var tiles = [Float](largeRepeating: 0, count: (matrix.rows + 7) / 8 * 8 * matrix.columns)
        matrix.values.withUnsafeBufferPointer { x in
            tiles.withUnsafeMutableBufferPointer { s in
                Kernels.tile(x.baseAddress!, columns: matrix.columns, range: 0..<matrix.rows, into: s.baseAddress!)
            }
        }
        self.tiles = tiles
        meanVariance = PointBlock.meanVariance(matrix)
        chunks = Parallel.chunkCount(total: (matrix.rows + 7) / 8, minimumPerChunk: 256)
    }

    @inline(__always) func value(row: Int, column: Int) -> Float { tiles[(row / 8) * 8 * columns + column * 8 + row % 8] }

    func row(_ index: Int) -> [Float] { (0..<columns).map { value(row: index, column: $0) } }

    /// Mean over features of the population variance (scikit-learn's tolerance scale), two-pass
    /// in Double over the row-major input.
    let meanVariance: Double

    static func meanVariance(_ matrix: Matrix) -> Double {
        let p = matrix.columns, n = matrix.rows
        let chunks = Parallel.chunkCount(total: n, minimumPerChunk: 8192)
        // Pass 1: column sums per chunk; pass 2: squared deviations per chunk; both combined in
        // chunk order (thread-count independent).
        func perChunk(_ body: @escaping (UnsafePointer<Float>, Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
            var partial = [Double](repeating: 0, count: chunks * p)
            partial.withUnsafeMutableBufferPointer { out in
                matrix.values.withUnsafeBufferPointer { x in
                    let out = UncheckedSendable(out), x = UncheckedSendable(x)
                    Parallel.forEach(chunks) { c in
                        body(x.value.baseAddress!, (n * c / chunks)..<(n * (c + 1) / chunks), out.value.baseAddress! + c * p)
                    }
                }
            }
            var total = [Double](repeating: 0, count: p)
            for c in 0..<chunks { for j in 0..<p { total[j] += partial[c * p + j] } }
            return total
        }
        let means = perChunk { x, rows, acc in
            for i in rows { for j in 0..<p { acc[j] += Double(x[i * p + j]) } }
        }.map { $0 / Double(n) }
        let squares = perChunk { x, rows, acc in
            for i in rows { for j in 0..<p { let d = Double(x[i * p + j]) - means[j]; acc[j] += d * d } }
        }
        return squares.reduce(0, +) / Double(n * p)
    }

    /// Points of chunk `c`: whole tiles, so every chunk starts on a tile boundary.
    @inline(__always) func chunkRange(_ c: Int) -> Range<Int> {
        let tileCount = (count + 7) / 8
        return min(count, tileCount * c / chunks * 8)..<min(count, tileCount * (c + 1) / chunks * 8)
    }

    /// The tiles holding the points of `range` (which starts on a tile boundary).
    @inline(__always) func tileStart(_ base: UnsafePointer<Float>, _ range: Range<Int>) -> UnsafePointer<Float> {
        base + range.lowerBound * columns
    }

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
        var out = [Float](largeRepeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            tiles.withUnsafeBufferPointer { s in
                point.withUnsafeBufferPointer { q in
                    let o = UncheckedSendable(o), s = UncheckedSendable(s), q = UncheckedSendable(q)
                    Parallel.forEach(chunks) { c in
                        let r = chunkRange(c)
                        Kernels.squaredDistances(tiles: tileStart(s.value.baseAddress!, r), count: r.count,
                                                 columns: columns, to: q.value.baseAddress!, out: o.value.baseAddress! + r.lowerBound)
                    }
                }
            }
        }
        return out
    }

    /// `min(closest, d²(point, ·))` for every point and its sum (one k-means++ candidate).
    func candidate(_ point: [Float], closest: [Float]) -> (distances: [Float], potential: Double) {
        var out = [Float](largeRepeating: 0, count: count)
        var partial = [Double](repeating: 0, count: chunks)
        out.withUnsafeMutableBufferPointer { o in
            tiles.withUnsafeBufferPointer { s in
                point.withUnsafeBufferPointer { q in
                    closest.withUnsafeBufferPointer { cl in
                        partial.withUnsafeMutableBufferPointer { pt in
                            let o = UncheckedSendable(o), s = UncheckedSendable(s), q = UncheckedSendable(q)
                            let cl = UncheckedSendable(cl), pt = UncheckedSendable(pt)
                            Parallel.forEach(chunks) { c in
                                let r = chunkRange(c)
                                let target = o.value.baseAddress! + r.lowerBound
                                Kernels.squaredDistances(tiles: tileStart(s.value.baseAddress!, r), count: r.count,
                                                         columns: columns, to: q.value.baseAddress!, out: target)
                                let previous = cl.value.baseAddress! + r.lowerBound
                                for i in 0..<r.count where previous[i] < target[i] { target[i] = previous[i] }
                                pt.value[c] = Kernels.sum(target, count: r.count)
                            }
                        }
                    }
                }
            }
        }
        return (out, partial.reduce(0, +))
    }

    struct Step {
        var sums: [Double]
        var counts: [Int]
        var inertia: Double
    }

    /// Assigns every point to its nearest centroid and sums the points per cluster.
    func assignAndSum(centroids: [Float], clusterCount k: Int, labels: inout [Int32], distances: inout [Float]) -> Step {
        let p = columns
        var partialSums = [[Double]](repeating: [], count: chunks)
        var partialCounts = [[Int]](repeating: [], count: chunks)
        var partialInertia = [Double](repeating: 0, count: chunks)
        labels.withUnsafeMutableBufferPointer { l in
            distances.withUnsafeMutableBufferPointer { d in
                tiles.withUnsafeBufferPointer { s in
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
                                        Kernels.nearest(tiles: tileStart(base, r), count: r.count, columns: p,
                                                        centroids: cp.value.baseAddress!, centroidCount: k,
                                                        labels: labels + r.lowerBound, distances: dist + r.lowerBound)
                                        var sums = [Double](repeating: 0, count: k * p)
                                        var counts = [Int](repeating: 0, count: k)
                                        var inertia = 0.0
                                        sums.withUnsafeMutableBufferPointer { sumBuffer in
                                            counts.withUnsafeMutableBufferPointer { countBuffer in
                                                Kernels.accumulate(tiles: tileStart(base, r), columns: p, count: r.count,
                                                                   labels: labels + r.lowerBound, distances: dist + r.lowerBound,
                                                                   sums: sumBuffer.baseAddress!, counts: countBuffer.baseAddress!,
                                                                   inertia: &inertia)
                                            }
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
