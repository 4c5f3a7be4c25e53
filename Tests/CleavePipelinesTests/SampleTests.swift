import Testing
import Foundation
import CleaveCore
import CleavePipelines

@Suite struct SampleTests {
    @Test func sameSeedSamePixelsAndRealisticStatistics() throws {
        let options = SyntheticTileSet.Options(rows: 1, columns: 2, tileSize: 256, overlap: 16, seed: 7, kind: .gridbars, particlesPerTile: 6)
        let a = try SyntheticTileSet.generate(options)
        let b = try SyntheticTileSet.generate(options)
        #expect(a.tiles.map(\.image) == b.tiles.map(\.image))
        #expect(a.tiles.count == 2 && a.tiles[1].name == "Tile_001-002" && a.tiles[1].x == 240)
        if let dump = ProcessInfo.processInfo.environment["CLEAVE_SAMPLE_DUMP"] {
            let big = try SyntheticTileSet.generate(SyntheticTileSet.Options(seed: 3))
            for t in big.tiles {
                let data = t.image.pixels.withUnsafeBufferPointer { Data(buffer: $0) }
                try data.write(to: URL(fileURLWithPath: "\(dump)/\(t.name).raw"))
                try Data(t.particleMask.pixels).write(to: URL(fileURLWithPath: "\(dump)/\(t.name)_p.raw"))
                try Data(t.barMask.pixels).write(to: URL(fileURLWithPath: "\(dump)/\(t.name)_b.raw"))
            }
        }
    }
}
