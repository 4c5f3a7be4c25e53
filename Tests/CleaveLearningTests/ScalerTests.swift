import Testing
import Foundation
import CleaveLearning

@Suite struct ScalerTests {
    // X = fixture(12, 3, 2); X[:, 1] = 5.0
    // for S in (StandardScaler(), MinMaxScaler(), RobustScaler()):
    //     T = S.fit_transform(X.astype(np.float64)); print(T[0], T[7])
    static let cases: [(Scaler, [Double], [Double])] = [
        (.zScore, [-1.1727675859047437, 0.0, 1.486157359025341], [1.0713795605238499, 0.0, -1.2698300458751328]),
        (.minMax, [0.14506835009876903, 0.0, 1.0], [0.8802868429023928, 0.0, 0.0]),
        (.robust, [-0.5854272892753745, 0.0, 0.7930859649956451], [0.7488158200655928, 0.0, -0.7327220754380467]),
    ]

    func data() -> Matrix {
        var x = fixture(rows: 12, columns: 3, clusters: 2)
        for r in 0..<12 { x[r, 1] = 5 }
        return x
    }

    @Test(arguments: 0..<3) func matchesScikitLearn(index: Int) throws {
        let (method, row0, row7) = Self.cases[index]
        let fitted = try method.fit(data())
        let t = try fitted.transform(data())
        #expect(close(t.row(0).map(Double.init), row0, 1e-5))
        #expect(close(t.row(7).map(Double.init), row7, 1e-5))
        #expect(t.column(1).allSatisfy { $0 == 0 }, "constant column must become exactly 0")
    }

    @Test func roundTripsAndCodes() throws {
        let fitted = try Scaler.zScore.fit(data())
        let back = try fitted.inverseTransform(try fitted.transform(data()))
        #expect(zip(back.values, data().values).allSatisfy { abs($0 - $1) < 1e-5 })
        let json = try JSONEncoder().encode(fitted)
        #expect(try JSONDecoder().decode(FittedScaler.self, from: json) == fitted)
    }

    @Test func rejectsBadInput() throws {
        #expect(throws: LearningError.self) { try Scaler.zScore.fit(Matrix(rows: 0, columns: 3)) }
        let nan = Matrix(rows: 1, columns: 2, values: [1, .nan])
        #expect(throws: LearningError.notFinite(operation: "Scaler.fit(zScore)", row: 0, column: 1)) { try Scaler.zScore.fit(nan) }
        let fitted = try Scaler.zScore.fit(data())
        #expect(throws: LearningError.columnMismatch(operation: "FittedScaler.transform", expected: 3, actual: 2)) {
            try fitted.transform(Matrix(rows: 1, columns: 2))
        }
    }
}

@Suite struct RobustScalerSelectionTests {
    // X = fixture(1001, 3, 4, spread=3.0).astype(np.float64); X[::7, 1] = 2.5  (many ties)
    // r = RobustScaler().fit(X); r.center_, r.scale_   and the same on X[:1000] (interpolated quartiles)
    @Test(arguments: [
        (1001, [-1.6489222049713135, -3.1707091331481934, -1.986345648765564], [7.443487763404846, 8.240419626235962, 6.304505705833435]),
        (1000, [-1.6484283208847046, -3.195992588996887, -1.987798810005188], [8.081685900688171, 8.227646291255951, 6.3089419305324554]),
    ])
    func quartilesBySelectionMatchScikitLearn(rows: Int, center: [Double], scale: [Double]) throws {
        var x = fixture(rows: 1001, columns: 3, clusters: 4, spread: 3)
        for r in stride(from: 0, to: 1001, by: 7) { x[r, 1] = 2.5 }
        let fitted = try Scaler.robust.fit(x.selectingRows(0..<rows))
        #expect(close(fitted.center, center, 1e-6))
        #expect(close(fitted.scale, scale, 1e-6))
    }
    /// A table of more than 2 × 2¹⁸ rows is fitted in fixed row chunks side by side; mean and
    /// population std must still be those of the whole column (checked against a plain Double
    /// sum, to 1e-12 relative) and fitting twice gives the same bits.
    @Test func largeTablesAreFittedInChunksWithTheSameStatistics() throws {
        let rows = 600_001, columns = 5
        var values = [Float](repeating: 0, count: rows * columns)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in values.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values[i] = Float(i % columns) * 100 + Float(state >> 40) / Float(1 << 24)
        }
        let x = Matrix(rows: rows, columns: columns, values: values)
        let fitted = try Scaler.zScore.fit(x)
        for c in 0..<columns {
            var sum = 0.0
            for r in 0..<rows { sum += Double(values[r * columns + c]) }
            let mean = sum / Double(rows)
            var sq = 0.0
            for r in 0..<rows { let d = Double(values[r * columns + c]) - mean; sq += d * d }
            let std = (sq / Double(rows)).squareRoot()
            #expect(abs(fitted.center[c] - mean) <= 1e-12 * abs(mean))
            #expect(abs(fitted.scale[c] - std) <= 1e-12 * std)
        }
        #expect(try Scaler.zScore.fit(x) == fitted)
        // A non-finite value is still found and named (the sums alone only say that one exists).
        values[123_457] = -.infinity
        #expect(throws: LearningError.notFinite(operation: "Scaler.fit(zScore)", row: 123_457 / columns, column: 123_457 % columns)) {
            try Scaler.zScore.fit(Matrix(rows: rows, columns: columns, values: values))
        }
    }
}
