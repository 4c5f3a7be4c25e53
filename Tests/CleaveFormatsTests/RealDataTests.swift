import Testing
import CleaveCore
import CleaveFormats
import CleaveTestSupport

/// Reads the real microscopy files in ../shared/data.
@Suite struct RealDataTests {
    /// Reference (tifffile 2024, numpy):
    /// `a = tifffile.imread(path)` → (1000, 1000) uint16, min 2627, max 14218,
    /// `int(a.sum(dtype=np.int64))` = 8_744_448_653, a[0,0] = 9003, a[999,999] = 8454.
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func temTileUncompressed16Bit() throws {
        let path = TestData.path("tem-microcrystals/dataset1-graphite-30kx/Tile_001-001-000_0-000.tif")
        let info = try ImageFile.info(path)
        #expect(info.width == 1000 && info.height == 1000 && info.depth == 1 && info.channels == 1)
        #expect(info.pixelType == .uint16 && info.compression == "none" && info.format == .tiff)
        guard case .uint16(let image) = try ImageFile.read(path) else { Issue.record("expected uint16"); return }
        let range = try #require(image.minMax())
        #expect(range.min == 2627 && range.max == 14218)
        #expect(image.pixels.reduce(0) { $0 + Int($1) } == 8_744_448_653)
        #expect(image[0, 0] == 9003 && image[999, 999] == 8454)
    }

    /// The LZW RGB masks decode to colours whose per-class counts equal the class-index labels
    /// (blue = 1, red = 2, green = 3, yellow = 4), pixel for pixel.
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"),
          arguments: ["0000", "0200", "0400"])
    func sandstoneMasksMatchLabels(slice: String) throws {
        let maskPath = TestData.path("sandstone-xrm/masks/Sandstone_Versa\(slice).tif")
        let labelPath = TestData.path("sandstone-xrm/labels/Sandstone_Versa\(slice).tif")
        #expect(try ImageFile.info(maskPath).compression == "lzw")
        guard case .uint8(let mask) = try ImageFile.read(maskPath), case .uint8(let labels) = try ImageFile.read(labelPath) else {
            Issue.record("expected uint8 images"); return
        }
        #expect(mask.shape == Shape(width: 996, height: 1024, depth: 1, channels: 3))
        #expect(labels.shape == Shape(width: 996, height: 1024))
        var maskCounts = [Int](repeating: 0, count: 6)
        var labelCounts = [Int](repeating: 0, count: 6)
        var mismatches = 0
        let n = mask.shape.planeSize
        for i in 0..<n {
            let rgb = (mask.pixels[i], mask.pixels[n + i], mask.pixels[2 * n + i])
            let cls: Int
            switch rgb {
            case (0, 0, 255): cls = 1
            case (255, 0, 0): cls = 2
            case (0, 255, 0): cls = 3
            case (255, 255, 0): cls = 4
            default: cls = 5
            }
            maskCounts[cls] += 1
            labelCounts[Int(min(labels.pixels[i], 5))] += 1
            if cls != Int(labels.pixels[i]) { mismatches += 1 }
        }
        #expect(maskCounts == labelCounts)
        #expect(maskCounts[5] == 0)
        #expect(mismatches == 0)
    }

    /// Big-endian 8-bit ImageJ file: spacing from XResolution (448139/1000000 px per unit) and unit=micron.
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func sandstoneBigEndianImageJSpacing() throws {
        let path = TestData.path("sandstone-xrm/images/Sandstone_Versa0000.tif")
        let info = try ImageFile.info(path)
        #expect(info.byteOrder == "big")
        let spacing = try #require(info.spacing)
        #expect(spacing.unit == "µm")
        #expect(abs(spacing.x - 1 / 0.448139) < 1e-9)
        let image = try ImageFile.read(path)
        #expect(image.shape == Shape(width: 996, height: 1024))
        #expect(image.spacing == spacing)
    }

    /// One region of a real file equals the same crop of the whole image (only its strips are read).
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func regionOfRealMaskEqualsCrop() throws {
        let path = TestData.path("sandstone-xrm/masks/Sandstone_Versa0200.tif")
        let file = try TIFFFile(path: path)
        let region = Region(x: 100, y: 301, width: 250, height: 97)
        guard case .uint8(let part) = try file.readRegion(region, page: 0),
              case .uint8(let whole) = try file.read() else { Issue.record("expected uint8"); return }
        #expect(part.pixels == whole.cropped(to: region).pixels)
    }
}
