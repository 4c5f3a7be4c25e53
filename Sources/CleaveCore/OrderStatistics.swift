/// Order statistics by selection instead of a full sort: O(n) on average, in place.
public enum OrderStatistics {
    /// Narrows `lo`…`hi` to include the `count` values at `values`: `lo = min(lo, v)`,
    /// `hi = max(hi, v)` for every value, eight lanes at a time. For values that are not NaN the
    /// result is that of the sequential `Swift.min` / `Swift.max` loop (a NaN never replaces a
    /// bound, as there).
    /// - Complexity: O(count).
    public static func unsafeExtrema(_ values: UnsafePointer<Float>, count: Int, lo: inout Float, hi: inout Float) {
        var i = 0
        if count >= 8 {
            var low = SIMD8<Float>(repeating: lo), high = SIMD8<Float>(repeating: hi)
            while i + 8 <= count {
                let v = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
                low.replace(with: v, where: v .< low)
                high.replace(with: v, where: v .> high)
                i += 8
            }
            for lane in 0..<8 { lo = Swift.min(lo, low[lane]); hi = Swift.max(hi, high[lane]) }
        }
        while i < count { lo = Swift.min(lo, values[i]); hi = Swift.max(hi, values[i]); i += 1 }
    }

    /// The `k`-th smallest value (0-based) of `values`, by Hoare quickselect with a
    /// median-of-three pivot (deterministic). Reorders `values`: afterwards
    /// `values[..<k]` ≤ `values[k]` ≤ `values[(k+1)...]`.
    /// - Complexity: O(n) on average.
    public static func unsafeSelect(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
        precondition(k >= 0 && k < values.count, "OrderStatistics.select: k \(k) outside 0..<\(values.count)")
        var lo = 0, hi = values.count - 1
        while hi > lo {
            let a = values[lo], b = values[(lo + hi) / 2], c = values[hi]
            let pivot = Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
            var i = lo, j = hi
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return values[k] }
        }
        return values[k]
    }

    /// The `k`-th smallest value of an array (see ``select(_:_:)-buffer``); reorders `values`.
    public static func select(_ values: inout [Float], _ k: Int) -> Float {
        values.withUnsafeMutableBufferPointer { unsafeSelect($0, k) }
    }

    /// numpy's `percentile(values, q)` (method "linear", q in 0…100) by selection; reorders
    /// `values`. Interpolates like numpy's `_lerp` so that results agree to the last bit.
    public static func unsafePercentile(_ values: UnsafeMutableBufferPointer<Float>, _ q: Double) -> Double {
        precondition(!values.isEmpty, "OrderStatistics.percentile of an empty buffer")
        let position = q / 100 * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let t = position - Double(below)
        let a = Double(unsafeSelect(values, below))
        if t == 0 || below + 1 >= values.count { return a }
        // After selecting `below`, the next order statistic is the smallest value to its right.
        var next = Float.greatestFiniteMagnitude
        for i in (below + 1)..<values.count { next = Swift.min(next, values[i]) }
        let b = Double(next)
        let difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }

    /// The same value as ``percentile(_:_:)-buffer`` without reordering `values`: a pass counts
    /// the values into 1024 equal-width bins over min…max (the bin index never decreases as the
    /// value grows, so lower bins hold only smaller values), then only the bin or two holding the
    /// needed order statistics are copied into `gather` and selected there. For the many
    /// patch-sized percentiles of a feature table, where a full quickselect pass dominates.
    /// - Complexity: O(n) with two light passes, plus a selection over one bin's values.
    public static func unsafePercentileByBins(_ values: UnsafeBufferPointer<Float>, _ q: Double,
                                        bins: inout [Int32], gather: inout [Float]) -> Double {
        precondition(!values.isEmpty, "OrderStatistics.percentileByBins of an empty buffer")
        let n = values.count
        let position = q / 100 * Double(n - 1)
        let below = Int(position.rounded(.down))
        let t = position - Double(below)
        var lo = values[0], hi = values[0]
        unsafeExtrema(values.baseAddress!, count: n, lo: &lo, hi: &hi)
        if lo == hi { return Double(lo) }
        // ±infinity at an end leaves no bin width (NaN positions below): no percentile, NaN marks it.
        guard lo.isFinite && hi.isFinite else { return .nan }
        let binCount = 1024
        if bins.count < binCount { bins = [Int32](repeating: 0, count: binCount) }
        let low = Double(lo), scale = Double(binCount) / (Double(hi) - Double(lo))
        let needsNext = !(t == 0 || below + 1 >= n)
        let lastRank = needsNext ? below + 1 : below
        return bins.withUnsafeMutableBufferPointer { bins in
            @inline(__always) func bin(_ v: Float) -> Int {
                let position = (Double(v) - low) * scale  // NaN for a NaN sample: bin 0, never Int(NaN)
                return position >= 0 ? Swift.min(binCount - 1, Int(position)) : 0
            }
            for i in 0..<binCount { bins[i] = 0 }
            for v in values { bins[bin(v)] &+= 1 }
            // Bins holding rank `below` and rank `lastRank`, and the rank where the first starts.
            var first = 0, base = 0, running = 0
            while running + Int(bins[first]) <= below { running += Int(bins[first]); first += 1 }
            base = running
            var last = first
            running += Int(bins[first])
            while running <= lastRank { last += 1; running += Int(bins[last]) }
            gather.removeAll(keepingCapacity: true)
            for v in values { let b = bin(v); if b >= first && b <= last { gather.append(v) } }
            return gather.withUnsafeMutableBufferPointer { g in
                let a = Double(unsafeSelect(g, below - base))
                if !needsNext { return a }
                var next = Float.greatestFiniteMagnitude
                for i in (below - base + 1)..<g.count { next = Swift.min(next, g[i]) }
                let b = Double(next)
                let difference = b - a
                return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
            }
        }
    }

    /// numpy's linear percentile of an array by selection; reorders `values`.
    public static func percentile(_ values: inout [Float], _ q: Double) -> Double {
        values.withUnsafeMutableBufferPointer { unsafePercentile($0, q) }
    }
}
