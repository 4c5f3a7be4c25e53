import Testing
import CleaveCore
import CleaveFormats
import CleaveTestSupport

/// Write → read round trips through files and memory for every type, layout and compression.
@Suite struct RoundTripTests {
    static func ramp<S: PixelScalar>(_ type: S.Type, shape: Shape, seed: UInt64 = 7) -> Image<S> {
        var generator = SeededGenerator(seed: seed)
        let top: Double = S.pixelType == .uint8 ? 255 : S.pixelType == .uint16 ? 65535 : 1000
        let pixels = (0..<shape.count).map { i -> S in
            // Smooth ramp plus noise: exercises predictors with both small and large differences.
            let smooth = Double(i % 97) / 97 * top * 0.5
            let noise = generator.nextDouble() * top * 0.5
            return S.pixelType == .float32 ? S(roundingClamping: smooth + noise - 300.25) : S(roundingClamping: smooth + noise)
        }
        return Image(shape: shape, pixels: pixels, spacing: Spacing(x: 0.25, y: 0.5, z: 2, unit: "µm"))
    }

    static let layouts: [ImageWriteOptions.ChannelLayout] = [.automatic, .interleaved, .planar, .pages]
    static let compressions: [ImageWriteOptions.Compression] = [.none, .deflate]

    @Test(arguments: compressions, layouts)
    func tiffUInt8(compression: ImageWriteOptions.Compression, layout: ImageWriteOptions.ChannelLayout) throws {
        try check(RoundTripTests.ramp(UInt8.self, shape: Shape(width: 37, height: 23, depth: 3, channels: 3)), compression, layout)
    }

    @Test(arguments: compressions, layouts)
    func tiffUInt16(compression: ImageWriteOptions.Compression, layout: ImageWriteOptions.ChannelLayout) throws {
        try check(RoundTripTests.ramp(UInt16.self, shape: Shape(width: 41, height: 19, depth: 2, channels: 2)), compression, layout)
    }

    @Test(arguments: compressions, layouts)
    func tiffFloat(compression: ImageWriteOptions.Compression, layout: ImageWriteOptions.ChannelLayout) throws {
        try check(RoundTripTests.ramp(Float.self, shape: Shape(width: 13, height: 300, depth: 2, channels: 4)), compression, layout)
    }

    func check<S: PixelScalar>(_ image: Image<S>, _ compression: ImageWriteOptions.Compression,
                               _ layout: ImageWriteOptions.ChannelLayout) throws {
        let options = ImageWriteOptions(compression: compression, channelLayout: layout)
        let bytes = try ImageFile.encode(image, as: .tiff, options: options)
        let back = try ImageFile.read(data: bytes)
        #expect(AnyImage(image).shape == back.shape)
        #expect(back.converted(to: S.self).pixels == image.pixels)
        #expect(back.pixelType == S.pixelType)
        #expect(back.spacing == image.spacing)
        // Also through a file, with BigTIFF forced.
        let dir = TestData.scratchDirectory("roundtrip-\(S.self)-\(compression)-\(layout)")
        let path = dir + "/image.tif"
        try ImageFile.write(image, to: path, options: ImageWriteOptions(compression: compression, channelLayout: layout, bigTIFF: true))
        let info = try ImageFile.info(path)
        #expect(info.variant == "BigTIFF")
        #expect(info.compression == compression.rawValue)
        let fromFile = try ImageFile.read(path)
        #expect(fromFile.converted(to: S.self).pixels == image.pixels)
    }

    /// Single pages of a stack read alone, without the others.
    @Test func tiffPageAccess() throws {
        let image = RoundTripTests.ramp(UInt16.self, shape: Shape(width: 20, height: 10, depth: 5))
        let bytes = try ImageFile.encode(image, as: .tiff, options: ImageWriteOptions(compression: .deflate))
        #expect(try ImageFile.info(data: bytes).variant == "classic")
        for page in 0..<5 {
            let one = try ImageFile.read(data: bytes, page: page)
            #expect(one.shape == Shape(width: 20, height: 10))
            #expect(one.converted(to: UInt16.self).pixels == image.plane(page).pixels)
        }
        #expect(throws: TIFFError.self) { try ImageFile.read(data: bytes, page: 5) }
    }

