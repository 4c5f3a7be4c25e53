import CleaveCore

/// The rows of a large table (millions of sliding windows) with a fitted scaling applied on the
/// fly, so the scaled table is never built, optionally only the rows a mask includes (the others
/// are neither copied nor scaled; they get a fill label).
///
/// ```
///  raw rows ──┬─ sample (KMeans.sampleSize) ─ scale ─▶ k-means fit ─▶ centres
///             ├─ pass 1 (assign): scale block ─▶ nearest centre, per-chunk centre sums, row-value sums, counts
///             ├─ pass 2 (relabel): scale block ─▶ closeness to one centre, renumbered labels, that centre's mask
///             └─ silhouette sample ─ scale ─▶ silhouette
/// ```
///
/// Every scaled value is `Float((Double(x) − center) · (1 / scale))`, the expression of
/// ``FittedScaler/transform(_:)``, and the distances use the operations of ``KMeans`` and of
/// ``ClusterCloseness`` in the same order, so labels and closeness are those of the materialised
/// computation on `scaler.transform(raw.selectingRows(included rows))` bit for bit
/// (`ScaledRowsTests`). Rows are taken in fixed chunks of the included rows (the chunk count
/// depends on the included row count only), each in blocks of ``block`` rows, and the chunk sums
/// are combined in chunk order, so no result depends on the thread count.
public struct ScaledRows: Sendable {
    /// All rows (included and left out).
    public let raw: Matrix
    let center: [Double]
    let inverse: [Double]
    /// Which rows take part (nil: all).
    public let included: [Bool]?
    /// Number of included rows.
    public let rows: Int
    /// Chunk `c` holds included rows `rows·c/chunks ..< rows·(c+1)/chunks`; `chunkStart[c]` is the
    /// table row where its scan starts (0 for the first chunk, the table's end after the last).
    let chunkStart: [Int]

    public var columns: Int { raw.columns }
    /// Rows of the whole table.
    public var tableRows: Int { raw.rows }
    var chunkCount: Int { chunkStart.count - 1 }

    /// Rows processed together: transposed into a tile of `block × columns` floats. Not a power
    /// of two, so the tile's columns do not alias in the cache.
    public static let block = 1000

    /// - Parameters:
    ///   - raw: the table.
    ///   - scaler: fitted on the included rows (see ``Scaler/fit(_:including:)``).
    ///   - including: one flag per row of `raw`; nil = every row.
    /// - Throws: ``LearningError`` when the scaler was fitted on another column count or the mask has another length.
    public init(_ raw: Matrix, scaler: FittedScaler, including: [Bool]? = nil) throws {
        guard raw.columns == scaler.columns else {
            throw LearningError.columnMismatch(operation: "ScaledRows", expected: scaler.columns, actual: raw.columns)
        }
        if let including, including.count != raw.rows {
            throw LearningError.lengthMismatch(operation: "ScaledRows", expected: raw.rows, actual: including.count)
        }
        self.raw = raw
        center = scaler.center
        inverse = scaler.scale.map { 1 / $0 }
        included = including
        let n = including.map { ScaledRows.count($0) } ?? raw.rows
        rows = n
        let chunks = Parallel.chunkCount(total: n, minimumPerChunk: 65_536)
        chunkStart = ScaledRows.chunkStarts(including, includedCount: n, tableRows: raw.rows, chunks: chunks)
    }

    /// Number of true flags (counted a byte at a time, in 64 Ki chunks).
    public static func count(_ flags: [Bool]) -> Int {
        flags.withUnsafeBufferPointer { f in
            guard let base = f.baseAddress else { return 0 }
            let bytes = UnsafeRawPointer(base).assumingMemoryBound(to: UInt8.self)  // Bool is one byte, 0 or 1
            var total = 0, i = 0
            while i < f.count {
                let end = min(f.count, i + 65_536)
                var partial: UInt32 = 0
                for k in i..<end { partial &+= UInt32(bytes[k]) }
                total += Int(partial)
                i = end
            }
            return total
        }
    }

