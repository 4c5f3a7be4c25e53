/// Convex hull, convex area and Feret diameters of a 2D object given by its row extents,
/// following scikit-image's conventions exactly.
///
/// All coordinates are doubled (`x = 2·column`, `y = 2·row`) so that pixel edge midpoints are
/// integers and every test below is exact integer arithmetic.
///
/// - Convex image (`regionprops(...).image_convex`, `area_convex`, `solidity`): the hull of every
///   pixel's four edge midpoints `(r ± ½, c)`, `(r, c ± ½)` (`convex_hull_image` with
///   `offset_coordinates=True`), and the pixel centres inside or on it (`include_borders=True`).
/// - Feret diameters (`feret_diameter_max`): scikit-image takes the marching-squares contour of
///   the convex image at level ½ — on a binary image these are the midpoints between each
///   inside pixel and its outside 4-neighbours — and the largest distance between two of them.
///   `feretMin` is the smallest caliper width of the same point set (not in scikit-image).
enum ConvexGeometry {
    struct Point: Equatable { var x: Int64; var y: Int64 }

    @inline(__always) static func cross(_ o: Point, _ a: Point, _ b: Point) -> Int64 {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }

    /// Hull of points given as the leftmost / rightmost x of consecutive heights `baseY + i`
    /// (empty heights have min > max): Andrew's monotone chain in (y, x) order, without
    /// collinear points (the orientation does not matter to the callers).
    static func hull(levelMin: [Int64], levelMax: [Int64], baseY: Int64) -> [Point] {
        var points: [Point] = []
        points.reserveCapacity(2 * levelMin.count)
        for i in 0..<levelMin.count where levelMin[i] <= levelMax[i] {
            let y = baseY + Int64(i)
            points.append(Point(x: levelMin[i], y: y))
            if levelMax[i] != levelMin[i] { points.append(Point(x: levelMax[i], y: y)) }
        }
        guard points.count > 2 else { return points }
        // Sorted by (y, x): the chain runs along y, so the turn test is mirrored.
        var lower: [Point] = [], upper: [Point] = []
        for p in points {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) >= 0 { lower.removeLast() }
            lower.append(p)
        }
        for p in points.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) >= 0 { upper.removeLast() }
            upper.append(p)
        }
        lower.removeLast(); upper.removeLast()
        return lower + upper
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
    @inline(__always) static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 { -floorDiv(-a, b) }

    /// Convex image of one object as column intervals per row (rows `minRow…maxRow`), plus the
    /// two Feret diameters, in pixels.
    /// - Parameters: `first[k]`, `last[k]`: columns of row `minRow + k` (first > last: empty row).
    static func measure(first: ArraySlice<Int32>, last: ArraySlice<Int32>, minRow: Int)
        -> (convexArea: Int, feretMax: Double, feretMin: Double) {
        // Only the leftmost and rightmost point of each height can be a hull vertex, and
        // heights come in order, so no sorting is needed.
        let levels = 2 * first.count + 1 // y from 2·minRow − 1 to 2·maxRow + 1
        let baseY = 2 * Int64(minRow) - 1
        var levelMin = [Int64](repeating: .max, count: levels), levelMax = [Int64](repeating: .min, count: levels)
        for k in 0..<first.count {
            let lo = Int64(first[first.startIndex + k]), hi = Int64(last[last.startIndex + k])
            if lo > hi { continue }
            let center = 2 * k + 1
            levelMin[center] = min(levelMin[center], 2 * lo - 1); levelMax[center] = max(levelMax[center], 2 * hi + 1)
            for level in [center - 1, center + 1] {
                levelMin[level] = min(levelMin[level], 2 * lo); levelMax[level] = max(levelMax[level], 2 * hi)
            }
        }
        let polygon = hull(levelMin: levelMin, levelMax: levelMax, baseY: baseY)
        // Pixel centres (2c, 2r) inside or on the polygon, row by row.
        let rowCount = first.count
        var left = [Int64](repeating: 0, count: rowCount), right = [Int64](repeating: -1, count: rowCount)
        var convexArea = 0
        for k in 0..<rowCount {
            let y = 2 * Int64(minRow + k)
            var lo = Int64.max, hi = Int64.min
            for e in 0..<polygon.count {
                let a = polygon[e], b = polygon[(e + 1) % polygon.count]
                if (a.y - y) * (b.y - y) > 0 { continue }
                if a.y == b.y {
                    lo = min(lo, ceilDiv(min(a.x, b.x), 2)); hi = max(hi, floorDiv(max(a.x, b.x), 2))
                } else {
                    var num = a.x * (b.y - a.y) + (b.x - a.x) * (y - a.y)
                    var den = b.y - a.y
                    if den < 0 { num = -num; den = -den }
                    lo = min(lo, ceilDiv(num, 2 * den)); hi = max(hi, floorDiv(num, 2 * den))
                }
            }
            if lo <= hi { left[k] = lo; right[k] = hi; convexArea += Int(hi - lo + 1) }
        }
        // Contour midpoints of the convex image: left/right ends of each row, and the exposed
        // ends of each row's top and bottom edges.
        var contourMin = [Int64](repeating: .max, count: levels), contourMax = [Int64](repeating: .min, count: levels)
        @inline(__always) func add(_ x: Int64, _ level: Int) {
            contourMin[level] = min(contourMin[level], x); contourMax[level] = max(contourMax[level], x)
        }
        for k in 0..<rowCount where left[k] <= right[k] {
            let center = 2 * k + 1
            let lo = left[k], hi = right[k]
            add(2 * lo - 1, center); add(2 * hi + 1, center)
            for (neighbour, level) in [(k - 1, center - 1), (k + 1, center + 1)] {
                if neighbour < 0 || neighbour >= rowCount || left[neighbour] > right[neighbour] {
                    add(2 * lo, level); add(2 * hi, level)
                    continue
                }
                let nlo = left[neighbour], nhi = right[neighbour]
                let leftEnd = min(hi, nlo - 1)
                if lo <= leftEnd { add(2 * lo, level); add(2 * leftEnd, level) }
                let rightStart = max(lo, nhi + 1)
                if rightStart <= hi { add(2 * rightStart, level); add(2 * hi, level) }
            }
        }
        let h = hull(levelMin: contourMin, levelMax: contourMax, baseY: baseY)
        var widest: Int64 = 0
        for i in 0..<h.count {
            for j in (i + 1)..<h.count {
                let dx = h[i].x - h[j].x, dy = h[i].y - h[j].y
                widest = max(widest, dx * dx + dy * dy)
            }
        }
        var narrowest = Double.infinity
        if h.count >= 3 {
            for e in 0..<h.count {
                let a = h[e], b = h[(e + 1) % h.count]
                let length = Double((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
                var far: Int64 = 0
                for p in h { far = max(far, abs(cross(a, b, p))) }
                narrowest = min(narrowest, Double(far) / length)
            }
        } else {
            narrowest = 0
        }
        return (convexArea, Double(widest).squareRoot() / 2, narrowest / 2)
    }
}
