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
                let centre = Float(c * 3 + j) * (j == 0 ? 900 : 1.5) + (j == 0 ? 6000 : 0)
                values[r * columns + j] = centre + Float(Int(random.next(below: 2001)) - 1000) / (j == 0 ? 2 : 700)
            }
        }
        return Matrix(rows: rows, columns: columns, values: values)
    }

    /// A mask with long excluded runs (like a grid bar) and scattered excluded rows.
    static func mask(rows: Int, seed: UInt64) -> [Bool] {
        var random = SeededGenerator(seed: seed)
        return (0..<rows).map { r in !((r / 5000) % 4 == 1 || random.next(below: 10) == 0) }
    }

    @Test(arguments: [(150_000, 4), (40_000, 5)])
    func equalsTheMaterialisedComputationBitForBit(rows: Int, columns: Int) throws {
        let raw = Self.table(rows: rows, columns: columns, seed: UInt64(columns))
        let kmeans = try KMeans(clusterCount: 3, seed: 4, sampleSize: 5_000)
        for included in [nil, Self.mask(rows: rows, seed: 9)] {
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
            let centres = fitted.centroids.selectingRows([1, 2, 0])  // new order: old 1, 2, 0
            let pass = scaled.relabel(centres: centres, chosen: 1, labels: &labels, newIndex: newIndex)
            let closeness = ClusterCloseness.of(space, centroids: centres, to: 1)
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
        let centres = try KMeans(clusterCount: 2, seed: 1).fit(scaler.transform(raw)).centroids
        let byRatio = try scaled.assign(centres: centres, rowValue: .ratio(numerator: 1, denominator: 0), fill: 2)
        let ratios = (0..<raw.rows).map { raw[$0, 0] > 0 ? raw[$0, 1] / raw[$0, 0] : 0 }
        let stored = try scaled.assign(centres: centres, rowValue: .stored(ratios), fill: 2)
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
