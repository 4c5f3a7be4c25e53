import CleaveCore

/// The pixels of grid bars and black tile areas: the regions a sliding window's statistics leave out.
public enum LocatorBars {
    /// How close to the film level a ring of pixels beside the bar must be to count as film
    /// (``edgeWidth(_:distance:reach:tolerance:)``): film shading within a few tens of pixels
    /// of a bar stays inside it, the bar's partial-volume ring (0.6–0.8 × film) does not.
    public static let edgeTolerance = 0.15

    /// Pixels of the black regions that cross the field: 4-connected pixels below `threshold`
    /// whose region touches the image border and covers at least `minimumFraction` of the image
    /// (the window-level rule of ``Locator/findDark(_:layout:margin:seed:barPixels:)``, at pixel
    /// level), so a dark particle in the middle of the film is not part of it.
    /// - Complexity: O(width · height).
    public static func mask(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> [Bool] {
        let runs = barRuns(image, threshold: threshold, minimumFraction: minimumFraction)
        var bar = [Bool](largeRepeating: false, count: image.pixels.count)
        bar.withUnsafeMutableBufferPointer { bar in
            for run in runs { (bar.baseAddress! + run.offset).update(repeating: true, count: run.count) }
        }
        return bar
    }

    /// A horizontal run of pixels: `count` pixels from index `offset` (row-major) on.
    struct Run {
        var offset: Int
        var count: Int
    }

    /// The runs of the pixels of ``mask(_:threshold:minimumFraction:)``, in pixel order.
    ///
    /// The image is read once, row by row, as runs of pixels below `threshold` (each row first
    /// as bytes, then eight pixels per step where they are all above or all below it); runs of
    /// neighbouring rows that share a column are joined (union–find), which gives the
    /// 4-connected regions with their sizes and whether they touch the border. The same pixels
    /// as a flood fill from the border (`LocatorBarsTests` checks it against one), without a
    /// per-pixel stack or visited table.
    static func barRuns(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> [Run] {
        let width = image.width, height = image.height
        var starts: [Int32] = [], ends: [Int32] = []  // per run, columns start..<end
        var rowFirst = [Int](repeating: 0, count: height + 1)  // runs of row y: rowFirst[y]..<rowFirst[y + 1]
        let below = UnsafeMutablePointer<UInt8>.allocate(capacity: width + 8)
        defer { below.deallocate() }
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<height {
                rowFirst[y] = starts.count
                flagBelow(p.baseAddress! + y * width, count: width, threshold: threshold, into: below)
                var x = 0, inside = false, start = 0
                while x < width {
                    if x + 8 <= width {
                        let word = UnsafeRawPointer(below + x).loadUnaligned(as: UInt64.self)
                        if word == (inside ? 0x0101_0101_0101_0101 : 0) { x += 8; continue }
                    }
                    let isBelow = below[x] != 0
                    if isBelow != inside {
                        if isBelow { start = x } else { starts.append(Int32(start)); ends.append(Int32(x)) }
                        inside = isBelow
                    }
                    x += 1
                }
                if inside { starts.append(Int32(start)); ends.append(Int32(width)) }
            }
            rowFirst[height] = starts.count
        }
        let runCount = starts.count
        guard runCount > 0 else { return [] }
        var parent = [Int32](unsafeUninitializedCapacity: runCount) { buffer, initialized in
            for i in 0..<runCount { buffer[i] = Int32(i) }
            initialized = runCount
        }
        func root(_ i: Int) -> Int {
            var i = i
            while Int(parent[i]) != i { parent[i] = parent[Int(parent[i])]; i = Int(parent[i]) }  // path halving
            return i
        }
        // Join runs of rows y − 1 and y that share a column (4-connectivity), two pointers along the rows.
        for y in 1..<max(1, height) {
            var a = rowFirst[y - 1], b = rowFirst[y]
            let aEnd = rowFirst[y], bEnd = rowFirst[y + 1]
            while a < aEnd && b < bEnd {
                if starts[a] < ends[b] && starts[b] < ends[a] {
                    let ra = root(a), rb = root(b)
                    if ra != rb { parent[max(ra, rb)] = Int32(min(ra, rb)) }
                }
                if ends[a] < ends[b] { a += 1 } else { b += 1 }
            }
        }
        // Size and border contact per region (at its root).
        var size = [Int](repeating: 0, count: runCount)
        var border = [Bool](repeating: false, count: runCount)
        for y in 0..<height {
            for i in rowFirst[y]..<rowFirst[y + 1] {
                let r = root(i)
                size[r] += Int(ends[i] - starts[i])
                if y == 0 || y == height - 1 || starts[i] == 0 || Int(ends[i]) == width { border[r] = true }
            }
        }
        let minimumSize = minimumFraction * Double(width * height)
        var runs: [Run] = []
        for y in 0..<height {
            for i in rowFirst[y]..<rowFirst[y + 1] {
                let r = root(i)
                if border[r] && Double(size[r]) >= minimumSize {
                    runs.append(Run(offset: y * width + Int(starts[i]), count: Int(ends[i] - starts[i])))
                }
            }
        }
        return runs
    }

    /// `out[i] = 1` where `p[i] < threshold`, else 0 (a NaN is not below). A loop of its own, so
    /// that the compiler vectorises it.
    @inline(never)
    static func flagBelow(_ p: UnsafePointer<Float>, count: Int, threshold: Float, into out: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count { out[i] = p[i] < threshold ? 1 : 0 }
    }

    /// Distance of every pixel to the nearest bar pixel in the chessboard metric (8-neighbours),
    /// 0 on the bar, capped at `cap` (two chamfer passes).
    public static func distance(to bar: [Bool], width: Int, height: Int, cap: Int) -> [UInt8] {
        precondition(cap < 255 && bar.count == width * height)
        var d = [UInt8](unsafeUninitializedLargeCount: bar.count) { d in
            bar.withUnsafeBufferPointer { bar in
                for i in 0..<bar.count { d[i] = bar[i] ? 0 : UInt8(cap) }
            }
        }
        d.withUnsafeMutableBufferPointer { chamfer($0.baseAddress!, width: width, height: height) }
        return d
    }

    /// ``distance(to:width:height:cap:)`` of the bar given as runs.
    static func distance(to runs: [Run], width: Int, height: Int, cap: Int) -> [UInt8] {
        precondition(cap < 255)
        var d = [UInt8](largeRepeating: UInt8(cap), count: width * height)
        d.withUnsafeMutableBufferPointer { d in
            for run in runs { (d.baseAddress! + run.offset).update(repeating: 0, count: run.count) }
            chamfer(d.baseAddress!, width: width, height: height)
        }
        return d
    }

    /// The two chamfer passes of the chessboard distance, in place on `d` (0 on the bar, the cap
    /// elsewhere). Forward, each pixel takes the least of itself and one more than its left,
    /// upper-left, upper and upper-right neighbours; backward the same with the mirrored
    /// neighbours. Each row is done in two steps — the three neighbours of the finished row (a
    /// vectorised loop), then the running minimum along the row — which is the same minimum as
    /// the pixel-by-pixel pass (a minimum does not depend on its order). Eight pixels that are
    /// all equal (film far from any bar, the bar itself) with nothing smaller coming in from
    /// the side stay as they are and are passed over as one word.
    static func chamfer(_ d: UnsafeMutablePointer<UInt8>, width: Int, height: Int) {
        guard width > 0 && height > 0 else { return }
        let spread: UInt64 = 0x0101_0101_0101_0101
        @inline(__always) func word(_ p: UnsafeMutablePointer<UInt8>) -> UInt64 { UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }
        for y in 0..<height {
            let row = d + y * width
            if y > 0 { relaxFromRow(row, UnsafePointer(row - width), width: width) }
            // Left to right: row[x] = min(row[x], row[x − 1] + 1).
            var running = row[0], x = 1
            while x < width {
                if x + 8 <= width {
                    let c = row[x]
                    if c <= running &+ 1 && word(row + x) == UInt64(c) &* spread { running = c; x += 8; continue }
                }
                let value = Swift.min(row[x], running &+ 1)
                row[x] = value; running = value; x += 1
            }
        }
        for y in stride(from: height - 1, through: 0, by: -1) {
            let row = d + y * width
            if y < height - 1 { relaxFromRow(row, UnsafePointer(row + width), width: width) }
            // Right to left: row[x] = min(row[x], row[x + 1] + 1).
            var running = row[width - 1], x = width - 2
            while x >= 0 {
                if x >= 7 {
                    let c = row[x]
                    if c <= running &+ 1 && word(row + x - 7) == UInt64(c) &* spread { running = c; x -= 8; continue }
                }
                let value = Swift.min(row[x], running &+ 1)
                row[x] = value; running = value; x -= 1
            }
        }
    }

    /// `row[x] = min(row[x], 1 + min(other[x − 1], other[x], other[x + 1]))` (the neighbours
    /// inside the row). Not inlined, so that the compiler vectorises the loop (inlined into the
    /// chamfer passes it stayed scalar, 7× slower).
    @inline(never)
    static func relaxFromRow(_ row: UnsafeMutablePointer<UInt8>, _ other: UnsafePointer<UInt8>, width: Int) {
        if width == 1 { row[0] = Swift.min(row[0], other[0] &+ 1); return }
        row[0] = Swift.min(row[0], Swift.min(other[0], other[1]) &+ 1)
        var x = 1
        while x < width - 1 {
            let a = other[x - 1], b = other[x], c = other[x + 1]
            let m = a < b ? a : b
            let n = (m < c ? m : c) &+ 1
            let r = row[x]
            row[x] = r < n ? r : n
            x += 1
        }
        row[width - 1] = Swift.min(row[width - 1], Swift.min(other[width - 2], other[width - 1]) &+ 1)
    }

    /// How far the bar's edge reaches into the film, measured on the image: the ring of blurred
    /// (partial-volume) pixels that are neither black, so the threshold leaves them out of the
    /// bar, nor film. Left in, a window beside the bar sees them as strong contrast and a strip
    /// along every bar edge is picked as "particle" (dataset2, window mode).
    ///
    /// The median grey value of the pixels at each chessboard distance 1…`reach` from the bar is
    /// compared with the film beside the bar (the median at distances `reach−3…reach`); the edge
    /// is the rings before the first one within ±`tolerance` of it. A sharp edge (or a bar in
    /// flat film) gives 0; dataset2's bars and the `cleave sample` bars give 0–1 px.
    /// Returns the edge width in pixels (≤ `reach − 4`).
    public static func edgeWidth(_ image: Image<Float>, distance: [UInt8], reach: Int = 32, tolerance: Double = edgeTolerance) -> Int {
        precondition(distance.count == image.pixels.count)
        return distance.withUnsafeBufferPointer { edgeWidth(image, distance: $0, reach: reach, tolerance: tolerance) }
    }

    /// ``edgeWidth(_:distance:reach:tolerance:)`` on distances in a buffer.
    static func edgeWidth(_ image: Image<Float>, distance d: UnsafeBufferPointer<UInt8>, reach: Int, tolerance: Double) -> Int {
        precondition(reach >= 4 && reach < 255 && d.count == image.pixels.count)
        // The rings' values, ring after ring, each in pixel order: sizes first, then the values.
        var offsets = [Int](repeating: 0, count: reach + 2)  // ring r: values[offsets[r] ..< offsets[r + 1]]
        var values: [Float] = []
        image.pixels.withUnsafeBufferPointer { p in
            let count = d.count
            @inline(__always) func forEachRingPixel(_ body: (Int, Int) -> Void) {
                // Eight distances per step: a word whose bytes are all 0 (the bar) or all one
                // value beyond `reach` (film far from the bar) holds no ring pixel.
                let spread: UInt64 = 0x0101_0101_0101_0101
                var i = 0
                while i < count {
                    if i + 8 <= count {
                        let w = UnsafeRawPointer(d.baseAddress! + i).loadUnaligned(as: UInt64.self), c = d[i]
                        if w == 0 || (Int(c) > reach && w == UInt64(c) &* spread) { i += 8; continue }
                        for k in i..<(i + 8) { let r = Int(d[k]); if r >= 1 && r <= reach { body(k, r) } }
                        i += 8
                    } else {
                        let r = Int(d[i]); if r >= 1 && r <= reach { body(i, r) }
                        i += 1
                    }
                }
            }
            var sizes = [Int](repeating: 0, count: reach + 1)
            forEachRingPixel { _, r in sizes[r] += 1 }
            for r in 1...reach { offsets[r + 1] = offsets[r] + sizes[r] }
            offsets[0] = 0; offsets[1] = 0
            var next = offsets
            values = [Float](unsafeUninitializedCapacity: offsets[reach + 1]) { buffer, initialized in
                forEachRingPixel { i, r in buffer[next[r]] = p[i]; next[r] += 1 }
                initialized = offsets[reach + 1]
            }
        }
        return values.withUnsafeMutableBufferPointer { values in
            func median(_ rings: ClosedRange<Int>) -> Double? {
                let start = offsets[rings.lowerBound], end = offsets[rings.upperBound + 1]
                guard end > start else { return nil }
                return OrderStatistics.unsafePercentile(UnsafeMutableBufferPointer(rebasing: values[start..<end]), 50)
            }
            guard let film = median((reach - 3)...reach), film > 0 else { return 0 }
            // The edge ends at the first ring that is film (a ring with no pixels counts as film).
            for d in 1...(reach - 4) {
                guard let m = median(d...d) else { return d - 1 }
                if abs(m - film) <= tolerance * film { return d - 1 }
            }
            return reach - 4
        }
    }

    /// The bar mask grown over its measured edge (``edgeWidth(_:distance:reach:tolerance:)``).
    /// `edge` is nil when the image has no bar (then `mask` is all false).
    public static func maskWithEdge(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> (mask: [Bool], edge: Int?) {
        let runs = barRuns(image, threshold: threshold, minimumFraction: minimumFraction)
        let count = image.pixels.count, width = image.width, height = image.height
        guard !runs.isEmpty else { return ([Bool](largeRepeating: false, count: count), nil) }
        let reach = 32
        var edge = 0
        // The distances are computed in the mask's own storage (as bytes), which then becomes the
        // mask: distance ≤ edge (the bar and its edge). One image-sized table instead of two.
        let mask = [Bool](unsafeUninitializedLargeCount: count) { mask in
            mask.withMemoryRebound(to: UInt8.self) { d in
                d.initialize(repeating: UInt8(reach + 1))
                for run in runs { (d.baseAddress! + run.offset).update(repeating: 0, count: run.count) }
                chamfer(d.baseAddress!, width: width, height: height)
                edge = edgeWidth(image, distance: UnsafeBufferPointer(d), reach: reach, tolerance: edgeTolerance)
                flagAtMost(d.baseAddress!, count: count, limit: UInt8(edge))  // every byte 0 or 1 again
            }
        }
        return (mask, edge)
    }

    /// `d[i] = 1` where `d[i] ≤ limit`, else 0, in place. Distances and `limit` are below 128
    /// (capped at `reach + 1`), so eight bytes go per step: in each byte `0x80 + limit − d` is
    /// 1…255 (no borrow into the next byte) and has its top bit set exactly when `d ≤ limit`.
    /// (The plain loop was not vectorised: ~7 instructions a byte, a serial pass over the image.)
    @inline(never)
    static func flagAtMost(_ d: UnsafeMutablePointer<UInt8>, count: Int, limit: UInt8) {
        precondition(limit < 128, "LocatorBars.flagAtMost: limit \(limit)")
        let ones: UInt64 = 0x0101_0101_0101_0101
        let biased = ones &* UInt64(0x80 + limit), high: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeMutableRawPointer(d)
        var i = 0
        while i + 8 <= count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & high == 0 {  // every byte below 128 (always, for capped distances)
                raw.storeBytes(of: ((biased &- w) >> 7) & ones, toByteOffset: i, as: UInt64.self)
            } else {
                for k in i..<(i + 8) { d[k] = d[k] <= limit ? 1 : 0 }
            }
            i += 8
        }
        while i < count { d[i] = d[i] <= limit ? 1 : 0; i += 1 }
    }
}
