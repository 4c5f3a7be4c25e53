/// The hot loop of ``SlidingWindow/moments(_:window:stride:statistics:)``.
enum SlidingWindowKernel {
    /// Computes output rows `outRows` (all columns). Column sums c1…c4 hold Σ dᵏ over the
    /// window's rows for every image column; h1…h4 the window sums for every output column.
    static func band(_ src: UnsafePointer<Float>, width: Int, window: Int, stride: Int, shift: Double,
                     outRows: Range<Int>, outColumns: Int, codes: [Int], out: UnsafeMutablePointer<Float>) {
        let featureCount = codes.count
        var c1 = [Double](repeating: 0, count: width), c2 = c1, c3 = c1, c4 = c1
        var h1 = [Double](repeating: 0, count: outColumns), h2 = h1, h3 = h1, h4 = h1
        let n = Double(window * window)
        let inverseN = 1 / n
        c1.withUnsafeMutableBufferPointer { c1 in c2.withUnsafeMutableBufferPointer { c2 in
        c3.withUnsafeMutableBufferPointer { c3 in c4.withUnsafeMutableBufferPointer { c4 in
        h1.withUnsafeMutableBufferPointer { h1 in h2.withUnsafeMutableBufferPointer { h2 in
        h3.withUnsafeMutableBufferPointer { h3 in h4.withUnsafeMutableBufferPointer { h4 in
            @inline(__always) func addRow(_ y: Int, _ sign: Double) {
                let row = src + y * width
                for x in 0..<width {
                    let d = Double(row[x]) - shift
                    let d2 = d * d
                    c1[x] += sign * d; c2[x] += sign * d2; c3[x] += sign * d2 * d; c4[x] += sign * d2 * d2
                }
            }
            // Rows of the first window of this band.
            let firstTop = outRows.lowerBound * stride
            for y in firstTop..<(firstTop + window) { addRow(y, 1) }
            for outRow in outRows {
                if outRow > outRows.lowerBound {
                    let previousTop = (outRow - 1) * stride, top = outRow * stride
                    if stride >= window {
                        for x in 0..<width { c1[x] = 0; c2[x] = 0; c3[x] = 0; c4[x] = 0 }
                        for y in top..<(top + window) { addRow(y, 1) }
                    } else {
                        for y in previousTop..<top { addRow(y, -1) }
                        for y in (previousTop + window)..<(top + window) { addRow(y, 1) }
                    }
                }
                // Horizontal window sums.
                var s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
                for x in 0..<window { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                var x0 = 0
                for j in 0..<outColumns {
                    if j > 0 {
                        let next = j * stride
                        if stride >= window {
                            s1 = 0; s2 = 0; s3 = 0; s4 = 0
                            for x in next..<(next + window) { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                        } else {
                            for x in x0..<next { s1 -= c1[x]; s2 -= c2[x]; s3 -= c3[x]; s4 -= c4[x] }
                            for x in (x0 + window)..<(next + window) { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                        }
                        x0 = next
                    }
                    h1[j] = s1; h2[j] = s2; h3[j] = s3; h4[j] = s4
                }
                // Moments: independent per output column, written as plain loops the compiler vectorises.
                for j in 0..<outColumns {
                    let mu = h1[j] * inverseN
                    let r2 = h2[j] * inverseN, r3 = h3[j] * inverseN, r4 = h4[j] * inverseN
                    let mu2 = mu * mu
                    let m2raw = r2 - mu2
                    let constant = m2raw <= 1e-12 * r2
                    let m2 = constant ? 1 : m2raw
                    let m3 = r3 - 3 * mu * r2 + 2 * mu2 * mu
                    let m4 = r4 - 4 * mu * r3 + 6 * mu2 * r2 - 3 * mu2 * mu2
                    let std = constant ? 0 : m2.squareRoot()
                    let mean = mu + shift
                    h1[j] = mean
                    h2[j] = std
                    h3[j] = constant ? 0 : m3 / (m2 * std)
                    h4[j] = constant ? 0 : m4 / (m2 * m2) - 3
                }
                let base = out + outRow * outColumns * featureCount
                for (k, code) in codes.enumerated() {
                    switch code {
                    case 0: for j in 0..<outColumns { base[j * featureCount + k] = Float(h1[j]) }
                    case 1: for j in 0..<outColumns { base[j * featureCount + k] = Float(h2[j]) }
                    case 2: for j in 0..<outColumns { base[j * featureCount + k] = h1[j] == 0 ? 0 : Float(h2[j] / h1[j]) }
                    case 3: for j in 0..<outColumns { base[j * featureCount + k] = Float(h3[j]) }
                    default: for j in 0..<outColumns { base[j * featureCount + k] = Float(h4[j]) }
                    }
                }
            }
        } } } } } } } }
    }
}
