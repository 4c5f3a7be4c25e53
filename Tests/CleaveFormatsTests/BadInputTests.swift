import Testing
import CleaveCore
import CleaveFormats
import CleaveTestSupport

/// Truncated, corrupt and hostile files give typed one-line errors — no crash, hang or huge allocation.
@Suite struct BadInputTests {
    /// A minimal little-endian classic TIFF: header, one IFD at offset 8 with the given
    /// (tag, type, count, value) entries (values inline), then `payload`.
    static func tinyTIFF(_ entries: [(tag: Int, type: Int, count: Int, value: Int)], payload: [UInt8] = [], next: Int = 0) -> [UInt8] {
        var b: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func u16(_ v: Int) { b += [UInt8(v & 255), UInt8(v >> 8 & 255)] }
        func u32(_ v: Int) { for k in 0..<4 { b.append(UInt8(v >> (8 * k) & 255)) } }
        u16(entries.count)
        for e in entries.sorted(by: { $0.tag < $1.tag }) {
            u16(e.tag); u16(e.type); u32(e.count)
            if e.type == 3 { u16(e.value); u16(0) } else { u32(e.value) }
        }
        u32(next)
        return b + payload
    }

    /// Offset where `tinyTIFF` places its payload for `n` entries.
    static func payloadOffset(_ n: Int) -> Int { 8 + 2 + 12 * n + 4 }

