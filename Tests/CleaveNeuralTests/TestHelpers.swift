import CleaveCore
import CleaveNeural

/// Deterministic sin/cos sequences so the Python reference snippets can rebuild the inputs.
func sequence(_ count: Int, _ a: Double, _ b: Double, _ scale: Double = 1) -> [Float] {
    (0..<count).map { Float(Float(sin(a * Double($0) + b)) * Float(scale)) }
}

func randomTensor(_ n: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64, scale: Double = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(batch: n, channels: c, height: h, width: w,
                  storage: (0..<(n * c * h * w)).map { _ in Float(g.nextGaussian() * scale) })
}

func dot(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Largest |analytic − numeric| / max(1, |numeric|) over the checked entries.
struct GradientReport { var worst: Double = 0; var checked = 0 }

/// Central finite differences of `f` at the given indices of `values`, compared with `analytic`.
func checkGradient(values: [Float], indices: [Int], analytic: [Float], epsilon: Float = 1e-2,
                   _ f: ([Float]) -> Double) -> GradientReport {
    var report = GradientReport()
    for i in indices {
        var plus = values, minus = values
        plus[i] += epsilon; minus[i] -= epsilon
        let numeric = (f(plus) - f(minus)) / Double(2 * epsilon)
        let error = abs(Double(analytic[i]) - numeric) / max(1, abs(numeric))
        report.worst = max(report.worst, error)
        report.checked += 1
    }
    return report
}

func sampleIndices(_ count: Int, _ wanted: Int, seed: UInt64) -> [Int] {
    if count <= wanted { return Array(0..<count) }
    var g = SeededGenerator(seed: seed)
    return (0..<wanted).map { _ in g.next(below: count) }
}

#if canImport(Glibc)
import Glibc
#endif
