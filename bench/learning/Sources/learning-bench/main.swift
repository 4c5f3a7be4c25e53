// Times Cleave's k-means on the same float32 files the Python reference uses.
//
//   learning-bench assign FILE ROWS COLUMNS K SAMPLE   fit on a SAMPLE-row sample, assign all rows
//   learning-bench recluster FILE ROWS COLUMNS K...    full k-means per K on all rows (cached features)
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
    var best = Double.infinity, bestFit = 0.0, bestAssign = 0.0
    var labels: [Int32] = []
    for _ in 0..<3 {
        let t0 = now()
        let model = try KMeans(clusterCount: k, restarts: 1, seed: 0, sampleSize: sample).fit(matrix)
        let t1 = now()
        labels = try model.assign(matrix)
        let t2 = now()
        if t2 - t0 < best { best = t2 - t0; bestFit = t1 - t0; bestAssign = t2 - t1 }
    }
    var sizes = [Int](repeating: 0, count: k)
    for l in labels { sizes[Int(l)] += 1 }
    print(String(format: "cleave kmeans k=%d fit(sample %d) %.3f s, assign %d rows %.3f s, total %.3f s", k, sample, bestFit, rows, bestAssign, best))
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
default:
    print("unknown mode \(mode)")
}
