import CleaveCore

/// The outline of one 2D object as polygons along pixel edges.
///
/// Vertices are pixel corners in pixel units, `x` = column, `y` = row (the corner at the top left
/// of pixel (row r, column c) is (c, r)), so a pixel's centre is at (c + ½, r + ½) — QuPath's and
/// GeoJSON viewers' image convention. Exterior rings have positive shoelace area in these
/// coordinates, holes negative; rings are closed (first vertex repeated) and carry corners only.
///
/// Tracing treats the object as 4-connected: pixels touching only at a corner become separate
/// polygons of one multi-polygon that meet at that corner (and background patches joined only
/// through a corner form one hole). Rasterising the polygons gives back exactly the object.
public struct ObjectOutline: Sendable, Equatable {
    /// A polygon: exterior ring then its holes; each ring is a closed list of (x, y) corners.
    public struct Polygon: Sendable, Equatable {
        public var exterior: [(x: Int, y: Int)]
        public var holes: [[(x: Int, y: Int)]]
        public static func == (a: Polygon, b: Polygon) -> Bool {
            a.exterior.elementsEqual(b.exterior, by: ==) && a.holes.count == b.holes.count
                && zip(a.holes, b.holes).allSatisfy { $0.elementsEqual($1, by: ==) }
        }
    }
    /// The object's label.
    public var label: Int32
    /// One polygon per 4-connected part (ordered by their first pixel in raster order).
    public var polygons: [Polygon]
}

/// Tracing outlines from label images and drawing them back.
public enum Outlines {
    /// Traces every object of a 2D label image.
    /// - Throws: ``ObjectsError`` for a 3D label image (outlines are 2D).
    /// - Complexity: O(Σ bounding-box pixels), objects in parallel.
    public static func trace(_ image: LabelImage) throws -> [ObjectOutline] {
        guard image.is2D else {
            throw ObjectsError.notTwoDimensional(operation: "outlines", shape: "\(image.shape)", reason: "GeoJSON outlines are 2D only — measure volumes without them")
        }
        let w = image.shape.width, h = image.shape.height
        let objectCount = image.objectCount
        // bounding boxes
        var box = [(Int, Int, Int, Int)](repeating: (Int.max, Int.max, -1, -1), count: objectCount + 1)
        for y in 0..<h { for x in 0..<w {
            let l = Int(image.labels[y * w + x])
            if l == 0 { continue }
            var b = box[l]
            b.0 = min(b.0, x); b.1 = min(b.1, y); b.2 = max(b.2, x); b.3 = max(b.3, y)
            box[l] = b
        }}
        let present = (0...objectCount).filter { $0 > 0 && box[$0].2 >= 0 }
        var results = [ObjectOutline?](repeating: nil, count: present.count)
        results.withUnsafeMutableBufferPointer { out in
            let o = UncheckedSendable(out)
            image.labels.withUnsafeBufferPointer { labels in
                Parallel.forEachChunk(of: present.count, chunkCount: Parallel.chunkCount(total: present.count, minimumPerChunk: 32)) { range in
                    for k in range {
                        let l = present[k]
                        o.value[k] = traceOne(labels, width: w, height: h, label: Int32(l), box: box[l])
                    }
                }
            }
        }
        return results.map { $0! }
    }

