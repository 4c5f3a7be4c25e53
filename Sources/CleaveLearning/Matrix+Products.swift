import CleaveCore

extension Matrix {
    /// The matrix product `self · other` (`rows × other.columns`), accumulated in Double.
    ///
    /// Blocked over `other`'s rows so a block of it stays in cache, parallel over fixed row chunks
    /// (thread-count independent).
    /// - Precondition: `columns == other.rows`.
    /// - Complexity: O(rows × columns × other.columns).
    public func multiplied(by other: Matrix) -> Matrix {
        precondition(columns == other.rows, "Matrix.multiplied(by:): \(rows)×\(columns) · \(other.rows)×\(other.columns) do not fit")
        let n = rows, inner = columns, m = other.columns
        var out = [Float](repeating: 0, count: n * m)
        out.withUnsafeMutableBufferPointer { o in
            values.withUnsafeBufferPointer { a in
                other.values.withUnsafeBufferPointer { b in
                    let o = UncheckedSendable(o), a = UncheckedSendable(a), b = UncheckedSendable(b)
                    Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: max(1, 65_536 / max(1, inner * m)))) { range in
                        var acc = [Double](repeating: 0, count: m)
                        for r in range {
                            for c in 0..<m { acc[c] = 0 }
                            for t in 0..<inner {
                                let v = Double(a.value[r * inner + t])
                                if v == 0 { continue }
                                let row = t * m
                                for c in 0..<m { acc[c] += v * Double(b.value[row + c]) }
                            }
                            for c in 0..<m { o.value[r * m + c] = Float(acc[c]) }
                        }
                    }
                }
            }
        }
        return Matrix(rows: n, columns: m, values: out)
    }
}

/// Dot product of two equal-length vectors, accumulated in Double.
/// - Precondition: equal lengths.
public func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "dot: lengths \(a.count) and \(b.count) differ")
    var s = 0.0
    for i in a.indices { s += Double(a[i]) * Double(b[i]) }
    return s
}