    static func grey8(width: Int, height: Int, compression: Int = 1, offset: Int, count: Int, payload: [UInt8] = []) -> [UInt8] {
        tinyTIFF([(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, compression),
                  (262, 3, 1, 1), (273, 4, 1, offset), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, count)],
                 payload: payload)
    }

    /// The message is one line and names the file.
    func expectOneLine(_ error: any Error, mentions path: String) {
        let text = "\(error)"
        #expect(!text.contains("\n"), "multi-line message: \(text)")
        #expect(text.contains(path), "message does not name \(path): \(text)")
    }

    @Test func validTinyTIFFReads() throws {
        let data = BadInputTests.grey8(width: 4, height: 2, offset: BadInputTests.payloadOffset(9), count: 8, payload: Array(1...8))
        guard case .uint8(let image) = try ImageFile.read(data: data) else { Issue.record("expected uint8"); return }
        #expect(image.pixels == Array(1...8))
    }

    @Test func stripPastEndOfFile() throws {
        let data = BadInputTests.grey8(width: 4, height: 2, offset: 10_000, count: 8)
        let error = try #require(throws: TIFFError.self) { try ImageFile.read(data: data, path: "strip.tif") }
        #expect(error == .truncated(path: "strip.tif", offset: 10_000, expected: 8, actual: 0))
        expectOneLine(error, mentions: "strip.tif")
    }

    @Test func truncatedPixelData() throws {
        let data = BadInputTests.grey8(width: 4, height: 2, offset: BadInputTests.payloadOffset(9), count: 8, payload: Array(1...8))
        let cut = Array(data.dropLast(3))
        let error = try #require(throws: TIFFError.self) { try ImageFile.read(data: cut, path: "cut.tif") }
        #expect(error == .truncated(path: "cut.tif", offset: BadInputTests.payloadOffset(9), expected: 8, actual: 5))
    }

    /// Every prefix of a file either fails with an error or (when only trailing text such as
    /// the Software tag or PNG's IEND is lost) returns exactly the original pixels.
    @Test func everyPrefixOfAFileFailsCleanly() throws {
        let image = Image<UInt16>(shape: Shape(width: 9, height: 7, depth: 2), pixels: (0..<126).map { UInt16($0 * 311) })
        for compression in [ImageWriteOptions.Compression.none, .deflate] {
            let full = try ImageFile.encode(image, as: .tiff, options: ImageWriteOptions(compression: compression))
            var failures = 0
            for length in 0..<full.count {
                do {
                    let read = try ImageFile.read(data: Array(full.prefix(length)))
                    #expect(read.converted(to: UInt16.self).pixels == image.pixels, "prefix \(length) read wrong pixels")
                } catch { failures += 1 }
            }
            // Everything except the last directory's trailing text is needed.
            #expect(failures >= full.count - 20)
        }
        let original = Image<UInt8>(shape: Shape(width: 5, height: 3), pixels: Array(0..<15))
        let png = try ImageFile.encode(original, as: .png)
        var pngFailures = 0
        for length in 0..<png.count {
            do {
                guard case .uint8(let read) = try ImageFile.read(data: Array(png.prefix(length))) else { continue }
                #expect(read.pixels == original.pixels)
            } catch { pngFailures += 1 }
        }
        #expect(pngFailures >= png.count - 12)
    }

    @Test func badMagic() throws {
        let data: [UInt8] = Array("GIF89a just some text".utf8)
        let error = try #require(throws: ImageFileError.self) { try ImageFile.read(data: data, path: "fake.tif") }
        #expect(error == .unknownFormat(path: "fake.tif", firstBytes: "47 49 46 38 39 61 20 6a"))
        #expect(throws: TIFFError.badMagic(path: "fake.tif", found: "47 49 46 38")) { try TIFFFile(bytes: data, path: "fake.tif") }
    }

    /// 100000 × 100000 pixels declared in a ~200-byte file: refused before allocating.
    @Test func absurdDimensions() throws {
        let payload = [UInt8](repeating: 0, count: 60)
        let offset = BadInputTests.payloadOffset(9)
        let raw = BadInputTests.grey8(width: 100_000, height: 100_000, offset: offset, count: 60, payload: payload)
        #expect(raw.count < 250)
        let e1 = try #require(throws: TIFFError.self) { try ImageFile.read(data: raw, path: "huge.tif") }
        #expect(e1 == .truncated(path: "huge.tif", offset: offset, expected: 10_000_000_000, actual: 60))
        let lzw = BadInputTests.grey8(width: 100_000, height: 100_000, compression: 5, offset: offset, count: 60, payload: payload)
        let e2 = try #require(throws: TIFFError.self) { try ImageFile.read(data: lzw, path: "huge.tif") }
        guard case .implausibleSize = e2 else { Issue.record("expected implausibleSize, got \(e2)"); return }
        expectOneLine(e2, mentions: "huge.tif")
        // MRC: 100000³ voxels declared in a 1024-byte header.
        var mrc = try ImageFile.encode(Image<Float>(width: 2, height: 2), as: .mrc)
        for (i, v) in [100_000, 100_000, 100_000].enumerated() {
            for k in 0..<4 { mrc[4 * i + k] = UInt8(v >> (8 * k) & 255) }
        }
        #expect(throws: MRCError.self) { try ImageFile.read(data: mrc, path: "huge.mrc") }
        // PNG: IHDR says 100000 × 100000 with a few bytes of data.
        var png = try ImageFile.encode(Image<UInt8>(width: 2, height: 2), as: .png)
        for (offset, v) in [(16, 100_000), (20, 100_000)] {
            for k in 0..<4 { png[offset + k] = UInt8(v >> (8 * (3 - k)) & 255) }
        }
        BadInputTests.fixCRC(&png, chunkAt: 8)
        let e3 = try #require(throws: PNGError.self) { try ImageFile.read(data: png, path: "huge.png") }
        guard case .corruptData = e3 else { Issue.record("expected corruptData, got \(e3)"); return }
    }

    /// Issue 19 item 3: `info` trusted an MRC header's sizes (predict then allocated 10^15 bytes
    /// from them); every reader now checks the claimed data against the file size first.
    @Test func mrcInfoChecksTheClaimedSizeAgainstTheFile() throws {
        var mrc = try ImageFile.encode(Image<Float>(width: 2, height: 2), as: .mrc)
        #expect(try ImageFile.info(data: mrc).depth == 1)
        for (i, v) in [100_000, 100_000, 100_000].enumerated() {
            for k in 0..<4 { mrc[4 * i + k] = UInt8(v >> (8 * k) & 255) }
        }
        let e1 = try #require(throws: MRCError.self) { try ImageFile.info(data: mrc, path: "huge.mrc") }
        #expect(e1 == .truncated(path: "huge.mrc", offset: 1024, expected: 4_000_000_000_000_000, actual: 16))
        expectOneLine(e1, mentions: "huge.mrc")
        // 64 × 64 × 512 float32 claimed (8 MB) with one section present.
        var short = try ImageFile.encode(Image<Float>(width: 64, height: 64), as: .mrc)
        for k in 0..<4 { short[8 + k] = UInt8(512 >> (8 * k) & 255) }
        let e2 = try #require(throws: MRCError.self) { try ImageFile.info(data: short, path: "short.mrc") }
        #expect(e2 == .truncated(path: "short.mrc", offset: 1024, expected: 64 * 64 * 4 * 512, actual: 64 * 64 * 4))
    }

    /// Issue 19 item 1: the policy's check names the file and the first bad pixel (file plane).
    @Test func requireFiniteNamesFileAndPixel() throws {
        var image = Image<Float>(width: 4, height: 3)
        try ImageFile.requireFinite(.float32(image), path: "ok.tif")
        image[2, 1] = -.infinity
        let error = try #require(throws: ImageFileError.self) { try ImageFile.requireFinite(.float32(image), path: "bad.tif", firstPlane: 5) }
        #expect(error.description == "bad.tif: pixel values must be finite, found -inf at column 2, row 1, plane 5 (replace NaN and infinity first, e.g. Fiji's Process > Math > Remove NaNs)")
        let data = try ImageFile.encode(image, as: .tiff)
        #expect(try ImageFile.read(data: data).firstNonFinitePixel()?.column == 2, "a TIFF keeps -inf; reading is not refused, analyses are")
    }

    /// 2^31 × 2^31 pixels in 1 × 1 tiles would need 2^62 tile offsets: refused, no overflow trap.
    @Test func absurdTileGrid() throws {
        let data = BadInputTests.tinyTIFF([(256, 4, 1, 1 << 31), (257, 4, 1, 1 << 31), (258, 3, 1, 8), (322, 4, 1, 1),
                                           (323, 4, 1, 1), (324, 4, 1, 0), (325, 4, 1, 1)])
        let error = try #require(throws: TIFFError.self) { try ImageFile.info(data: data, path: "tiles.tif") }
        guard case .implausibleSize = error else { Issue.record("expected implausibleSize, got \(error)"); return }
    }

    static func fixCRC(_ png: inout [UInt8], chunkAt offset: Int) {
        let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in png[(offset + 4)..<(offset + 8 + length)] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        for k in 0..<4 { png[offset + 8 + length + k] = UInt8(crc >> (8 * (3 - UInt32(k))) & 255) }
    }

    @Test func pngCRCMismatch() throws {
        var png = try ImageFile.encode(Image<UInt8>(shape: Shape(width: 8, height: 8), pixels: (0..<64).map { UInt8($0) }), as: .png)
        // The IDAT chunk follows IHDR (33 bytes) and the tEXt chunk; find it and flip a data byte.
        var offset = 8
        while offset + 8 <= png.count {
            let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
            if png[(offset + 4)..<(offset + 8)].elementsEqual(Array("IDAT".utf8)) { break }
            offset += 12 + length
        }
        png[offset + 10] ^= 0x40
        let error = try #require(throws: PNGError.self) { try ImageFile.read(data: png, path: "bad.png") }
        #expect(error == .crcMismatch(path: "bad.png", chunk: "IDAT", offset: offset))
        expectOneLine(error, mentions: "bad.png")
    }

    @Test func pngRenamedTifIsReadAsPNG() throws {
        let path = FixtureTests.path("png_named.tif")
        #expect(try ImageFile.format(of: path) == .png)
        #expect(try ImageFile.info(path).format == .png)
    }

    @Test func directoryLoop() throws {
        // The IFD's next pointer points back to itself.
        let data = BadInputTests.tinyTIFF([(256, 4, 1, 1), (257, 4, 1, 1)], next: 8)
        let error = try #require(throws: TIFFError.self) { try ImageFile.read(data: data, path: "loop.tif") }
        guard case .invalidDirectory(_, 8, _) = error else { Issue.record("expected invalidDirectory at 8, got \(error)"); return }
    }

    @Test func corruptLZWAndDeflate() throws {
        let offset = BadInputTests.payloadOffset(9)
        // 9-bit code 300 right after a clear code is not in the table.
        let lzw = BadInputTests.grey8(width: 4, height: 4, compression: 5, offset: offset, count: 4, payload: [0x80, 0x4B, 0x00, 0x00])
        let e1 = try #require(throws: TIFFError.self) { try ImageFile.read(data: lzw, path: "lzw.tif") }
        guard case .corruptData = e1 else { Issue.record("expected corruptData, got \(e1)"); return }
        let deflate = BadInputTests.grey8(width: 4, height: 4, compression: 8, offset: offset, count: 6, payload: [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF])
        let e2 = try #require(throws: TIFFError.self) { try ImageFile.read(data: deflate, path: "zip.tif") }
        guard case .corruptData = e2 else { Issue.record("expected corruptData, got \(e2)"); return }
        expectOneLine(e2, mentions: "zip.tif")
    }

    @Test func unsupportedCompressionNamesTheTag() throws {
        let data = BadInputTests.grey8(width: 4, height: 2, compression: 7, offset: BadInputTests.payloadOffset(9), count: 8, payload: Array(1...8))
        let error = try #require(throws: TIFFError.self) { try ImageFile.read(data: data, path: "jpeg.tif") }
        #expect("\(error)" == "jpeg.tif: page 0: unsupported TIFF feature: compression JPEG (tag 259 = 7)")
    }

    @Test func missingFileAndEmptyFile() throws {
        #expect(throws: ImageFileError.self) { try ImageFile.read("/nonexistent/cleave.tif") }
        let dir = TestData.scratchDirectory("empty")
        let sink = dir + "/empty.tif"
        try ImageFile.write(Image<UInt8>(width: 1, height: 1), to: sink)
        #expect(throws: ImageFileError.unknownFormat(path: "<memory>", firstBytes: "(empty file)")) { try ImageFile.read(data: []) }
        #expect(throws: ImageFileError.unknownExtension(path: dir + "/x.jpg")) { try ImageFile.write(Image<UInt8>(width: 1, height: 1), to: dir + "/x.jpg") }
    }
}
