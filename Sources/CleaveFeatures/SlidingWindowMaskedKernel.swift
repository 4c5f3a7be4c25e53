/// The hot loop of ``SlidingWindow/maskedMoments(_:include:window:stride:statistics:)``.
///
/// Every value is computed with the same Double operations in the same order as the plain scalar
/// formulation (per image column: `c_k += w·dᵏ` with `w = ±1` on included pixels, written
/// `w, w·d, w·d², (w·d²)·d, (w·d²)·d²`; then a running window sum across each output row; then the
/// moments), so results are bit for bit those of the scalar loops (`SlidingWindowTests` checks it).
/// SIMD lanes hold neighbouring image or output columns, never reorder a sum. An excluded pixel
/// adds nothing (the scalar form adds ±0, which leaves a sum that starts at +0 unchanged).
enum SlidingWindowMaskedKernel {
    typealias Lanes = SIMD4<Double>
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> Lanes {
        UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
    }
    @inline(__always) static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self)
    }
    /// `value` where `mask` is set, +0 elsewhere (a bitwise and).
    @inline(__always) static func select(_ value: Lanes, _ mask: SIMD4<UInt64>) -> Lanes {
        unsafeBitCast(unsafeBitCast(value, to: SIMD4<UInt64>.self) & mask, to: Lanes.self)
    }

    /// What the kernel writes per window besides the statistics.
    enum Coverage {
        /// The included fraction `Float(count / n)`.
        case fraction(UnsafeMutablePointer<Float>)
        /// Whether the excluded fraction `1 − Float(count / n)` (in Float) is above the limit.
        case excludedAbove(Float, UnsafeMutablePointer<Bool>)
    }

    /// Computes output rows `outRows` (all columns).
    /// - Parameters:
    ///   - flags: one byte per pixel, 0 or 1 (Bool storage); a pixel is included when its byte differs from `excludedValue` (0 or 1).
    ///   - codes: statistic per output column (0 mean, 1 std, 2 relstd, 3 skewness, 4 kurtosis).
    static func band(_ src: UnsafePointer<Float>, flags: UnsafePointer<UInt8>, excludedValue: UInt8, width: Int, window: Int,
                     stride: Int, shift: Double, outRows: Range<Int>, outColumns: Int, codes: [Int],
                     out: UnsafeMutablePointer<Float>, coverage: Coverage) {
        let featureCount = codes.count
        let padded = (outColumns + 3) / 4 * 4
        let scratchCount = 5 * width + 5 * padded
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: scratchCount)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: scratchCount)
        let c0 = scratch, c1 = c0 + width, c2 = c1 + width, c3 = c2 + width, c4 = c3 + width
        let h0 = c4 + width, h1 = h0 + padded, h2 = h1 + padded, h3 = h2 + padded, h4 = h3 + padded
        let n = Double(window * window)
        let shiftVector = Lanes(repeating: shift)
        let flip = SIMD4<UInt8>(repeating: excludedValue)  // included = flag XOR excludedValue
        let needsRelativeStd = codes.contains(2)
        var barLimit: Float = 0
        if case .excludedAbove(let limit, _) = coverage { barLimit = limit }

        // Column sums: the rows leaving the window are subtracted, then those entering added.
        func slide(subtracting leaving: Range<Int>, adding entering: Range<Int>) {
            var x = 0
            while x + 4 <= width {
                var a0 = load(c0, x), a1 = load(c1, x), a2 = load(c2, x), a3 = load(c3, x), a4 = load(c4, x)
                @inline(__always) func accumulate(_ y: Int, _ sign: Lanes) {
                    let f = UnsafeRawPointer(flags + y * width + x).loadUnaligned(as: SIMD4<UInt8>.self)
                    // 1 where included, then all-ones lanes where included (0 − 1).
                    let inside = SIMD4<UInt64>(truncatingIfNeeded: f ^ flip)
                    let mask = SIMD4<UInt64>.zero &- inside
                    let v = UnsafeRawPointer(src + y * width + x).loadUnaligned(as: SIMD4<Float>.self)
                    let d = Lanes(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])) - shiftVector
                    let d2 = d * d
                    let wd2 = sign * d2
                    a0 += select(sign, mask); a1 += select(sign * d, mask); a2 += select(wd2, mask)
                    a3 += select(wd2 * d, mask); a4 += select(wd2 * d2, mask)
                }
                for y in leaving { accumulate(y, Lanes(repeating: -1)) }
                for y in entering { accumulate(y, Lanes(repeating: 1)) }
                store(a0, c0, x); store(a1, c1, x); store(a2, c2, x); store(a3, c3, x); store(a4, c4, x)
                x += 4
            }
            while x < width {
                @inline(__always) func accumulate(_ y: Int, _ sign: Double) {
                    guard flags[y * width + x] != excludedValue else { return }
                    let d = Double(src[y * width + x]) - shift
                    let d2 = d * d
                    let wd2 = sign * d2
                    c0[x] += sign; c1[x] += sign * d; c2[x] += wd2; c3[x] += wd2 * d; c4[x] += wd2 * d2
                }
                for y in leaving { accumulate(y, -1) }
                for y in entering { accumulate(y, 1) }
                x += 1
            }
        }

        let firstTop = outRows.lowerBound * stride
        slide(subtracting: 0..<0, adding: firstTop..<(firstTop + window))
        for outRow in outRows {
            if outRow > outRows.lowerBound {
                let previousTop = (outRow - 1) * stride, top = outRow * stride
                if stride >= window {
                    for x in 0..<width { c0[x] = 0; c1[x] = 0; c2[x] = 0; c3[x] = 0; c4[x] = 0 }
                    slide(subtracting: 0..<0, adding: top..<(top + window))
                } else {
                    slide(subtracting: previousTop..<top, adding: (previousTop + window)..<(top + window))
                }
            }
            // Window sums across the row: drop the columns that leave, add those that enter.
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
            for x in 0..<window { s0 += c0[x]; s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
            h0[0] = s0; h1[0] = s1; h2[0] = s2; h3[0] = s3; h4[0] = s4
            if stride == 1 {
                // The common case without inner loops (the same operations as the general loop
                // below for stride 1): s ← (s − c[j − 1]) + c[j − 1 + window].
                for j in 1..<max(1, outColumns) {
                    let leaving = j - 1, entering = j - 1 + window
                    s0 -= c0[leaving]; s1 -= c1[leaving]; s2 -= c2[leaving]; s3 -= c3[leaving]; s4 -= c4[leaving]
                    s0 += c0[entering]; s1 += c1[entering]; s2 += c2[entering]; s3 += c3[entering]; s4 += c4[entering]
                    h0[j] = s0; h1[j] = s1; h2[j] = s2; h3[j] = s3; h4[j] = s4
                }
            }
            var x0 = 0
            for j in 1..<max(1, stride == 1 ? 1 : outColumns) {
                let next = j * stride
                if stride >= window {
                    s0 = 0; s1 = 0; s2 = 0; s3 = 0; s4 = 0
                    for x in next..<(next + window) { s0 += c0[x]; s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                } else {
                    for x in x0..<next { s0 -= c0[x]; s1 -= c1[x]; s2 -= c2[x]; s3 -= c3[x]; s4 -= c4[x] }
                    for x in (x0 + window)..<(next + window) { s0 += c0[x]; s1 += c1[x]; s2 += c2[x]; s3 += c3[x]; s4 += c4[x] }
                }
                x0 = next
                h0[j] = s0; h1[j] = s1; h2[j] = s2; h3[j] = s3; h4[j] = s4
            }
            // Moments, four output columns per step, each lane the scalar expressions in their
            // evaluation order: mu = s1/count, …, m3 = r3 − 3·mu·r2 + 2·mu2·mu,
            // m4 = r4 − 4·mu·r3 + 6·mu2·r2 − 3·mu2·mu2. A window with no included pixel (count ≤ 0.5) gets zeros.
            var fractionRow: UnsafeMutablePointer<Float>? = nil, flagRow: UnsafeMutablePointer<Bool>? = nil
            switch coverage {
            case .fraction(let fraction): fractionRow = fraction + outRow * outColumns
            case .excludedAbove(_, let flags): flagRow = flags + outRow * outColumns
            }
            let three = Lanes(repeating: 3), two = Lanes(repeating: 2), four = Lanes(repeating: 4), six = Lanes(repeating: 6)
            let tiny = Lanes(repeating: 1e-12), half = Lanes(repeating: 0.5), nVector = Lanes(repeating: n)
            var g = 0
            // A while loop, not `stride(from:to:by:)`: the stride iterator was left as a call per step.
            while g < padded {
                let count = load(h0, g)
                let empty = count .<= half
                let mu = load(h1, g) / count, r2 = load(h2, g) / count, r3 = load(h3, g) / count, r4 = load(h4, g) / count
                let mu2 = mu * mu
                let m2raw = r2 - mu2
                let constant = m2raw .<= tiny * r2
                let m2 = m2raw.replacing(with: 1, where: constant)
                let a3: Lanes = (three * mu) * r2, b3: Lanes = (two * mu2) * mu
                let m3: Lanes = (r3 - a3) + b3
                let a4: Lanes = (four * mu) * r3, b4: Lanes = (six * mu2) * r2
                let e4: Lanes = (three * mu2) * mu2
                let m4: Lanes = ((r4 - a4) + b4) - e4
                let std = m2.squareRoot().replacing(with: 0, where: constant)
                let mean = mu + shiftVector
                let skewness = (m3 / (m2 * std)).replacing(with: 0, where: constant)
                let kurtosis = (m4 / (m2 * m2) - three).replacing(with: 0, where: constant)
                let zero = Lanes.zero
                store(mean.replacing(with: zero, where: empty), h1, g)
                store(std.replacing(with: zero, where: empty), h2, g)
                if needsRelativeStd {  // one division per window, only when the statistic is asked for
                    let relstd = (std / mean).replacing(with: 0, where: mean .== 0)
                    store(relstd.replacing(with: zero, where: empty), h3, g)
                }
                store(skewness.replacing(with: zero, where: empty), h4, g)
                store(kurtosis.replacing(with: zero, where: empty), h0, g)  // h0 (the counts) is read above
                let f = count / nVector
                let limit = min(4, outColumns - g)
                if let fractionRow {
                    for lane in 0..<limit { fractionRow[g + lane] = Float(f[lane]) }
                } else if let flagRow {
                    for lane in 0..<limit { flagRow[g + lane] = 1 - Float(f[lane]) > barLimit }
                }
                g += 4
            }
            let base = out + outRow * outColumns * featureCount
            if codes == [0, 1, 3, 4] {
                // The default feature set: one four-float store per window.
                for j in 0..<outColumns {
                    let v = SIMD4<Float>(Float(h1[j]), Float(h2[j]), Float(h4[j]), Float(h0[j]))
                    UnsafeMutableRawPointer(base + 4 * j).storeBytes(of: v, as: SIMD4<Float>.self)
                }
                continue
            }
            for (k, code) in codes.enumerated() {
                let column: UnsafeMutablePointer<Double>
                switch code { case 0: column = h1; case 1: column = h2; case 2: column = h3; case 3: column = h4; default: column = h0 }
                for j in 0..<outColumns { base[j * featureCount + k] = Float(column[j]) }
            }
        }
    }
}
