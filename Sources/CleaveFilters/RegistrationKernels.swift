import CleaveCore

// Hot loops of image registration: the correlation ratio of a grey image given a class map seen
// through an affine transform, and affine resampling (nearest for classes, bilinear for grey).
// Coordinates are pixel centres: x = column, y = row.

/// A 2D affine map `x' = a·x + b·y + tx`, `y' = c·x + d·y + ty` in plain numbers, for kernels.
public struct AffineCoefficients: Sendable, Equatable {
    public var a, b, tx, c, d, ty: Double
    public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
        self.a = a; self.b = b; self.tx = tx; self.c = c; self.d = d; self.ty = ty
    }
}

/// Per-class moments of fixed-image values sampled where the classes land.
public struct ClassMoments: Sendable, Equatable {
    /// Samples per class (index = class, 0 unused).
    public var count: [Double]
    /// Sum of the sampled fixed values per class.
    public var sum: [Double]
    /// Sum of squares of the sampled fixed values per class.
    public var sumSquares: [Double]

    /// Samples that landed inside the fixed image.
    public var overlap: Int { Int(count.reduce(0, +)) }

    /// The correlation ratio η² = 1 − (within-class variance) / (total variance), in [0, 1]:
    /// how much of the fixed image's variance over the overlap the classes explain.
    /// 0 when there are fewer than 2 samples or the fixed values are constant.
    public var correlationRatio: Double {
        let n = count.reduce(0, +)
        guard n >= 2 else { return 0 }
        let total = sumSquares.reduce(0, +) - sum.reduce(0, +) * sum.reduce(0, +) / n
        guard total > 1e-12 * max(1, sumSquares.reduce(0, +)) else { return 0 }
        var within = 0.0
        for k in count.indices where count[k] > 0 { within += sumSquares[k] - sum[k] * sum[k] / count[k] }
        return min(1, max(0, 1 - within / total))
    }
}

/// Samples `fixed` (bilinear) at the affine image of every `stride`-th moving pixel with a class
/// > 0 and sums the values per class. Samples whose image falls outside `[0, width−1] × [0, height−1]`
/// of the fixed image are skipped.
///
/// - Parameters:
///   - classes: moving class map, `width · height` values, 0 = no data, else `1...classCount`.
///   - stride: sample every `stride`-th row and column (≥ 1).
///   - fixed: fixed image, `fixedWidth · fixedHeight` values.
///   - transform: moving pixel → fixed pixel coordinates.
/// - Complexity: O(width · height / stride²); parallel over a fixed number of row chunks, so the
///   sums do not depend on the thread count.
public func classMoments(classes: [UInt8], width: Int, height: Int, classCount: Int, stride: Int,
                         fixed: [Float], fixedWidth: Int, fixedHeight: Int,
                         transform t: AffineCoefficients) -> ClassMoments {
    precondition(classes.count == width * height && fixed.count == fixedWidth * fixedHeight && stride >= 1 && classCount >= 1,
                 "classMoments: \(classes.count) classes for \(width) x \(height), \(fixed.count) fixed values for \(fixedWidth) x \(fixedHeight), stride \(stride)")
    let rows = (height + stride - 1) / stride
    let chunkCount = min(rows, 16)
    let slots = classCount + 1
    var partial = [Double](repeating: 0, count: chunkCount * 3 * slots)
    let maxX = Double(fixedWidth - 1), maxY = Double(fixedHeight - 1)
    partial.withUnsafeMutableBufferPointer { out in
        let outBase = UncheckedSendable(out.baseAddress!)
        classes.withUnsafeBufferPointer { cls in
            fixed.withUnsafeBufferPointer { img in
                Parallel.forEach(chunkCount) { chunk in
                    let start = rows * chunk / chunkCount, end = rows * (chunk + 1) / chunkCount
                    let acc = outBase.value + chunk * 3 * slots
                    for sampledRow in start..<end {
                        let y = sampledRow * stride
                        let rowX = t.b * Double(y) + t.tx, rowY = t.d * Double(y) + t.ty
                        var x = 0
                        while x < width {
                            let k = Int(cls[y * width + x])
                            if k != 0 {
                                let fx = t.a * Double(x) + rowX, fy = t.c * Double(x) + rowY
                                if fx >= 0 && fy >= 0 && fx <= maxX && fy <= maxY {
                                    let x0 = min(Int(fx), fixedWidth - 2 < 0 ? 0 : fixedWidth - 2)
                                    let y0 = min(Int(fy), fixedHeight - 2 < 0 ? 0 : fixedHeight - 2)
                                    let wx = Float(fx - Double(x0)), wy = Float(fy - Double(y0))
                                    let i = y0 * fixedWidth + x0
                                    let x1 = fixedWidth > 1 ? 1 : 0, y1 = fixedHeight > 1 ? fixedWidth : 0
                                    let top = img[i] + wx * (img[i + x1] - img[i])
                                    let bottom = img[i + y1] + wx * (img[i + y1 + x1] - img[i + y1])
                                    let v = Double(top + wy * (bottom - top))
                                    acc[k] += 1; acc[slots + k] += v; acc[2 * slots + k] += v * v
                                }
                            }
                            x += stride
                        }
                    }
                }
            }
        }
    }
    var moments = ClassMoments(count: [Double](repeating: 0, count: slots), sum: [Double](repeating: 0, count: slots),
                               sumSquares: [Double](repeating: 0, count: slots))
    for chunk in 0..<chunkCount {
        let base = chunk * 3 * slots
        for k in 0..<slots {
            moments.count[k] += partial[base + k]
            moments.sum[k] += partial[base + slots + k]
            moments.sumSquares[k] += partial[base + 2 * slots + k]
        }
    }
    return moments
}

