import CleaveCore

/// Per-feature scaling, fitted on one matrix and applied to others.
///
/// Every method maps a column `x` to `(x − center) / scale`; a column whose spread is zero gets
/// `scale = 1`, so a constant column becomes 0 (as in scikit-learn).
///
/// | method    | center | scale                         | scikit-learn        |
/// |-----------|--------|-------------------------------|---------------------|
/// | `.zScore` | mean   | population std (ddof 0)       | `StandardScaler`    |
/// | `.minMax` | min    | max − min  (→ [0, 1])         | `MinMaxScaler`      |
/// | `.robust` | median | q75 − q25 (linear percentile) | `RobustScaler`      |
public enum Scaler: String, Codable, Sendable, CaseIterable {
    case zScore
    case minMax
    case robust

    /// The default, z-score.
    public static let `default` = Scaler.zScore

    /// Rows per chunk above which z-score fitting splits the table (see `fit`).
    static let rowsPerChunk = 1 << 18

    /// `body(rowsPointer, rowCount, sumsOut)` on `chunks` contiguous row ranges side by side;
    /// the per-chunk column sums added in chunk order.
    static func chunkedColumnSums(_ matrix: Matrix, chunks: Int,
                                  _ body: @escaping (UnsafePointer<Float>, Int, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let rows = matrix.rows, columns = matrix.columns
        var partial = [Double](repeating: 0, count: chunks * columns)
        guard rows > 0 else { return [Double](repeating: 0, count: columns) }
        partial.withUnsafeMutableBufferPointer { partial in
            matrix.values.withUnsafeBufferPointer { v in
                let partial = UncheckedSendable(partial.baseAddress!), v = UncheckedSendable(v.baseAddress!)
                let work = UncheckedSendable(body)
                Parallel.forEach(chunks) { c in
                    let start = rows * c / chunks, end = rows * (c + 1) / chunks
                    work.value(v.value + start * columns, end - start, partial.value + c * columns)
                }
            }
        }
        var sums = [Double](repeating: 0, count: columns)
        for c in 0..<chunks { for j in 0..<columns { sums[j] += partial[c * columns + j] } }
        return sums
    }

    /// `sq[c] += Σ (x − center[c])²` over `rows` rows in row order; four columns per SIMD register.
    static func squaredDeviations(_ v: UnsafePointer<Float>, rows: Int, columns: Int, center: UnsafePointer<Double>,
                                  into sq: UnsafeMutablePointer<Double>) {
        var c0 = 0
        while c0 + 4 <= columns {
            let m = SIMD4<Double>(center[c0], center[c0 + 1], center[c0 + 2], center[c0 + 3])
            var s = SIMD4<Double>(repeating: 0)
            for r in 0..<rows {
                let p = v + r * columns + c0
                let d = SIMD4<Double>(Double(p[0]), Double(p[1]), Double(p[2]), Double(p[3])) - m
                s += d * d
            }
            for l in 0..<4 { sq[c0 + l] += s[l] }
            c0 += 4
        }
        for c in c0..<columns {
            for r in 0..<rows { let d = Double(v[r * columns + c]) - center[c]; sq[c] += d * d }
        }
    }

    /// ``fit(_:)`` on the rows of `matrix` whose flag in `including` is set, without copying
    /// them: the same result as `fit(matrix.selectingRows(those rows))`, bit for bit (z-score
    /// sums the included rows in the same chunks and order; the other scalers fit the copy).
    /// - Throws: as ``fit(_:)``; ``LearningError/lengthMismatch(operation:expected:actual:)`` for a mask of another length.
    public func fit(_ matrix: Matrix, including: [Bool]) throws -> FittedScaler {
        guard including.count == matrix.rows else {
            throw LearningError.lengthMismatch(operation: "Scaler.fit(including:)", expected: matrix.rows, actual: including.count)
        }
        guard self == .zScore, matrix.columns % 4 == 0 else {
            return try fit(matrix.selectingRows(including.indices.filter { including[$0] }))
        }
        let rows = ScaledRows.count(including), columns = matrix.columns, tableRows = matrix.rows
        guard rows > 0, columns > 0 else { throw LearningError.empty(operation: "Scaler.fit(\(rawValue))") }
        let chunks = Parallel.chunkCount(total: rows, minimumPerChunk: Scaler.rowsPerChunk)
        let starts = ScaledRows.chunkStarts(including, includedCount: rows, tableRows: tableRows, chunks: chunks)
        // Each chunk scans its table rows and adds the included ones in row order: the SIMD4
        // accumulators see the same values in the same order as over the contiguous copy.
        func chunkedSums(squares: Bool, center: [Double]) -> [Double] {
            var partial = [Double](repeating: 0, count: chunks * columns)
            partial.withUnsafeMutableBufferPointer { partial in
                matrix.values.withUnsafeBufferPointer { v in
                    including.withUnsafeBufferPointer { flags in
                        center.withUnsafeBufferPointer { center in
                            let partial = UncheckedSendable(partial.baseAddress!), v = UncheckedSendable(v.baseAddress!)
                            let flags = UncheckedSendable(flags.baseAddress!), center = UncheckedSendable(center.baseAddress!)
                            Parallel.forEach(chunks) { c in
                                var c0 = 0
                                while c0 + 4 <= columns {
                                    let m = SIMD4<Double>(center.value[c0], center.value[c0 + 1], center.value[c0 + 2], center.value[c0 + 3])
                                    var s = SIMD4<Double>(repeating: 0)
                                    for r in starts[c]..<starts[c + 1] where flags.value[r] {
                                        let p = v.value + r * columns + c0
                                        let x = SIMD4<Double>(Double(p[0]), Double(p[1]), Double(p[2]), Double(p[3]))
                                        if squares { let d = x - m; s += d * d } else { s += x }
                                    }
                                    for l in 0..<4 { partial.value[c * columns + c0 + l] += s[l] }
                                    c0 += 4
                                }
                            }
                        }
                    }
                }
            }
            var sums = [Double](repeating: 0, count: columns)
            for c in 0..<chunks { for j in 0..<columns { sums[j] += partial[c * columns + j] } }
            return sums
        }
        let sums = chunkedSums(squares: false, center: [Double](repeating: 0, count: columns))
        if !sums.allSatisfy({ $0.isFinite }) {
            try matrix.selectingRows(including.indices.filter { including[$0] }).validate("Scaler.fit(\(rawValue))")
        }
        let center = sums.map { $0 / Double(rows) }
        let sq = chunkedSums(squares: true, center: center)
        var scale = [Double](repeating: 1, count: columns)
        for c in 0..<columns { scale[c] = FittedScaler.nonzero((sq[c] / Double(rows)).squareRoot(), magnitude: abs(center[c])) }
        return FittedScaler(method: self, center: center, scale: scale)
    }

    /// Learns each column's center and scale.
    /// - Throws: ``LearningError`` for an empty matrix or non-finite values.
    /// - Complexity: O(rows × columns) (`.robust`: O(rows log rows × columns)).
    public func fit(_ matrix: Matrix) throws -> FittedScaler {
        // z-score reads every value into its column sums first; a sum of Float values in Double
        // cannot overflow, so it is finite exactly when every value is, and the full check
        // (which names the first bad value) runs only then. Other scalers check up front.
        if self == .zScore {
            guard matrix.rows > 0, matrix.columns > 0 else { throw LearningError.empty(operation: "Scaler.fit(\(rawValue))") }
        } else {
            try matrix.validate("Scaler.fit(\(rawValue))")
        }
        let rows = matrix.rows, columns = matrix.columns
        var center = [Double](repeating: 0, count: columns)
        var scale = [Double](repeating: 1, count: columns)
        switch self {
        case .zScore:
            // Row-order sums, in fixed row chunks when the table is large (chunk count from the
            // size only, partial sums added in chunk order), so the result never depends on the
            // thread count and a table of a few hundred thousand rows or fewer is one chunk.
            let chunks = Parallel.chunkCount(total: rows, minimumPerChunk: Scaler.rowsPerChunk)
            let sums = Scaler.chunkedColumnSums(matrix, chunks: chunks) { values, rows, out in
                Matrix.columnSums(values, rows: rows, columns: columns, into: out) { Double($0) }
            }
            if !sums.allSatisfy({ $0.isFinite }) { try matrix.validate("Scaler.fit(\(rawValue))") }
            center = sums.map { $0 / Double(rows) }
            let sq = center.withUnsafeBufferPointer { center in
                let center = UncheckedSendable(center)
                return Scaler.chunkedColumnSums(matrix, chunks: chunks) { v, rows, sq in
                    Scaler.squaredDeviations(v, rows: rows, columns: columns, center: center.value.baseAddress!, into: sq)
                }
            }
            for c in 0..<columns {
                let std = (sq[c] / Double(rows)).squareRoot()
                scale[c] = FittedScaler.nonzero(std, magnitude: abs(center[c]))
            }
        case .minMax:
            var lo = [Float](repeating: .infinity, count: columns)
            var hi = [Float](repeating: -.infinity, count: columns)
            matrix.values.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let base = r * columns
                    for c in 0..<columns { lo[c] = min(lo[c], v[base + c]); hi[c] = max(hi[c], v[base + c]) }
                }
            }
            for c in 0..<columns {
                center[c] = Double(lo[c])
                let range = Double(hi[c]) - Double(lo[c])
                scale[c] = range > 0 ? range : 1
            }
        case .robust:
            for c in 0..<columns {
                var values = matrix.column(c)
                center[c] = OrderStatistics.percentile(&values, 50)
                let iqr = OrderStatistics.percentile(&values, 75) - OrderStatistics.percentile(&values, 25)
                scale[c] = iqr > 0 ? iqr : 1
            }
        }
        return FittedScaler(method: self, center: center, scale: scale)
    }
}

