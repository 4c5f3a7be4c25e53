import CleaveCore

/// The integer sums every 3D shape measurement is computed from, per label: voxel count, first
/// and second moments, bounding box, voxel faces, border contact and the Crofton transition
/// counts of the 13 lattice directions (``SurfaceArea``).
///
/// Every field is an integer merged by a sum, a minimum or a maximum, so sums taken over any
/// split of a volume — plane chunks of one image, or blocks of a volume bigger than memory, each
/// read with a one-voxel border of its neighbours — merge into exactly the sums of the whole
/// volume, and ``ObjectMeasurement`` turns equal sums into equal measurements, bit for bit.
///
/// | field | meaning | merge |
/// |---|---|---|
/// | 0 | voxels | + |
/// | 1–3 | Σz, Σy, Σx | + |
/// | 4–9 | Σzz, Σyy, Σxx, Σzy, Σzx, Σyx | + |
/// | 10–12 | min z, y, x | min |
/// | 13–15 | max z, y, x | max |
/// | 16–18 | voxel faces across x, y, z | + |
/// | 19 | 1 when a voxel lies on the volume's edge | max |
/// | 20–32 | pairs (p, p + d) with one end in the object, per direction d | + |
public struct ShapeSums3D: Sendable, Equatable {
    /// Fields per label.
    public static let stride = 33
    /// First of the 13 transition counts.
    static let transitionField = 20

    /// Largest label (rows 0…objectCount; row 0, the background, stays unused).
    public let objectCount: Int
    /// `(objectCount + 1) × stride` values, label-major.
    public var values: [Int64]

    /// Empty sums (minima at `Int64.max`, maxima at −1).
    public init(objectCount: Int) {
        self.objectCount = objectCount
        values = [Int64](repeating: 0, count: (objectCount + 1) * Self.stride)
        for l in 0...objectCount {
            for f in 10..<13 { values[l * Self.stride + f] = .max }
            for f in 13..<16 { values[l * Self.stride + f] = -1 }
        }
    }

    /// Voxels of `label`.
    public func count(_ label: Int) -> Int64 { values[label * Self.stride] }

    /// The fields of one label.
    public func row(_ label: Int) -> ArraySlice<Int64> { values[(label * Self.stride)..<((label + 1) * Self.stride)] }

    /// True when any field of `label` differs from an empty row (the label met this part of the volume).
    public func touches(_ label: Int) -> Bool {
        let base = label * Self.stride
        return values[base] > 0 || values[(base + Self.transitionField)..<(base + Self.stride)].contains { $0 != 0 }
    }

    /// Merges the row of another split into row `label`.
    public mutating func merge(_ row: ArraySlice<Int64>, into label: Int) {
        precondition(row.count == Self.stride, "ShapeSums3D.merge: \(row.count) fields, expected \(Self.stride)")
        let base = label * Self.stride
        var f = 0
        for v in row {
            switch f {
            case 10..<13: values[base + f] = Swift.min(values[base + f], v)
            case 13..<16, 19: values[base + f] = Swift.max(values[base + f], v)
            default: values[base + f] += v
            }
            f += 1
        }
    }

