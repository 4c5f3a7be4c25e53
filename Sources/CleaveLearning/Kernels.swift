import CleaveCore

/// The hot loops of CleaveLearning. Everything here works on raw buffers; callers check shapes.
///
/// Distance kernels work on *tiles* of 8 points stored feature by feature (see ``tile(_:columns:range:into:)``),
/// so one feature of eight points loads as one `SIMD8<Float>`, each output lane is an independent
/// point, and a tile's columns sit next to each other in memory.
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
                    var centered = [Double](repeating: 0, count: p)
                    for r in start..<end {
                        for j in 0..<p { centered[j] = Double(x.value[r * p + j]) - mean[j] }
                        for a in 0..<p {
                            let va = centered[a]
                            for b in a..<p { acc[a * p + b] += va * centered[b] }
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

    /// Points per tile (one `SIMD8<Float>` lane each).
    static let tileWidth = 8

    /// Copies rows `range` of a row-major buffer (`columns` wide) into tiles of 8 points:
    /// ```
    ///  tile t: [ x(8t..8t+7, col 0) | x(8t..8t+7, col 1) | … ]   8 × columns floats
    /// ```
    /// The last tile is padded with zeros (padded lanes are computed but never reported).
    /// `tiles` needs `ceil(range.count / 8) * 8 * columns` floats.
    @inline(__always)
    static func tile(_ rowMajor: UnsafePointer<Float>, columns: Int, range: Range<Int>,
                     into tiles: UnsafeMutablePointer<Float>) {
        let count = range.count
        let tileCount = (count + 7) / 8
        var source = rowMajor + range.lowerBound * columns
        var t = 0
        if columns == 4 {
            // 8 points × 4 features = 32 contiguous floats; de-interleave with even/odd halves.
            let raw = UnsafeRawPointer(source)
            while (t + 1) * 8 <= count {
                let a = (raw + t * 128).loadUnaligned(as: SIMD16<Float>.self)       // points 0–3
                let b = (raw + t * 128 + 64).loadUnaligned(as: SIMD16<Float>.self)  // points 4–7
                let ae = a.evenHalf, ao = a.oddHalf, be = b.evenHalf, bo = b.oddHalf
                let target = UnsafeMutableRawPointer(tiles + t * 32)
                target.storeBytes(of: Lanes(lowHalf: ae.evenHalf, highHalf: be.evenHalf), as: Lanes.self)
                (target + 32).storeBytes(of: Lanes(lowHalf: ao.evenHalf, highHalf: bo.evenHalf), as: Lanes.self)
                (target + 64).storeBytes(of: Lanes(lowHalf: ae.oddHalf, highHalf: be.oddHalf), as: Lanes.self)
                (target + 96).storeBytes(of: Lanes(lowHalf: ao.oddHalf, highHalf: bo.oddHalf), as: Lanes.self)
                t += 1
            }
            source += t * 32
        }
        while t < tileCount {
            let target = tiles + t * 8 * columns
            let lanes = min(8, count - t * 8)
            for lane in 0..<lanes {
                for j in 0..<columns { target[j * 8 + lane] = source[j] }
                source += columns
            }
            if lanes < 8 {
                for lane in lanes..<8 { for j in 0..<columns { target[j * 8 + lane] = 0 } }
            }
            t += 1
        }
    }

    /// For each of `count` tiled points, the nearest of `centroidCount` centroids (row-major
    /// `centroidCount × columns`) by squared Euclidean distance; ties go to the lower index.
    /// Writes `count` labels and squared distances.
    ///
    /// Four centroids share each load of a point column (four independent FMA chains); each
    /// distance sums its columns in order 0, 1, … so results never depend on the grouping.
    static func nearest(tiles: UnsafePointer<Float>, count: Int, columns: Int,
                        centroids: UnsafePointer<Float>, centroidCount: Int,
                        labels: UnsafeMutablePointer<Int32>, distances: UnsafeMutablePointer<Float>) {
        let tileCount = (count + 7) / 8
        for t in 0..<tileCount {
            let x = tiles + t * 8 * columns
            var best = Lanes(repeating: .infinity)
            var bestLabel = SIMD8<Int32>(repeating: 0)
            @inline(__always) func take(_ s: Lanes, _ c: Int) {
                let closer = s .< best
                best.replace(with: s, where: closer)
                bestLabel.replace(with: SIMD8(repeating: Int32(c)), where: closer)
            }
            if columns == 4 {
                // The sliding-window case (mean, std, skewness, kurtosis): the point stays in registers.
                let x0 = load(x), x1 = load(x + 8), x2 = load(x + 16), x3 = load(x + 24)
                for c in 0..<centroidCount {
                    let cp = centroids + c * 4
                    var d = x0 - Lanes(repeating: cp[0]); var s = d * d
                    d = x1 - Lanes(repeating: cp[1]); s.addProduct(d, d)
                    d = x2 - Lanes(repeating: cp[2]); s.addProduct(d, d)
                    d = x3 - Lanes(repeating: cp[3]); s.addProduct(d, d)
                    take(s, c)
                }
            } else {
                var c = 0
                while c + 4 <= centroidCount {
                    let c0 = centroids + c * columns, c1 = c0 + columns, c2 = c1 + columns, c3 = c2 + columns
                    var v = load(x)
                    var d0 = v - Lanes(repeating: c0[0]), d1 = v - Lanes(repeating: c1[0])
                    var d2 = v - Lanes(repeating: c2[0]), d3 = v - Lanes(repeating: c3[0])
                    var s0 = d0 * d0, s1 = d1 * d1, s2 = d2 * d2, s3 = d3 * d3
                    for j in 1..<max(columns, 1) {
                        v = load(x + j * 8)
                        d0 = v - Lanes(repeating: c0[j]); s0.addProduct(d0, d0)
                        d1 = v - Lanes(repeating: c1[j]); s1.addProduct(d1, d1)
                        d2 = v - Lanes(repeating: c2[j]); s2.addProduct(d2, d2)
                        d3 = v - Lanes(repeating: c3[j]); s3.addProduct(d3, d3)
                    }
                    take(s0, c); take(s1, c + 1); take(s2, c + 2); take(s3, c + 3)
                    c += 4
                }
                while c < centroidCount {
                    take(squaredDistance(x, columns: columns, to: centroids + c * columns), c)
                    c += 1
                }
            }
            let lanes = min(8, count - t * 8)
            for l in 0..<lanes { labels[t * 8 + l] = bestLabel[l]; distances[t * 8 + l] = best[l] }
        }
    }

    /// Squared distances of one tile's 8 points to `point` (columns summed in order).
    @inline(__always)
    static func squaredDistance(_ x: UnsafePointer<Float>, columns: Int, to point: UnsafePointer<Float>) -> Lanes {
        var d = load(x) - Lanes(repeating: point[0])
        var s = d * d
        for j in 1..<max(columns, 1) {
            d = load(x + j * 8) - Lanes(repeating: point[j])
            s.addProduct(d, d)
        }
        return s
    }

    /// Squared Euclidean distance of each of `count` tiled points to `point`, written to `out`.
    static func squaredDistances(tiles: UnsafePointer<Float>, count: Int, columns: Int,
                                 to point: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let tileCount = (count + 7) / 8
        var t = 0
        // Two tiles at a time: two independent FMA chains.
        while t + 2 <= tileCount {
            let xa = tiles + t * 8 * columns, xb = xa + 8 * columns
            var da = load(xa) - Lanes(repeating: point[0]), db = load(xb) - Lanes(repeating: point[0])
            var sa = da * da, sb = db * db
            for j in 1..<max(columns, 1) {
                let q = Lanes(repeating: point[j])
                da = load(xa + j * 8) - q; sa.addProduct(da, da)
                db = load(xb + j * 8) - q; sb.addProduct(db, db)
            }
            let lanes = min(16, count - t * 8)
            for l in 0..<min(8, lanes) { out[t * 8 + l] = sa[l] }
            for l in 8..<max(8, lanes) { out[t * 8 + l] = sb[l - 8] }
            t += 2
        }
        while t < tileCount {
            let s = squaredDistance(tiles + t * 8 * columns, columns: columns, to: point)
            for l in 0..<min(8, count - t * 8) { out[t * 8 + l] = s[l] }
            t += 1
        }
    }

    /// Sum of `count` floats in Double (four independent partial sums, combined in fixed order).
    static func sum(_ values: UnsafePointer<Float>, count: Int) -> Double {
        var acc = SIMD4<Double>(repeating: 0)
        var i = 0
        while i + 4 <= count {
            acc += SIMD4<Double>(Double(values[i]), Double(values[i + 1]), Double(values[i + 2]), Double(values[i + 3]))
            i += 4
        }
        var total = (acc[0] + acc[1]) + (acc[2] + acc[3])
        while i < count { total += Double(values[i]); i += 1 }
        return total
    }

    /// Σ (x − mean)² in Double.
    static func sumOfSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, from mean: Double) -> Double {
        var acc = SIMD4<Double>(repeating: 0)
        let m = SIMD4<Double>(repeating: mean)
        var i = 0
        while i + 4 <= count {
            let d = SIMD4<Double>(Double(values[i]), Double(values[i + 1]), Double(values[i + 2]), Double(values[i + 3])) - m
            acc.addProduct(d, d)
            i += 4
        }
        var total = (acc[0] + acc[1]) + (acc[2] + acc[3])
        while i < count { let d = Double(values[i]) - mean; total += d * d; i += 1 }
        return total
    }

    /// Adds each of `count` tiled points to its cluster's sums, counts the members and sums the
    /// squared distances, all in Double.
    static func accumulate(tiles: UnsafePointer<Float>, columns: Int, count: Int,
                           labels: UnsafePointer<Int32>, distances: UnsafePointer<Float>,
                           sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>,
                           inertia: inout Double) {
        var total = 0.0
        for i in 0..<count {
            let label = Int(labels[i])
            counts[label] += 1
            total += Double(distances[i])
            let target = sums + label * columns
            let source = tiles + (i >> 3) * 8 * columns + (i & 7)
            for j in 0..<columns { target[j] += Double(source[j * 8]) }
        }
        inertia = total
    }
}