/// Linear-interpolation percentile of sorted values (numpy's default `method="linear"`).
func percentile(_ sorted: [Double], _ q: Double) -> Double {
    precondition(!sorted.isEmpty, "percentile of an empty array")
    let position = q / 100 * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    let fraction = position - Double(lower)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
}

/// A scaler fitted on data: per-column `center` and `scale`; immutable and Codable (JSON models).
public struct FittedScaler: Codable, Equatable, Sendable {
    /// The method it was fitted with.
    public let method: Scaler
    /// Subtracted from each column.
    public let center: [Double]
    /// Each centred column is divided by this (never 0).
    public let scale: [Double]

    /// Number of features it was fitted on.
    public var columns: Int { center.count }

    /// Builds a fitted scaler from known parameters.
    /// - Precondition: equal lengths, nonzero finite scales.
    public init(method: Scaler, center: [Double], scale: [Double]) {
        precondition(center.count == scale.count, "FittedScaler: center (\(center.count)) and scale (\(scale.count)) differ in length")
        precondition(scale.allSatisfy { $0 != 0 && $0.isFinite }, "FittedScaler: scales must be finite and nonzero")
        self.method = method
        self.center = center
        self.scale = scale
    }

    /// A std that is zero up to rounding counts as zero (scikit-learn does the same, so constant
    /// columns stored as floats still become exactly 0).
    static func nonzero(_ std: Double, magnitude: Double) -> Double {
        (std == 0 || std < 1e-10 * magnitude) ? 1 : std
    }

