import CleaveCore

// Normalisation followed by ReLU, fused: a = max(0, γ·x̂ + β), x̂ = (z − μ)/√(σ² + ε).
// Statistics are summed in Double, in a fixed order per channel (or per sample and group),
// parallel over channels, so results do not depend on the thread count.

enum NormalizationKernels {
    typealias V = SIMD8<Float>

    /// Sum and sum of squares of `count` floats, in Double.
    @inline(__always)
    static func moments(_ x: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
        var s = SIMD4<Double>(), q = SIMD4<Double>()
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let lo = SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]))
            let hi = SIMD4<Double>(Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
            s += lo + hi
            q += lo * lo + hi * hi
            i += 8
        }
        var sum = s.sum(), squares = q.sum()
        while i < count { let d = Double(x[i]); sum += d; squares += d * d; i += 1 }
        return (sum, squares)
    }

    /// x̂ = (z − mean)·invstd stored in `xhat`; a = max(0, γ x̂ + β).
    @inline(__always)
    static func normalizeReLU(_ z: UnsafePointer<Float>, _ xhat: UnsafeMutablePointer<Float>?, _ a: UnsafeMutablePointer<Float>,
                              count: Int, mean: Float, invstd: Float, gamma: Float, beta: Float) {
        let vm = V(repeating: mean), vi = V(repeating: invstd), vg = V(repeating: gamma), vb = V(repeating: beta)
        let zero = V()
        var i = 0
        while i + 8 <= count {
            let h = (UnsafeRawPointer(z + i).loadUnaligned(as: V.self) - vm) * vi
            if let xhat { UnsafeMutableRawPointer(xhat + i).storeBytes(of: h, as: V.self) }
            let y = vb.addingProduct(h, vg)
            UnsafeMutableRawPointer(a + i).storeBytes(of: y.replacing(with: zero, where: y .< zero), as: V.self)
            i += 8
        }
        while i < count {
            let h = (z[i] - mean) * invstd
            xhat?[i] = h
            let y = beta.addingProduct(h, gamma)
            a[i] = y < 0 ? 0 : y
            i += 1
        }
    }

    /// a = max(0, z·scale + shift).
    @inline(__always)
    static func scaleShiftReLU(_ z: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) {
        let vs = V(repeating: scale), vh = V(repeating: shift), zero = V()
        var i = 0
        while i + 8 <= count {
            let y = vh.addingProduct(UnsafeRawPointer(z + i).loadUnaligned(as: V.self), vs)
            UnsafeMutableRawPointer(a + i).storeBytes(of: y.replacing(with: zero, where: y .< zero), as: V.self)
            i += 8
        }
        while i < count { let y = shift.addingProduct(z[i], scale); a[i] = y < 0 ? 0 : y; i += 1 }
    }

    /// Σ dy and Σ dy·x̂ where dy = da·[a > 0]; writes dy into `dyOut`.
    @inline(__always)
    static func maskedSums(_ da: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>,
                           _ dyOut: UnsafeMutablePointer<Float>, count: Int) -> (Double, Double) {
        var s = V(), q = V()
        var sd = 0.0, qd = 0.0
        let zero = V()
        var i = 0
        var block = 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(da + i).loadUnaligned(as: V.self)
            let av = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            let dy = zero.replacing(with: g, where: av .> zero)
            UnsafeMutableRawPointer(dyOut + i).storeBytes(of: dy, as: V.self)
            s += dy
            q = q.addingProduct(dy, UnsafeRawPointer(xhat + i).loadUnaligned(as: V.self))
            i += 8
            block += 1
            if block == 64 {   // flush Float partials into Double every 512 elements
                sd += Double(s.sum()); qd += Double(q.sum()); s = V(); q = V(); block = 0
            }
        }
        sd += Double(s.sum()); qd += Double(q.sum())
        while i < count {
            let dy: Float = a[i] > 0 ? da[i] : 0
            dyOut[i] = dy
            sd += Double(dy); qd += Double(dy * xhat[i])
            i += 1
        }
        return (sd, qd)
    }

    /// dz = k·(dy − c1 − x̂·c2)
    @inline(__always)
    static func normBackward(_ dy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>,
                             count: Int, k: Float, c1: Float, c2: Float) {
        let vk = V(repeating: k), v1 = V(repeating: c1), v2 = V(repeating: c2)
        var i = 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: V.self)
            let h = UnsafeRawPointer(xhat + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dz + i).storeBytes(of: vk * (g - v1 - h * v2), as: V.self)
            i += 8
        }
        while i < count { dz[i] = k * (dy[i] - c1 - xhat[i] * c2); i += 1 }
    }

    /// dz = da·[a > 0]
    static func reluBackward(_ da: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>, count: Int) {
        let zero = V()
        var i = 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(da + i).loadUnaligned(as: V.self)
            let av = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dz + i).storeBytes(of: zero.replacing(with: g, where: av .> zero), as: V.self)
            i += 8
        }
        while i < count { dz[i] = a[i] > 0 ? da[i] : 0; i += 1 }
    }
}