    static func traceOne(_ labels: UnsafeBufferPointer<Int32>, width: Int, height: Int, label: Int32,
                         box: (Int, Int, Int, Int)) -> ObjectOutline {
        let (x0, y0, x1, y1) = box
        let vw = x1 - x0 + 2 // vertices per row in the box
        @inline(__always) func inside(_ x: Int, _ y: Int) -> Bool {
            x >= x0 && x <= x1 && y >= y0 && y <= y1 && labels[y * width + x] == label
        }
        @inline(__always) func vertex(_ x: Int, _ y: Int) -> Int { (y - y0) * vw + (x - x0) }
        // Directed edges with the object on the right (y down): each vertex has ≤ 2 outgoing.
        var edgeTo: [Int32] = [] // end vertex
        var edgeFrom: [Int32] = []
        let vertexCount = vw * (y1 - y0 + 2)
        var out1 = [Int32](repeating: -1, count: vertexCount), out2 = [Int32](repeating: -1, count: vertexCount)
        func addEdge(_ a: Int, _ b: Int) {
            let e = Int32(edgeTo.count)
            edgeFrom.append(Int32(a)); edgeTo.append(Int32(b))
            if out1[a] < 0 { out1[a] = e } else { out2[a] = e }
        }
        for y in y0...y1 { for x in x0...x1 where inside(x, y) {
            if !inside(x, y - 1) { addEdge(vertex(x, y), vertex(x + 1, y)) }
            if !inside(x + 1, y) { addEdge(vertex(x + 1, y), vertex(x + 1, y + 1)) }
            if !inside(x, y + 1) { addEdge(vertex(x + 1, y + 1), vertex(x, y + 1)) }
            if !inside(x - 1, y) { addEdge(vertex(x, y + 1), vertex(x, y)) }
        }}
        @inline(__always) func point(_ v: Int32) -> (x: Int, y: Int) { (Int(v) % vw + x0, Int(v) / vw + y0) }
        var used = [Bool](repeating: false, count: edgeTo.count)
        var rings: [[(x: Int, y: Int)]] = []
        for start in 0..<edgeTo.count where !used[start] {
            var ring: [(x: Int, y: Int)] = []
            var e = start
            while !used[e] {
                used[e] = true
                ring.append(point(edgeFrom[e]))
                let v = Int(edgeTo[e])
                let a = out1[v], b = out2[v]
                if b < 0 { e = Int(a); continue }
                // Pinch corner: turn right (towards the object) to keep parts 4-connected.
                let (px, py) = point(edgeFrom[e]), (vx, vy) = point(Int32(v))
                let dx = vx - px, dy = vy - py
                let (ax, ay) = point(edgeTo[Int(a)])
                let turnA = dx * (ay - vy) - dy * (ax - vx) // > 0: right turn in y-down coordinates
                e = turnA > 0 ? Int(a) : Int(b)
                if used[e] { e = e == Int(a) ? Int(b) : Int(a) }
            }
            ring.append(ring[0])
            rings.append(simplified(ring))
        }
        // Group: exterior rings (positive area) and holes (negative), holes to the smallest exterior containing them.
        var exteriors: [(ring: [(x: Int, y: Int)], area: Int)] = []
        var holes: [[(x: Int, y: Int)]] = []
        for ring in rings {
            let a = doubledArea(ring)
            if a > 0 { exteriors.append((ring, a)) } else { holes.append(ring) }
        }
        var polygons = exteriors.map { ObjectOutline.Polygon(exterior: $0.ring, holes: []) }
        for hole in holes {
            // a point strictly inside the hole: centre of the background pixel left of its first edge
            let a = hole[0], b = hole[1]
            let dx = (b.x - a.x).signum(), dy = (b.y - a.y).signum()
            // left of the direction (y down) is (dy, -dx); the pixel there, next to edge start
            let cx = Double(a.x) + 0.5 * Double(dx) + 0.5 * Double(dy)
            let cy = Double(a.y) + 0.5 * Double(dy) - 0.5 * Double(dx)
            var best = -1
            for (k, exterior) in exteriors.enumerated() where contains(exterior.ring, x: cx, y: cy) {
                if best < 0 || exterior.area < exteriors[best].area { best = k }
            }
            if best >= 0 { polygons[best].holes.append(hole) }
        }
        // order polygons by their first vertex in raster order (deterministic)
        polygons.sort { p, q in
            let a = p.exterior.min { ($0.y, $0.x) < ($1.y, $1.x) }!, b = q.exterior.min { ($0.y, $0.x) < ($1.y, $1.x) }!
            return (a.y, a.x) < (b.y, b.x)
        }
        return ObjectOutline(label: label, polygons: polygons)
    }

    /// Drops vertices in the middle of straight runs, rotating the ring to start at a corner.
    static func simplified(_ ring: [(x: Int, y: Int)]) -> [(x: Int, y: Int)] {
        let open = Array(ring.dropLast())
        let n = open.count
        var corners: [(x: Int, y: Int)] = []
        for i in 0..<n {
            let p = open[(i + n - 1) % n], c = open[i], q = open[(i + 1) % n]
            if (c.x - p.x) * (q.y - c.y) - (c.y - p.y) * (q.x - c.x) != 0 { corners.append(c) }
        }
        // start at the top-left-most corner
        if let start = corners.indices.min(by: { (corners[$0].y, corners[$0].x) < (corners[$1].y, corners[$1].x) }) {
            corners = Array(corners[start...] + corners[..<start])
        }
        corners.append(corners[0])
        return corners
    }

    /// Twice the shoelace area of a closed ring.
    static func doubledArea(_ ring: [(x: Int, y: Int)]) -> Int {
        var s = 0
        for i in 0..<(ring.count - 1) { s += ring[i].x * ring[i + 1].y - ring[i + 1].x * ring[i].y }
        return s
    }

    /// Even-odd point-in-ring test.
    static func contains(_ ring: [(x: Int, y: Int)], x: Double, y: Double) -> Bool {
        var inside = false
        for i in 0..<(ring.count - 1) {
            let a = ring[i], b = ring[i + 1]
            let ay = Double(a.y), by = Double(b.y)
            if (ay > y) != (by > y) {
                let xi = Double(a.x) + (y - ay) / (by - ay) * Double(b.x - a.x)
                if x < xi { inside.toggle() }
            }
        }
        return inside
    }

    /// Draws outlines into a label image of the given size (pixel centres inside a polygon,
    /// even-odd over its rings, get the outline's label; later outlines overwrite earlier ones).
    public static func rasterise(_ outlines: [ObjectOutline], width: Int, height: Int) -> LabelImage {
        var labels = [Int32](repeating: 0, count: width * height)
        var largest: Int32 = 0
        for outline in outlines {
            largest = max(largest, outline.label)
            for polygon in outline.polygons {
                let rings = [polygon.exterior] + polygon.holes
                let ys = polygon.exterior.map(\.y)
                let top = max(0, ys.min()!), bottom = min(height, ys.max()!)
                var crossings: [Int] = []
                for row in top..<max(top, bottom) {
                    crossings.removeAll(keepingCapacity: true)
                    let y2 = 2 * row + 1 // doubled centre height
                    for ring in rings {
                        for i in 0..<(ring.count - 1) {
                            let a = ring[i], b = ring[i + 1]
                            guard a.x == b.x else { continue } // only vertical edges cross a centre line
                            if (2 * a.y < y2) != (2 * b.y < y2) { crossings.append(a.x) }
                        }
                    }
                    crossings.sort()
                    var k = 0
                    while k + 1 < crossings.count {
                        for x in max(0, crossings[k])..<min(width, crossings[k + 1]) { labels[row * width + x] = outline.label }
                        k += 2
                    }
                }
            }
        }
        return LabelImage(shape: Shape(width: width, height: height), labels: labels, objectCount: Int(largest))
    }
}
