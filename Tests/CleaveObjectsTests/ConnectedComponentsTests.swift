import Testing
import CleaveCore
import CleaveObjects

/// Patterns shared with Tests/Fixtures/objects/make_synthetic_references.py (which prints the golden values).
enum Patterns {
    static func mask2D(width: Int, height: Int) -> [Bool] {
        var out = [Bool](); out.reserveCapacity(width * height)
        for y in 0..<height { for x in 0..<width { out.append((x * 7 + y * 13 + (x * y) % 5) % 11 < 4) } }
        return out
    }
    static func mask3D(width: Int, height: Int, depth: Int) -> [Bool] {
        var out = [Bool]()
        for z in 0..<depth { for y in 0..<height { for x in 0..<width {
            out.append((x * 7 + y * 13 + z * 5 + (x * y * z) % 7) % 17 < 5)
        }}}
        return out
    }
    static func checksum(_ labels: [Int32]) -> Int {
        labels.enumerated().reduce(0) { $0 + Int($1.element) * ($1.offset % 97) }
    }
    /// A filled disc of `radius` around (cx, cy).
    static func disc(_ labels: inout [Int32], width: Int, cx: Double, cy: Double, radius: Double, label: Int32) {
        let height = labels.count / width
        for y in 0..<height { for x in 0..<width {
            let dx = Double(x) - cx, dy = Double(y) - cy
            if dx * dx + dy * dy <= radius * radius { labels[y * width + x] = label }
        }}
    }
}

@Suite struct ConnectedComponentsTests {
    // skimage.measure.label(pattern2d(150, 203), connectivity=c): max and checksum (see the script)
    @Test(arguments: [(Connectivity.faces, 3941, 1_054_785_981), (.full, 858, 89_942_046)])
    func label2DMatchesScikitImage(connectivity: Connectivity, count: Int, checksum: Int) {
        let shape = Shape(width: 203, height: 150)
        let result = ConnectedComponents.label(mask: Patterns.mask2D(width: 203, height: 150), shape: shape, connectivity: connectivity)
        #expect(result.objectCount == count)
        #expect(Patterns.checksum(result.labels) == checksum)
    }

    // skimage.measure.label(pattern3d(9, 31, 27), connectivity=1 / 3)
    @Test(arguments: [(Connectivity.faces, 1170, 61_084_567), (.full, 3, 106_063)])
    func label3DMatchesScikitImage(connectivity: Connectivity, count: Int, checksum: Int) {
        let shape = Shape(width: 27, height: 31, depth: 9)
        let result = ConnectedComponents.label(mask: Patterns.mask3D(width: 27, height: 31, depth: 9), shape: shape, connectivity: connectivity)
        #expect(result.objectCount == count)
        #expect(Patterns.checksum(result.labels) == checksum)
    }

    @Test func largeImageChunksStitchToRasterOrder() {
        // Tall enough for many row chunks: diagonals cross every chunk boundary.
        let width = 64, height = 4096
        var mask = [Bool](repeating: false, count: width * height)
        for y in 0..<height { mask[y * width + (y % width)] = true; mask[y * width + 63 - (y % 64)] = y % 3 == 0 }
        let shape = Shape(width: width, height: height)
        let full = ConnectedComponents.label(mask: mask, shape: shape, connectivity: .full)
        let faces = ConnectedComponents.label(mask: mask, shape: shape, connectivity: .faces)
        // python (same mask): a = label(m, connectivity=2); b = label(m, connectivity=1)
        //   a.max(), checksum(a), b.max(), checksum(b) → 1346 174294916 5336 698394824
        #expect(full.objectCount == 1346)
        #expect(Patterns.checksum(full.labels) == 174_294_916)
        #expect(faces.objectCount == 5336)
        #expect(Patterns.checksum(faces.labels) == 698_394_824)
    }

    @Test func equalValueRegionsStaySeparate() throws {
        // Two touching instances (1 | 2) and a class patch (5) split by a gap.
        let pixels: [UInt8] = [1, 1, 2, 2, 0, 5,
                               1, 1, 2, 2, 0, 5]
        let image = Image(shape: Shape(width: 6, height: 2), pixels: pixels)
        let labels = ConnectedComponents.label(.uint8(image))
        #expect(labels.labels == [1, 1, 2, 2, 0, 3, 1, 1, 2, 2, 0, 3])
        let only = ConnectedComponents.label(.uint8(image), class: 2)
        #expect(only.objectCount == 1 && only.pixelCounts()[1] == 4)
        let bright = ConnectedComponents.label(.uint8(image), threshold: 1.5)
        #expect(bright.objectCount == 2)
    }

    @Test func emptyMaskGivesNoObjects() throws {
        let labels = ConnectedComponents.label(mask: [Bool](repeating: false, count: 100), shape: Shape(width: 10, height: 10))
        #expect(labels.objectCount == 0)
        let table = try ObjectMeasurement.measure(labels)
        #expect(table.count == 0)
        #expect(table.columnNames.contains("perimeter"))
    }

    @Test func minimumSizeRenumbersInOrder() {
        var labels = [Int32](repeating: 0, count: 100)
        labels[0] = 1; labels[5] = 2; labels[6] = 2; labels[50] = 3; labels[51] = 3; labels[52] = 3
        let image = LabelImage(shape: Shape(width: 10, height: 10), labels: labels, objectCount: 3)
        let kept = image.removingSmallObjects(minimumSize: 2)
        #expect(kept.objectCount == 2)
        #expect(kept.labels[5] == 1 && kept.labels[50] == 2 && kept.labels[0] == 0)
    }

    @Test func fillingHolesClosesEnclosedBackgroundOnly() {
        // A 7x7 ring (hole 3x3) and a U open to the image edge.
        let width = 16, height = 9
        var labels = [Int32](repeating: 0, count: width * height)
        for y in 1..<8 { for x in 1..<8 where y == 1 || y == 7 || x == 1 || x == 7 || !(2...6).contains(x) || !(2...6).contains(y) {
            labels[y * width + x] = 1
        }}
        for y in 0..<5 { labels[y * width + 10] = 2; labels[y * width + 14] = 2 }
        for x in 10...14 { labels[4 * width + x] = 2 }
        let image = LabelImage(shape: Shape(width: width, height: height), labels: labels, objectCount: 2)
        let filled = image.fillingHoles()
        let counts = filled.pixelCounts()
        #expect(counts[1] == 49)
        #expect(counts[2] == image.pixelCounts()[2]) // open to the edge: unchanged
    }
}