    /// Table row where the scan of each chunk of included rows starts (see ``chunkStart``): 0,
    /// then for chunk `c` the table row of included row `n·c/chunks` (the table's end when there
    /// is none), then the table's end; `n` is the number of true flags. Public for the kernel tests.
    public static func chunkStarts(_ included: [Bool]?, includedCount n: Int, tableRows: Int, chunks: Int) -> [Int] {
        guard let included else { return (0...chunks).map { n * $0 / chunks } }
        precondition(included.count == tableRows && chunks >= 1, "ScaledRows.chunkStarts: \(included.count) flags for \(tableRows) rows, \(chunks) chunks")
        var starts = [Int](repeating: tableRows, count: chunks + 1)
        starts[0] = 0
        var next = 1, seen = 0
        included.withUnsafeBufferPointer { flags in
            guard let base = flags.baseAddress else { return }  // an empty table: every start is its end (0)
            let bytes = UnsafeRawPointer(base).assumingMemoryBound(to: UInt8.self)  // a Bool is one byte, 0 or 1
            var row = 0
            while row < tableRows && next < chunks {
                // Eight flags at a time while the next chunk start is not among them.
                if row + 8 <= tableRows {
                    let ones = (UnsafeRawPointer(bytes + row).loadUnaligned(as: UInt64.self)).nonzeroBitCount
                    if ones == 0 || seen + ones <= n * next / chunks { seen += ones; row += 8; continue }
                }
                if flags[row] {
                    while next < chunks && seen == n * next / chunks { starts[next] = row; next += 1 }
                    seen += 1
                }
                row += 1
            }
        }
        return starts
    }

    /// Table rows of the included rows numbered `positions` (0-based among the included rows), in the given order.
    public func tableRows(ofIncluded positions: [Int]) -> [Int] {
        guard let included else { return positions }
        let order = positions.indices.sorted { positions[$0] < positions[$1] }
        var out = [Int](repeating: 0, count: positions.count)
        included.withUnsafeBufferPointer { flags in
            guard let base = flags.baseAddress else { return }
            let bytes = UnsafeRawPointer(base)  // a Bool is one byte, 0 or 1
            // `seen` included rows lie before table row `row`; eight flags per step while the
            // target is not among them (a sample row every ~160 table rows at 4096²: the
            // row-by-row walk was a serial pass over all 16.5 M flags, twice per run).
            var row = 0, seen = 0
            for i in order {
                let target = positions[i]
                precondition(target >= 0 && target < rows, "ScaledRows.tableRows: included row \(target) outside 0..<\(rows)")
                while true {
                    if row + 8 <= flags.count {
                        let ones = (bytes + row).loadUnaligned(as: UInt64.self).nonzeroBitCount
                        if seen + ones <= target { seen += ones; row += 8; continue }
                    }
                    if flags[row] {
                        if seen == target { break }
                        seen += 1
                    }
                    row += 1
                }
                out[i] = row
            }
        }
        return out
    }

    /// The scaled table rows `indices` (row-major).
    public func scaled(_ indices: [Int]) -> Matrix {
        let d = columns
        var values = [Float](repeating: 0, count: indices.count * d)
        raw.values.withUnsafeBufferPointer { v in
            for (r, i) in indices.enumerated() {
                for j in 0..<d { values[r * d + j] = Float((Double(v[i * d + j]) - center[j]) * inverse[j]) }
            }
        }
        return Matrix(rows: indices.count, columns: d, values: values)
    }

