import Testing
import Foundation
import CleaveLearning

@Suite struct PCATests {
    // X = fixture(50, 5, 3).astype(np.float64); p = PCA(3).fit(X)
    // p.components_, p.explained_variance_ratio_, p.explained_variance_, p.transform(X)[[0, 13]]
    static let components: [[Double]] = [
        [0.3447848900641786, 0.5986624411991217, 0.2972534287620933, -0.2797443309761018, -0.596749670680138],
        [-0.4997292547750162, 0.14031922381990758, 0.6523759643896161, 0.5465462888938558, -0.07920822262655933],
        [0.6053785811435644, 0.35551817690909154, 0.11450789627899086, 0.4084618678409898, 0.5719881498680293]]
    static let ratio = [0.8435610683681672, 0.15539896688593918, 0.000780256676271606]
    static let variance = [33.896864916703294, 6.244405990567766, 0.0313531007388683]

    @Test func matchesScikitLearn() throws {
        let x = fixture(rows: 50, columns: 5, clusters: 3)
        let pca = try PCA(components: .count(3)).fit(x)
        for c in 0..<3 { #expect(close(pca.components[c], Self.components[c], 1e-5), "component \(c)") }
        #expect(close(pca.explainedVarianceRatio, Self.ratio, 1e-5))
        #expect(close(pca.explainedVariance, Self.variance, 1e-5))
        let y = try pca.transform(x)
        #expect(close(y.row(0).map(Double.init), [5.9235323546496375, 3.215976069214352, -0.1156836289941249], 1e-4))
        #expect(close(y.row(13).map(Double.init), [2.4018025290735885, -1.4499804232964255, -0.21116917761396053], 1e-4))
        #expect(try JSONDecoder().decode(FittedPCA.self, from: JSONEncoder().encode(pca)) == pca)
    }

    // PCA(0.9).fit(X).n_components_ == 2; PCA(0.99) → 2; PCA(0.9995) → 3
    @Test func varianceFraction() throws {
        let x = fixture(rows: 50, columns: 5, clusters: 3)
        #expect(try PCA(components: .varianceFraction(0.9)).fit(x).componentCount == 2)
        #expect(try PCA(components: .varianceFraction(0.99)).fit(x).componentCount == 2)
        #expect(try PCA(components: .varianceFraction(0.9995)).fit(x).componentCount == 3)
    }

    @Test func fullRankRoundTrip() throws {
        let x = fixture(rows: 30, columns: 4, clusters: 2)
        let pca = try PCA(components: .count(4)).fit(x)
        let back = try pca.inverseTransform(try pca.transform(x))
        #expect(zip(back.values, x.values).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(abs(pca.explainedVarianceRatio.reduce(0, +) - 1) < 1e-12)
    }

    @Test func rejectsBadParameters() {
        #expect(throws: LearningError.self) { try PCA(components: .count(0)) }
        #expect(throws: LearningError.self) { try PCA(components: .varianceFraction(1.5)) }
        #expect(throws: LearningError.self) { try PCA(components: .count(9)).fit(fixture(rows: 10, columns: 3, clusters: 2)) }
    }
}

@Suite struct MatrixTests {
    // A = fixture(7, 5, 2); B = fixture(5, 3, 3); (A.astype(float) @ B.astype(float))[[0, 6]]
    @Test func productMatchesNumpy() throws {
        let a = fixture(rows: 7, columns: 5, clusters: 2), b = fixture(rows: 5, columns: 3, clusters: 3)
        let c = a.multiplied(by: b)
        #expect(c.rows == 7 && c.columns == 3)
        for r in 0..<7 {
            for col in 0..<3 {
                let expected = dot(a.row(r), b.column(col))
                #expect(abs(Double(c[r, col]) - expected) < 1e-5 * max(1, abs(expected)))
            }
        }
        #expect(close(c.row(0).map(Double.init), Self.row0, 1e-5) && close(c.row(6).map(Double.init), Self.row6, 1e-5))
    }
    static let row0: [Double] = [-3.0436927177605178, -5.270013501229769, -2.8301908791087804]
    static let row6: [Double] = [2.5187335095329573, 6.5605954099025166, 4.7039423612003155]

    @Test func constructionAndAccess() throws {
        let m = try Matrix([[1, 2, 3], [4, 5, 6]] as [[Double]])
        #expect(m.rows == 2 && m.columns == 3 && m[1, 2] == 6 && m.row(0) == [1, 2, 3] && m.column(1) == [2, 5])
        #expect(m.transposed.values == [1, 4, 2, 5, 3, 6])
        #expect(m.selectingRows([1, 1]).values == [4, 5, 6, 4, 5, 6] && m.selectingColumns([2, 0]).values == [3, 1, 6, 4])
        #expect(throws: LearningError.raggedRows(row: 1, expected: 2, actual: 1)) { try Matrix([[1, 2], [3]] as [[Double]]) }
        #expect(try JSONDecoder().decode(Matrix.self, from: JSONEncoder().encode(m)) == m)
    }
}
