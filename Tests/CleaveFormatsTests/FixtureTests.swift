import Testing
import CleaveCore
import CleaveFormats

/// Files written by tifffile 2026.3.3 and Pillow 13 (libtiff) — see Fixtures/make_fixtures.py.
/// Every fixture is 32 × 24 with samples from one formula, recomputed here:
/// `value(x, y, c, z) = (x*7 + y*13 + c*29 + z*31) % modulo`; signed types subtract an offset,
/// floats are `value * 0.5 - 20.25`.
@Suite struct FixtureTests {
    static let directory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    static func value(_ x: Int, _ y: Int, _ c: Int = 0, _ z: Int = 0, modulo: Int) -> Int {
        (x * 7 + y * 13 + c * 29 + z * 31) % modulo
    }

    /// Expected samples in Cleave's (channel, plane, row, column) order.
    static func expected(channels: Int = 1, depth: Int = 1, modulo: Int, _ transform: (Int) -> Double = { Double($0) }) -> [Double] {
        var out: [Double] = []
        for c in 0..<channels { for z in 0..<depth { for y in 0..<24 { for x in 0..<32 {
            out.append(transform(value(x, y, c, z, modulo: modulo)))
        } } } }
        return out
    }

    static func samples(_ image: AnyImage) -> [Double] {
        switch image {
        case .uint8(let i): return i.pixels.map(Double.init)
        case .uint16(let i): return i.pixels.map(Double.init)
        case .float32(let i): return i.pixels.map(Double.init)
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var type: PixelType
        var stored: String
        var compression: String
        var channels = 1
        var depth = 1
        var modulo: Int
        var scale = 1.0
        var offset = 0.0
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "u16_be_deflate_pred.tif", type: .uint16, stored: "uint16", compression: "deflate", modulo: 65536 / 7, scale: 7),
        Case(file: "i16_le.tif", type: .float32, stored: "int16", compression: "none", modulo: 1000, offset: -500),
        Case(file: "i8_le.tif", type: .float32, stored: "int8", compression: "none", modulo: 200, offset: -100),
        Case(file: "u32_be.tif", type: .float32, stored: "uint32", compression: "none", modulo: 1000, scale: 100_000),
        Case(file: "i32_le_deflate.tif", type: .float32, stored: "int32", compression: "deflate", modulo: 1000, scale: 1000, offset: -500_000),
        Case(file: "f32_deflate.tif", type: .float32, stored: "float32", compression: "deflate", modulo: 1000, scale: 0.5, offset: -20.25),
        Case(file: "f64_be.tif", type: .float32, stored: "float64", compression: "none", modulo: 1000, scale: 0.5, offset: -20.25),
        Case(file: "f16_le.tif", type: .float32, stored: "float16", compression: "none", modulo: 1000, scale: 0.5, offset: -20.25),
        Case(file: "f32_lzw_fpred.tif", type: .float32, stored: "float32", compression: "lzw", modulo: 1000, scale: 0.5, offset: -20.25),
        Case(file: "u16_bigtiff_tiled_deflate.tif", type: .uint16, stored: "uint16", compression: "deflate", modulo: 4000),
        Case(file: "rgb16_planar.tif", type: .uint16, stored: "uint16", compression: "none", channels: 3, modulo: 4000),
        Case(file: "rgb8_tiled_contig.tif", type: .uint8, stored: "uint8", compression: "none", channels: 3, modulo: 256),
        Case(file: "multipage_u8.tif", type: .uint8, stored: "uint8", compression: "none", depth: 5, modulo: 256),
        Case(file: "u8_lzw_pred.tif", type: .uint8, stored: "uint8", compression: "lzw", modulo: 256),
        Case(file: "u8_packbits.tif", type: .uint8, stored: "uint8", compression: "packbits", modulo: 256),
        Case(file: "rgb8_lzw_pred.tif", type: .uint8, stored: "uint8", compression: "lzw", channels: 3, modulo: 256),
        Case(file: "u16_lzw.tif", type: .uint16, stored: "uint16", compression: "lzw", modulo: 4000),
        Case(file: "bilevel.tif", type: .uint8, stored: "bit1", compression: "none", modulo: 2),
        Case(file: "bilevel_packbits.tif", type: .uint8, stored: "bit1", compression: "packbits", modulo: 2),
        Case(file: "ome_zstack.ome.tif", type: .uint8, stored: "uint8", compression: "none", depth: 4, modulo: 256),
        Case(file: "grey8.png", type: .uint8, stored: "uint8", compression: "deflate", modulo: 256),
        Case(file: "grey16.png", type: .uint16, stored: "uint16", compression: "deflate", modulo: 65536 / 7, scale: 7),
        Case(file: "grey_alpha8.png", type: .uint8, stored: "uint8", compression: "deflate", channels: 2, modulo: 256),
        Case(file: "rgb8.png", type: .uint8, stored: "uint8", compression: "deflate", channels: 3, modulo: 256),
        Case(file: "rgba8.png", type: .uint8, stored: "uint8", compression: "deflate", channels: 4, modulo: 256),
        Case(file: "bilevel.png", type: .uint8, stored: "bit1", compression: "deflate", modulo: 2),
        Case(file: "interlaced_grey8.png", type: .uint8, stored: "uint8", compression: "deflate", modulo: 256),
        Case(file: "interlaced_rgb16.png", type: .uint16, stored: "uint16", compression: "deflate", channels: 3, modulo: 4000),
        Case(file: "interlaced_grey1.png", type: .uint8, stored: "bit1", compression: "deflate", modulo: 2),
        Case(file: "png_named.tif", type: .uint8, stored: "uint8", compression: "deflate", modulo: 256),
        Case(file: "mode0_int8.mrc", type: .float32, stored: "int8", compression: "none", depth: 2, modulo: 200, offset: -100),
        Case(file: "mode0_imod_uint8.mrc", type: .uint8, stored: "uint8", compression: "none", depth: 2, modulo: 256),
        Case(file: "mode1_int16_be_ext.mrc", type: .float32, stored: "int16", compression: "none", depth: 3, modulo: 1000, offset: -500),
        Case(file: "mode2_float32.mrc", type: .float32, stored: "float32", compression: "none", depth: 2, modulo: 1000, scale: 0.5, offset: -20.25),
        Case(file: "mode6_uint16.mrc", type: .uint16, stored: "uint16", compression: "none", depth: 2, modulo: 4000),
        Case(file: "mode12_float16.mrc", type: .float32, stored: "float16", compression: "none", depth: 2, modulo: 1000, scale: 0.5, offset: -20.25),
    ]

