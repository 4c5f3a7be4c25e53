import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Radix-2 complex fast Fourier transforms in 1D and 2D (numpy.fft's sign and scaling
/// conventions: the forward transform is unscaled with `exp(-2πi·k·n/N)`, the inverse divides by N).
///
/// Sizes must be powers of two. Real and imaginary parts are kept in separate `Float` arrays
/// (split complex); twiddle factors are computed in `Double`, so a forward-inverse round trip is
/// exact to a few float ulps times log2(N).
public struct FFT: Sendable {
    /// Transform length (a power of two ≥ 1).
    public let count: Int
    @usableFromInline let cosines: [Float]
    @usableFromInline let sines: [Float]
    @usableFromInline let reversed: [Int]

    /// Plans a transform of `count` points.
    /// - Precondition: `count` is a power of two ≥ 1.
    public init(count: Int) {
        precondition(count >= 1 && count & (count - 1) == 0, "FFT(count: \(count)): the length must be a power of two")
        self.count = count
        var cosines = [Float](repeating: 0, count: max(1, count / 2))
        var sines = [Float](repeating: 0, count: max(1, count / 2))
        for k in 0..<count / 2 {
            let angle = -2 * Double.pi * Double(k) / Double(count)
            cosines[k] = Float(cos(angle)); sines[k] = Float(sin(angle))
        }
        var reversed = [Int](repeating: 0, count: count)
        var bits = 0
        while 1 << bits < count { bits += 1 }
        for i in 0..<count {
            var r = 0, v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            reversed[i] = r
        }
        self.cosines = cosines; self.sines = sines; self.reversed = reversed
    }

    /// Transforms `count` points starting at `offset` with element step `step`, in place.
    /// `inverse` flips the sign of the exponent and divides by `count`.
    @inlinable
    public func unsafeTransform(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, inverse: Bool) {
        let n = count
        if n == 1 { return }
        for i in 0..<n {
            let j = reversed[i]
            if j > i {
                let tr = real[i]; real[i] = real[j]; real[j] = tr
                let ti = imaginary[i]; imaginary[i] = imaginary[j]; imaginary[j] = ti
            }
        }
        let sign: Float = inverse ? -1 : 1
        cosines.withUnsafeBufferPointer { cs in
            sines.withUnsafeBufferPointer { ss in
                var half = 1
                while half < n {
                    let stride = n / (2 * half)
                    var start = 0
                    while start < n {
                        for k in 0..<half {
                            let wr = cs[k * stride], wi = sign * ss[k * stride]
                            let a = start + k, b = a + half
                            let xr = real[b] * wr - imaginary[b] * wi
                            let xi = real[b] * wi + imaginary[b] * wr
                            real[b] = real[a] - xr; imaginary[b] = imaginary[a] - xi
                            real[a] += xr; imaginary[a] += xi
                        }
                        start += 2 * half
                    }
                    half *= 2
                }
            }
        }
        if inverse {
            let scale = 1 / Float(n)
            for i in 0..<n { real[i] *= scale; imaginary[i] *= scale }
        }
    }
}

/// 2D FFT of a `width × height` split-complex array (row-major, column fastest), in place:
/// numpy's `fft2` (forward) or `ifft2` (inverse). Rows run in parallel; the result does not depend
/// on the thread count (each row and column is transformed independently).
/// - Precondition: `width` and `height` are powers of two; both arrays hold `width · height` values.
/// - Complexity: O(width · height · log(width · height)).
public func fft2D(real: inout [Float], imaginary: inout [Float], width: Int, height: Int, inverse: Bool = false) {
    precondition(real.count == width * height && imaginary.count == width * height,
                 "fft2D: \(real.count) and \(imaginary.count) values for \(width) x \(height)")
    let rows = FFT(count: width), columns = FFT(count: height)
    real.withUnsafeMutableBufferPointer { re in
        imaginary.withUnsafeMutableBufferPointer { im in
            let reBase = UncheckedSendable(re.baseAddress!), imBase = UncheckedSendable(im.baseAddress!)
            Parallel.forEachChunk(of: height, chunkCount: min(height, 16)) { range in
                for y in range { rows.unsafeTransform(real: reBase.value + y * width, imaginary: imBase.value + y * width, inverse: inverse) }
            }
            Parallel.forEachChunk(of: width, chunkCount: min(width, 16)) { range in
                var colRe = [Float](repeating: 0, count: height), colIm = [Float](repeating: 0, count: height)
                colRe.withUnsafeMutableBufferPointer { cr in
                    colIm.withUnsafeMutableBufferPointer { ci in
                        for x in range {
                            for y in 0..<height { cr[y] = reBase.value[y * width + x]; ci[y] = imBase.value[y * width + x] }
                            columns.unsafeTransform(real: cr.baseAddress!, imaginary: ci.baseAddress!, inverse: inverse)
                            for y in 0..<height { reBase.value[y * width + x] = cr[y]; imBase.value[y * width + x] = ci[y] }
                        }
                    }
                }
            }
        }
    }
}
