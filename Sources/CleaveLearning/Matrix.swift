import CleaveCore

/// A dense, row-major matrix of `Float`: one row per sample (patch, pixel), one column per feature.
///
/// ```
///  values: [ r0c0 r0c1 … r0c(columns-1) | r1c0 … | … ]   count == rows * columns
/// ```
/// Storage is `Float` to halve memory for millions of samples; algorithms that need the accuracy
/// (means, variances, covariance, inertia) accumulate in `Double`.
public struct Matrix: Equatable, Codable, Sendable {
    /// Number of rows (samples).
    public let rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// Row-major values, `rows * columns` of them.
    public var values: [Float]

    /// A matrix from row-major values.
    /// - Precondition: `values.count == rows * columns`, both counts ≥ 0.
    @inlinable
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                     "Matrix(rows: \(rows), columns: \(columns)) needs \(rows * columns) values, got \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix filled with `value`.
    @inlinable
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: value, count: rows * columns))
    }

    /// A matrix from nested rows (each inner array is one row; all the same length).
    /// - Throws: ``LearningError/raggedRows(row:expected:actual:)`` when rows differ in length.
    public init(_ nested: [[Double]]) throws {
        let columns = nested.first?.count ?? 0
        var values = [Float]()
        values.reserveCapacity(nested.count * columns)
        for (index, row) in nested.enumerated() {
            guard row.count == columns else {
                throw LearningError.raggedRows(row: index, expected: columns, actual: row.count)
            }
            for v in row { values.append(Float(v)) }
        }
        self.init(rows: nested.count, columns: columns, values: values)
    }

    /// A matrix from nested `Float` rows.
    /// - Throws: ``LearningError/raggedRows(row:expected:actual:)`` when rows differ in length.
    public init(_ nested: [[Float]]) throws {
        try self.init(nested.map { $0.map(Double.init) })
    }

    /// The element at (`row`, `column`).
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix[\(row), \(column)] outside \(rows)×\(columns)")
            return values[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix[\(row), \(column)] outside \(rows)×\(columns)")
            values[row * columns + column] = newValue
        }
    }

    /// A copy of row `index`.
    @inlinable
    public func row(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < rows, "Matrix.row(\(index)) outside 0..<\(rows)")
        return Array(values[(index * columns)..<((index + 1) * columns)])
    }

    /// A copy of column `index`.
    public func column(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < columns, "Matrix.column(\(index)) outside 0..<\(columns)")
        var out = [Float](repeating: 0, count: rows)
        for r in 0..<rows { out[r] = values[r * columns + index] }
        return out
    }

    /// Nested `Double` rows (for printing, JSON, tests).
    public var nestedRows: [[Double]] {
        (0..<rows).map { r in (0..<columns).map { Double(values[r * columns + $0]) } }
    }

    /// The rows at `indices`, in that order (the common case, specialised: callers in other
    /// modules would otherwise run the generic version below element by element).
    /// - Complexity: O(indices.count × columns).
    public func selectingRows(_ indices: [Int]) -> Matrix {
        indices.withUnsafeBufferPointer { selectingRows($0) }
    }

    /// The rows at `indices`, in that order.
    /// - Complexity: O(indices.count × columns).
    public func selectingRows<C: Collection>(_ indices: C) -> Matrix where C.Element == Int {
        let count = indices.count, columns = self.columns, rows = self.rows
        // Row copies straight into fresh storage (no per-row slice append).
        let out = [Float](unsafeUninitializedLargeCount: count * columns) { buffer in
            guard var target = buffer.baseAddress else { return }
            values.withUnsafeBufferPointer { v in
                for i in indices {
                    precondition(i >= 0 && i < rows, "Matrix.selectingRows: row \(i) outside 0..<\(rows)")
                    target.initialize(from: v.baseAddress! + i * columns, count: columns)
                    target += columns
                }
            }
        }
        return Matrix(rows: count, columns: columns, values: out)
    }

    /// The columns at `indices`, in that order.
    public func selectingColumns(_ indices: [Int]) -> Matrix {
        for c in indices {
            precondition(c >= 0 && c < columns, "Matrix.selectingColumns: column \(c) outside 0..<\(columns)")
        }
        var out = [Float](repeating: 0, count: rows * indices.count)
        for r in 0..<rows {
            for (j, c) in indices.enumerated() { out[r * indices.count + j] = values[r * columns + c] }
        }
        return Matrix(rows: rows, columns: indices.count, values: out)
    }

    /// The transpose (`columns × rows`).
    public var transposed: Matrix {
        var out = [Float](repeating: 0, count: values.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = values[r * columns + c] } }
        return Matrix(rows: columns, columns: rows, values: out)
    }

    /// Per-column means, accumulated in `Double`.
    public func columnMeans() -> [Double] {
        var sums = [Double](repeating: 0, count: columns)
        guard rows > 0 else { return sums }
        sums.withUnsafeMutableBufferPointer { sums in
            values.withUnsafeBufferPointer { v in
                Matrix.columnSums(v.baseAddress!, rows: rows, columns: columns, into: sums.baseAddress!) { Double($0) }
            }
        }
        return sums.map { $0 / Double(rows) }
    }

    /// `sums[c] += term(values[r, c])` over the rows in order, for every column: each column's
    /// sum is the plain row-order sum; groups of four columns share one SIMD register, so a
    /// narrow table (a window run's 4 features × millions of rows) is one pass with no memory
    /// round trip per addition.
    static func columnSums(_ values: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Double>,
                           _ term: (Float) -> Double) {
        var c0 = 0
        while c0 + 4 <= columns {
            var s = SIMD4<Double>(sums[c0], sums[c0 + 1], sums[c0 + 2], sums[c0 + 3])
            for r in 0..<rows {
                let p = values + r * columns + c0
                s += SIMD4<Double>(term(p[0]), term(p[1]), term(p[2]), term(p[3]))
            }
            sums[c0] = s[0]; sums[c0 + 1] = s[1]; sums[c0 + 2] = s[2]; sums[c0 + 3] = s[3]
            c0 += 4
        }
        for c in c0..<columns {
            var s = sums[c]
            for r in 0..<rows { s += term(values[r * columns + c]) }
            sums[c] = s
        }
    }

    /// Whether every value is finite.
    /// - Complexity: O(rows × columns): a branch-free OR over exponent bits, in blocks, in fixed
    ///   chunks on all cores.
    public var isFinite: Bool {
        values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return true }
            let chunks = Parallel.chunkCount(total: v.count, minimumPerChunk: 1 << 20)
            var finite = [Bool](repeating: true, count: chunks)
            finite.withUnsafeMutableBufferPointer { finite in
                let finite = UncheckedSendable(finite), bits = UncheckedSendable(UnsafeRawPointer(base).assumingMemoryBound(to: UInt32.self))
                let total = v.count
                Parallel.forEach(chunks) { c in
                    var i = total * c / chunks
                    let upper = total * (c + 1) / chunks
                    while i < upper {
                        let end = min(upper, i + 4096)
                        // (exponent bits) + (one exponent step) carries into bit 31 only when all ones (NaN, ±∞).
                        var flag: UInt32 = 0
                        for k in i..<end { flag |= (bits.value[k] & 0x7F80_0000) &+ 0x0080_0000 }
                        if flag & 0x8000_0000 != 0 { finite.value[c] = false; return }
                        i = end
                    }
                }
            }
            return !finite.contains(false)
        }
    }
}
