import CleaveCore

/// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher's lower envelope of
/// parabolas, one axis at a time), with per-axis spacing for anisotropic voxels.
public enum DistanceTransform {
    /// Squared distance from every foreground pixel to the centre of the nearest background
    /// pixel, in squared spacing units (0 on background). Pixels outside the image are not
    /// background (like `scipy.ndimage.distance_transform_edt`); with no background at all every
    /// value is `.infinity`.
    /// - Parameters:
    ///   - foreground: one flag per pixel of `shape` (one channel), storage order.
    ///   - spacing: (x, y, z) pixel sizes; 1 for pixel units.
    /// - Complexity: O(pixels · dimensions), lines in parallel.
    public static func squaredEuclidean(foreground: [Bool], shape: Shape,
                                        spacing: (x: Double, y: Double, z: Double) = (1, 1, 1)) -> [Double] {
        squaredEuclidean(foreground: foreground, shape: shape, spacing: spacing, parallel: true)
    }

    static func squaredEuclidean(foreground: [Bool], shape: Shape, spacing: (x: Double, y: Double, z: Double),
                                 parallel: Bool) -> [Double] {
        let shape = shape.singleChannel
        precondition(foreground.count == shape.count, "DistanceTransform.squaredEuclidean: \(foreground.count) flags for \(shape)")
        var d = foreground.map { $0 ? Double.infinity : 0 }
        let w = shape.width, h = shape.height, depth = shape.depth
        // (length, stride, line starts, spacing) per axis
        var axes: [(Int, Int, [Int], Double)] = []
        axes.append((w, 1, (0..<(h * depth)).map { $0 * w }, spacing.x))
        if h > 1 { axes.append((h, w, (0..<depth).flatMap { z in (0..<w).map { z * w * h + $0 } }, spacing.y)) }
        if depth > 1 { axes.append((depth, w * h, Array(0..<(w * h)), spacing.z)) }
        for (length, stride, starts, step) in axes {
            d.withUnsafeMutableBufferPointer { buffer in
                let box = UncheckedSendable(buffer)
                Parallel.forEachChunk(of: starts.count, chunkCount: parallel ? Parallel.chunkCount(total: starts.count, minimumPerChunk: 64) : 1) { range in
                    var f = [Double](repeating: 0, count: length)
                    var out = [Double](repeating: 0, count: length)
                    var v = [Int](repeating: 0, count: length)
                    var z = [Double](repeating: 0, count: length + 1)
                    for s in range {
                        let start = starts[s]
                        for i in 0..<length { f[i] = box.value[start + i * stride] }
                        lowerEnvelope(f, &out, &v, &z, step: step)
                        for i in 0..<length { box.value[start + i * stride] = out[i] }
                    }
                }
            }
        }
        return d
    }

    /// 1D: `out[p] = min_q (step·(p − q))² + f[q]`.
    static func lowerEnvelope(_ f: [Double], _ out: inout [Double], _ v: inout [Int], _ z: inout [Double], step: Double) {
        let n = f.count
        let s2 = step * step
        var k = -1
        for q in 0..<n where f[q].isFinite {
            if k < 0 { k = 0; v[0] = q; z[0] = -.infinity; z[1] = .infinity; continue }
            var s: Double
            repeat {
                let p = v[k]
                s = ((f[q] + s2 * Double(q * q)) - (f[p] + s2 * Double(p * p))) / (2 * s2 * Double(q - p))
                if s <= z[k] { k -= 1 } else { break }
            } while k >= 0
            k += 1
            v[k] = q; z[k] = k == 0 ? -.infinity : s; z[k + 1] = .infinity
        }
        if k < 0 { for i in 0..<n { out[i] = .infinity }; return }
        var j = 0
        for q in 0..<n {
            while z[j + 1] < Double(q) { j += 1 }
            let dq = Double(q - v[j])
            out[q] = s2 * dq * dq + f[v[j]]
        }
    }
}
