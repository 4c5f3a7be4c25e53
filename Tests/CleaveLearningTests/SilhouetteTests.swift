import Testing
import CleaveLearning

@Suite struct SilhouetteTests {
    // X = fixture(90, 4, 3, spread=2.0).astype(np.float64)
    // lab = [(i * 7 % 5) % 3 for i in range(90)]; lab2 = np.arange(90) % 3
    // silhouette_score(X, lab, metric=m), silhouette_score(X, lab2, metric=m)
    static let reference: [(DistanceMetric, Double, Double)] = [
        (.euclidean, -0.04129855440601274, 0.44980257099211973),
        (.cosine, -0.05252285747531023, 0.3855930491408055),
        (.manhattan, -0.04427425230311138, 0.4481330128961359),
    ]

    @Test(arguments: 0..<3) func matchesScikitLearn(index: Int) throws {
        let (metric, mixed, clean) = Self.reference[index]
        let x = fixture(rows: 90, columns: 4, clusters: 3, spread: 2)
        let mixedLabels = (0..<90).map { Int32(($0 * 7 % 5) % 3) }
        let cleanLabels = (0..<90).map { Int32($0 % 3) }
        #expect(close(try silhouette(x, labels: mixedLabels, metric: metric), mixed, 1e-5))
        #expect(close(try silhouette(x, labels: cleanLabels, metric: metric), clean, 1e-5))
    }

    @Test func sampledIsSeededAndClose() throws {
        let x = fixture(rows: 3_000, columns: 4, clusters: 3, spread: 2)
        let labels = (0..<3_000).map { Int32($0 % 3) }
        let full = try silhouette(x, labels: labels)
        let a = try silhouette(x, labels: labels, sampleSize: 600, seed: 5)
        let b = try silhouette(x, labels: labels, sampleSize: 600, seed: 5)
        #expect(a == b)
        #expect(abs(a - full) < 0.05)
        // Sample size ≥ rows uses every row.
        #expect(try silhouette(x, labels: labels, sampleSize: 5_000) == full)
    }

    @Test func singletonClusterScoresZeroAndBadLabelsThrow() throws {
        // silhouette_samples([[0],[1],[10]], [0,0,1]) = [0.9, 0.888…, 0]; mean = 0.5962962962962963
        let x = Matrix(rows: 3, columns: 1, values: [0, 1, 10])
        #expect(close(try silhouette(x, labels: [0, 0, 1]), 0.5962962962962963, 1e-6))
        #expect(throws: LearningError.self) { try silhouette(x, labels: [0, 0, 0]) }
        #expect(throws: LearningError.self) { try silhouette(x, labels: [0, 1, 2]) }
        #expect(throws: LearningError.self) { try silhouette(x, labels: [0, 1]) }
    }
}

@Suite struct CosineSimilarityTests {
    // cosine_similarity(X, X[[4]])[[0, 1, 17, 50], 0]
    @Test func matchesScikitLearn() throws {
        let x = fixture(rows: 90, columns: 4, clusters: 3, spread: 2)
        let s = try cosineSimilarity(x, toRow: 4)
        let expected = [-0.3961855902273179, 0.9824575698238518, -0.015328688762490023, -0.12084538819967]
        #expect(close([0, 1, 17, 50].map { Double(s[$0]) }, expected, 1e-6))
        #expect(abs(s[4] - 1) < 1e-6)
        let zero = Matrix(rows: 2, columns: 2, values: [0, 0, 1, 2])
        #expect(try zero.cosineSimilarity(to: [1, 2]) == [0, 1])
        #expect(throws: LearningError.self) { try cosineSimilarity(x, toRow: 90) }
    }
}
