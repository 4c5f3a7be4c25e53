/// Eigenvalues of small symmetric matrices (cyclic Jacobi rotations).
enum SymmetricEigen {
    static func eigenvalues3(_ input: [[Double]]) -> [Double] {
        var a = input
        for _ in 0..<50 {
            var off = 0.0
            for i in 0..<3 { for j in (i + 1)..<3 { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<3 {
                for q in (p + 1)..<3 where a[p][q] != 0 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<3 {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<3 {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                }
            }
        }
        return [a[0][0], a[1][1], a[2][2]]
    }
}
