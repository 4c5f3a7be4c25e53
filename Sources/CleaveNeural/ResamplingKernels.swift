// ×2 bilinear up-sampling (align_corners = false) and the 2×2 stride-2 transposed-convolution
// scatter/gather.
//
// With half-pixel centres, output index j samples source coordinate j/2 − 1/4, so along one axis
//   out[2i]   = ¼·in[i−1] + ¾·in[i]     (out[0]      = in[0])
//   out[2i+1] = ¾·in[i]   + ¼·in[i+1]   (out[2L−1]   = in[L−1])
// which is PyTorch's rule (negative source coordinates clamp to 0, the upper neighbour clamps to L−1).

enum ResamplingKernels {
    /// 1-D ×2 up-sampling of `count` values with stride `stride` into `out` (stride `outStride`).
    @inline(__always)
    static func upsampleLine(_ src: UnsafePointer<Float>, _ count: Int, _ dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let center = src[i]
            let left = i > 0 ? src[i - 1] : center
            let right = i + 1 < count ? src[i + 1] : center
            dst[2 * i] = 0.25 * left + 0.75 * center
            dst[2 * i + 1] = 0.75 * center + 0.25 * right
        }
    }

    /// One H×W plane → 2H×2W.
    static func upsamplePlane(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        let outW = 2 * width
        // Rows first (into the even output rows as scratch), then columns.
        for r in 0..<height {
            upsampleLine(src + r * width, width, dst + (2 * r) * outW)
        }
        // Vertical pass, bottom-up would overwrite; use a row copy of the previous, current, next.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * outW) { tmp in
            let prev = tmp.baseAddress!, cur = prev + outW, next = cur + outW
            cur.update(from: dst, count: outW)
            prev.update(from: cur, count: outW)
            for r in 0..<height {
                if r + 1 < height { next.update(from: dst + 2 * (r + 1) * outW, count: outW) } else { next.update(from: cur, count: outW) }
                let even = dst + 2 * r * outW, odd = even + outW
                for x in 0..<outW {
                    even[x] = 0.25 * prev[x] + 0.75 * cur[x]
                    odd[x] = 0.75 * cur[x] + 0.25 * next[x]
                }
                prev.update(from: cur, count: outW)
                cur.update(from: next, count: outW)
            }
        }
    }

    /// Adjoint of `upsamplePlane`: 2H×2W gradient → H×W gradient (overwrites `dst`).
    static func upsamplePlaneBackward(_ dy: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, height: Int, width: Int) {
        let outW = 2 * width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: height * outW) { tmp in
            let rows = tmp.baseAddress!
            rows.update(repeating: 0, count: height * outW)
            // Vertical adjoint: 2H rows → H rows.
            for r in 0..<height {
                let even = dy + 2 * r * outW, odd = even + outW
                let target = rows + r * outW
                let up = r > 0 ? rows + (r - 1) * outW : target
                let down = r + 1 < height ? rows + (r + 1) * outW : target
                for x in 0..<outW {
                    up[x] += 0.25 * even[x]
                    target[x] += 0.75 * even[x] + 0.75 * odd[x]
                    down[x] += 0.25 * odd[x]
                }
            }
            // Horizontal adjoint: 2W columns → W.
            for r in 0..<height {
                let line = rows + r * outW
                let out = dst + r * width
                for i in 0..<width { out[i] = 0 }
                for i in 0..<width {
                    let e = line[2 * i], o = line[2 * i + 1]
                    out[i] += 0.75 * e + 0.75 * o
                    if i > 0 { out[i - 1] += 0.25 * e } else { out[i] += 0.25 * e }
                    if i + 1 < width { out[i + 1] += 0.25 * o } else { out[i] += 0.25 * o }
                }
            }
        }
    }

    /// out[co, 2y+dy, 2x+dx] = t[(co·4 + dy·2 + dx), y·W + x] + bias[co].
    static func scatter2x2(_ t: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, channels: Int,
                           height: Int, width: Int, bias: UnsafePointer<Float>) {
        let p = height * width, outW = 2 * width
        for co in 0..<channels {
            let b = bias[co]
            let plane = out + co * 4 * p
            for dy in 0..<2 {
                for dx in 0..<2 {
                    let src = t + (co * 4 + dy * 2 + dx) * p
                    for y in 0..<height {
                        let row = plane + (2 * y + dy) * outW + dx
                        let s = src + y * width
                        for x in 0..<width { row[2 * x] = s[x] + b }
                    }
                }
            }
        }
    }

    /// t[(co·4 + dy·2 + dx), y·W + x] = g[co, 2y+dy, 2x+dx]; bias gradient += Σ g over each channel.
    static func gather2x2(_ g: UnsafePointer<Float>, _ t: UnsafeMutablePointer<Float>, channels: Int,
                          height: Int, width: Int, biasGradient: UnsafeMutablePointer<Float>) {
        let p = height * width, outW = 2 * width
        for co in 0..<channels {
            let plane = g + co * 4 * p
            var sum: Float = 0
            for i in 0..<(4 * p) { sum += plane[i] }
            biasGradient[co] += sum
            for dy in 0..<2 {
                for dx in 0..<2 {
                    let dst = t + (co * 4 + dy * 2 + dx) * p
                    for y in 0..<height {
                        let row = plane + (2 * y + dy) * outW + dx
                        let d = dst + y * width
                        for x in 0..<width { d[x] = row[2 * x] }
                    }
                }
            }
        }
    }
}
