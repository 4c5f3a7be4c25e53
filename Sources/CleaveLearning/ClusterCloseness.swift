import CleaveCore

/// How close each row is to one k-means centre against the nearest other one:
/// `d_other / (d_chosen + d_other)` with Euclidean distances — 1 at the chosen centre, 0.5 on the
/// boundary, towards 0 deep inside another cluster (the Locator's heat). ``ScaledRows`` uses the
/// same per-row arithmetic on rows it scales on the fly.
public enum ClusterCloseness {
    /// Heat of every row for cluster `picked`: `d_other / (d_picked + d_other)` with Euclidean
    /// distances to the picked centre and the nearest other centre — 1 at the picked centre,
    /// 0.5 on the boundary, towards 0 deep inside another cluster.
    public static func of(_ space: Matrix, centroids: Matrix, to picked: Int) -> [Float] {
        let k = centroids.rows, d = space.columns
        var heat = [Float](unsafeUninitializedLargeCount: space.rows) { _ in }  // every row written below
        heat.withUnsafeMutableBufferPointer { out in
            space.values.withUnsafeBufferPointer { points in
                centroids.values.withUnsafeBufferPointer { centers in
                    let box = UncheckedSendable(out)
                    let p = UncheckedSendable(points), q = UncheckedSendable(centers)
                    Parallel.forEachChunk(of: space.rows, chunkCount: Parallel.chunkCount(total: space.rows, minimumPerChunk: 4096)) { range in
                        ClusterCloseness.kernel(points: p.value.baseAddress!, columns: d, rows: range,
                                                          centers: q.value.baseAddress!, centerCount: k, picked: picked,
                                                          out: box.value.baseAddress!)
                    }
                }
            }
        }
        return heat
    }

    /// ``of(_:centroids:to:)`` for `rows`: blocks of rows are transposed so that every
    /// loop below runs across rows (vectorised); each row's arithmetic is the scalar one —
    /// squared distance summed feature by feature, the square root taken once for the picked
    /// and once for the nearest other centre (√ is monotone: √min = min √, bit for bit).
    static func kernel(points: UnsafePointer<Float>, columns d: Int, rows: Range<Int>, centers: UnsafePointer<Float>,
                                centerCount k: Int, picked: Int, out: UnsafeMutablePointer<Float>) {
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
            ofTile(tile, stride: block, count: count, columns: d, centers: centers, centerCount: k, chosen: picked,
                   out: out + start)
            start += count
        }
    }

    /// The closeness of `count` ≤ 1000 rows held transposed in `tile` (column `j` at `tile + j · stride`;
    /// readable up to the next multiple of 8 rows).
    @inline(__always)
    static func ofTile(_ tile: UnsafePointer<Float>, stride: Int, count: Int, columns d: Int, centers: UnsafePointer<Float>,
                       centerCount k: Int, chosen picked: Int, out o: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(o + i).storeBytes(of: closeness8(tile + i, stride: stride, columns: d, centers: centers,
                                                                     centerCount: k, picked: picked), as: SIMD8<Float>.self)
            i += 8
        }
        if i < count {
            let rest = closeness8(tile + i, stride: stride, columns: d, centers: centers, centerCount: k, picked: picked)
            for l in 0..<(count - i) { o[i + l] = rest[l] }
        }
    }

    /// The closeness of eight transposed rows (column `j` at `rows + j · stride`). Each lane does
    /// the scalar arithmetic: squared distance summed feature by feature (products, then sums),
    /// the nearest other centre by `min`, one square root each, `dOther / max(dPick + dOther, 1e-30)`.
    @inline(__always)
    static func closeness8(_ rows: UnsafePointer<Float>, stride: Int, columns d: Int, centers: UnsafePointer<Float>,
                           centerCount k: Int, picked: Int) -> SIMD8<Float> {
        typealias Lanes = SIMD8<Float>
        if k == 1 { return Lanes(repeating: 1) }
        var sPick = Lanes(repeating: 0), sOther = Lanes(repeating: .infinity)
        for c in 0..<k {
            var sum = Lanes(repeating: 0)
            for j in 0..<d {
                let v = UnsafeRawPointer(rows + j * stride).loadUnaligned(as: Lanes.self) - Lanes(repeating: centers[c * d + j])
                sum = sum + v * v
            }
            if c == picked { sPick = sum } else { sOther = sOther.replacing(with: sum, where: sum .< sOther) }  // min(sOther, sum)
        }
        let dPick = sPick.squareRoot(), dOther = sOther.squareRoot()
        let total = dPick + dOther
        let floor = Lanes(repeating: 1e-30)
        return dOther / total.replacing(with: floor, where: floor .>= total)  // max(total, 1e-30)
    }
}
