import CleaveCore

/// Hot loops of connected-component labelling.
///
/// Pixel-based union-find: `parent[i] <= i` always, and a set's root is its smallest pixel
/// index, i.e. the first pixel of the component in raster order. Numbering roots in raster
/// order therefore reproduces scikit-image's label order.
///
/// ```
/// rows [0, r1) [r1, r2) … labelled independently (parallel) → boundary rows stitched
/// → every pixel finds its root → roots numbered in raster order → labels
/// ```
enum ComponentKernels {
    static func label(keys: [UInt32], width: Int, height: Int, depth: Int,
                      connectivity: Connectivity) -> (labels: [Int32], count: Int) {
        if depth == 1 {
            return keys.withUnsafeBufferPointer { labelRuns($0, width: width, height: height, connectivity: connectivity) }
        }
        let total = width * height * depth
        var parent = [Int32](repeating: -1, count: total)
        var labels = [Int32](repeating: 0, count: total)
        // Chunks are runs of rows (2D) or planes (3D); the split depends on the size only.
        let is3D = depth > 1
        let units = is3D ? depth : height
        let unitSize = is3D ? width * height : width
        let chunkCount = max(1, min(units, min(32, total / 65_536 + 1)))
        let bounds = (0...chunkCount).map { units * $0 / chunkCount }
        let offsets = connectivity.backwardOffsets(is3D: is3D)
        keys.withUnsafeBufferPointer { keyBuffer in
            parent.withUnsafeMutableBufferPointer { parentBuffer in
                let k = UncheckedSendable(keyBuffer), p = UncheckedSendable(parentBuffer)
                Parallel.forEach(chunkCount) { c in
                    let start = bounds[c], end = bounds[c + 1]
                    guard end > start else { return }
                    if is3D {
                        scanChunk3D(k.value, p.value, width: width, height: height, planes: start..<end, offsets: offsets)
                    } else if connectivity == .full {
                        scanChunk8(k.value, p.value, width: width, rows: start..<end)
                    } else {
                        scanChunk4(k.value, p.value, width: width, rows: start..<end)
                    }
                }
                // Stitch: the first unit of each chunk against the unit before it.
                for c in 1..<max(1, chunkCount) where bounds[c] > 0 && bounds[c] < units {
                    let unit = bounds[c]
                    stitch(keyBuffer, parentBuffer, width: width, height: height, is3D: is3D,
                           unit: unit, unitSize: unitSize, offsets: offsets)
                }
                // Every pixel's root (read-only finds, so chunks can run in parallel).
                labels.withUnsafeMutableBufferPointer { labelBuffer in
                    let l = UncheckedSendable(labelBuffer)
                    let pixelChunks = Parallel.chunkCount(total: total, minimumPerChunk: 1 << 16)
                    var rootCounts = [Int](repeating: 0, count: pixelChunks)
                    rootCounts.withUnsafeMutableBufferPointer { rc in
                        let r = UncheckedSendable(rc)
                        Parallel.forEach(pixelChunks) { c in
                            let range = (total * c / pixelChunks)..<(total * (c + 1) / pixelChunks)
                            var roots = 0
                            for i in range {
                                var q = p.value[i]
                                if q < 0 { l.value[i] = -1; continue }
                                while p.value[Int(q)] != q { q = p.value[Int(q)] }
                                l.value[i] = q
                                if Int(q) == i { roots += 1 }
                            }
                            r.value[c] = roots
                        }
                    }
                    var firstNumber = [Int](repeating: 0, count: pixelChunks + 1)
                    for c in 0..<pixelChunks { firstNumber[c + 1] = firstNumber[c] + rootCounts[c] }
                    // Number roots in raster order (stored in parent, no longer needed as a forest).
                    Parallel.forEach(pixelChunks) { c in
                        let range = (total * c / pixelChunks)..<(total * (c + 1) / pixelChunks)
                        var next = Int32(firstNumber[c])
                        for i in range where Int(l.value[i]) == i {
                            next += 1
                            p.value[i] = next
                        }
                    }
                    Parallel.forEach(pixelChunks) { c in
                        let range = (total * c / pixelChunks)..<(total * (c + 1) / pixelChunks)
                        for i in range {
                            let root = l.value[i]
                            l.value[i] = root < 0 ? 0 : p.value[Int(root)]
                        }
                    }
                    _ = firstNumber
                }
            }
        }
        let count = labels.isEmpty ? 0 : Int(labels.max() ?? 0)
        return (labels, count)
    }

