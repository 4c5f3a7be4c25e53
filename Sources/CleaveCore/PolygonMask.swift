/// Which pixels of an image region lie inside a polygon drawn in image coordinates.
///
/// Coordinates are continuous image coordinates: pixel (column i, row j) covers [i, i+1) × [j, j+1)
/// and its centre is (i + 0.5, j + 0.5). A pixel is inside when its centre is, by the even-odd rule
/// (a self-crossing outline makes holes where it overlaps itself). Ties are broken half-open, so
/// two polygons that share an edge never both claim the pixels on it: a crossing counts when
/// `y0 <= yc < y1` or `y1 <= yc < y0`, and a centre exactly on a crossing counts as right of it.
/// (scikit-image's `draw.polygon2mask` gives the same pixels for vertices shifted by −0.5, its
/// pixel centres being at integers, apart from such ties.)
public enum PolygonMask {
    /// The inside mask of `region`, row-major (`region.width × region.height`).
    /// - Parameter polygon: vertices (x, y); at least 3, all finite (checked by the caller).
    /// - Complexity: O(region.height × vertices + region pixels): one scan line per row.
    public static func inside(polygon: [(x: Double, y: Double)], region: Region) -> [Bool] {
        var mask = [Bool](repeating: false, count: region.width * region.height)
        let n = polygon.count
        guard n >= 3 else { return mask }
        var crossings: [Double] = []
        crossings.reserveCapacity(n)
        for row in 0..<region.height {
            let yc = Double(region.y + row) + 0.5
            crossings.removeAll(keepingCapacity: true)
            for k in 0..<n {
                let (x0, y0) = polygon[k], (x1, y1) = polygon[(k + 1) % n]
                guard (y0 <= yc && yc < y1) || (y1 <= yc && yc < y0) else { continue }
                crossings.append(x0 + (yc - y0) * (x1 - x0) / (y1 - y0))
            }
            crossings.sort()
            var pair = 0
            while pair + 1 < crossings.count {
                // Centres xc = column + 0.5 with left <= xc < right.
                let first = column(crossings[pair], region: region), last = column(crossings[pair + 1], region: region)
                if first < last { for column in first..<last { mask[row * region.width + column] = true } }
                pair += 2
            }
        }
        return mask
    }

    /// The first column (relative to the region, clamped to 0…width) whose centre is at or right
    /// of `x`: ⌈x − 0.5⌉ − region.x. Clamped in floating point first, so any finite x is safe.
    private static func column(_ x: Double, region: Region) -> Int {
        let relative = (x - 0.5).rounded(.up) - Double(region.x)
        return Int(min(Double(region.width), max(0, relative)))
    }
}
