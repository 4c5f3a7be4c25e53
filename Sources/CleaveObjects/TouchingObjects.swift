import CleaveCore

/// Separates touching grains: inside each object, the distance to its boundary has one peak per
/// grain; peaks that stand at least `h` above the saddle between them (h-maxima) become markers,
/// and a marker-controlled watershed on the negated distance splits the object along the necks.
///
/// ```
/// object ──EDT (spacing-aware)──► distance ──h-maxima──► markers ──watershed(−distance)──► grains
/// ```
public enum TouchingObjects {
    /// Splits every object of a label image into grains; the result is renumbered in raster order.
    /// - Parameters:
    ///   - h: how far (in spacing units, pixels when uncalibrated) a distance peak must rise above
    ///     the neck joining it to a higher peak to count as its own grain (≥ 0; larger → fewer splits).
    ///   - connectivity: neighbourhood of the flood.
    /// - Complexity: O(Σ bounding-box pixels · log) over objects, objects in parallel.
    public static func split(_ image: LabelImage, h: Double = 1, connectivity: Connectivity = .full) -> LabelImage {
        precondition(h >= 0 && h.isFinite, "TouchingObjects.split: h must be finite and >= 0, got \(h)")
        let shape = image.shape
        let w = shape.width, hgt = shape.height, d = shape.depth
        let is3D = d > 1
        let sp = image.spacing
        let spacing = (x: sp?.x ?? 1, y: sp?.y ?? 1, z: sp?.z ?? 1)
        // Bucket pixels per object.
        let objectCount = image.objectCount
        var offsets = [Int](repeating: 0, count: objectCount + 2)
        for l in image.labels { offsets[Int(l) + 1] += 1 }
        for l in 0...objectCount { offsets[l + 1] += offsets[l] }
        var fill = offsets
        var order = [Int32](repeating: 0, count: shape.count)
        for i in 0..<shape.count { let l = Int(image.labels[i]); order[fill[l]] = Int32(i); fill[l] += 1 }
        let neighbourOffsets = connectivity.backwardOffsets(is3D: is3D).flatMap { [$0, (-$0.0, -$0.1, -$0.2)] }
        // piece[i] = grain number inside its object (1-based), per pixel.
        var piece = [UInt32](repeating: 0, count: shape.count)
        piece.withUnsafeMutableBufferPointer { pieceBuffer in
            let out = UncheckedSendable(pieceBuffer)
            Parallel.forEachChunk(of: objectCount, chunkCount: Parallel.chunkCount(total: objectCount, minimumPerChunk: 16)) { range in
                for l in range.map({ $0 + 1 }) {
                    let members = order[offsets[l]..<offsets[l + 1]]
                    if members.isEmpty { continue }
                    var minX = Int.max, minY = Int.max, minZ = Int.max, maxX = -1, maxY = -1, maxZ = -1
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % hgt, z = i / (w * hgt)
                        minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                        minZ = min(minZ, z); maxZ = max(maxZ, z)
                    }
                    let pad = is3D ? 1 : 0
                    let bw = maxX - minX + 3, bh = maxY - minY + 3, bd = is3D ? maxZ - minZ + 3 : 1
                    var mask = [Bool](repeating: false, count: bw * bh * bd)
                    var local = [Int](); local.reserveCapacity(members.count)
                    for i in members {
                        let i = Int(i), x = i % w, y = (i / w) % hgt, z = i / (w * hgt)
                        let j = ((z - minZ + pad) * bh + (y - minY + 1)) * bw + (x - minX + 1)
                        mask[j] = true; local.append(j)
                    }
                    let squared = DistanceTransform.squaredEuclidean(foreground: mask, shape: Shape(width: bw, height: bh, depth: bd),
                                                                     spacing: spacing, parallel: false)
                    let grains = splitOne(mask: mask, distance: squared.map { $0.squareRoot() }, pixels: local,
                                          width: bw, height: bh, depth: bd, h: h, offsets: neighbourOffsets)
                    for (k, i) in members.enumerated() { out.value[Int(i)] = grains[local[k]] }
                }
            }
        }
        // Unique key per (object, grain): renumbering by equal-key components gives raster order.
        var keys = [UInt32](repeating: 0, count: shape.count)
        var maxPiece = [UInt32](repeating: 0, count: objectCount + 1)
        for i in 0..<shape.count where image.labels[i] != 0 { maxPiece[Int(image.labels[i])] = max(maxPiece[Int(image.labels[i])], piece[i]) }
        var base = [UInt32](repeating: 0, count: objectCount + 1)
        var next: UInt32 = 0
        for l in 1..<(objectCount + 1) { base[l] = next; next += maxPiece[l] }
        for i in 0..<shape.count where image.labels[i] != 0 { keys[i] = base[Int(image.labels[i])] + piece[i] }
        return ConnectedComponents.label(keys: keys, shape: shape, connectivity: .full, spacing: image.spacing)
    }

    /// Grain number (1…) per box pixel of one object.
    static func splitOne(mask: [Bool], distance f: [Double], pixels: [Int], width: Int, height: Int, depth: Int,
                         h: Double, offsets: [(Int, Int, Int)]) -> [UInt32] {
        let plane = width * height
        @inline(__always) func neighbours(_ j: Int, _ body: (Int) -> Void) {
            let x = j % width, y = (j / width) % height, z = j / plane
            for (dz, dy, dx) in offsets {
                let xx = x + dx, yy = y + dy, zz = z + dz
                guard xx >= 0, xx < width, yy >= 0, yy < height, zz >= 0, zz < depth else { continue }
                let k = (zz * height + yy) * width + xx
                if mask[k] { body(k) }
            }
        }
        // Reconstruction by dilation of f − h under f (highest first).
        var rec = [Double](repeating: -.infinity, count: mask.count)
        var queue = FloodQueue()
        for j in pixels { rec[j] = f[j] - h; queue.push(j, priority: rec[j]) }
        while !queue.isEmpty {
            let (j, value) = queue.pop()
            if value < rec[j] { continue }
            neighbours(j) { k in
                let candidate = min(value, f[k])
                if candidate > rec[k] { rec[k] = candidate; queue.push(k, priority: candidate) }
            }
        }
        // Regional maxima of the reconstruction → markers.
        var marker = [UInt32](repeating: 0, count: mask.count)
        var seen = [Bool](repeating: false, count: mask.count)
        var markerCount: UInt32 = 0
        var plateau: [Int] = []
        for start in pixels where !seen[start] {
            plateau.removeAll(keepingCapacity: true)
            plateau.append(start); seen[start] = true
            var isMaximum = true
            var cursor = 0
            while cursor < plateau.count {
                let j = plateau[cursor]; cursor += 1
                neighbours(j) { k in
                    if rec[k] > rec[j] { isMaximum = false }
                    if rec[k] == rec[j] && !seen[k] { seen[k] = true; plateau.append(k) }
                }
            }
            if isMaximum {
                markerCount += 1
                for j in plateau { marker[j] = markerCount }
            }
        }
        if markerCount <= 1 {
            for j in pixels { marker[j] = 1 }
            return marker
        }
        // Marker-controlled watershed on −f: flood from the deepest points outwards.
        var flood = FloodQueue()
        for j in pixels where marker[j] != 0 { flood.push(j, priority: f[j]) }
        while !flood.isEmpty {
            let (j, _) = flood.pop()
            neighbours(j) { k in
                if marker[k] == 0 { marker[k] = marker[j]; flood.push(k, priority: f[k]) }
            }
        }
        return marker
    }
}
