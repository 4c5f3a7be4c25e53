import Testing
import Foundation
import CleaveCore
import CleaveLearning

@Suite struct RandomForestSpeedProbe {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FOREST_PROBE"] != nil)) func probe() throws {
        let F = 40, n = 16000, K = 4
        var rng = SeededGenerator(seed: 1)
        func sample(_ count: Int) -> ([Float], [Int32]) {
            var rows = [Float](); var labels = [Int32]()
            for i in 0..<count {
                let c = i % K
                labels.append(Int32(c + 1))
                let base = Double(c) * 1.2 + rng.nextGaussian()
                for f in 0..<F { rows.append(Float(base * Double(f % 5 + 1) / 3 + rng.nextGaussian() * Double(f % 7 + 1) * 0.5)) }
            }
            return (rows, labels)
        }
        let (rows, labels) = sample(n)
        var t0 = Date()
        let forest = try RandomForest.train(rows: rows, featureCount: F, labels: labels)
        print("train \(Date().timeIntervalSince(t0)) s nodes \(forest.nodeCount) depths \(forest.depths.prefix(10)) oob \(forest.outOfBagAccuracy!)")
        let (test, _) = sample(1_000_000)
        t0 = Date()
        let p = forest.probabilities(rows: test)
        print("predict 1M rows \(Date().timeIntervalSince(t0)) s \(p[0])")
    }
}
