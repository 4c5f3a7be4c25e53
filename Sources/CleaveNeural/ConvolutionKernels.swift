import CleaveCore

// 3×3 (padding 1) and 1×1 convolutions, stride 1, as GEMMs over an implicit im2col matrix
// (GEMM packs its panels straight from the image; nothing of size K × P is ever stored):
//
//   forward:  Y[Co × P]   = W[Co × K] · col(X)[K × P]           (K = Ci·9, P = pixels)
//   weights:  dW[Co × K] += dY[Co × P] · col(X)ᵀ
//   input:    dX[Ci × P]  = W̃[Ci × Co·9] · col(dY)              (W̃ = W with taps flipped, Ci ↔ Co)

enum ConvolutionKernels {
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
                        kernelSize: Int, y: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        let p = height * width
        if kernelSize == 1 {
            GEMM.unsafeMultiply(m: outputChannels, n: p, k: inputChannels,
                          a: MatrixView(weight, rowStride: inputChannels), b: MatrixView(x, rowStride: p),
                          c: y, ldc: p, accumulate: false)
        } else {
            let k = inputChannels * 9
            Im2ColView.unsafePad(x, channels: inputChannels, height: height, width: width, into: padded)
            GEMM.unsafeMultiply(m: outputChannels, n: p, k: k, a: MatrixView(weight, rowStride: k),
                          b: .im2col(Im2ColView(padded: padded, channels: inputChannels, height: height, width: width)),
                          c: y, ldc: p, accumulate: false)
        }
        if let bias {
            for co in 0..<outputChannels {
                let b = bias[co]
                let row = y + co * p
                for i in 0..<p { row[i] += b }
            }
        }
    }

    /// Weights for the input gradient of a 3×3 convolution, which is itself a 3×3 convolution of dY:
    /// flipped[ci, co·9 + (2−ky)·3 + (2−kx)] = W[co, ci, ky, kx].
    static func flippedWeights(_ weight: UnsafePointer<Float>, inputChannels: Int, outputChannels: Int,
                               into flipped: UnsafeMutablePointer<Float>) {
        for co in 0..<outputChannels {
            for ci in 0..<inputChannels {
                for tap in 0..<9 {
                    flipped[ci * outputChannels * 9 + co * 9 + (8 - tap)] = weight[(co * inputChannels + ci) * 9 + tap]
                }
            }
        }
    }

    /// Backward of one image: accumulates dW (and dBias), writes dX when `dx` is given
    /// (`flipped` from ``flippedWeights`` for 3×3 kernels).
    static func backward(x: UnsafePointer<Float>, inputChannels: Int, height: Int, width: Int,
                         weight: UnsafePointer<Float>, flipped: UnsafePointer<Float>?, outputChannels: Int, kernelSize: Int,
                         dy: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                         biasGradient: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         padded: UnsafeMutablePointer<Float>) {
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
            GEMM.unsafeMultiply(m: outputChannels, n: inputChannels, k: p,
                          a: MatrixView(dy, rowStride: p), b: MatrixView(x, rowStride: p).transposed,
                          c: weightGradient, ldc: inputChannels, accumulate: true)
            if let dx {
                // dX[Ci × P] = Wᵀ · dY
                GEMM.unsafeMultiply(m: inputChannels, n: p, k: outputChannels,
                              a: MatrixView(weight, rowStride: inputChannels).transposed, b: MatrixView(dy, rowStride: p),
                              c: dx, ldc: p, accumulate: false)
            }
            return
        }
        let k = inputChannels * 9
        // dW[Co × Ci·9] += dY[Co × P] · im2col(x)ᵀ
        Im2ColView.unsafePad(x, channels: inputChannels, height: height, width: width, into: padded)
        GEMM.unsafeMultiply(m: outputChannels, n: k, k: p, a: MatrixView(dy, rowStride: p),
                      b: .im2colTransposed(Im2ColView(padded: padded, channels: inputChannels, height: height, width: width)),
                      c: weightGradient, ldc: k, accumulate: true)
        if let dx, let flipped {
            // dX[Ci × P] = flipped[Ci × Co·9] · im2col(dY)
            Im2ColView.unsafePad(dy, channels: outputChannels, height: height, width: width, into: padded)
            GEMM.unsafeMultiply(m: inputChannels, n: p, k: outputChannels * 9, a: MatrixView(flipped, rowStride: outputChannels * 9),
                          b: .im2col(Im2ColView(padded: padded, channels: outputChannels, height: height, width: width)),
                          c: dx, ldc: p, accumulate: false)
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
    /// Frees the allocation (the next `pointer(_:)` allocates again).
    func release() {
        storage.deallocate()
        storage = .allocate(capacity: 1)
        capacity = 1
    }
}
