import Foundation
import Testing
import CleaveCore
import CleaveFormats

/// The banded PNG encoder: every level decodes back to the same pixels through Cleave's reader
/// (which checks every chunk CRC, and zlib the stream's Adler-32), and the file does not depend
/// on the thread count.
@Suite(.serialized) struct PNGWriterTests {
    static func noisy<S: PixelScalar>(_ type: S.Type, width: Int, height: Int, channels: Int, seed: UInt64) -> Image<S> {
        var generator = SeededGenerator(seed: seed)
        let top: Double = S.pixelType == .uint8 ? 255 : 65535
        let shape = Shape(width: width, height: height, channels: channels)
        let pixels = (0..<shape.count).map { i -> S in
            // Flat runs, ramps and noise: stored, matched and literal deflate data all occur.
            let x = i % width, y = (i / width) % height
            let flat = (x / 50 + y / 40) % 3 == 0
            return S(roundingClamping: flat ? top / 3 : Double(x + y) / Double(width + height) * top * 0.6 + generator.nextDouble() * top * 0.4)
        }
        return Image(shape: shape, pixels: pixels, spacing: Spacing(x: 0.5, y: 0.5, unit: "µm"))
    }

    /// Sizes from one band to many (bands are ~256 KiB of filtered rows), levels stored to 9.
    @Test(arguments: [0, 1, 2, 6, 9], [(7, 3, 1), (300, 200, 1), (640, 480, 3), (333, 911, 4), (1100, 400, 2)])
    func roundTripUInt8(level: Int, size: (Int, Int, Int)) throws {
        let image = PNGWriterTests.noisy(UInt8.self, width: size.0, height: size.1, channels: size.2, seed: UInt64(level + size.0))
        let bytes = try PNGWriter.encode(image, level: level)
        let back = try PNGReader.read(bytes: bytes)
        guard case .uint8(let decoded) = back else { Issue.record("expected 8-bit, got \(back.pixelType)"); return }
        #expect(decoded.shape == image.shape)
        #expect(decoded.pixels == image.pixels)
    }

    @Test(arguments: [0, 2], [(513, 700, 1), (400, 300, 3)])
    func roundTripUInt16(level: Int, size: (Int, Int, Int)) throws {
        let image = PNGWriterTests.noisy(UInt16.self, width: size.0, height: size.1, channels: size.2, seed: 11)
        let bytes = try PNGWriter.encode(image, level: level)
        guard case .uint16(let decoded) = try PNGReader.read(bytes: bytes) else { Issue.record("expected 16-bit"); return }
        #expect(decoded.pixels == image.pixels)
    }

    /// Stored files hold every pixel byte plus one filter byte per row and 5 bytes per block;
    /// compressed ones are smaller than that on these images.
    @Test func storedSizeAndCompressedIsSmaller() throws {
        let image = PNGWriterTests.noisy(UInt8.self, width: 1000, height: 700, channels: 3, seed: 3)
        let stored = try PNGWriter.encode(image, level: 0), deflated = try PNGWriter.encode(image, level: 1)
        let filtered = 700 * (1 + 3000)
        #expect(stored.count > filtered && stored.count < filtered + filtered / 1000 + 1000)
        #expect(deflated.count < stored.count * 9 / 10)
    }

    /// The same bytes with 1, 2 and 3 threads (bands depend on the image size only).
    @Test(arguments: [0, 2])
    func identicalForAnyThreadCount(level: Int) throws {
        let image = PNGWriterTests.noisy(UInt8.self, width: 1500, height: 900, channels: 3, seed: 5)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var files: [[UInt8]] = []
        for threads in [1, 2, 3] {
            Parallel.threadCount = threads
            files.append(try PNGWriter.encode(image, level: level))
        }
        #expect(files[0] == files[1])
        #expect(files[0] == files[2])
    }

    /// IDAT chunks: one per band, together one zlib stream (header 0x78 0x01 first).
    @Test func oneIDATPerBand() throws {
        let image = PNGWriterTests.noisy(UInt8.self, width: 1000, height: 1000, channels: 3, seed: 9)
        let bytes = try PNGWriter.encode(image, level: 0)
        var offset = 8, idat: [Int] = []
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            if type == "IDAT" { idat.append(offset) }
            offset += 12 + length
        }
        #expect(offset == bytes.count)
        #expect(idat.count == (1000 + 86) / 87)  // 87 rows of 3001 bytes per 256 KiB band
        #expect(bytes[idat[0] + 8] == 0x78 && bytes[idat[0] + 9] == 0x01)
    }

    /// Rows from a closure (the Locator's streamed pictures) give the bytes of the image path,
    /// stored (written band by band at known offsets) and compressed.
    @Test(arguments: [0, 1, 2])
    func rowsFromClosureEqualImage(level: Int) throws {
        let image = PNGWriterTests.noisy(UInt8.self, width: 1234, height: 567, channels: 3, seed: 12)
        let expected = try PNGWriter.encode(image, level: level)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cleave-png-rows-\(level)-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plane = 1234 * 567
        try PNGWriter.write(width: 1234, height: 567, channels: 3, spacing: image.spacing, to: path, level: level) { row, d in
            for x in 0..<1234 { for c in 0..<3 { d[3 * x + c] = image.pixels[c * plane + row * 1234 + x] } }
        }
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == expected)
        try PNGWriter.write(image, to: path, level: level)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == expected)
    }
}
