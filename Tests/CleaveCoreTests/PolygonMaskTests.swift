import CleaveCore
import Foundation
import Testing

@Suite struct PolygonMaskTests {
    /// scikit-image 0.26 `draw.polygon2mask((10, 12), vertices − 0.5)` (its pixel centres are integers).
    @Test func quadrilateralMatchesScikitImage() {
        let polygon: [(x: Double, y: Double)] = [(1.3, 0.7), (10.6, 2.2), (7.9, 8.4), (3.2, 6.6)]
        let expected = """
            ............
            ..####......
            ..########..
            ..########..
            ...#######..
            ...######...
            ...######...
            ......##....
            ............
            ............
            """.split(separator: "\n").joined().map { $0 == "#" }
        #expect(PolygonMask.inside(polygon: polygon, region: Region(x: 0, y: 0, width: 12, height: 10)) == expected)
    }

    /// A ten-pointed star (concave): 1884 pixels, as scikit-image counts them.
    @Test func concaveStarCountMatchesScikitImage() {
        let star: [(x: Double, y: Double)] = [(89.800167, 53.993337), (61.940715, 60.649851), (58.501039, 89.086217),
                                              (43.561273, 64.64728), (15.453764, 70.163274), (34.079933, 48.402665),
                                              (20.148213, 23.375372), (46.599584, 34.365513), (66.096817, 13.381801),
                                              (63.818494, 41.934691)]
        let mask = PolygonMask.inside(polygon: star, region: Region(x: 0, y: 0, width: 100, height: 100))
        #expect(mask.filter { $0 }.count == 1884)
        #expect(mask == bruteForce(star, Region(x: 0, y: 0, width: 100, height: 100)))
    }

    /// Random polygons (self-crossing too) in an offset region: the scan lines equal a per-pixel
    /// crossing-number test, and sub-regions equal crops of the whole mask.
    @Test func randomPolygonsEqualAPerPixelTest() {
        var generator = SeededGenerator(seed: 7)
        for trial in 0..<40 {
            let count = 3 + trial % 9
            let polygon = (0..<count).map { _ in (x: Double.random(in: -20...140, using: &generator), y: Double.random(in: -20...110, using: &generator)) }
            let whole = Region(x: 0, y: 0, width: 120, height: 90)
            let mask = PolygonMask.inside(polygon: polygon, region: whole)
            #expect(mask == bruteForce(polygon, whole), "trial \(trial)")
            let part = Region(x: 33, y: 17, width: 41, height: 29)
            let crop = (0..<part.height).flatMap { r in (0..<part.width).map { c in mask[(part.y + r) * whole.width + part.x + c] } }
            #expect(PolygonMask.inside(polygon: polygon, region: part) == crop, "trial \(trial)")
        }
    }

    @Test func extremeCoordinatesAndDegeneratePolygons() {
        let region = Region(x: 0, y: 0, width: 8, height: 8)
        // Far outside on both sides: every pixel inside, no trap converting huge crossings.
        let huge: [(x: Double, y: Double)] = [(-1e300, -1e300), (1e300, -1e300), (1e300, 1e300), (-1e300, 1e300)]
        #expect(PolygonMask.inside(polygon: huge, region: region).allSatisfy { $0 })
        #expect(PolygonMask.inside(polygon: [(0, 0), (5, 5)], region: region).allSatisfy { !$0 })
        #expect(PolygonMask.inside(polygon: [(0, 0), (4, 4), (8, 8)], region: region).allSatisfy { !$0 })
    }

    private func bruteForce(_ polygon: [(x: Double, y: Double)], _ region: Region) -> [Bool] {
        (0..<region.height).flatMap { r in
            (0..<region.width).map { c -> Bool in
                let x = Double(region.x + c) + 0.5, y = Double(region.y + r) + 0.5
                var inside = false
                for k in polygon.indices {
                    let a = polygon[k], b = polygon[(k + 1) % polygon.count]
                    if (a.y <= y && y < b.y) || (b.y <= y && y < a.y) {
                        if x < a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y) { inside.toggle() }
                    }
                }
                return inside
            }
        }
    }
}
