import Testing
import CleaveCore

@Suite struct ImageTests {
    @Test func storageOrderIsChannelPlaneRowColumn() {
        let shape = Shape(width: 3, height: 2, depth: 2, channels: 2)
        var image = Image<UInt16>(shape: shape)
        image[2, 1, 1, 1] = 7
        #expect(image.pixels[((1 * 2 + 1) * 2 + 1) * 3 + 2] == 7)
        #expect(image.plane(1, channel: 1)[2, 1] == 7)
        #expect(image.channel(1).shape == Shape(width: 3, height: 2, depth: 2))
    }

    @Test func conversionRoundsAndClampsWithoutRescaling() {
        let image = Image<Float>(shape: Shape(width: 4, height: 1), pixels: [-3, 2.5, 254.6, 300])
        #expect(image.converted(to: UInt8.self).pixels == [0, 3, 255, 255])
        #expect(image.converted(to: UInt16.self).pixels == [0, 3, 255, 300])
        let wide = Image<UInt16>(shape: Shape(width: 3, height: 1), pixels: [1000, 2000, 3000])
        #expect(wide.rescaled(to: UInt8.self, from: 1000...3000).pixels == [0, 128, 255])
    }

    @Test func cropAndPasteRoundTrip() {
        let shape = Shape(width: 5, height: 4, depth: 3)
        let image = Image<UInt8>(shape: shape, pixels: (0..<shape.count).map { UInt8($0 % 251) })
        let region = Region(x: 1, y: 1, z: 1, width: 3, height: 2, depth: 2)
        let piece = image.cropped(to: region)
        #expect(piece[0, 0, 0] == image[1, 1, 1])
        #expect(piece[2, 1, 1] == image[3, 2, 2])
        var blank = Image<UInt8>(shape: shape)
        blank.paste(piece, at: (1, 1, 1))
        #expect(blank[3, 2, 2] == image[3, 2, 2])
        #expect(blank[0, 0, 0] == 0)
    }

    @Test func tilesCoverTheShapeExactlyOnce() {
        let shape = Shape(width: 37, height: 23, depth: 5)
        let tiles = Region.tiles(covering: shape, blockWidth: 10, blockHeight: 8, blockDepth: 2)
        var hits = [Int](repeating: 0, count: shape.channelSize)
        for t in tiles {
            for z in t.z..<t.z + t.depth { for y in t.y..<t.y + t.height { for x in t.x..<t.x + t.width {
                hits[shape.index(column: x, row: y, plane: z)] += 1
            } } }
        }
        #expect(hits.allSatisfy { $0 == 1 })
        #expect(tiles.count == 4 * 3 * 3)
    }

    @Test func spacingUnitsNormalize() {
        let s = Spacing(x: 0.5, y: 0.5, unit: "micron")
        #expect(s.unit == "µm")
        #expect(s.converted(toUnit: "nm")?.x == 500)
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        let xs = (0..<5).map { _ in a.next() }
        let ys = (0..<5).map { _ in b.next() }
        #expect(xs == ys)
        var c = SeededGenerator(seed: 43)
        #expect(c.next() != xs[0])
        var g = SeededGenerator(seed: 1)
        let mean = (0..<20000).reduce(0.0) { acc, _ in acc + g.nextGaussian() } / 20000
        #expect(abs(mean) < 0.03)
    }

    @Test func parallelChunksCoverRange() {
        var hits = [Int](repeating: 0, count: 1000)
        hits.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            Parallel.forEachChunk(of: 1000, chunkCount: 7) { range in for i in range { p[i] += 1 } }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }
}
