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
