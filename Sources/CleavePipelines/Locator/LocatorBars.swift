import CleaveCore

/// The pixels of grid bars and black tile areas: the regions a sliding window's statistics leave out.
public enum LocatorBars {
    /// How close to the film level a ring of pixels beside the bar must be to count as film
    /// (``edgeWidth(_:distance:reach:tolerance:)``): film shading within a few tens of pixels
    /// of a bar stays inside it, the bar's partial-volume ring (0.6–0.8 × film) does not.
    public static let edgeTolerance = 0.15

    /// Pixels of the black regions that cross the field: 4-connected pixels below `threshold`
    /// whose region touches the image border and covers at least `minimumFraction` of the image
    /// (the window-level rule of ``Locator/findDark(_:layout:margin:seed:)``, at pixel level), so a
    /// dark particle in the middle of the film is not part of it.
    /// - Complexity: O(width · height).
    public static func mask(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> [Bool] {
        let width = image.width, height = image.height, count = width * height
        var bar = [Bool](repeating: false, count: count)
        var visited = [Bool](repeating: false, count: count)
        let minimumSize = minimumFraction * Double(count)
        // One flood fill per border seed; the stack and the member list are plain buffers (no
        // captured arrays, so no run-time exclusivity bookkeeping per pixel). Every pixel is
        // pushed at most once, so `count` entries are enough for each.
        let stack = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        let members = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { stack.deallocate(); members.deallocate() }
        image.pixels.withUnsafeBufferPointer { p in
            bar.withUnsafeMutableBufferPointer { bar in
                visited.withUnsafeMutableBufferPointer { visited in
                    var seeds: [Int] = []
                    seeds.reserveCapacity(2 * (width + height))
                    // Only regions that touch the border can qualify: start from border pixels.
                    for x in 0..<width { seeds.append(x); seeds.append((height - 1) * width + x) }
                    for y in 0..<height { seeds.append(y * width); seeds.append(y * width + width - 1) }
                    for start in seeds {
                        guard !visited[start], p[start] < threshold else { continue }
                        visited[start] = true
                        var top = 0, memberCount = 0
                        stack[top] = Int32(start); top += 1
                        while top > 0 {
                            top -= 1
                            let i = Int(stack[top]), x = i % width
                            members[memberCount] = Int32(i); memberCount += 1
                            if x > 0, !visited[i - 1], p[i - 1] < threshold { visited[i - 1] = true; stack[top] = Int32(i - 1); top += 1 }
                            if x < width - 1, !visited[i + 1], p[i + 1] < threshold { visited[i + 1] = true; stack[top] = Int32(i + 1); top += 1 }
                            if i >= width, !visited[i - width], p[i - width] < threshold {
                                visited[i - width] = true; stack[top] = Int32(i - width); top += 1
                            }
                            if i < count - width, !visited[i + width], p[i + width] < threshold {
                                visited[i + width] = true; stack[top] = Int32(i + width); top += 1
                            }
                        }
                        if Double(memberCount) >= minimumSize { for m in 0..<memberCount { bar[Int(members[m])] = true } }
                    }
                }
            }
        }
        return bar
    }
    /// Distance of every pixel to the nearest bar pixel in the chessboard metric (8-neighbours),
    /// 0 on the bar, capped at `cap` (two chamfer passes).
    public static func distance(to bar: [Bool], width: Int, height: Int, cap: Int) -> [UInt8] {
        precondition(cap < 255)
        let far = UInt8(cap)
        var d = bar.map { $0 ? UInt8(0) : far }
        d.withUnsafeMutableBufferPointer { d in
            @inline(__always) func relax(_ i: Int, _ j: Int) { if d[j] &+ 1 < d[i] { d[i] = d[j] &+ 1 } }
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    if x > 0 { relax(i, i - 1) }
                    if y > 0 {
                        relax(i, i - width)
                        if x > 0 { relax(i, i - width - 1) }
                        if x < width - 1 { relax(i, i - width + 1) }
                    }
                }
            }
            for y in stride(from: height - 1, through: 0, by: -1) {
                for x in stride(from: width - 1, through: 0, by: -1) {
                    let i = y * width + x
                    if x < width - 1 { relax(i, i + 1) }
                    if y < height - 1 {
                        relax(i, i + width)
                        if x < width - 1 { relax(i, i + width + 1) }
                        if x > 0 { relax(i, i + width - 1) }
                    }
                }
            }
        }
        return d
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
        var rings = [[Float]](repeating: [], count: reach + 1)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<distance.count {
                let d = Int(distance[i])
                if d >= 1 && d <= reach { rings[d].append(p[i]) }
            }
        }
        func median(_ values: inout [Float]) -> Double? {
            values.isEmpty ? nil : OrderStatistics.percentile(&values, 50)
        }
        var far = Array(rings[(reach - 3)...reach].joined())
        guard let film = median(&far), film > 0 else { return 0 }
        // The edge ends at the first ring that is film (a ring with no pixels counts as film).
        for d in 1...(reach - 4) {
            guard let m = median(&rings[d]) else { return d - 1 }
            if abs(m - film) <= tolerance * film { return d - 1 }
        }
        return reach - 4
    }

    /// The bar mask grown over its measured edge (``edgeWidth(_:distance:reach:tolerance:)``).
    /// `edge` is nil when the image has no bar (then `mask` is all false).
    public static func maskWithEdge(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> (mask: [Bool], edge: Int?) {
        let bar = mask(image, threshold: threshold, minimumFraction: minimumFraction)
        guard bar.contains(true) else { return (bar, nil) }
        let reach = 32
        let distance = distance(to: bar, width: image.width, height: image.height, cap: reach + 1)
        let edge = edgeWidth(image, distance: distance, reach: reach)
        guard edge > 0 else { return (bar, 0) }
        return (distance.map { Int($0) <= edge }, edge)
    }
}
