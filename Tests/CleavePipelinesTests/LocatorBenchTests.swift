import Testing
import Foundation
import CleaveCore
import CleaveLearning

/// Timing of re-clustering cached features (what the workbench does on "new k" / "new pick").
/// Runs only with CLEAVE_BENCH_RECLUSTER=1 (bench/locator/run.sh), so the test suite stays quiet.
@Suite struct LocatorBenchTests {
    @Test func reclusterCachedFeatures() throws {
        guard ProcessInfo.processInfo.environment["CLEAVE_BENCH_RECLUSTER"] != nil else { return }
        var random = SeededGenerator(seed: 9)
        let rows = 100_000, columns = 23
        var values = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let group = Float(r % 3)
            for c in 0..<columns { values[r * columns + c] = group * Float(c % 5) + Float(random.nextGaussian()) }
        }
        let features = Matrix(rows: rows, columns: columns, values: values)
        let scaled = try Scaler.zScore.fit(features).transform(features)  // cached once per session
        for k in [2, 3, 4] {
            let start = DispatchTime.now().uptimeNanoseconds
            let labels = try KMeans(clusterCount: k, seed: 0).fitAssign(scaled).labels
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            print("recluster k=\(k): \(rows) patches x \(columns) features in \(String(format: "%.1f", ms)) ms (\(Set(labels).count) clusters)")
        }
    }
}
