import CleaveCore

/// The hot loops of CleaveLearning. Everything here works on raw buffers; callers check shapes.
///
/// Distance kernels work on *column-major blocks* ("SoA"): column `j` of point `i` lives at
/// `soa[j * stride + i]`, so eight consecutive points of one feature load as one `SIMD8<Float>`
/// and each output lane is an independent point.
enum Kernels {
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
    }

    /// Covariance (ddof 1) of the columns of `matrix` about `mean`, row-major `columns²`, in Double.
    /// Parallel over fixed row chunks, reduced in chunk order (thread-count independent).
    static func covariance(_ matrix: Matrix, mean: [Double]) -> [Double] {
        let p = matrix.columns, n = matrix.rows
        let chunks = Parallel.chunkCount(total: n, minimumPerChunk: 8192)
        var partial = [[Double]](repeating: [], count: chunks)
        partial.withUnsafeMutableBufferPointer { partialBuffer in
            matrix.values.withUnsafeBufferPointer { x in
                let out = UncheckedSendable(partialBuffer), x = UncheckedSendable(x)
                Parallel.forEach(chunks) { c in
                    let start = n * c / chunks, end = n * (c + 1) / chunks
                    var acc = [Double](repeating: 0, count: p * p)
                    var centred = [Double](repeating: 0, count: p)
                    for r in start..<end {
                        for j in 0..<p { centred[j] = Double(x.value[r * p + j]) - mean[j] }
                        for a in 0..<p {
                            let va = centred[a]
                            for b in a..<p { acc[a * p + b] += va * centred[b] }
                        }
                    }
                    out.value[c] = acc
                }
            }
        }
        var total = [Double](repeating: 0, count: p * p)
        for part in partial { for i in 0..<(p * p) { total[i] += part[i] } }
        let denominator = Double(max(n - 1, 1))
        for a in 0..<p {
            for b in a..<p {
                total[a * p + b] /= denominator
                total[b * p + a] = total[a * p + b]
            }
        }
        return total
    }

    /// Copies rows `range` of a row-major buffer (`columns` wide) into a column-major block
    /// (`columns × range.count`, stride `range.count`).
    @inline(__always)
    static func transposeBlock(_ rowMajor: UnsafePointer<Float>, columns: Int, range: Range<Int>,
                               into soa: UnsafeMutablePointer<Float>) {
        let count = range.count
        var source = rowMajor + range.lowerBound * columns
        for i in 0..<count {
            for j in 0..<columns { soa[j * count + i] = source[j] }
            source += columns
        }
    }

    /// For each of `count` points in a column-major block, the nearest of `centroidCount`
    /// centroids (row-major `centroidCount × columns`) by squared Euclidean distance; ties go to
    /// the lower index. Writes labels and squared distances.
    static func nearest(soa: UnsafePointer<Float>, stride: Int, count: Int, columns: Int,
                        centroids: UnsafePointer<Float>, centroidCount: Int,
                        labels: UnsafeMutablePointer<Int32>, distances: UnsafeMutablePointer<Float>) {
        var i = 0
        if columns == 4 {
            // The sliding-window case (mean, std, skewness, kurtosis): keep the point in registers.
            while i + 8 <= count {
                let x0 = load(soa + i)
                let x1 = load(soa + stride + i)
                let x2 = load(soa + 2 * stride + i)
                let x3 = load(soa + 3 * stride + i)
                var best = Lanes(repeating: .infinity)
                var bestLabel = SIMD8<Int32>(repeating: 0)
                for c in 0..<centroidCount {
                    let cp = centroids + c * 4
                    var d = x0 - Lanes(repeating: cp[0]); var s = d * d
                    d = x1 - Lanes(repeating: cp[1]); s.addProduct(d, d)
                    d = x2 - Lanes(repeating: cp[2]); s.addProduct(d, d)
                    d = x3 - Lanes(repeating: cp[3]); s.addProduct(d, d)
                    let closer = s .< best
                    best.replace(with: s, where: closer)
                    bestLabel.replace(with: SIMD8(repeating: Int32(c)), where: closer)
                }
                for l in 0..<8 { labels[i + l] = bestLabel[l]; distances[i + l] = best[l] }
                i += 8
            }
        } else {
            while i + 8 <= count {
                var best = Lanes(repeating: .infinity)
                var bestLabel = SIMD8<Int32>(repeating: 0)
                for c in 0..<centroidCount {
                    let cp = centroids + c * columns
                    var s = Lanes(repeating: 0)
                    for j in 0..<columns {
                        let d = load(soa + j * stride + i) - Lanes(repeating: cp[j])
                        s.addProduct(d, d)
                    }
                    let closer = s .< best
                    best.replace(with: s, where: closer)
                    bestLabel.replace(with: SIMD8(repeating: Int32(c)), where: closer)
                }
                for l in 0..<8 { labels[i + l] = bestLabel[l]; distances[i + l] = best[l] }
                i += 8
            }
        }
        // Tail: same arithmetic, one point at a time (same operation order, so same results).
        while i < count {
            var best = Float.infinity
            var bestLabel: Int32 = 0
            for c in 0..<centroidCount {
                var s: Float = 0
                for j in 0..<columns {
                    let d = soa[j * stride + i] - centroids[c * columns + j]
                    s = j == 0 ? d * d : s.addingProduct(d, d)
                }
                if s < best { best = s; bestLabel = Int32(c) }
            }
            labels[i] = bestLabel; distances[i] = best
            i += 1
        }
    }

    /// Squared Euclidean distance of each of `count` points in a column-major block to one
    /// `point` (`columns` values), written to `out`.
    static func squaredDistances(soa: UnsafePointer<Float>, stride: Int, count: Int, columns: Int,
                                 to point: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            var s = Lanes(repeating: 0)
            for j in 0..<columns {
                let d = load(soa + j * stride + i) - Lanes(repeating: point[j])
                s.addProduct(d, d)
            }
            for l in 0..<8 { out[i + l] = s[l] }
            i += 8
        }
        while i < count {
            var s: Float = 0
            for j in 0..<columns {
                let d = soa[j * stride + i] - point[j]
                s = j == 0 ? d * d : s.addingProduct(d, d)
            }
            out[i] = s
            i += 1
        }
    }
}