    @inline(__always)
    static func find(_ p: UnsafeMutableBufferPointer<Int32>, _ i: Int32) -> Int32 {
        var x = i
        while true {
            let up = p[Int(x)]
            if up == x { return x }
            let upUp = p[Int(up)]
            p[Int(x)] = upUp // path halving
            x = upUp
        }
    }

    /// Joins the sets of `a` and `b`; the smaller root wins. Returns the root.
    @inline(__always) @discardableResult
    static func union(_ p: UnsafeMutableBufferPointer<Int32>, _ a: Int32, _ b: Int32) -> Int32 {
        let ra = find(p, a), rb = find(p, b)
        if ra < rb { p[Int(rb)] = ra; return ra }
        if rb < ra { p[Int(ra)] = rb }
        return rb
    }

    /// 8-connectivity decision tree: if north matches, everything else is already joined to it.
    static func scanChunk8(_ k: UnsafeBufferPointer<UInt32>, _ p: UnsafeMutableBufferPointer<Int32>, width: Int, rows: Range<Int>) {
        for y in rows {
            let row = y * width
            let hasNorth = y > rows.lowerBound
            for x in 0..<width {
                let i = row + x
                let key = k[i]
                if key == 0 { continue }
                let me = Int32(i)
                if hasNorth {
                    let n = i - width
                    if k[n] == key { p[i] = find(p, Int32(n)); continue }
                    let west = x > 0 && k[i - 1] == key
                    let northEast = x + 1 < width && k[n + 1] == key
                    if west {
                        let root = find(p, Int32(i - 1))
                        p[i] = northEast ? union(p, root, Int32(n + 1)) : root
                        continue
                    }
                    let northWest = x > 0 && k[n - 1] == key
                    if northWest {
                        let root = find(p, Int32(n - 1))
                        p[i] = northEast ? union(p, root, Int32(n + 1)) : root
                        continue
                    }
                    if northEast { p[i] = find(p, Int32(n + 1)); continue }
                    p[i] = me
                } else {
                    if x > 0 && k[i - 1] == key { p[i] = find(p, Int32(i - 1)) } else { p[i] = me }
                }
            }
        }
    }

    static func scanChunk4(_ k: UnsafeBufferPointer<UInt32>, _ p: UnsafeMutableBufferPointer<Int32>, width: Int, rows: Range<Int>) {
        for y in rows {
            let row = y * width
            let hasNorth = y > rows.lowerBound
            for x in 0..<width {
                let i = row + x
                let key = k[i]
                if key == 0 { continue }
                let west = x > 0 && k[i - 1] == key
                let north = hasNorth && k[i - width] == key
                if west && north {
                    p[i] = union(p, Int32(i - 1), Int32(i - width))
                } else if west {
                    p[i] = find(p, Int32(i - 1))
                } else if north {
                    p[i] = find(p, Int32(i - width))
                } else {
                    p[i] = Int32(i)
                }
            }
        }
    }

    static func scanChunk3D(_ k: UnsafeBufferPointer<UInt32>, _ p: UnsafeMutableBufferPointer<Int32>, width: Int, height: Int,
                            planes: Range<Int>, offsets: [(Int, Int, Int)]) {
        let planeSize = width * height
        for z in planes {
            for y in 0..<height {
                for x in 0..<width {
                    let i = (z * height + y) * width + x
                    let key = k[i]
                    if key == 0 { continue }
                    var root: Int32 = -1
                    for (dz, dy, dx) in offsets {
                        let zz = z + dz, yy = y + dy, xx = x + dx
                        guard zz >= planes.lowerBound, yy >= 0, yy < height, xx >= 0, xx < width else { continue }
                        let j = zz * planeSize + yy * width + xx
                        guard k[j] == key else { continue }
                        root = root < 0 ? find(p, Int32(j)) : union(p, root, Int32(j))
                    }
                    p[i] = root < 0 ? Int32(i) : root
                }
            }
        }
    }

