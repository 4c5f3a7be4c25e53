import CleaveCore

extension LabelImage {
    /// Fills holes: every patch of background (label 0) that does not reach the image edge and
    /// touches exactly one object becomes part of that object.
    ///
    /// Background patches are connected with the complementary connectivity (objects
    /// 8-connected → background 4-connected and the other way round), so that a diagonal gap
    /// in an 8-connected outline does not let the hole leak out. In 3D the same with 26/6.
    /// - Parameter connectivity: the connectivity the objects were labelled with.
    /// - Complexity: O(pixels).
    public func fillingHoles(connectivity: Connectivity = .full) -> LabelImage {
        let background: Connectivity = connectivity == .full ? .faces : .full
        let keys = labels.map { $0 == 0 ? UInt32(1) : 0 }
        let holes = ConnectedComponents.label(keys: keys, shape: shape, connectivity: background)
        guard holes.objectCount > 0 else { return self }
        // owner[hole] = the single object it touches, 0 = none yet, -1 = edge or several.
        var owner = [Int32](repeating: 0, count: holes.objectCount + 1)
        let w = shape.width, h = shape.height, d = shape.depth
        let offsets = background.backwardOffsets(is3D: d > 1).flatMap { [$0, (-$0.0, -$0.1, -$0.2)] }
        for z in 0..<d { for y in 0..<h { for x in 0..<w {
            let i = (z * h + y) * w + x
            let hole = Int(holes.labels[i])
            if hole == 0 || owner[hole] < 0 { continue }
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 || (d > 1 && (z == 0 || z == d - 1)) { owner[hole] = -1; continue }
            for (dz, dy, dx) in offsets {
                let zz = z + dz, yy = y + dy, xx = x + dx
                guard zz >= 0, zz < d else { continue }
                let object = labels[(zz * h + yy) * w + xx]
                if object == 0 { continue }
                if owner[hole] == 0 { owner[hole] = object } else if owner[hole] != object { owner[hole] = -1; break }
            }
        }}}
        var out = labels
        for i in 0..<out.count where out[i] == 0 {
            let o = owner[Int(holes.labels[i])]
            if o > 0 { out[i] = o }
        }
        return LabelImage(shape: shape, labels: out, objectCount: objectCount, spacing: spacing)
    }
}