    /// ImageJ stacks over 4 GB keep only the first directory; `images=N` and contiguous data
    /// define the other pages. Simulated by cutting the directory chain after page 0.
    @Test func imageJDirectorylessPages() throws {
        let image = RoundTripTests.ramp(UInt16.self, shape: Shape(width: 12, height: 5, depth: 4))
        var bytes = try ImageFile.encode(image, as: .tiff)
        let first = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        let entries = Int(bytes[first]) | Int(bytes[first + 1]) << 8
        for k in 0..<4 { bytes[first + 2 + entries * 12 + k] = 0 }
        let file = try TIFFFile(bytes: bytes)
        #expect(file.pageCount == 4)
        #expect(try file.read().converted(to: UInt16.self).pixels == image.pixels)
        #expect(try file.readPage(3).converted(to: UInt16.self).pixels == image.plane(3).pixels)
    }

    @Test(arguments: [1, 2, 3, 4])
    func pngUInt8(channels: Int) throws {
        let image = RoundTripTests.ramp(UInt8.self, shape: Shape(width: 33, height: 17, depth: 1, channels: channels))
        let back = try ImageFile.read(data: try ImageFile.encode(image, as: .png))
        #expect(back.shape == image.shape)
        guard case .uint8(let read) = back else { Issue.record("expected uint8"); return }
        #expect(read.pixels == image.pixels)
        #expect(read.spacing?.x ?? 0 > 0.2499 && read.spacing?.x ?? 0 < 0.2501)
    }

    @Test(arguments: [1, 3])
    func pngUInt16(channels: Int) throws {
        let image = RoundTripTests.ramp(UInt16.self, shape: Shape(width: 19, height: 21, depth: 1, channels: channels))
        guard case .uint16(let read) = try ImageFile.read(data: try ImageFile.encode(image, as: .png)) else {
            Issue.record("expected uint16"); return
        }
        #expect(read.shape == image.shape && read.pixels == image.pixels)
    }

    @Test func pngRefusesFloatAndStacks() throws {
        #expect(throws: PNGError.self) { try ImageFile.encode(Image<Float>(width: 4, height: 4), as: .png) }
        #expect(throws: PNGError.self) { try ImageFile.encode(Image<UInt8>(shape: Shape(width: 4, height: 4, depth: 2)), as: .png) }
    }

    @Test func mrcFloatAndUInt16() throws {
        let f = RoundTripTests.ramp(Float.self, shape: Shape(width: 15, height: 9, depth: 4))
        let back = try ImageFile.read(data: try ImageFile.encode(f, as: .mrc))
        #expect(back.pixelType == .float32 && back.shape == f.shape)
        #expect(back.converted(to: Float.self).pixels == f.pixels)
        // 0.25 µm = 2500 Å per pixel in x.
        let spacing = try #require(back.spacing)
        #expect(spacing.unit == "Å" && abs(spacing.x - 2500) < 0.01 && abs(spacing.y - 5000) < 0.01 && abs(spacing.z - 20000) < 0.01)
        let u = RoundTripTests.ramp(UInt16.self, shape: Shape(width: 8, height: 8, depth: 2))
        let backU = try ImageFile.read(data: try ImageFile.encode(u, as: .mrc))
        #expect(backU.pixelType == .uint16 && backU.converted(to: UInt16.self).pixels == u.pixels)
        let page = try ImageFile.read(data: try ImageFile.encode(u, as: .mrc), page: 1)
        #expect(page.converted(to: UInt16.self).pixels == u.plane(1).pixels)
    }

    /// ImageJ description carries the axes and scale Fiji needs.
    @Test func imageJDescriptionHasAxesAndScale() throws {
        let image = RoundTripTests.ramp(UInt16.self, shape: Shape(width: 8, height: 6, depth: 3, channels: 2))
        let dir = TestData.scratchDirectory("imagej")
        try ImageFile.write(image, to: dir + "/stack.tif")
        let info = try ImageFile.info(dir + "/stack.tif")
        let description = try #require(info.metadata["description"])
        for line in ["ImageJ=", "images=6", "channels=2", "slices=3", "hyperstack=true", "unit=micron", "spacing=2.0"] {
            #expect(description.contains(line), "missing \(line)")
        }
        #expect(info.depth == 3 && info.channels == 2 && info.pageCount == 6)
        #expect(info.spacingSource == "ImageJ")
    }
}
