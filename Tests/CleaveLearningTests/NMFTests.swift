import Testing
import CleaveLearning

@Suite struct NMFTests {
    func data() -> Matrix {
        var z = fixture(rows: 40, columns: 6, clusters: 3, spread: 1.5)
        z.values = z.values.map { abs($0) }
        return z
    }

    // Z = np.abs(fixture(40, 6, 3, spread=1.5).astype(np.float64))
    // NMF(k, max_iter=1000, tol=1e-8).fit(Z).reconstruction_err_ → k=2: 8.26292645255687, k=3: 2.185513582720566
    // NMF(2).fit(Z).reconstruction_err_ → 8.262979254723094 (33 iterations)
    @Test(arguments: [(2, 8.26292645255687), (3, 2.185513582720566)])
    func convergedErrorMatchesScikitLearn(components: Int, error: Double) throws {
        let (model, w) = try NMF(componentCount: components, maxIterations: 1000, tolerance: 1e-8).fitTransform(data())
        #expect(close(model.reconstructionError, error, 1e-4), "\(model.reconstructionError)")
        #expect(w.values.allSatisfy { $0 >= 0 } && model.components.values.allSatisfy { $0 >= 0 })
    }

    @Test func defaultsMatchScikitLearn() throws {
        let (model, w) = try NMF(componentCount: 2).fitTransform(data())
        #expect(close(model.reconstructionError, 8.262979254723094, 1e-4))
        // transform with H fixed recovers (nearly) the fitted W.
        let again = try model.transform(data())
        let difference = zip(again.values, w.values).map { abs($0 - $1) }.max()!
        #expect(difference < 0.05)
    }

    @Test func rejectsNegativeInput() {
        let bad = Matrix(rows: 2, columns: 2, values: [1, 2, -3, 4])
        #expect(throws: LearningError.negativeValue(operation: "NMF.fit", row: 1, column: 0, value: -3)) {
            try NMF(componentCount: 1).fitTransform(bad)
        }
        #expect(throws: LearningError.self) { try NMF(componentCount: 3).fitTransform(bad) }
    }
}