    @Test(arguments: cases)
    func exactPixels(_ c: Case) throws {
        let path = FixtureTests.path(c.file)
        let info = try ImageFile.info(path)
        #expect(info.pixelType == c.type)
        #expect(info.storedSampleType == c.stored)
        #expect(info.compression == c.compression)
        #expect(info.shape == Shape(width: 32, height: 24, depth: c.depth, channels: c.channels))
        let image = try ImageFile.read(path)
        #expect(image.shape == info.shape)
        #expect(image.pixelType == c.type)
        let want = FixtureTests.expected(channels: c.channels, depth: c.depth, modulo: c.modulo) { Double($0) * c.scale + c.offset }
        let got = FixtureTests.samples(image)
        let wrong = zip(got, want).filter { $0 != $1 }.count
        #expect(wrong == 0, "\(wrong) of \(want.count) samples differ; first got \(got.prefix(4)) want \(want.prefix(4))")
    }

    /// Palette TIFF → RGB through the colour map (tifffile: colormap rows i*257, (255-i)*257, (3i mod 256)*257).
    @Test func paletteTIFFExpandsToRGB() throws {
        guard case .uint8(let image) = try ImageFile.read(FixtureTests.path("palette8.tif")) else { Issue.record("expected uint8"); return }
        #expect(image.channels == 3)
        let info = try ImageFile.info(FixtureTests.path("palette8.tif"))
        #expect(info.photometric == "palette" && info.storedSampleType == "palette8")
        for (x, y) in [(0, 0), (5, 3), (31, 23)] {
            let i = FixtureTests.value(x, y, modulo: 256)
            #expect(image[x, y, 0, 0] == UInt8(i) && image[x, y, 0, 1] == UInt8(255 - i) && image[x, y, 0, 2] == UInt8(i * 3 % 256))
        }
    }

    /// 4-bit palette PNG with tRNS → RGBA (palette i = (16i, 255-16i, 5i), alpha 16i).
    @Test func palettePNGWithTransparency() throws {
        guard case .uint8(let image) = try ImageFile.read(FixtureTests.path("palette4.png")) else { Issue.record("expected uint8"); return }
        #expect(image.channels == 4)
        for (x, y) in [(0, 0), (1, 0), (7, 9), (31, 23)] {
            let i = FixtureTests.value(x, y, modulo: 16)
            #expect(image[x, y, 0, 0] == UInt8(i * 16) && image[x, y, 0, 1] == UInt8(255 - i * 16))
            #expect(image[x, y, 0, 2] == UInt8(i * 5) && image[x, y, 0, 3] == UInt8(i * 16))
        }
    }

