import Testing
import CleaveCore
import CleaveLearning

/// ``ScaledRows`` (k-means on rows scaled on the fly, optionally only the rows a mask includes)
/// against the plain computation: copy the included rows, fit the scaler, scale the copy, run
/// ``KMeans`` and ``ClusterCloseness`` on it.
@Suite struct ScaledRowsTests {
    /// Rows around `clusters` centres with a wide range per column (as window moments: mean in
    /// the thousands, kurtosis near 0).
    static func table(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var random = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let c = Int(random.next(below: 3))
            for j in 0..<columns {
                let center = Float(c * 3 + j) * (j == 0 ? 900 : 1.5) + (j == 0 ? 6000 : 0)
                values[r * columns + j] = center + Float(Int(random.next(below: 2001)) - 1000) / (j == 0 ? 2 : 700)
            }
        }
        return Matrix(rows: rows, columns: columns, values: values)
    }

    /// A mask with long excluded runs (like a grid bar) and scattered excluded rows.
    static func mask(rows: Int, seed: UInt64) -> [Bool] {
        var random = SeededGenerator(seed: seed)
        return (0..<rows).map { r in !((r / 5000) % 4 == 1 || random.next(below: 10) == 0) }
    }

    /// A mask of long runs only (kept runs of thousands of rows at odd offsets, dark runs of
    /// 1 to 3 000 rows): the blocks are mostly whole runs of kept rows.
    static func runMask(rows: Int) -> [Bool] {
        (0..<rows).map { r in (r % 7_919) >= 2_999 && r % 4_001 != 17 && (r % 12_345) != 100 }
    }

    /// A mask of the shapes the block reader's shortcuts see: runs of kept and dark rows of
    /// lengths around 8 and around the block (999, 1000, 1001, 2000) at offsets that are not
    /// multiples of 8, scattered single rows, and all-kept and all-dark stretches.
    static func edgeMask(rows: Int, seed: UInt64) -> [Bool] {
        var random = SeededGenerator(seed: seed)
        var flags: [Bool] = []
        let lengths = [1, 7, 8, 9, 15, 16, 17, 999, 1000, 1001, 2000, 3]
        var on = random.next(below: 2) == 0
        while flags.count < rows {
            let length = random.next(below: 4) == 0 ? 1 + random.next(below: 40) : lengths[random.next(below: lengths.count)]
            if random.next(below: 6) == 0 {
                for _ in 0..<length { flags.append(random.next(below: 3) != 0) }  // a scattered stretch
            } else {
                flags.append(contentsOf: repeatElement(on, count: length))
            }
            on.toggle()
        }
        return Array(flags.prefix(rows))
    }

    /// The block reader (whole blocks read in place, runs of dark rows skipped eight flags at a
    /// time, runs of kept rows moved a word at a time) hands out exactly the included rows in
    /// order, in blocks of `ScaledRows.block` rows, with their values: the straightforward
    /// row-by-row selection. Every scan range the chunks use, and ranges starting and ending mid-run.
    @Test(arguments: [1, 4, 5])
    func blocksAreTheIncludedRowsInOrder(columns d: Int) throws {
        let rows = 23_457  // not a multiple of 8
        let raw = Self.table(rows: rows, columns: d, seed: UInt64(d) + 40)
        let scaler = try Scaler.zScore.fit(raw)
        let masks: [[Bool]?] = [nil, [Bool](repeating: true, count: rows), Self.edgeMask(rows: rows, seed: 3),
                                Self.edgeMask(rows: rows, seed: 8), Self.runMask(rows: rows), Self.mask(rows: rows, seed: 1),
                                (0..<rows).map { $0 % 2_000 < 1_000 || $0 == 1_500 }]
        for (m, included) in masks.enumerated() {
            let scaled = try ScaledRows(raw, scaler: scaler, including: included)
            var ranges = [0..<rows, 1..<rows, 7..<(rows - 3), 999..<2_001, 1_003..<1_003, 5..<13, rows - 9..<rows]
            let starts = ScaledRows.chunkStarts(included, includedCount: scaled.rows, tableRows: rows, chunks: 5)
            for c in 0..<5 { ranges.append(starts[c]..<starts[c + 1]) }
            for range in ranges {
                let kept = range.filter { included?[$0] ?? true }
                let expectedRows = Swift.stride(from: 0, to: kept.count, by: ScaledRows.block).map { Array(kept[$0..<min(kept.count, $0 + ScaledRows.block)]) }
                let blocks = scaled.blocks(in: range)
                #expect(blocks.map(\.tableRows) == expectedRows, "mask \(m) rows \(range) columns \(d)")
                for (block, tableRows) in zip(blocks, expectedRows) {
                    let values = tableRows.flatMap { r in (0..<d).map { raw.values[r * d + $0] } }
                    #expect(block.values.map(\.bitPattern) == values.map(\.bitPattern), "mask \(m) rows \(range) columns \(d)")
                }
            }
        }
    }

    /// The chunk starts (counted eight flags at a time) are those of the row-by-row count: 0, the
    /// table row of included row `n·c/chunks` for each chunk `c` (the table's end when there is
    /// none), the table's end; for masks of every shape, chunk counts from 1 to more than the
    /// included rows, and tables shorter than eight rows.
    @Test func chunkStartsAreThoseOfTheRowByRowCount() {
        func reference(_ included: [Bool], chunks: Int) -> [Int] {
            let keptRows = included.indices.filter { included[$0] }, n = keptRows.count
            return [0] + (1..<max(1, chunks)).map { c in n * c / chunks < n ? keptRows[n * c / chunks] : included.count } + [included.count]
        }
        var masks: [[Bool]] = [[], [true], [false], [false, false, true], [Bool](repeating: true, count: 7), [Bool](repeating: false, count: 9),
                               [Bool](repeating: true, count: 64), Self.runMask(rows: 40_001), Self.mask(rows: 30_000, seed: 2)]
        for seed in 0..<6 { masks.append(Self.edgeMask(rows: 5_000 + 997 * seed, seed: UInt64(seed))) }
        for (m, included) in masks.enumerated() {
            let n = included.filter { $0 }.count
            for chunks in [1, 2, 3, 5, 8, 64, n + 3] where chunks >= 1 {
                let starts = ScaledRows.chunkStarts(included, includedCount: n, tableRows: included.count, chunks: chunks)
                #expect(starts == reference(included, chunks: chunks), "mask \(m) (\(included.count) rows, \(n) kept) chunks \(chunks)")
            }
        }
        // Without a mask: the included rows split evenly.
        #expect(ScaledRows.chunkStarts(nil, includedCount: 10, tableRows: 10, chunks: 3) == [0, 3, 6, 10])
    }

    /// The table rows of included rows (found eight flags at a time) are those of the row-by-row
    /// walk: every included row, unsorted and repeated positions, the first and last included
    /// rows, on masks of every shape (runs around 8 and the block, scattered rows, all kept).
    @Test func tableRowsOfIncludedAreThoseOfTheRowByRowWalk() throws {
        var masks: [[Bool]] = [[true], [false, false, true], [Bool](repeating: true, count: 7), [true] + [Bool](repeating: false, count: 17) + [true],
                               [Bool](repeating: true, count: 64), Self.runMask(rows: 40_001), Self.mask(rows: 30_000, seed: 2)]
        for seed in 0..<4 { masks.append(Self.edgeMask(rows: 5_000 + 997 * seed, seed: UInt64(seed))) }
        let raw4 = Self.table(rows: 64, columns: 4, seed: 1)
        for (m, included) in masks.enumerated() {
            let keptRows = included.indices.filter { included[$0] }
            let raw = included.count == raw4.rows ? raw4 : Matrix(rows: included.count, columns: 1, values: [Float](repeating: 1, count: included.count))
            let scaler = FittedScaler(method: .zScore, center: [Double](repeating: 0, count: raw.columns), scale: [Double](repeating: 1, count: raw.columns))
            let scaled = try ScaledRows(raw, scaler: scaler, including: included)
            #expect(scaled.tableRows(ofIncluded: Array(keptRows.indices)) == keptRows, "mask \(m): every included row")
            var random = SeededGenerator(seed: UInt64(m))
            let positions = (0..<200).map { _ in random.next(below: keptRows.count) } + [0, keptRows.count - 1, 0]
            #expect(scaled.tableRows(ofIncluded: positions) == positions.map { keptRows[$0] }, "mask \(m): sampled positions")
        }
    }

    @Test(arguments: [(150_000, 4), (40_000, 5)])
    func equalsTheMaterialisedComputationBitForBit(rows: Int, columns: Int) throws {
        let raw = Self.table(rows: rows, columns: columns, seed: UInt64(columns))
        let kmeans = try KMeans(clusterCount: 3, seed: 4, sampleSize: 5_000)
        for included in [nil, Self.mask(rows: rows, seed: 9), Self.runMask(rows: rows)] {
            let keptRows = included.map { flags in flags.indices.filter { flags[$0] } } ?? Array(0..<rows)
            let copy = raw.selectingRows(keptRows)
            let scaler = try Scaler.zScore.fit(copy)
            if let included {
                let masked = try Scaler.zScore.fit(raw, including: included)
                #expect(masked.center.map(\.bitPattern) == scaler.center.map(\.bitPattern))
                #expect(masked.scale.map(\.bitPattern) == scaler.scale.map(\.bitPattern))
            }
            let space = try scaler.transform(copy)
            let plain = try kmeans.fitAssign(space)
            let scaled = try ScaledRows(raw, scaler: scaler, including: included)
            #expect(scaled.rows == keptRows.count)
            let rowValues = (0..<rows).map { Float($0 % 7) }
            let fitted = try scaled.kMeans(kmeans, rowValue: .stored(rowValues), fill: 3)
            // Labels: the k-means labels on the included rows, the fill elsewhere.
            var expected = [Int32](repeating: 3, count: rows)
            for (j, row) in keptRows.enumerated() { expected[row] = plain.labels[j] }
            #expect(fitted.labels == expected)
            // Cluster means of the scaled rows and of the row values (summed in another order: close).
            for c in 0..<3 {
                let members = keptRows.indices.filter { plain.labels[$0] == Int32(c) }
                #expect(fitted.counts[c] == members.count)
                let meanValue = members.reduce(0.0) { $0 + Double(rowValues[keptRows[$1]]) } / Double(members.count)
                #expect(abs(fitted.values[c] - meanValue) <= 1e-9 * max(1, meanValue))
                for j in 0..<columns {
                    let mean = members.reduce(0.0) { $0 + Double(space[$1, j]) } / Double(members.count)
                    #expect(abs(Double(fitted.centroids[c, j]) - mean) <= 1e-5 * max(1, abs(mean)))
                }
            }
            // Pass 2: renumbering, closeness to the chosen centre, its mask.
            var labels = fitted.labels
            let newIndex: [Int32] = [2, 0, 1]
            let centers = fitted.centroids.selectingRows([1, 2, 0])  // new order: old 1, 2, 0
            let pass = scaled.relabel(centers: centers, chosen: 1, labels: &labels, newIndex: newIndex)
            let closeness = ClusterCloseness.of(space, centroids: centers, to: 1)
            var expectedCloseness = [Float](repeating: 0, count: rows)
            for (j, row) in keptRows.enumerated() { expectedCloseness[row] = closeness[j] }
            #expect(pass.closeness.map(\.bitPattern) == expectedCloseness.map(\.bitPattern))
            #expect(labels == expected.map { $0 == 3 ? 3 : newIndex[Int($0)] })
            #expect(pass.chosen == labels.map { $0 == 1 })
            // Silhouette on the same sampled included rows as CleaveLearning's.
            let keptLabels = keptRows.map { labels[$0] }
            let reference = try silhouette(space, labels: keptLabels, sampleSize: 2_000, seed: 4)
            #expect(scaled.sampledSilhouette(labels, sampleSize: 2_000, seed: 4) == reference)
        }
    }

    /// The row value as a ratio of two raw columns (the Locator's std / mean of windows).
    @Test func ratioRowValueIsComputedFromTheRawColumns() throws {
        let raw = Self.table(rows: 12_000, columns: 4, seed: 2)
        let scaler = try Scaler.zScore.fit(raw)
        let scaled = try ScaledRows(raw, scaler: scaler)
        let centers = try KMeans(clusterCount: 2, seed: 1).fit(scaler.transform(raw)).centroids
        let byRatio = try scaled.assign(centers: centers, rowValue: .ratio(numerator: 1, denominator: 0), fill: 2)
        let ratios = (0..<raw.rows).map { raw[$0, 0] > 0 ? raw[$0, 1] / raw[$0, 0] : 0 }
        let stored = try scaled.assign(centers: centers, rowValue: .stored(ratios), fill: 2)
        #expect(byRatio.values.map(\.bitPattern) == stored.values.map(\.bitPattern))
        #expect(byRatio.labels == stored.labels)
    }

    /// Multi-chunk z-score with a mask equals the z-score of the copied rows bit for bit.
    @Test func maskedScalerFitEqualsTheFitOfTheCopy() throws {
        let rows = 700_000
        let raw = Self.table(rows: rows, columns: 4, seed: 5)
        let included = Self.mask(rows: rows, seed: 6)
        let copy = raw.selectingRows(included.indices.filter { included[$0] })
        let a = try Scaler.zScore.fit(raw, including: included), b = try Scaler.zScore.fit(copy)
        #expect(a.center.map(\.bitPattern) == b.center.map(\.bitPattern) && a.scale.map(\.bitPattern) == b.scale.map(\.bitPattern))
        let robust = try Scaler.robust.fit(raw, including: included)
        #expect(robust.center == (try Scaler.robust.fit(copy)).center)
        #expect(throws: LearningError.self) { try Scaler.zScore.fit(raw, including: [true]) }
        #expect(throws: LearningError.self) { try Scaler.zScore.fit(raw, including: [Bool](repeating: false, count: rows)) }
        #expect(throws: LearningError.self) { try ScaledRows(raw, scaler: a, including: [true, false]) }
    }
}
