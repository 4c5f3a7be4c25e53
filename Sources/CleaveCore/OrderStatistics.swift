/// Order statistics by selection instead of a full sort: O(n) on average, in place.
public enum OrderStatistics {
    /// The `k`-th smallest value (0-based) of `values`, by Hoare quickselect with a
    /// median-of-three pivot (deterministic). Reorders `values`: afterwards
    /// `values[..<k]` ≤ `values[k]` ≤ `values[(k+1)...]`.
    /// - Complexity: O(n) on average.
    public static func select(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
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
        values.withUnsafeMutableBufferPointer { select($0, k) }
    }

    /// numpy's `percentile(values, q)` (method "linear", q in 0…100) by selection; reorders
    /// `values`. Interpolates like numpy's `_lerp` so that results agree to the last bit.
    public static func percentile(_ values: UnsafeMutableBufferPointer<Float>, _ q: Double) -> Double {
        precondition(!values.isEmpty, "OrderStatistics.percentile of an empty buffer")
        let position = q / 100 * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let t = position - Double(below)
        let a = Double(select(values, below))
        if t == 0 || below + 1 >= values.count { return a }
        // After selecting `below`, the next order statistic is the smallest value to its right.
        var next = Float.greatestFiniteMagnitude
        for i in (below + 1)..<values.count { next = Swift.min(next, values[i]) }
        let b = Double(next)
        let difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }

    /// numpy's linear percentile of an array by selection; reorders `values`.
    public static func percentile(_ values: inout [Float], _ q: Double) -> Double {
        values.withUnsafeMutableBufferPointer { percentile($0, q) }
    }
}