    /// ImageJ hyperstack (tifffile imagej=True, ZCYX 3×2, resolution 4 px/µm, spacing 1.5 µm):
    /// pages in C-fastest order become 2 channels × 3 planes.
    @Test func imageJHyperstack() throws {
        let path = FixtureTests.path("imagej_hyperstack.tif")
        let image = try ImageFile.read(path)
        #expect(image.shape == Shape(width: 32, height: 24, depth: 3, channels: 2))
        let want = FixtureTests.expected(channels: 2, depth: 3, modulo: 4000)
        #expect(FixtureTests.samples(image) == want)
        let spacing = try #require(image.spacing)
        #expect(spacing.unit == "µm" && spacing.x == 0.25 && spacing.y == 0.25 && spacing.z == 1.5)
        #expect(try ImageFile.info(path).spacingSource == "ImageJ")
    }

    @Test func omeSpacing() throws {
        let info = try ImageFile.info(FixtureTests.path("ome_zstack.ome.tif"))
        let spacing = try #require(info.spacing)
        #expect(info.spacingSource == "OME")
        #expect(spacing.unit == "µm" && abs(spacing.x - 0.1) < 1e-12 && abs(spacing.z - 0.3) < 1e-12)
    }

    @Test func vendorAndResolutionSpacing() throws {
        let fei = try #require(try ImageFile.info(FixtureTests.path("fei_sem.tif")).spacing)
        #expect(fei.unit == "nm" && abs(fei.x - 2.5) < 1e-9)
        let zeiss = try #require(try ImageFile.info(FixtureTests.path("zeiss_sem.tif")).spacing)
        #expect(zeiss.unit == "nm" && zeiss.x == 3.75)
        // 20000 pixels per cm = 0.5 µm.
        let cm = try #require(try ImageFile.info(FixtureTests.path("resolution_cm.tif")).spacing)
        #expect(cm.unit == "µm" && abs(cm.x - 0.5) < 1e-12)
        // pHYs 2 000 000 px/m (Pillow dpi 50800) = 0.5 µm.
        let png = try #require(try ImageFile.info(FixtureTests.path("grey8_phys.png")).spacing)
        #expect(abs(png.x - 0.5) < 1e-6)
    }

    /// MRC voxel size = cell / sampling in Å (cell 48 Å over 32 px = 1.5 Å).
    @Test func mrcSpacingAndExtendedHeader() throws {
        let info = try ImageFile.info(FixtureTests.path("mode0_int8.mrc"))
        let spacing = try #require(info.spacing)
        #expect(spacing.unit == "Å" && spacing.x == 1.5 && spacing.z == 1.5)
        let big = try ImageFile.info(FixtureTests.path("mode1_int16_be_ext.mrc"))
        #expect(big.byteOrder == "big" && big.metadata["extendedHeaderBytes"] == "160" && big.spacing?.x == 2)
        // One section alone.
        let section = try ImageFile.read(FixtureTests.path("mode1_int16_be_ext.mrc"), page: 2)
        #expect(FixtureTests.samples(section) == FixtureTests.expected(modulo: 1000).enumerated().map { i, _ in
            Double(FixtureTests.value(i % 32, i / 32, 0, 2, modulo: 1000) - 500)
        })
    }

    /// One tile of a tiled BigTIFF, decoded alone, equals the crop of the whole page.
    @Test func singleTile() throws {
        let file = try TIFFFile(path: FixtureTests.path("u16_bigtiff_tiled_deflate.tif"))
        #expect(file.isBigTIFF)
        let grid = try file.tileGrid(page: 0)
        #expect(grid.tileWidth == 16 && grid.tileHeight == 16 && grid.across == 2 && grid.down == 2)
        let tile = try file.readTile(page: 0, column: 1, row: 1)  // x 16…31, y 16…23 (clipped)
        #expect(tile.shape == Shape(width: 16, height: 8))
        let want = (0..<(16 * 8)).map { Double(FixtureTests.value(16 + $0 % 16, 16 + $0 / 16, modulo: 4000)) }
        #expect(FixtureTests.samples(tile) == want)
    }
}