    /// Sums of the voxels in `inner` of a label window.
    ///
    /// - Parameters:
    ///   - labels: a box of the volume's labels (`window`, x fastest), labels 0…objectCount.
    ///   - window: where the box lies in the volume; it must hold `inner` grown by one voxel
    ///     (clipped to the volume), since faces and transitions look at the neighbours.
    ///   - volume: the volume's size (outside it counts as background).
    ///   - inner: the voxels whose sums are taken (a pair (p, p + d) counts where p lies; a pair
    ///     reaching in from outside the volume, where its inside end lies).
    /// - Complexity: O(voxels of `inner` × 13), parallel over plane chunks with private sums.
    public static func unsafeAccumulate(_ labels: UnsafeBufferPointer<Int32>, window: Region, volume: Shape, inner: Region,
                                  objectCount: Int) -> ShapeSums3D {
        precondition(labels.count == window.pixelCount, "ShapeSums3D.accumulate: \(labels.count) labels for a window of \(window.pixelCount)")
        let planes = inner.depth
        let chunkCount = max(1, min(8, planes, inner.pixelCount / max(1, (objectCount + 1) * stride * 4)))
        var partials = [ShapeSums3D?](repeating: nil, count: chunkCount)
        partials.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedSendable(buffer)
            Parallel.forEach(chunkCount) { c in
                var sums = ShapeSums3D(objectCount: objectCount)
                let z0 = inner.z + planes * c / chunkCount, z1 = inner.z + planes * (c + 1) / chunkCount
                sums.values.withUnsafeMutableBufferPointer { acc in
                    accumulate(labels, window: window, volume: volume,
                               inner: Region(x: inner.x, y: inner.y, z: z0, width: inner.width, height: inner.height, depth: z1 - z0),
                               into: acc)
                }
                box.value[c] = sums
            }
        }
        var total = partials[0]!
        for part in partials.dropFirst() {
            for l in 1..<(objectCount + 1) { total.merge(part!.row(l), into: l) }
        }
        return total
    }

    /// The Crofton directions as (dz, dy, dx).
    static let directions = SurfaceArea.directions

    private static func accumulate(_ labels: UnsafeBufferPointer<Int32>, window: Region, volume: Shape, inner: Region,
                                   into acc: UnsafeMutableBufferPointer<Int64>) {
        let ww = window.width, wh = window.height, wplane = ww * wh
        let W = volume.width, H = volume.height, D = volume.depth
        let t = transitionField
        let steps = directions.map { ($0.0 * wplane + $0.1 * ww + $0.2, $0) }
        for z in inner.z..<(inner.z + inner.depth) { for y in inner.y..<(inner.y + inner.height) {
            var i = ((z - window.z) * wh + (y - window.y)) * ww + (inner.x - window.x)
            for x in inner.x..<(inner.x + inner.width) {
                defer { i += 1 }
                let l32 = labels[i]
                let l = Int(l32)
                let base = l * stride
                if l != 0 {
                    let zz = Int64(z), yy = Int64(y), xx = Int64(x)
                    acc[base] += 1
                    acc[base + 1] += zz; acc[base + 2] += yy; acc[base + 3] += xx
                    acc[base + 4] += zz * zz; acc[base + 5] += yy * yy; acc[base + 6] += xx * xx
                    acc[base + 7] += zz * yy; acc[base + 8] += zz * xx; acc[base + 9] += yy * xx
                    acc[base + 10] = min(acc[base + 10], zz); acc[base + 11] = min(acc[base + 11], yy); acc[base + 12] = min(acc[base + 12], xx)
                    acc[base + 13] = max(acc[base + 13], zz); acc[base + 14] = max(acc[base + 14], yy); acc[base + 15] = max(acc[base + 15], xx)
                    if x == 0 || labels[i - 1] != l32 { acc[base + 16] += 1 }
                    if x == W - 1 || labels[i + 1] != l32 { acc[base + 16] += 1 }
                    if y == 0 || labels[i - ww] != l32 { acc[base + 17] += 1 }
                    if y == H - 1 || labels[i + ww] != l32 { acc[base + 17] += 1 }
                    if z == 0 || labels[i - wplane] != l32 { acc[base + 18] += 1 }
                    if z == D - 1 || labels[i + wplane] != l32 { acc[base + 18] += 1 }
                    if x == 0 || y == 0 || z == 0 || x == W - 1 || y == H - 1 || z == D - 1 { acc[base + 19] = 1 }
                }
                for (k, (offset, d)) in steps.enumerated() {
                    let qz = z + d.0, qy = y + d.1, qx = x + d.2
                    let inside = qz >= 0 && qz < D && qy >= 0 && qy < H && qx >= 0 && qx < W
                    let other = inside ? Int(labels[i + offset]) : 0
                    if other != l {
                        if l != 0 { acc[base + t + k] += 1 }
                        if other != 0 { acc[other * stride + t + k] += 1 }
                    }
                    // the pair reaching in from outside the volume on the other side
                    if l != 0 {
                        let bz = z - d.0, by = y - d.1, bx = x - d.2
                        if !(bz >= 0 && bz < D && by >= 0 && by < H && bx >= 0 && bx < W) { acc[base + t + k] += 1 }
                    }
                }
            }
        }}
    }
}