    /// `(x − center) / scale` for every column.
    /// - Throws: ``LearningError/columnMismatch(operation:expected:actual:)``.
    /// - Complexity: O(rows × columns).
    public func transform(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == columns else {
            throw LearningError.columnMismatch(operation: "FittedScaler.transform", expected: columns, actual: matrix.columns)
        }
        let c = center, inv = scale.map { 1 / $0 }, columns = self.columns, rows = matrix.rows
        // Written straight into fresh storage (no copy of the input first), in fixed row chunks:
        // every element's arithmetic is the same whatever the thread count.
        let values = [Float](unsafeUninitializedCapacity: rows * columns) { out, initialized in
            matrix.values.withUnsafeBufferPointer { v in
                c.withUnsafeBufferPointer { c in
                    inv.withUnsafeBufferPointer { inv in
                        let out = UncheckedSendable(out), v = UncheckedSendable(v), c = UncheckedSendable(c), inv = UncheckedSendable(inv)
                        Parallel.forEachChunk(of: rows, chunkCount: Parallel.chunkCount(total: rows, minimumPerChunk: 65_536)) { range in
                            for r in range {
                                let base = r * columns
                                for j in 0..<columns {
                                    out.value[base + j] = Float((Double(v.value[base + j]) - c.value[j]) * inv.value[j])
                                }
                            }
                        }
                    }
                }
            }
            initialized = rows * columns
        }
        return Matrix(rows: rows, columns: columns, values: values)
    }

    /// Undoes ``transform(_:)``.
    public func inverseTransform(_ matrix: Matrix) throws -> Matrix {
        guard matrix.columns == columns else {
            throw LearningError.columnMismatch(operation: "FittedScaler.inverseTransform", expected: columns, actual: matrix.columns)
        }
        var out = matrix
        for r in 0..<matrix.rows {
            for j in 0..<columns { out.values[r * columns + j] = Float(Double(out.values[r * columns + j]) * scale[j] + center[j]) }
        }
        return out
    }
}
