/// The hot loop of ``SlidingWindow/moments(_:window:stride:statistics:)``.
///
/// Every value is computed with the same Double operations in the same order as the plain
/// scalar formulation (running column sums, then a running window sum across each output row,
/// then the moments), so results are bit-for-bit those of the scalar loops; SIMD lanes hold
/// neighbouring image or output columns, never reorder a sum.
enum SlidingWindowKernel {
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> SIMD4<Double> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
    }
    @inline(__always) static func store(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD4<Double>.self)
    }

    /// Computes output rows `outRows` (all columns). Column sums c1…c4 hold Σ dᵏ over the
    /// window's rows for every image column; h1…h4 the window sums for every output column.
    static func band(_ src: UnsafePointer<Float>, width: Int, window: Int, stride: Int, shift: Double,
                     outRows: Range<Int>, outColumns: Int, codes: [Int], out: UnsafeMutablePointer<Float>) {
        let featureCount = codes.count
        // Output columns padded to whole SIMD groups (padding lanes compute harmless values that are never stored).
        let padded = (outColumns + 3) / 4 * 4
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 4 * width + 4 * padded)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: 4 * width + 4 * padded)
        let c1 = scratch, c2 = c1 + width, c3 = c2 + width, c4 = c3 + width
        let h1 = c4 + width, h2 = h1 + padded, h3 = h2 + padded, h4 = h3 + padded
        let inverseN = 1 / Double(window * window)
        let shiftVector = SIMD4<Double>(repeating: shift)

        // Column sums: for each image column, subtract the rows leaving the window, then add the
        // rows entering it, in that order (each lane does the scalar `c += sign·dᵏ` sequence).
        func slide(subtracting leaving: Range<Int>, adding entering: Range<Int>) {
            var x = 0
            while x + 4 <= width {
                var a1 = load(c1, x), a2 = load(c2, x), a3 = load(c3, x), a4 = load(c4, x)
                @inline(__always) func accumulate(_ y: Int, _ sign: SIMD4<Double>) {
                    let v = UnsafeRawPointer(src + y * width + x).loadUnaligned(as: SIMD4<Float>.self)
                    let d = SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) - shiftVector
                    let d2 = d * d
                    let signedD2 = sign * d2
                    a1 += sign * d; a2 += signedD2; a3 += signedD2 * d; a4 += signedD2 * d2
                }
                for y in leaving { accumulate(y, SIMD4(repeating: -1)) }
                for y in entering { accumulate(y, SIMD4(repeating: 1)) }
                store(a1, c1, x); store(a2, c2, x); store(a3, c3, x); store(a4, c4, x)
                x += 4
            }
            while x < width {
                @inline(__always) func accumulate(_ y: Int, _ sign: Double) {
                    let d = Double(src[y * width + x]) - shift
                    let d2 = d * d
                    c1[x] += sign * d; c2[x] += sign * d2; c3[x] += sign * d2 * d; c4[x] += sign * d2 * d2
                }
                for y in leaving { accumulate(y, -1) }
                for y in entering { accumulate(y, 1) }
                x += 1
            }
        }

        // Rows of the first window of this band.
        let firstTop = outRows.lowerBound * stride
        slide(subtracting: 0..<0, adding: firstTop..<(firstTop + window))
        for outRow in outRows {
            if outRow > outRows.lowerBound {
                let previousTop = (outRow - 1) * stride, top = outRow * stride
                if stride >= window {
                    for x in 0..<width { c1[x] = 0; c2[x] = 0; c3[x] = 0; c4[x] = 0 }
                    slide(subtracting: 0..<0, adding: top..<(top + window))
                } else {
                    slide(subtracting: previousTop..<top, adding: (previousTop + window)..<(top + window))
                }
            }
            // Horizontal window sums.
            var s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
            for x in 0..<window { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
            h1[0] = s1; h2[0] = s2; h3[0] = s3; h4[0] = s4
            if stride == 1 {
                // The common case without inner loops: s ← (s − c[j − 1]) + c[j − 1 + window].
                for j in 1..<max(1, outColumns) {
                    let leaving = j - 1, entering = j - 1 + window
                    s1 -= c1[leaving]; s2 -= c2[leaving]; s3 -= c3[leaving]; s4 -= c4[leaving]
                    s1 += c1[entering]; s2 += c2[entering]; s3 += c3[entering]; s4 += c4[entering]
                    h1[j] = s1; h2[j] = s2; h3[j] = s3; h4[j] = s4
                }
            } else {
                var x0 = 0
                for j in 1..<max(1, outColumns) {
                    let next = j * stride
                    if stride >= window {
                        s1 = 0; s2 = 0; s3 = 0; s4 = 0
                        for x in next..<(next + window) { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                    } else {
                        for x in x0..<next { s1 -= c1[x]; s2 -= c2[x]; s3 -= c3[x]; s4 -= c4[x] }
                        for x in (x0 + window)..<(next + window) { s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                    }
                    x0 = next
                    h1[j] = s1; h2[j] = s2; h3[j] = s3; h4[j] = s4
                }
            }
            // Moments: independent per output column, four columns per SIMD step; every lane
            // does the scalar arithmetic (same operations in the same order, IEEE √ and ÷).
            let three = SIMD4<Double>(repeating: 3), two = SIMD4<Double>(repeating: 2)
            let four = SIMD4<Double>(repeating: 4), six = SIMD4<Double>(repeating: 6)
            let tiny = SIMD4<Double>(repeating: 1e-12)
            var g = 0
            // A while loop, not `stride(from:to:by:)`: the stride iterator was left as a call per step.
            while g < padded {
                let mu = load(h1, g) * inverseN
                let r2 = load(h2, g) * inverseN, r3 = load(h3, g) * inverseN, r4 = load(h4, g) * inverseN
                let mu2 = mu * mu
                let m2raw = r2 - mu2
                let constant = m2raw .<= tiny * r2
                let m2 = m2raw.replacing(with: 1, where: constant)
                // Spelled out in the scalar expressions' evaluation order:
                // m3 = r3 − 3·mu·r2 + 2·mu2·mu, m4 = r4 − 4·mu·r3 + 6·mu2·r2 − 3·mu2·mu2.
                let a3: SIMD4<Double> = (three * mu) * r2, b3: SIMD4<Double> = (two * mu2) * mu
                let m3: SIMD4<Double> = (r3 - a3) + b3
                let a4: SIMD4<Double> = (four * mu) * r3, b4: SIMD4<Double> = (six * mu2) * r2
                let e4: SIMD4<Double> = (three * mu2) * mu2
                let m4: SIMD4<Double> = ((r4 - a4) + b4) - e4
                let std = m2.squareRoot().replacing(with: 0, where: constant)
                store(mu + shiftVector, h1, g)
                store(std, h2, g)
                store((m3 / (m2 * std)).replacing(with: 0, where: constant), h3, g)
                store((m4 / (m2 * m2) - three).replacing(with: 0, where: constant), h4, g)
                g += 4
            }
            let base = out + outRow * outColumns * featureCount
            if codes == [0, 1, 3, 4] {
                // The default feature set: one four-float store per window.
                for j in 0..<outColumns {
                    let v = SIMD4<Float>(Float(h1[j]), Float(h2[j]), Float(h3[j]), Float(h4[j]))
                    UnsafeMutableRawPointer(base + 4 * j).storeBytes(of: v, as: SIMD4<Float>.self)
                }
                continue
            }
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
    }
}
