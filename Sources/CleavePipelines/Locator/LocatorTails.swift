import CleaveCore
import CleaveLearning
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tail compression before scaling: `x → asinh((x − median) / IQR)` per feature.
///
/// Why: particle features are heavy-tailed. Film patches (the majority) sit within a few noise
/// widths of each other, faint particles 5–20 widths away, strong flakes 50–100 away. z-scored
/// as they are, k-means puts the particle centre among the strong flakes and the boundary half
/// way to the film, so faint particles fall into the film cluster. Measured in film widths (the
/// median and IQR are the majority's) and compressed logarithmically beyond one width, every
/// particle is a comparable distance from the film and the film/particle split is the one
/// k-means finds. Monotone per feature: the order of patches along every feature is unchanged,
/// and values within about one IQR of the median are nearly untouched.
///
/// A zero IQR (e.g. a dark fraction that is 0 on most patches) falls back to the standard
/// deviation, then to 1. The fit uses at most ``sampleLimit`` regularly spaced rows.
enum LocatorTails {
    static let sampleLimit = 200_000

    static func fit(_ matrix: Matrix) -> FittedScaler {
        let rows = matrix.rows, columns = matrix.columns
        let step = max(1, rows / sampleLimit)
        var center = [Double](repeating: 0, count: columns), scale = [Double](repeating: 1, count: columns)
        var values = [Float]()
        values.reserveCapacity(rows / step + 1)
        for c in 0..<columns {
            values.removeAll(keepingCapacity: true)
            var r = 0
            while r < rows { values.append(matrix.values[r * columns + c]); r += step }
            let median = OrderStatistics.percentile(&values, 50)
            let iqr = OrderStatistics.percentile(&values, 75) - OrderStatistics.percentile(&values, 25)
            var width = iqr
            if !(width > 1e-12 * max(1, abs(median))) {
                var sum = 0.0
                for v in values { let d = Double(v) - median; sum += d * d }
                width = (sum / Double(values.count)).squareRoot()
            }
            center[c] = median
            scale[c] = width > 1e-12 * max(1, abs(median)) && width.isFinite ? width : 1
        }
        return FittedScaler(method: .robust, center: center, scale: scale)
    }

    static func apply(_ matrix: Matrix, _ fitted: FittedScaler) -> Matrix {
        var out = matrix
        let columns = matrix.columns
        let center = fitted.center.map { Float($0) }, inverse = fitted.scale.map { Float(1 / $0) }
        out.values.withUnsafeMutableBufferPointer { v in
            let box = UncheckedSendable(v)
            Parallel.forEachChunk(of: matrix.rows, chunkCount: Parallel.chunkCount(total: matrix.rows, minimumPerChunk: 16_384)) { range in
                for r in range {
                    for c in 0..<columns {
                        let i = r * columns + c
                        box.value[i] = asinhf((box.value[i] - center[c]) * inverse[c])
                    }
                }
            }
        }
        return out
    }
}