    /// Scaled rows (`count` rows of `d` floats at `first`) transposed into `tile` (column `j` at `tile + j · block`).
    /// Returns whether every value is finite.
    @inline(__always)
    static func scaleBlock(_ first: UnsafePointer<Float>, columns d: Int, count: Int,
                           center: UnsafePointer<Double>, inverse: UnsafePointer<Double>,
                           into tile: UnsafeMutablePointer<Float>) -> Bool {
        // Exponent bits plus one exponent step carry into bit 31 only when all ones (NaN, ±∞).
        var flags = SIMD4<UInt32>(repeating: 0)
        let exponent = SIMD4<UInt32>(repeating: 0x7F80_0000), step = SIMD4<UInt32>(repeating: 0x0080_0000)
        @inline(__always) func scale(_ v: SIMD4<Float>, _ c: SIMD4<Double>, _ s: SIMD4<Double>) -> SIMD4<Float> {
            let x = (SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) - c) * s
            let y = SIMD4<Float>(Float(x[0]), Float(x[1]), Float(x[2]), Float(x[3]))
            flags |= (unsafeBitCast(y, to: SIMD4<UInt32>.self) & exponent) &+ step
            return y
        }
        var i = 0
        if d == 4 {
            // Four rows of four features are 16 contiguous floats: split into the four columns.
            let c0 = SIMD4<Double>(repeating: center[0]), c1 = SIMD4<Double>(repeating: center[1])
            let c2 = SIMD4<Double>(repeating: center[2]), c3 = SIMD4<Double>(repeating: center[3])
            let s0 = SIMD4<Double>(repeating: inverse[0]), s1 = SIMD4<Double>(repeating: inverse[1])
            let s2 = SIMD4<Double>(repeating: inverse[2]), s3 = SIMD4<Double>(repeating: inverse[3])
            let raw = UnsafeRawPointer(first), out = UnsafeMutableRawPointer(tile)
            while i + 4 <= count {
                let a = (raw + i * 16).loadUnaligned(as: SIMD16<Float>.self)
                let even = a.evenHalf, odd = a.oddHalf  // columns 0, 2 / 1, 3 of the four rows, interleaved
                (out + 4 * i).storeBytes(of: scale(even.evenHalf, c0, s0), as: SIMD4<Float>.self)
                (out + 4 * (block + i)).storeBytes(of: scale(odd.evenHalf, c1, s1), as: SIMD4<Float>.self)
                (out + 4 * (2 * block + i)).storeBytes(of: scale(even.oddHalf, c2, s2), as: SIMD4<Float>.self)
                (out + 4 * (3 * block + i)).storeBytes(of: scale(odd.oddHalf, c3, s3), as: SIMD4<Float>.self)
                i += 4
            }
        }
        var flag: UInt32 = flags[0] | flags[1] | flags[2] | flags[3]
        for j in 0..<d {
            let c = center[j], s = inverse[j], column = tile + j * block
            for r in i..<count {
                let y = Float((Double(first[r * d + j]) - c) * s)
                column[r] = y
                flag |= (y.bitPattern & 0x7F80_0000) &+ 0x0080_0000
            }
        }
        return flag & 0x8000_0000 == 0
    }

    /// A cursor over the included rows of one chunk that hands them out in blocks: contiguous
    /// rows are read in place, rows behind a mask are first gathered into a block buffer.
    struct BlockReader {
        let source: UnsafePointer<Float>
        let included: UnsafePointer<Bool>?
        let d: Int
        let end: Int
        var row: Int
        let gathered: UnsafeMutablePointer<Float>
        /// Table row of each row of the current block.
        let tableRow: UnsafeMutablePointer<Int>

        init(source: UnsafePointer<Float>, included: UnsafePointer<Bool>?, columns d: Int, rows: Range<Int>) {
            self.source = source; self.included = included; self.d = d
            end = rows.upperBound; row = rows.lowerBound
            gathered = .allocate(capacity: ScaledRows.block * d)
            tableRow = .allocate(capacity: ScaledRows.block)
        }
        func deallocate() { gathered.deallocate(); tableRow.deallocate() }

        /// The next block's rows (row-major, `count` rows), or nil at the chunk's end.
        mutating func next() -> (rows: UnsafePointer<Float>, count: Int)? {
            guard let included else {
                guard row < end else { return nil }
                let count = min(ScaledRows.block, end - row)
                for i in 0..<count { tableRow[i] = row + i }
                defer { row += count }
                return (source + row * d, count)
            }
            // The next `block` included rows (the same blocks as row by row): eight flags per
            // step where they are all off (a run of dark windows) or all on and fit the block.
            let flags = UnsafeRawPointer(included).assumingMemoryBound(to: UInt8.self)  // a Bool is one byte, 0 or 1
            if row + ScaledRows.block <= end {
                // A whole block of included rows (the usual case away from the dark runs) is read in place.
                var all = true, k = 0
                while all && k < ScaledRows.block {
                    all = UnsafeRawPointer(flags + row + k).loadUnaligned(as: UInt64.self) == 0x0101_0101_0101_0101
                    k += 8
                }
                if all {
                    for i in 0..<ScaledRows.block { tableRow[i] = row + i }
                    defer { row += ScaledRows.block }
                    return (source + row * d, ScaledRows.block)
                }
            }
            var count = 0
            while row < end && count < ScaledRows.block {
                if row + 8 <= end {
                    let word = UnsafeRawPointer(flags + row).loadUnaligned(as: UInt64.self)
                    if word == 0 { row += 8; continue }
                    if word == 0x0101_0101_0101_0101 && count + 8 <= ScaledRows.block {
                        (gathered + count * d).update(from: source + row * d, count: 8 * d)
                        for i in 0..<8 { tableRow[count + i] = row + i }
                        count += 8; row += 8
                        continue
                    }
                }
                if included[row] {
                    if d == 4 {  // one 16-byte move, not a call
                        let v = UnsafeRawPointer(source + row * 4).loadUnaligned(as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(gathered + count * 4).storeBytes(of: v, as: SIMD4<Float>.self)
                    } else {
                        (gathered + count * d).update(from: source + row * d, count: d)
                    }
                    tableRow[count] = row
                    count += 1
                }
                row += 1
            }
            return count > 0 ? (UnsafePointer(gathered), count) : nil
        }
    }

    /// The blocks the kernels process for the table rows `rows` (a chunk's scan range): the
    /// included rows among them in order, in blocks of ``block`` rows (the last one shorter), each
    /// with its table rows and its row-major values as the kernels read them (in place or
    /// gathered). For the kernel tests and diagnostics.
    public func blocks(in rows: Range<Int>) -> [(tableRows: [Int], values: [Float])] {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= tableRows, "ScaledRows.blocks: rows \(rows) outside 0..<\(tableRows)")
        guard !rows.isEmpty else { return [] }
        let d = columns
        let flags: [Bool] = included ?? []
        return raw.values.withUnsafeBufferPointer { source in
            flags.withUnsafeBufferPointer { flags in
                var reader = BlockReader(source: source.baseAddress!, included: included == nil ? nil : flags.baseAddress!,
                                         columns: d, rows: rows)
                defer { reader.deallocate() }
                var out: [(tableRows: [Int], values: [Float])] = []
                while let next = reader.next() {
                    out.append((Array(UnsafeBufferPointer(start: reader.tableRow, count: next.count)),
                                Array(UnsafeBufferPointer(start: next.rows, count: next.count * d))))
                }
                return out
            }
        }
    }

    /// A value per row whose mean per cluster ``assign(centres:rowValue:fill:)`` reports.
    public enum RowValue: Sendable {
        /// One value per table row.
        case stored([Float])
        /// `raw[numerator] / raw[denominator]` in Float, 0 unless the denominator is > 0.
        case ratio(numerator: Int, denominator: Int)
    }

    /// What pass 1 gives.
    public struct Assignment: Sendable {
        /// Nearest centre of every table row; `fill` on rows left out.
        public var labels: [Int32]
        /// Mean scaled row of each cluster (`clusterCount × columns`; zeros for an empty cluster).
        public var centroids: Matrix
        /// Mean row value of each cluster (`-∞` for an empty one).
        public var values: [Double]
        /// Included rows per cluster.
        public var counts: [Int]
    }

    /// k-means as ``KMeans/fitAssign(_:)`` on the scaled included rows (centres fitted on the
    /// k-means sample), then pass 1 (``assign(centres:rowValue:fill:)``).
    /// - Throws: ``LearningError`` for bad parameters, non-finite scaled values or no more included rows than the sample.
    public func kMeans(_ kmeans: KMeans, rowValue: RowValue, fill: Int32) throws -> Assignment {
        guard let sample = kmeans.sampledRows(rowCount: rows) else {
            throw LearningError.invalidParameter(operation: "ScaledRows.kMeans", name: "rows", value: "\(rows)",
                                                 reason: "not more than the k-means sample (\(kmeans.sampleSize)); scale the table and use KMeans")
        }
        let model = try kmeans.fit(scaled(tableRows(ofIncluded: sample)))
        return try assign(centers: model.centroids, rowValue: rowValue, fill: fill)
    }

    /// Pass 1: the nearest of `centres` for every included row (squared distance, columns summed
    /// in order — a product, then fused multiply-adds, as ``KMeans``; ties to the lower index),
    /// then each cluster's sums of scaled values, row values and members, in four lanes (rows
    /// 4i, 4i + 1, … of each block) combined in a fixed order at the end of each chunk.
    /// - Throws: ``LearningError/notFinite(operation:row:column:)`` when a scaled value is not finite.
    public func assign(centers: Matrix, rowValue: RowValue, fill: Int32) throws -> Assignment {
        let d = columns, k = centers.rows
        precondition(centers.columns == d, "ScaledRows.assign: centres have \(centers.columns) columns, rows \(d)")
        let chunks = chunkCount, tableCount = raw.rows
        var labels = [Int32](unsafeUninitializedLargeCount: tableCount) { _ in }  // every row written below
        // Per chunk: k·d centre sums, k value sums (Double), k counts, a finite flag.
        var sums = [Double](repeating: 0, count: chunks * (k * d + k))
        var counts = [Int](repeating: 0, count: chunks * k)
        var finite = [Bool](repeating: true, count: chunks)
        var stored: [Float] = [0]
        var numerator = -1, denominator = -1
        switch rowValue {
        case let .stored(values):
            precondition(values.count == tableCount, "ScaledRows.assign: \(values.count) row values for \(tableCount) rows")
            stored = values
        case let .ratio(n, m): numerator = n; denominator = m
        }
        let fullTable = included == nil
        let mask: [Bool] = included ?? []
        labels.withUnsafeMutableBufferPointer { labelBuffer in
            sums.withUnsafeMutableBufferPointer { sumBuffer in
                counts.withUnsafeMutableBufferPointer { countBuffer in
                    finite.withUnsafeMutableBufferPointer { finiteBuffer in
                        raw.values.withUnsafeBufferPointer { source in
                            center.withUnsafeBufferPointer { center in
                                inverse.withUnsafeBufferPointer { inverse in
                                    centers.values.withUnsafeBufferPointer { centers in
                                        stored.withUnsafeBufferPointer { stored in
                                            mask.withUnsafeBufferPointer { mask in
                                                let box = AssignBuffers(labels: labelBuffer.baseAddress!, sums: sumBuffer.baseAddress!,
                                                                        counts: countBuffer.baseAddress!, finite: finiteBuffer.baseAddress!,
                                                                        source: source.baseAddress!, center: center.baseAddress!,
                                                                        inverse: inverse.baseAddress!, centers: centers.baseAddress!,
                                                                        stored: stored.baseAddress!, numerator: numerator,
                                                                        denominator: denominator,
                                                                        included: fullTable ? nil : mask.baseAddress!, fill: fill)
                                                let starts = chunkStart
                                                Parallel.forEach(chunks) { c in
                                                    box.finite[c] = ScaledRows.assignKernel(
                                                        box, columns: d, centerCount: k, rows: starts[c]..<starts[c + 1],
                                                        sums: box.sums + c * (k * d + k), counts: box.counts + c * k)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bad = finite.firstIndex(of: false) {
            throw LearningError.notFinite(operation: "ScaledRows.assign (scaled values from table row \(chunkStart[bad]) on)", row: chunkStart[bad], column: 0)
        }
        // Combine the chunks in chunk order.
        var centerSums = [Double](repeating: 0, count: k * d), valueSums = [Double](repeating: 0, count: k)
        var total = [Int](repeating: 0, count: k)
        for c in 0..<chunks {
            let base = c * (k * d + k)
            for i in 0..<(k * d) { centerSums[i] += sums[base + i] }
            for i in 0..<k { valueSums[i] += sums[base + k * d + i]; total[i] += counts[c * k + i] }
        }
        var means = [Float](repeating: 0, count: k * d)
        for c in 0..<k where total[c] > 0 {
            for j in 0..<d { means[c * d + j] = Float(centerSums[c * d + j] / Double(total[c])) }
        }
        let values = (0..<k).map { total[$0] > 0 ? valueSums[$0] / Double(total[$0]) : -.infinity }
        return Assignment(labels: labels, centroids: Matrix(rows: k, columns: d, values: means), values: values, counts: total)
    }

    struct AssignBuffers: @unchecked Sendable {
        let labels: UnsafeMutablePointer<Int32>
        let sums: UnsafeMutablePointer<Double>
        let counts: UnsafeMutablePointer<Int>
        let finite: UnsafeMutablePointer<Bool>
        let source: UnsafePointer<Float>
        let center: UnsafePointer<Double>
        let inverse: UnsafePointer<Double>
        let centers: UnsafePointer<Float>
        /// Stored row values (when `numerator` < 0).
        let stored: UnsafePointer<Float>
        /// Raw columns whose ratio is the row value, else -1.
        let numerator: Int
        let denominator: Int
        let included: UnsafePointer<Bool>?
        let fill: Int32
    }

    /// Pass 1 over the table rows `rows` (one chunk).
    static func assignKernel(_ b: AssignBuffers, columns d: Int, centerCount k: Int, rows: Range<Int>,
                             sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>) -> Bool {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: block * d)
        tile.initialize(repeating: 0, count: block * d)  // lanes past a short block read zeros
        let bestLabel = UnsafeMutablePointer<Int32>.allocate(capacity: block)
        // Lane accumulators: k·d centre sums, k value sums, k counts.
        let accumulators = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: k * d + 2 * k)
        accumulators.initialize(repeating: .zero, count: k * d + 2 * k)
        var reader = BlockReader(source: b.source, included: b.included, columns: d, rows: rows)
        defer { tile.deallocate(); bestLabel.deallocate(); accumulators.deallocate(); reader.deallocate() }
        if let included = b.included {
            for row in rows where !included[row] { b.labels[row] = b.fill }
        }
        let valueAccumulators = accumulators + k * d, countAccumulators = valueAccumulators + k
        let tableRow = reader.tableRow
        // The value of block row `i` (`block` holds the block's rows, row-major).
        @inline(__always) func rowValue(_ blockRows: UnsafePointer<Float>, _ i: Int) -> Double {
            if b.numerator >= 0 {
                let top = blockRows[i * d + b.numerator], bottom = blockRows[i * d + b.denominator]
                return Double(bottom > 0 ? top / bottom : 0)
            }
            return Double(b.stored[tableRow[i]])
        }
        // The values of block rows `i ..< i + 4`.
        @inline(__always) func values4(_ blockRows: UnsafePointer<Float>, _ i: Int) -> SIMD4<Double> {
            if b.numerator >= 0 {
                let p = blockRows + i &* d
                let bottom = SIMD4<Float>(p[b.denominator], p[d &+ b.denominator], p[2 &* d &+ b.denominator], p[3 &* d &+ b.denominator])
                let top = SIMD4<Float>(p[b.numerator], p[d &+ b.numerator], p[2 &* d &+ b.numerator], p[3 &* d &+ b.numerator])
                let ratio = ScaledRows.select(top / bottom, where: bottom .> 0)  // bottom > 0 ? top / bottom : 0
                return SIMD4<Double>(Double(ratio[0]), Double(ratio[1]), Double(ratio[2]), Double(ratio[3]))
            }
            return SIMD4<Double>(rowValue(blockRows, i), rowValue(blockRows, i &+ 1), rowValue(blockRows, i &+ 2), rowValue(blockRows, i &+ 3))
        }
        var allFinite = true
        while let next = reader.next() {
            let blockRows = next.rows, count = next.count
            allFinite = scaleBlock(blockRows, columns: d, count: count, center: b.center, inverse: b.inverse, into: tile) && allFinite
            // Nearest centre, eight rows per step (block is a multiple of 8).
            var i = 0
            while i < count {
                let label = d == 4
                    ? nearest8(columns4: tile + i, centers: b.centers, centerCount: k)
                    : nearest8(tile + i, columns: d, centers: b.centers, centerCount: k)
                UnsafeMutableRawPointer(bestLabel + i).storeBytes(of: label, as: SIMD8<Int32>.self)
                i &+= 8
            }
            if tableRow[count - 1] - tableRow[0] == count - 1 {  // contiguous rows (increasing): one copy
                (b.labels + tableRow[0]).update(from: bestLabel, count: count)
            } else {
                for r in 0..<count { b.labels[tableRow[r]] = bestLabel[r] }
            }
            // Cluster sums, four rows per step: a row adds its value in its cluster's lane and 0 elsewhere.
            @inline(__always) func column(_ j: Int, _ i: Int) -> SIMD4<Double> {
                let x = UnsafeRawPointer(tile + (j &* ScaledRows.block &+ i)).loadUnaligned(as: SIMD4<Float>.self)
                return SIMD4<Double>(Double(x[0]), Double(x[1]), Double(x[2]), Double(x[3]))
            }
            i = 0
            while i + 4 <= count {
                let l = SIMD4<Double>(Double(bestLabel[i]), Double(bestLabel[i &+ 1]), Double(bestLabel[i &+ 2]), Double(bestLabel[i &+ 3]))
                let value = values4(blockRows, i)
                let ones = SIMD4<Double>(repeating: 1)
                if d == 4 {
                    let x0 = column(0, i), x1 = column(1, i), x2 = column(2, i), x3 = column(3, i)
                    for c in 0..<k {
                        let inside = l .== SIMD4<Double>(repeating: Double(c))
                        let a = accumulators + c &* 4
                        a[0] += select(x0, where: inside)
                        a[1] += select(x1, where: inside)
                        a[2] += select(x2, where: inside)
                        a[3] += select(x3, where: inside)
                        valueAccumulators[c] += select(value, where: inside)
                        countAccumulators[c] += select(ones, where: inside)
                    }
                } else {
                    for c in 0..<k {
                        let inside = l .== SIMD4<Double>(repeating: Double(c))
                        for j in 0..<d { accumulators[c &* d &+ j] += select(column(j, i), where: inside) }
                        valueAccumulators[c] += select(value, where: inside)
                        countAccumulators[c] += select(ones, where: inside)
                    }
                }
                i &+= 4
            }
            while i < count {  // the rest of a short block: lane 0
                let c = Int(bestLabel[i])
                for j in 0..<d { accumulators[c * d + j][0] += Double(tile[j * block + i]) }
                valueAccumulators[c][0] += rowValue(blockRows, i)
                countAccumulators[c][0] += 1
                i += 1
            }
        }
        @inline(__always) func total(_ v: SIMD4<Double>) -> Double { (v[0] + v[1]) + (v[2] + v[3]) }
        for i in 0..<(k * d) { sums[i] = total(accumulators[i]) }
        for c in 0..<k { sums[k * d + c] = total(valueAccumulators[c]); counts[c] = Int(total(countAccumulators[c])) }
        return allFinite
    }

    /// `value` where `mask` is set, +0 elsewhere (a bitwise and: no per-lane branches).
    @inline(__always)
    static func select(_ value: SIMD4<Double>, where mask: SIMDMask<SIMD4<Int64>>) -> SIMD4<Double> {
        unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt64>.self) & unsafeBitCast(mask, to: SIMD4<UInt64>.self), to: SIMD4<Double>.self)
    }

    /// `value` where `mask` is set, +0 elsewhere.
    @inline(__always)
    static func select(_ value: SIMD4<Float>, where mask: SIMDMask<SIMD4<Int32>>) -> SIMD4<Float> {
        unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt32>.self) & unsafeBitCast(mask, to: SIMD4<UInt32>.self), to: SIMD4<Float>.self)
    }

    /// The nearest of `k` centres for eight transposed rows (column `j` at `rows + j · block`):
    /// squared distance with the columns summed in order (a product, then fused multiply-adds, as
    /// ``KMeans``), ties to the lower index.
    @inline(__always)
    static func nearest8(_ rows: UnsafePointer<Float>, columns d: Int, centers: UnsafePointer<Float>, centerCount k: Int) -> SIMD8<Int32> {
        typealias Lanes = SIMD8<Float>
        var best = Lanes(repeating: .infinity), label = SIMD8<Int32>(repeating: 0)
        for c in 0..<k {
            let q = centers + c &* d
            var v = UnsafeRawPointer(rows).loadUnaligned(as: Lanes.self) - Lanes(repeating: q[0])
            var s = v * v
            for j in 1..<max(d, 1) {
                v = UnsafeRawPointer(rows + j &* block).loadUnaligned(as: Lanes.self) - Lanes(repeating: q[j])
                s.addProduct(v, v)
            }
            let closer = s .< best
            best.replace(with: s, where: closer)
            label.replace(with: SIMD8(repeating: Int32(c)), where: closer)
        }
        return label
    }

    /// ``nearest8(_:columns:centres:centreCount:)`` for four columns (the sliding-window moments):
    /// the rows stay in registers across the centres.
    @inline(__always)
    static func nearest8(columns4 rows: UnsafePointer<Float>, centers: UnsafePointer<Float>, centerCount k: Int) -> SIMD8<Int32> {
        typealias Lanes = SIMD8<Float>
        let x0 = UnsafeRawPointer(rows).loadUnaligned(as: Lanes.self)
        let x1 = UnsafeRawPointer(rows + block).loadUnaligned(as: Lanes.self)
        let x2 = UnsafeRawPointer(rows + 2 * block).loadUnaligned(as: Lanes.self)
        let x3 = UnsafeRawPointer(rows + 3 * block).loadUnaligned(as: Lanes.self)
        var best = Lanes(repeating: .infinity), label = SIMD8<Int32>(repeating: 0)
        for c in 0..<k {
            let q = centers + c &* 4
            var v = x0 - Lanes(repeating: q[0])
            var s = v * v
            v = x1 - Lanes(repeating: q[1]); s.addProduct(v, v)
            v = x2 - Lanes(repeating: q[2]); s.addProduct(v, v)
            v = x3 - Lanes(repeating: q[3]); s.addProduct(v, v)
            let closer = s .< best
            best.replace(with: s, where: closer)
            label.replace(with: SIMD8(repeating: Int32(c)), where: closer)
        }
        return label
    }

    /// What pass 2 gives.
    public struct Relabelled: Sendable {
        /// Closeness of every table row to the chosen centre (``ClusterCloseness``); 0 on rows left out.
        public var closeness: [Float]
        /// Whether each table row's new label is the chosen one (false on rows left out).
        public var chosen: [Bool]
    }

    /// Pass 2: renumbers the included rows' `labels` in place (`labels[j] = newIndex[labels[j]]`;
    /// rows left out keep theirs) and computes every row's closeness to centre `chosen` of
    /// `centres` (already in the new numbering) and the chosen cluster's mask.
    public func relabel(centers: Matrix, chosen: Int, labels: inout [Int32], newIndex: [Int32]) -> Relabelled {
        let n = raw.rows, d = columns, k = centers.rows
        precondition(labels.count == n && newIndex.count == k && centers.columns == d, "ScaledRows.relabel: sizes do not match")
        var heat = [Float](unsafeUninitializedLargeCount: n) { _ in }  // every row written below
        var mask = [Bool](unsafeUninitializedLargeCount: n) { _ in }
        let included: [Bool] = self.included ?? []
        let fullTable = self.included == nil
        heat.withUnsafeMutableBufferPointer { heat in
            mask.withUnsafeMutableBufferPointer { mask in
                labels.withUnsafeMutableBufferPointer { labels in
                    newIndex.withUnsafeBufferPointer { newIndex in
                        raw.values.withUnsafeBufferPointer { source in
                            center.withUnsafeBufferPointer { center in
                                inverse.withUnsafeBufferPointer { inverse in
                                    centers.values.withUnsafeBufferPointer { centers in
                                        included.withUnsafeBufferPointer { included in
                                            let box = RelabelBuffers(heat: heat.baseAddress!, mask: mask.baseAddress!, labels: labels.baseAddress!,
                                                                     newIndex: newIndex.baseAddress!, source: source.baseAddress!,
                                                                     center: center.baseAddress!, inverse: inverse.baseAddress!,
                                                                     centers: centers.baseAddress!,
                                                                     included: fullTable ? nil : included.baseAddress!)
                                            let starts = chunkStart
                                            Parallel.forEach(chunkCount) { c in
                                                ScaledRows.relabelKernel(box, columns: d, centerCount: k, chosen: chosen,
                                                                         rows: starts[c]..<starts[c + 1])
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Relabelled(closeness: heat, chosen: mask)
    }

    struct RelabelBuffers: @unchecked Sendable {
        let heat: UnsafeMutablePointer<Float>
        let mask: UnsafeMutablePointer<Bool>
        let labels: UnsafeMutablePointer<Int32>
        let newIndex: UnsafePointer<Int32>
        let source: UnsafePointer<Float>
        let center: UnsafePointer<Double>
        let inverse: UnsafePointer<Double>
        let centers: UnsafePointer<Float>
        let included: UnsafePointer<Bool>?
    }

    static func relabelKernel(_ b: RelabelBuffers, columns d: Int, centerCount k: Int, chosen: Int, rows: Range<Int>) {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: block * d)
        tile.initialize(repeating: 0, count: block * d)
        let closeness = UnsafeMutablePointer<Float>.allocate(capacity: block)
        var reader = BlockReader(source: b.source, included: b.included, columns: d, rows: rows)
        defer { tile.deallocate(); closeness.deallocate(); reader.deallocate() }
        if let included = b.included {
            for row in rows where !included[row] { b.heat[row] = 0; b.mask[row] = false }
        }
        let p = Int32(chosen), tableRow = reader.tableRow
        while let next = reader.next() {
            let blockRows = next.rows, count = next.count
            _ = scaleBlock(blockRows, columns: d, count: count, center: b.center, inverse: b.inverse, into: tile)
            // Table rows increase, so a block whose last row is `count − 1` after its first is
            // contiguous (every block of an unmasked table; most of a masked one, read in place).
            if b.included == nil || tableRow[count - 1] - tableRow[0] == count - 1 {
                // Contiguous rows: closeness, renumbering and flags straight into the outputs.
                let start = tableRow[0]
                ClusterCloseness.ofTile(tile, stride: ScaledRows.block, count: count, columns: d, centers: b.centers, centerCount: k,
                                        chosen: chosen, out: b.heat + start)
                let labels = b.labels + start, mask = b.mask + start
                // For up to four clusters a chain of selects, which the compiler vectorises; beyond that a table lookup.
                if k <= 4 {
                    let t0 = b.newIndex[0], t1 = k > 1 ? b.newIndex[1] : 0, t2 = k > 2 ? b.newIndex[2] : 0, t3 = k > 3 ? b.newIndex[3] : 0
                    for i in 0..<count {
                        let old = labels[i]
                        let label = old == 0 ? t0 : (old == 1 ? t1 : (old == 2 ? t2 : t3))
                        labels[i] = label
                        mask[i] = label == p
                    }
                } else {
                    for i in 0..<count {
                        let label = b.newIndex[Int(labels[i])]
                        labels[i] = label
                        mask[i] = label == p
                    }
                }
                continue
            }
            ClusterCloseness.ofTile(tile, stride: ScaledRows.block, count: count, columns: d, centers: b.centers, centerCount: k,
                                    chosen: chosen, out: closeness)
            for i in 0..<count {
                let row = tableRow[i]
                let label = b.newIndex[Int(b.labels[row])]
                b.labels[row] = label
                b.mask[row] = label == p
                b.heat[row] = closeness[i]
            }
        }
    }

    /// The mean silhouette of the included rows' `labels` (table-row labels) on `sampleSize`
    /// included rows drawn as ``silhouetteSampleRows(rowCount:sampleSize:seed:)`` draws them,
    /// scaling only the sampled rows; nil when it is not defined (fewer than two clusters in the sample, …).
    public func sampledSilhouette(_ labels: [Int32], sampleSize: Int, seed: UInt64) -> Double? {
        let sample = tableRows(ofIncluded: silhouetteSampleRows(rowCount: rows, sampleSize: sampleSize, seed: seed))
        return try? silhouette(scaled(sample), labels: sample.map { labels[$0] })
    }
}