/// Resamples a class map onto a `outputWidth × outputHeight` grid: each output pixel takes the class
/// of the nearest source pixel at `transform(output pixel)` (output → source), 0 outside the source.
/// - Complexity: O(outputWidth · outputHeight), parallel over rows.
public func warpNearest(_ source: [UInt8], width: Int, height: Int, outputWidth: Int, outputHeight: Int,
                        transform t: AffineCoefficients) -> [UInt8] {
    precondition(source.count == width * height, "warpNearest: \(source.count) values for \(width) x \(height)")
    var out = [UInt8](repeating: 0, count: outputWidth * outputHeight)
    out.withUnsafeMutableBufferPointer { o in
        let base = UncheckedSendable(o.baseAddress!)
        source.withUnsafeBufferPointer { src in
            Parallel.forEachChunk(of: outputHeight, chunkCount: min(outputHeight, 16)) { range in
                for y in range {
                    for x in 0..<outputWidth {
                        let sx = (t.a * Double(x) + t.b * Double(y) + t.tx).rounded()
                        let sy = (t.c * Double(x) + t.d * Double(y) + t.ty).rounded()
                        if sx >= 0 && sy >= 0 && sx < Double(width) && sy < Double(height) {
                            base.value[y * outputWidth + x] = src[Int(sy) * width + Int(sx)]
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Resamples a grey image onto a `outputWidth × outputHeight` grid with bilinear interpolation at
/// `transform(output pixel)` (output → source); `outside` where the point is not within the source.
/// - Complexity: O(outputWidth · outputHeight), parallel over rows.
public func warpBilinear(_ source: [Float], width: Int, height: Int, outputWidth: Int, outputHeight: Int,
                         transform t: AffineCoefficients, outside: Float = 0) -> [Float] {
    precondition(source.count == width * height && width >= 1 && height >= 1,
                 "warpBilinear: \(source.count) values for \(width) x \(height)")
    var out = [Float](repeating: outside, count: outputWidth * outputHeight)
    let maxX = Double(width - 1), maxY = Double(height - 1)
    out.withUnsafeMutableBufferPointer { o in
        let base = UncheckedSendable(o.baseAddress!)
        source.withUnsafeBufferPointer { img in
            Parallel.forEachChunk(of: outputHeight, chunkCount: min(outputHeight, 16)) { range in
                for y in range {
                    for x in 0..<outputWidth {
                        let fx = t.a * Double(x) + t.b * Double(y) + t.tx
                        let fy = t.c * Double(x) + t.d * Double(y) + t.ty
                        guard fx >= 0 && fy >= 0 && fx <= maxX && fy <= maxY else { continue }
                        let x0 = min(Int(fx), max(0, width - 2)), y0 = min(Int(fy), max(0, height - 2))
                        let x1 = width > 1 ? 1 : 0, y1 = height > 1 ? width : 0
                        let wx = Float(fx - Double(x0)), wy = Float(fy - Double(y0))
                        let i = y0 * width + x0
                        let top = img[i] + wx * (img[i + x1] - img[i])
                        let bottom = img[i + y1] + wx * (img[i + y1 + x1] - img[i + y1])
                        base.value[y * outputWidth + x] = top + wy * (bottom - top)
                    }
                }
            }
        }
    }
    return out
}

