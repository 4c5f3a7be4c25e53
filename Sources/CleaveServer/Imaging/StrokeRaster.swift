/// Rasterises brush strokes: every pixel whose centre lies within `radius` of the stroke's
/// polyline (a chain of capsules) takes the stroke's class. Later strokes paint over earlier ones.
///
/// Pixel (x, y) has its centre at (x + 0.5, y + 0.5) in the page's image coordinates, where the
/// image spans [0, width) × [0, height).
enum StrokeRaster {
    /// The label volume of `strokes` over a width × height × depth image (plane-major): each
    /// stroke paints its own plane. `mark(index, value)` gets volume indices.
    static func labels(_ strokes: [StrokeDTO], width: Int, height: Int, depth: Int,
                       mark: (Int, UInt8) -> Void = { _, _ in }) -> [UInt8] {
        var volume = [UInt8](repeating: 0, count: width * height * depth)
        paint(strokes, width: width, height: height, depth: depth, into: &volume, mark: mark)
        return volume
    }

    /// Paints `strokes` into a plane-major label volume (strokes on planes outside 0..<depth are skipped).
    static func paint(_ strokes: [StrokeDTO], width: Int, height: Int, depth: Int, into volume: inout [UInt8],
                      mark: (Int, UInt8) -> Void = { _, _ in }) {
        precondition(volume.count == width * height * depth, "StrokeRaster.paint: \(volume.count) labels for \(width)x\(height)x\(depth)")
        let planeSize = width * height
        for z in 0..<depth {
            let onPlane = strokes.filter { $0.plane == z }
            guard !onPlane.isEmpty else { continue }
            var plane = Array(volume[z * planeSize..<(z + 1) * planeSize])
            paint(onPlane, width: width, height: height, into: &plane) { mark(z * planeSize + $0, $1) }
            volume.replaceSubrange(z * planeSize..<(z + 1) * planeSize, with: plane)
        }
    }

    /// Paints `strokes` into `labels` (width × height, row-major); `mark(index, value)` is called
    /// for every painted pixel. Eraser strokes (class 0) paint 0.
    static func paint(_ strokes: [StrokeDTO], width: Int, height: Int, into labels: inout [UInt8],
                      mark: (Int, UInt8) -> Void = { _, _ in }) {
        precondition(labels.count == width * height, "StrokeRaster.paint: \(labels.count) labels for \(width)x\(height)")
        for stroke in strokes {
            let value = UInt8(clamping: stroke.class)
            let r = stroke.radius, r2 = r * r
            let points = stroke.points.map { ($0[0], $0[1]) }
            let segments = points.count == 1 ? [(points[0], points[0])] : Array(zip(points, points.dropFirst()))
            // Bounds are clamped to the image before the conversion to Int, so no stored stroke
            // (however far off, e.g. written by an older server) can trap it.
            func column(_ value: Double) -> Int { Int(min(max(value, -1), Double(width))) }
            func row(_ value: Double) -> Int { Int(min(max(value, -1), Double(height))) }
            for (a, b) in segments {
                let x0 = max(0, column((min(a.0, b.0) - r - 0.5).rounded(.down))), x1 = min(width - 1, column((max(a.0, b.0) + r).rounded(.up)))
                let y0 = max(0, row((min(a.1, b.1) - r - 0.5).rounded(.down))), y1 = min(height - 1, row((max(a.1, b.1) + r).rounded(.up)))
                guard x0 <= x1, y0 <= y1 else { continue }
                let dx = b.0 - a.0, dy = b.1 - a.1, length2 = dx * dx + dy * dy
                for y in y0...y1 {
                    let py = Double(y) + 0.5
                    for x in x0...x1 {
                        let px = Double(x) + 0.5
                        var t = length2 > 0 ? ((px - a.0) * dx + (py - a.1) * dy) / length2 : 0
                        t = min(max(t, 0), 1)
                        let ex = px - (a.0 + t * dx), ey = py - (a.1 + t * dy)
                        if ex * ex + ey * ey <= r2 {
                            labels[y * width + x] = value
                            mark(y * width + x, value)
                        }
                    }
                }
            }
        }
    }
}
