import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveTestSupport

/// Bad tile sets: a tile of another size is skipped with one warning line when the caller takes
/// warnings (the CLI does), and is an error otherwise.
@Suite struct LocatorInputTests {
    @Test func tileOfAnotherSizeIsSkippedWithAWarning() throws {
        let dir = TestData.scratchDirectory("locator-sizes")
        for (name, side) in [("Tile_001-001", 64), ("Tile_001-002", 48), ("Tile_001-003", 64)] {
            let pixels = (0..<(side * side)).map { UInt16(1000 + $0 % 97) }
            try ImageFile.write(Image<UInt16>(shape: Shape(width: side, height: side), pixels: pixels), to: "\(dir)/\(name).tif")
        }
        final class Lines: @unchecked Sendable { var lines: [String] = [] }
        let warnings = Lines()
        let images = try LocatorInput.load([dir], warning: { warnings.lines.append($0) })
        #expect(images.map(\.name) == ["Tile_001-001.tif", "Tile_001-003.tif"])
        #expect(images.map { $0.mosaicColumn! } == [0, 2])
        #expect(warnings.lines.count == 1)
        #expect(warnings.lines.first?.hasPrefix("\(dir)/Tile_001-002.tif: image is 48×48") == true, "\(warnings.lines)")
        #expect(warnings.lines.first?.contains("2 of the 3 tiles are 64×64") == true, "\(warnings.lines)")
        #expect(throws: LocatorError.self) { try LocatorInput.load([dir]) }
        // With --mosaic the skipped tile keeps its slot: the others stay where the layout puts them.
        let laidOut = try LocatorInput.load([dir + "/Tile_001-003.tif", dir + "/Tile_001-002.tif", dir + "/Tile_001-001.tif"],
                                            mosaic: (rows: 1, columns: 3), warning: { _ in })
        #expect(laidOut.map(\.name) == ["Tile_001-003.tif", "Tile_001-001.tif"] && laidOut.map { $0.mosaicColumn! } == [0, 2])
    }
}
