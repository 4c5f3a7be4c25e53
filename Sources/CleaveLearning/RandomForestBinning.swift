/// Quantile bins of every feature, computed once per training set.
///
/// Feature f is cut at `edges[f]` (strictly increasing); a value x falls in bin
/// `b = number of edges < x`, so `bin(x) ≤ b  ⇔  x ≤ edges[f][b]`. A split found on bins is
/// therefore exactly the float test `x ≤ edges[f][b]` at prediction time. NaN goes to the last bin
/// in training; prediction steps right only when `x > t`, which is false for NaN, so NaN goes left.
///
/// ```
///   bin 0   | bin 1   | bin 2  …  | bin m-1
/// ---------e0--------e1---------e(m-2)-------->  x
/// ```
struct FeatureBins {
    /// Cut points per feature; at most `maxBins − 1` each.
    let edges: [[Float]]
    /// Bin of every sample, feature-major: `codes[f * sampleCount + s]`.
    let codes: [UInt8]
    let sampleCount: Int

    /// Bins `rows` (row-major, `featureCount` columns). Edges come from the exact sorted values
    /// of at most `maxSamples` rows (a fixed stride subsample): midpoints between distinct values
    /// when there are few, otherwise between the values at equally spaced ranks.
    init(rows: UnsafeBufferPointer<Float>, sampleCount: Int, featureCount: Int, maxBins: Int, maxSamples: Int = 200_000) {
        self.sampleCount = sampleCount
        var allEdges = [[Float]](repeating: [], count: featureCount)
        var codes = [UInt8](repeating: 0, count: featureCount * sampleCount)
        let stride = max(1, (sampleCount + maxSamples - 1) / maxSamples)
        allEdges.withUnsafeMutableBufferPointer { edgesOut in
            codes.withUnsafeMutableBufferPointer { codesOut in
                Parallel.forEach(featureCount) { f in
                    var values: [Float] = []
                    values.reserveCapacity(sampleCount / stride + 1)
                    var s = 0
                    while s < sampleCount {
                        let v = rows[s * featureCount + f]
                        if !v.isNaN { values.append(v) }
                        s += stride
                    }
                    values.sort()
                    let edges = FeatureBins.cutPoints(sorted: values, maxBins: maxBins)
                    edgesOut[f] = edges
                    let base = f * sampleCount
                    for s in 0..<sampleCount {
                        codesOut[base + s] = UInt8(FeatureBins.bin(of: rows[s * featureCount + f], edges: edges))
                    }
                }
            }
        }
        self.edges = allEdges
        self.codes = codes
    }

    /// Strictly increasing cut points for sorted values.
    static func cutPoints(sorted values: [Float], maxBins: Int) -> [Float] {
        guard values.count > 1 else { return [] }
        var distinct: [Float] = []
        for v in values where distinct.last != v { distinct.append(v) }
        var edges: [Float] = []
        func midpoint(_ a: Float, _ b: Float) -> Float {
            let m = a + (b - a) / 2
            return m < b ? m : a // a ≤ m < b keeps both values on their own side
        }
        if distinct.count <= maxBins {
            for i in 1..<distinct.count { edges.append(midpoint(distinct[i - 1], distinct[i])) }
            return edges
        }
        let n = values.count
        for j in 1..<maxBins {
            let rank = j * n / maxBins
            guard rank > 0 && rank < n else { continue }
            let lo = values[rank - 1], hi = values[rank]
            let cut = lo < hi ? midpoint(lo, hi) : lo
            if let last = edges.last, cut <= last { continue }
            if cut >= values[n - 1] { continue } // nothing would go right
            edges.append(cut)
        }
        return edges
    }

    /// Bin index of `x`: the number of edges below it (binary search); NaN → last bin.
    @inline(__always)
    static func bin(of x: Float, edges: [Float]) -> Int {
        if x.isNaN { return edges.count }
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if edges[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

import CleaveCore
