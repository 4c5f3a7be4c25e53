import Foundation
import Testing
import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveTestSupport

/// The written pictures of a grid run: the full-size mosaic's rows are the tile pictures' rows
/// (copied from what each tile's PNG got, before its legend), and every file is the same for
/// any thread count.
@Suite(.serialized) struct LocatorOutputTests {
    /// 2 × 3 tiles of 480 × 360 (8/16-bit-like integers: the overlay's grey-table path), film
    /// with dark spots in some patches, so that the clusters and the pick differ across tiles.
    static func tiles() -> [LocatorImage] {
        var images: [LocatorImage] = []
        for r in 0..<2 {
            for c in 0..<3 {
                var random = SeededGenerator(seed: UInt64(7 * r + c + 1))
                var pixels = (0..<(480 * 360)).map { _ in Float((9000 + 300 * random.nextGaussian()).rounded()) }
                for spot in 0..<(3 + r + c) {
                    let cx = 40 + (spot * 97 + 31 * c) % 400, cy = 40 + (spot * 61 + 53 * r) % 280
                    for y in (cy - 9)...(cy + 9) { for x in (cx - 9)...(cx + 9) { pixels[y * 480 + x] = Float(2000 + 10 * ((x + y) % 7)) } }
                }
                images.append(LocatorImage(name: "Tile_00\(r + 1)-00\(c + 1).tif", mosaicRow: r, mosaicColumn: c,
                                           image: Image(shape: Shape(width: 480, height: 360), pixels: pixels), integral: true))
            }
        }
        return images
    }

    static func rgb(_ path: String) throws -> Image<UInt8> {
        guard case let .uint8(image) = try ImageFile.read(path) else { throw CleaveError("\(path): not an 8-bit picture") }
        return image
    }

    @Test func fullSizeMosaicRowsAreTheTilePicturesRows() throws {
        let images = Self.tiles()
        let result = try Locator.run(images, options: LocatorOptions(sampling: .patches(.grid(rows: 6, columns: 8)), clusterCount: 3))
        let folder = TestData.scratchDirectory("locator-output-mosaic")
        try LocatorOutput.write(result, images: images, to: folder)
        let mosaic = try Self.rgb(folder + "/mosaic_overlay.png")
        #expect(mosaic.shape == Shape(width: 1440, height: 720, channels: 3), "\(mosaic.shape)")
        let plane = 1440 * 720
        var compared = 0
        for (index, input) in images.enumerated() {
            let tile = try Self.rgb(folder + "/" + String(input.name.dropLast(4)) + "_overlay.png")
            let r = index / 3, c = index % 3
            for y in 0..<360 {
                for x in 0..<480 where !(x < 360 && y < 140) {  // the legends (the tile's own; the mosaic's on tile 0) lie top left
                    for channel in 0..<3 {
                        let expected = tile.pixels[channel * 480 * 360 + y * 480 + x]
                        let found = mosaic.pixels[channel * plane + (r * 360 + y) * 1440 + c * 480 + x]
                        if found != expected {
                            Issue.record("tile \(index) (\(x), \(y)) channel \(channel): mosaic \(found), tile \(expected)")
                            return
                        }
                    }
                    compared += 1
                }
            }
        }
        #expect(compared == 6 * (480 * 360 - 360 * 140))
        // The pictures show the clusters: the picked colour is in some tile.
        #expect(result.clusterSizes.count >= 3 && result.pickedMask.contains(true))
    }

    @Test func filesAreTheSameForAnyThreadCount() throws {
        let images = Self.tiles()
        let result = try Locator.run(images, options: LocatorOptions(sampling: .patches(.grid(rows: 6, columns: 8)), clusterCount: 3))
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var folders: [String] = []
        for threads in [1, 2, 3] {
            Parallel.threadCount = threads
            let folder = TestData.scratchDirectory("locator-output-threads-\(threads)")
            try LocatorOutput.write(result, images: images, to: folder)
            folders.append(folder)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folders[0]).filter { $0 != "summary.json" }.sorted()
        #expect(names.count == 6 * 3 + 4, "\(names)")  // per tile: overlay, clusters, picked; mosaic, patches, targets ×2
        for name in names {
            let first = try Data(contentsOf: URL(fileURLWithPath: folders[0] + "/" + name))
            for folder in folders.dropFirst() {
                #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) == first, "\(name) differs in \(folder)")
            }
        }
    }
}
