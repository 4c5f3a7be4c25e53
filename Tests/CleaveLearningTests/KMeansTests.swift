import Testing
import Foundation
import CleaveCore
import CleaveLearning

@Suite struct KMeansTests {
    // X = fixture(60, 4, 3, spread=2.5).astype(np.float64)
    // km = KMeans(3, init=X[[0, 1, 5]], n_init=1, algorithm="lloyd").fit(X)
    // km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_
    static let labels: [Int32] = [0, 1, 2, 1, 1, 2, 1, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 2, 1, 1, 2, 0, 1, 2, 0, 0, 2, 0, 1, 2, 0, 1, 2, 1, 1, 2, 1, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 2, 1, 1, 2]
    static let centers: [[Double]] = [
        [-0.8358181374004255, 0.04796021918837967, 0.8571226161259871, 0.6767911200339978],
        [2.3348366546410113, -1.0253873995194822, -3.4681912892394595, -2.6041676580078073],
        [-3.1030623406171793, -7.87738435268402, -5.41665519475937, 2.0566376705188305]]

    @Test func lloydMatchesScikitLearnFromSameStart() throws {
        let x = fixture(rows: 60, columns: 4, clusters: 3, spread: 2.5)
        let kmeans = try KMeans(clusterCount: 3)
        let (model, labels) = try kmeans.fitAssign(x, initialCentroids: x.selectingRows([0, 1, 5]))
        #expect(labels == Self.labels)
        for c in 0..<3 { #expect(close(model.centroids.row(c).map(Double.init), Self.centers[c], 1e-5)) }
        #expect(close(model.inertia, 692.723899092633, 1e-5))
        #expect(model.iterations == 3)
    }

    // KMeans(3, n_init=10, random_state=0).fit(X).inertia_ == 682.0024722713946 (the from-start
    // run above stops in a worse local minimum, 692.72).
    @Test func restartsFindTheBetterMinimum() throws {
        let x = fixture(rows: 60, columns: 4, clusters: 3, spread: 2.5)
        let model = try KMeans(clusterCount: 3, seed: 7).fit(x)
        #expect(close(model.inertia, 682.0024722713946, 1e-5))
    }

    @Test func separatedClustersAreFoundExactly() throws {
        let x = fixture(rows: 300, columns: 6, clusters: 4, spread: 0.3)
        let (_, labels) = try KMeans(clusterCount: 4, seed: 1).fitAssign(x)
        let truth = (0..<300).map { $0 % 4 }
        #expect(ClusteringScores(truth: truth, predicted: labels.map(Int.init)).adjustedRandIndex == 1)
    }

    @Test func deterministicAcrossThreadCounts() throws {
        let x = fixture(rows: 20_000, columns: 5, clusters: 5, spread: 3)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let serial = try KMeans(clusterCount: 5, restarts: 2, seed: 3, sampleSize: 5_000).fitAssign(x)
        Parallel.threadCount = 4
        let parallel = try KMeans(clusterCount: 5, restarts: 2, seed: 3, sampleSize: 5_000).fitAssign(x)
        #expect(serial.model == parallel.model)
        #expect(serial.labels == parallel.labels)
        #expect(serial.model.sampled && serial.model.fittedRowCount == 5_000)
    }

    /// 4 columns take the de-interleaving tile path, 7 the generic one; 1 003 rows leave a partial tile.
    @Test(arguments: [4, 7]) func assignMatchesBruteForce(columns: Int) throws {
        let x = fixture(rows: 1_003, columns: columns, clusters: 3, spread: 2)
        let model = try KMeans(clusterCount: 4, seed: 9).fit(x)
        let (labels, squared) = try model.assignWithDistances(x)
        let distances = try model.distances(x)
        for r in 0..<x.rows {
            let row = distances.row(r)
            let best = row.indices.min { row[$0] < row[$1] }!
            #expect(labels[r] == Int32(best) || abs(row[best] - row[Int(labels[r])]) < 1e-5)
            #expect(abs(squared[r].squareRoot() - row[Int(labels[r])]) < 1e-3)
        }
        #expect(try JSONDecoder().decode(KMeansModel.self, from: JSONEncoder().encode(model)) == model)
    }

    @Test func emptyClusterIsReseeded() throws {
        // Two identical far-away starts: one cluster is empty after the first assignment.
        let x = fixture(rows: 40, columns: 2, clusters: 2, spread: 0.5)
        let start = Matrix(rows: 2, columns: 2, values: [100, 100, 100, 100])
        let (model, labels) = try KMeans(clusterCount: 2).fitAssign(x, initialCentroids: start)
        #expect(Set(labels).count == 2)
        #expect(model.centroids.values.allSatisfy { abs($0) < 50 })
    }

    @Test func rejectsBadInput() throws {
        #expect(throws: LearningError.self) { try KMeans(clusterCount: 0) }
        #expect(throws: LearningError.self) { try KMeans(clusterCount: 5).fit(fixture(rows: 3, columns: 2, clusters: 1)) }
        let model = try KMeans(clusterCount: 2).fit(fixture(rows: 10, columns: 2, clusters: 2))
        #expect(throws: LearningError.columnMismatch(operation: "KMeansModel.assign", expected: 2, actual: 3)) {
            try model.assign(Matrix(rows: 1, columns: 3))
        }
    }
}

