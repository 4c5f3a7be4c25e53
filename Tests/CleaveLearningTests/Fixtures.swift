import CleaveLearning
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic test data that Python can rebuild exactly (see `fixture.py` in the comments):
///
/// ```python
/// def fixture(rows, columns, clusters, spread=1.0):
///     x = np.zeros((rows, columns))
///     for i in range(rows):
///         c = i % clusters
///         for j in range(columns):
///             x[i, j] = spread * np.sin(i * 0.37 + j * 1.1) + c * 4.0 * np.cos(j + c)
///     return x.astype(np.float32)
/// ```
func fixture(rows: Int, columns: Int, clusters: Int, spread: Double = 1) -> Matrix {
    var values = [Float]()
    for i in 0..<rows {
        let c = i % clusters
        for j in 0..<columns {
            values.append(Float(spread * sin(Double(i) * 0.37 + Double(j) * 1.1) + Double(c) * 4 * cos(Double(j + c))))
        }
    }
    return Matrix(rows: rows, columns: columns, values: values)
}

func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}

func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { close($0, $1, tolerance) }
}
