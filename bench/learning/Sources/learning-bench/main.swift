// Times Cleave's k-means on the same float32 files the Python reference uses.
//
//   learning-bench assign FILE ROWS COLUMNS K SAMPLE   fit on a SAMPLE-row sample, assign all rows
//   learning-bench recluster FILE ROWS COLUMNS K...    full k-means per K on all rows (cached features)
//   learning-bench agglomerative FILE ROWS COLUMNS K N ward / average linkage + silhouette, first N rows
//
// FILE holds ROWS × COLUMNS little-endian float32 values, row-major (numpy `tofile`).
import CleaveCore
import CleaveLearning
import Foundation

func now() -> Double { Date().timeIntervalSince1970 }

/// CPU seconds (user + system) used by this process so far: robust against other processes
/// competing for the two cores, unlike wall time.
func cpu() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func load(_ path: String, rows: Int, columns: Int) -> Matrix {
    let data = FileManager.default.contents(atPath: path)!
    precondition(data.count == rows * columns * 4, "\(path): \(data.count) bytes, expected \(rows * columns * 4)")
    var values = [Float](repeating: 0, count: rows * columns)
    values.withUnsafeMutableBytes { target in data.copyBytes(to: target) }
    return Matrix(rows: rows, columns: columns, values: values)
}

let arguments = CommandLine.arguments
let mode = arguments[1], path = arguments[2]
let rows = Int(arguments[3])!, columns = Int(arguments[4])!
let matrix = load(path, rows: rows, columns: columns)
print("threads \(Parallel.threadCount)")

switch mode {
case "assign":
    let k = Int(arguments[5])!, sample = Int(arguments[6])!
    // Warm-up (page faults, thread pool), then the timed run.
    _ = try KMeans(clusterCount: k, restarts: 1, seed: 0, sampleSize: sample).fitAssign(matrix)
    var best = Double.infinity, bestFit = 0.0, bestAssign = 0.0, bestCPU = Double.infinity
    var labels: [Int32] = []
    for _ in 0..<3 {
        let c0 = cpu()
        let t0 = now()
        let model = try KMeans(clusterCount: k, restarts: 1, seed: 0, sampleSize: sample).fit(matrix)
        if bestFit == 0 { print("cleave fit iterations \(model.iterations)") }
        let t1 = now()
        labels = try model.assign(matrix)
        let t2 = now()
        if t2 - t0 < best { best = t2 - t0; bestFit = t1 - t0; bestAssign = t2 - t1 }
        bestCPU = min(bestCPU, cpu() - c0)
    }
    var sizes = [Int](repeating: 0, count: k)
    for l in labels { sizes[Int(l)] += 1 }
    print(String(format: "cleave kmeans k=%d fit(sample %d) %.3f s, assign %d rows %.3f s, total %.3f s wall, %.3f s CPU", k, sample, bestFit, rows, bestAssign, best, bestCPU))
    print("cleave cluster sizes \(sizes.sorted())")
    print(String(format: "TIME assign-k%d %.6f", k, best))
case "recluster":
    // KMEANS_SAMPLE=N fits on an N-row sample and assigns all rows (the interactive option).
    let sample = Int(ProcessInfo.processInfo.environment["KMEANS_SAMPLE"] ?? "") ?? 100_000
    for k in arguments[5...].map({ Int($0)! }) {
        _ = try KMeans(clusterCount: k, seed: 0, sampleSize: sample).fitAssign(matrix)
        var best = Double.infinity, bestCPU = Double.infinity
        var result: (model: KMeansModel, labels: [Int32])?
        for _ in 0..<5 {
            let t0 = now(), c0 = cpu()
            result = try KMeans(clusterCount: k, seed: 0, sampleSize: sample).fitAssign(matrix)
            best = min(best, now() - t0)
            bestCPU = min(bestCPU, cpu() - c0)
        }
        print(String(format: "cleave recluster k=%d restarts=%d sample=%d: %.1f ms wall, %.1f ms CPU, inertia %.6g, iterations %d", k,
                     KMeans.defaultRestarts(rowCount: min(rows, sample)), min(rows, sample), best * 1000, bestCPU * 1000,
                     result!.model.inertia, result!.model.iterations))
        print(String(format: "TIME recluster-k%d %.6f", k, best))
    }
case "agglomerative":
    // First N rows, ward and average linkage; then the sampled silhouette of the ward labels.
    let k = Int(arguments[5])!, n = Int(arguments[6])!
    let subset = matrix.selectingRows(0..<n)
    for linkage in [Agglomerative.Linkage.ward, .average] {
        let t0 = now()
        let result = try Agglomerative(clusterCount: k, linkage: linkage).fit(subset)
        let t = now() - t0
        print(String(format: "cleave agglomerative %@ n=%d k=%d: %.3f s", linkage.rawValue, n, k, t))
        print(String(format: "TIME agglomerative-%@-%d %.6f", linkage.rawValue, n, t))
        if linkage == .ward {
            let t1 = now()
            let s = try silhouette(subset, labels: result.labels)
            let ts = now() - t1
            print(String(format: "cleave silhouette n=%d: %.4f in %.3f s", n, s, ts))
            print(String(format: "TIME silhouette-%d %.6f", n, ts))
        }
    }
default:
    print("unknown mode \(mode)")
}