    /// Joins pixels of unit (row or plane) `unit` with matching neighbours in the unit before.
    static func stitch(_ k: UnsafeBufferPointer<UInt32>, _ p: UnsafeMutableBufferPointer<Int32>, width: Int, height: Int,
                       is3D: Bool, unit: Int, unitSize: Int, offsets: [(Int, Int, Int)]) {
        let planeSize = width * height
        for local in 0..<unitSize {
            let i = unit * unitSize + local
            let key = k[i]
            if key == 0 { continue }
            let z = is3D ? unit : 0
            let y = is3D ? local / width : unit
            let x = local % width
            for (dz, dy, dx) in offsets {
                // only neighbours in the previous unit
                if is3D ? dz != -1 : dy != -1 { continue }
                let zz = z + dz, yy = y + dy, xx = x + dx
                guard yy >= 0, yy < height, xx >= 0, xx < width else { continue }
                let j = zz * planeSize + yy * width + xx
                if k[j] == key { union(p, Int32(i), Int32(j)) }
            }
        }
    }

    /// A maximal horizontal run of equal non-zero key: row, first and last column (inclusive).
    struct Run { var row: Int32; var start: Int32; var end: Int32; var key: UInt32 }

    /// 2D labelling on runs: runs are found per row (row chunks in parallel), joined with the
    /// overlapping runs of the row above (8-connectivity: overlapping or diagonally touching),
    /// then numbered in raster order and painted. Runs are stored in raster order, so a set's
    /// smallest run index holds its first pixel — the same numbering as the pixel version.
    /// - Complexity: O(pixels) for finding and painting runs, O(runs · α) for the joins.
    static func labelRuns(_ k: UnsafeBufferPointer<UInt32>, width: Int, height: Int,
                          connectivity: Connectivity) -> (labels: [Int32], count: Int) {
        let chunkCount = max(1, min(32, height, width * height / 65_536 + 1))
        var chunkRuns = [[Run]](repeating: [], count: chunkCount)
        chunkRuns.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedSendable(buffer)
            Parallel.forEach(chunkCount) { c in
                var runs: [Run] = []
                runs.reserveCapacity(1024)
                for y in (height * c / chunkCount)..<(height * (c + 1) / chunkCount) {
                    let row = y * width
                    var x = 0
                    while x < width {
                        let key = k[row + x]
                        if key == 0 { x += 1; continue }
                        let start = x
                        x += 1
                        while x < width && k[row + x] == key { x += 1 }
                        runs.append(Run(row: Int32(y), start: Int32(start), end: Int32(x - 1), key: key))
                    }
                }
                box.value[c] = runs
            }
        }
        let runs = chunkRuns.flatMap { $0 }
        var labels = [Int32](repeating: 0, count: width * height)
        guard !runs.isEmpty else { return (labels, 0) }
        // first run index of every row
        var rowFirst = [Int](repeating: runs.count, count: height + 1)
        for r in stride(from: runs.count - 1, through: 0, by: -1) { rowFirst[Int(runs[r].row)] = r }
        for y in stride(from: height - 1, through: 0, by: -1) where rowFirst[y] > rowFirst[y + 1] { rowFirst[y] = rowFirst[y + 1] }
        var parent = [Int32](unsafeUninitializedCapacity: runs.count) { p, n in
            for i in 0..<runs.count { p[i] = Int32(i) }
            n = runs.count
        }
        let slack: Int32 = connectivity == .full ? 1 : 0
        parent.withUnsafeMutableBufferPointer { p in
            for y in 1..<max(1, height) {
                var i = rowFirst[y - 1]
                let previousEnd = rowFirst[y]
                for b in rowFirst[y]..<rowFirst[y + 1] {
                    let run = runs[b]
                    while i < previousEnd && runs[i].end + slack < run.start { i += 1 }
                    var j = i
                    while j < previousEnd && runs[j].start <= run.end + slack {
                        if runs[j].key == run.key { union(p, Int32(b), Int32(j)) }
                        j += 1
                    }
                }
            }
        }
        // Number roots in raster order; every run takes its root's number.
        var runLabel = [Int32](repeating: 0, count: runs.count)
        var count: Int32 = 0
        parent.withUnsafeMutableBufferPointer { p in
            for r in 0..<runs.count {
                let root = Int(find(p, Int32(r)))
                if root == r { count += 1; runLabel[r] = count } else { runLabel[r] = runLabel[root] }
            }
        }
        labels.withUnsafeMutableBufferPointer { out in
            let box = UncheckedSendable(out)
            Parallel.forEachChunk(of: runs.count, chunkCount: Parallel.chunkCount(total: runs.count, minimumPerChunk: 4096)) { range in
                for r in range {
                    let run = runs[r]
                    let base = Int(run.row) * width
                    for x in Int(run.start)...Int(run.end) { box.value[base + x] = runLabel[r] }
                }
            }
        }
        return (labels, Int(count))
    }
}
