import CleaveCore

// 3×3 (padding 1) and 1×1 convolutions, stride 1, as GEMMs over an im2col matrix.
//
//   forward:  Y[Co × P]  = W[Co × K] · col[K × P]           (K = Ci·kh·kw, P = pixels of a band)
//   weights:  dW[Co × K] += dY[Co × P] · colᵀ
//   input:    dcol[K × P] = Wᵀ · dY ;  dX = col2im(dcol)
//
// Images are processed in bands of rows so the col matrix stays a few MB even for 1024² inputs.

enum ConvolutionKernels {
    /// Rows per band so that the col matrix has at most ~`budget` floats.
    static func bandRows(k: Int, height: Int, width: Int, budget: Int = 1 << 21) -> Int {
        max(1, min(height, budget / max(1, k * width)))
    }

    /// col[(ci·9 + ky·3 + kx) × (rows·W)] for output rows y0..<y0+rows of a 3×3, padding-1 convolution.
    static func im2col3x3(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                          y0: Int, rows: Int, col: UnsafeMutablePointer<Float>) {
        let bandSize = rows * width
        for ci in 0..<channels {
            let plane = x + ci * height * width
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let dst = col + ((ci * 3 + ky) * 3 + kx) * bandSize
                    let shift = kx - 1
                    for r in 0..<rows {
                        let sy = y0 + r + ky - 1
                        let out = dst + r * width
                        if sy < 0 || sy >= height {
                            out.update(repeating: 0, count: width)
                            continue
                        }
                        let src = plane + sy * width
                        if shift == 0 {
                            out.update(from: src, count: width)
                        } else if shift < 0 {
                            out[0] = 0
                            if width > 1 { (out + 1).update(from: src, count: width - 1) }
                        } else {
                            if width > 1 { out.update(from: src + 1, count: width - 1) }
                            out[width - 1] = 0
                        }
                    }
                }
            }
        }
    }

    /// dX[rows y0-1 ..< y0+rows+1] += col2im(dcol) for a band (inverse of `im2col3x3`).
    static func col2im3x3(_ dcol: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                          y0: Int, rows: Int, dx: UnsafeMutablePointer<Float>) {
        let bandSize = rows * width
        for ci in 0..<channels {
            let plane = dx + ci * height * width
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let src = dcol + ((ci * 3 + ky) * 3 + kx) * bandSize
                    let shift = kx - 1
                    for r in 0..<rows {
                        let sy = y0 + r + ky - 1
                        if sy < 0 || sy >= height { continue }
                        let g = src + r * width
                        let out = plane + sy * width
                        if shift == 0 {
                            addInPlace(out, g, width)
                        } else if shift < 0 {
                            // col[x] = x[x-1]  →  dX[x-1] += g[x], x = 1..<W
                            if width > 1 { addInPlace(out, g + 1, width - 1) }
                        } else {
                            // col[x] = x[x+1]  →  dX[x+1] += g[x], x = 0..<W-1
                            if width > 1 { addInPlace(out + 1, g, width - 1) }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
        var i = 0
        while i + 8 <= count {
            let d = UnsafeMutableRawPointer(dst + i)
            let s = UnsafeRawPointer(src + i)
            d.storeBytes(of: d.loadUnaligned(as: SIMD8<Float>.self) + s.loadUnaligned(as: SIMD8<Float>.self),
                         as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] += src[i]; i += 1 }
    }

    /// Forward convolution of one image: y[Co × H·W] = W · x (+ bias).
    static func forward(x: UnsafePointer<Float>, inputChannels: Int, height: Int, width: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputChannels: Int,
                        kernelSize: Int, y: UnsafeMutablePointer<Float>, scratch: ScratchBuffer) {
        let p = height * width
        if kernelSize == 1 {
            GEMM.multiply(m: outputChannels, n: p, k: inputChannels,
                          a: MatrixView(weight, rowStride: inputChannels), b: MatrixView(x, rowStride: p),
                          c: y, ldc: p, accumulate: false)
        } else {
            let k = inputChannels * 9
            let band = bandRows(k: k, height: height, width: width)
            let col = scratch.pointer(k * band * width)
            var y0 = 0
            while y0 < height {
                let rows = min(band, height - y0)
                im2col3x3(x, channels: inputChannels, height: height, width: width, y0: y0, rows: rows, col: col)
                GEMM.multiply(m: outputChannels, n: rows * width, k: k,
                              a: MatrixView(weight, rowStride: k), b: MatrixView(col, rowStride: rows * width),
                              c: y + y0 * width, ldc: p, accumulate: false)
                y0 += rows
            }
        }
        if let bias {
            for co in 0..<outputChannels {
                let b = bias[co]
                let row = y + co * p
                for i in 0..<p { row[i] += b }
            }
        }
    }

    /// Backward of one image: accumulates dW (and dBias), writes dX when `dx` is given.
    static func backward(x: UnsafePointer<Float>, inputChannels: Int, height: Int, width: Int,
                         weight: UnsafePointer<Float>, outputChannels: Int, kernelSize: Int,
                         dy: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                         biasGradient: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         scratch: ScratchBuffer, scratch2: ScratchBuffer) {
        let p = height * width
        if let biasGradient {
            for co in 0..<outputChannels {
                let row = dy + co * p
                var s = SIMD8<Float>()
                var i = 0
                while i + 8 <= p { s += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
                var total = s.sum()
                while i < p { total += row[i]; i += 1 }
                biasGradient[co] += total
            }
        }
        if kernelSize == 1 {
            // dW[Co × Ci] += dY[Co × P] · Xᵀ
            GEMM.multiply(m: outputChannels, n: inputChannels, k: p,
                          a: MatrixView(dy, rowStride: p), b: MatrixView(x, rowStride: p).transposed,
                          c: weightGradient, ldc: inputChannels, accumulate: true)
            if let dx {
                // dX[Ci × P] = Wᵀ · dY
                GEMM.multiply(m: inputChannels, n: p, k: outputChannels,
                              a: MatrixView(weight, rowStride: inputChannels).transposed, b: MatrixView(dy, rowStride: p),
                              c: dx, ldc: p, accumulate: false)
            }
            return
        }
        let k = inputChannels * 9
        let band = bandRows(k: k, height: height, width: width)
        let col = scratch.pointer(k * band * width)
        let dcol = dx == nil ? col : scratch2.pointer(k * band * width)
        if let dx { dx.update(repeating: 0, count: inputChannels * p) }
        var y0 = 0
        while y0 < height {
            let rows = min(band, height - y0)
            let n = rows * width
            im2col3x3(x, channels: inputChannels, height: height, width: width, y0: y0, rows: rows, col: col)
            GEMM.multiply(m: outputChannels, n: k, k: n,
                          a: MatrixView(dy + y0 * width, rowStride: p), b: MatrixView(col, rowStride: n).transposed,
                          c: weightGradient, ldc: k, accumulate: true)
            if let dx {
                GEMM.multiply(m: k, n: n, k: outputChannels,
                              a: MatrixView(weight, rowStride: k).transposed, b: MatrixView(dy + y0 * width, rowStride: p),
                              c: dcol, ldc: n, accumulate: false)
                col2im3x3(dcol, channels: inputChannels, height: height, width: width, y0: y0, rows: rows, dx: dx)
            }
            y0 += rows
        }
    }
}

/// A growable scratch allocation reused across calls.
final class ScratchBuffer {
    private var storage: UnsafeMutablePointer<Float>
    private var capacity: Int
    init() { storage = .allocate(capacity: 1); capacity = 1 }
    deinit { storage.deallocate() }
    func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            storage.deallocate()
            storage = .allocate(capacity: count)
            capacity = count
        }
        return storage
    }
}
