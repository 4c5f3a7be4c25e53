import Foundation
import Testing
import CleaveCore
import CleaveFormats
import CleaveTestSupport

/// OME-Zarr / Zarr: round trips, exact values of arrays zarr-python wrote, partial reads that
/// touch only the chunks they need, pyramids, labels, and every bad input of issue 20.
@Suite struct ZarrTests {
    /// The 5 × 7 uint16 array of the fixtures below: (i × 997) mod 65521.
    static let fixtureValues: [UInt16] = (0..<35).map { UInt16($0 * 997 % 65521) }

    /// Chunks (3 × 4, so edge chunks are partial) of that array as zarr-python 3.1.6 / numcodecs
    /// 0.16.6 wrote them (`zarr.create_array(..., chunks=(3, 4), dtype="<u2", zarr_format=2,
    /// compressors=...)`), keys "0.0" … "1.1".
    static let v2Fixtures: [(codec: String, compressor: String, chunks: [String])] = [
        ("gzip", #"{"id": "gzip", "level": 5}"#, [
            "1f8b08001c30166b00ff636078ca7c8a7d3db7b3b4863caff227b536b36cab003b532700f02d27f118000000",
            "1f8b08001c30166b00ff9bc25f291c27cec0705d6b8fde4223060629b7ff9e4f7c1918006e01ca6a18000000",
            "1f8b08001c30166b00ff3b19b82e747264452c4feec7826b25bb2b18a000009592448f18000000",
            "1f8b08001c30166b00ff8b4d744a55cf64605850d3da90d5c20007000d00ebb218000000"]),
        ("zstd", #"{"id": "zstd", "level": 3}"#, [
            "28b52ffd2018c100000000e503ca07af0b431b281f0d23f22686366b3a503e3542",
            "28b52ffd2018c10000940f79135e170000d72abc2ea13200001a46ff49e44d0000",
            "28b52ffd2018c10000c951ae559359785d0c6df170d674bb780000000000000000",
            "28b52ffd2018ad0000785d61426527690000a07c85806a8400010005a803"]),
        ("blosc", #"{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}"#, [
            "020133021800000018000000280000000000e503ca07af0b431b281f0d23f22686366b3a503e3542",
            "02013302180000001800000028000000940f79135e170000d72abc2ea13200001a46ff49e44d0000",
            "02013302180000001800000028000000c951ae559359785d0c6df170d674bb780000000000000000",
            "020133021800000018000000280000005d61426527690000a07c85806a8400000000000000000000"]),
        ("zlib", #"{"id": "zlib", "level": 1}"#, [
            "7801636078ca7c8a7d3db7b3b4863caff227b536b36cab003b53270053be06c7",
            "78019bc25f291c27cec0705d6b8fde4223060629b7ff9e4f7c1918005921073c",
            "78013b19b82e747264452c4feec7826b25bb2b18a0000085630836",
            "78018b4d744a55cf64605850d3da90d5c200070054010505"]),
    ]

    /// The same array as a Zarr v3 array, big-endian, blosc (zstd inside, bit shuffle).
    static let v3Fixture = (
        json: #"{"shape": [5, 7], "data_type": "uint16", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 4]}}, "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "blosc", "configuration": {"typesize": 2, "cname": "zstd", "clevel": 3, "shuffle": "bitshuffle", "blocksize": 0}}], "attributes": {}, "zarr_format": 3, "node_type": "array", "storage_transformers": []}"#,
        chunks: ["02019602180000001800000028000000000003e507ca0baf1b431f28230d26f236863a6b3e504235",
                 "020196021800000018000000280000000f941379175e00002ad72ebc32a10000461a49ff4de40000",
                 "0201960218000000180000002800000051c955ae59935d786d0c70f174d678bb0000000000000000",
                 "02019602180000001800000028000000615d6542692700007ca08085846a00000000000000000000"])

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try makeDirectory((path as NSString).deletingLastPathComponent)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
    }

    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func writeV2Fixture(_ dir: String, compressor: String, chunks: [String], fill: String = "0") throws {
        try write(#"{"shape": [5, 7], "chunks": [3, 4], "dtype": "<u2", "fill_value": \#(fill), "order": "C", "filters": null, "dimension_separator": ".", "compressor": \#(compressor), "zarr_format": 2}"#, to: dir + "/.zarray")
        for (key, hex) in zip(["0.0", "0.1", "1.0", "1.1"], chunks) where !hex.isEmpty {
            try write(bytes(hex: hex), to: dir + "/" + key)
        }
    }

    func expectOneLine(_ error: any Error, mentions text: String) {
        let message = "\(error)"
        #expect(!message.contains("\n"), "multi-line message: \(message)")
        #expect(message.contains(text), "message does not mention \(text): \(message)")
    }

    // MARK: Values written by zarr-python

    @Test func readsZarrPythonV2ArraysExactly() throws {
        let dir = TestData.scratchDirectory("zarr-v2-fixtures")
        for fixture in ZarrTests.v2Fixtures {
            let path = "\(dir)/\(fixture.codec).zarr"
            try ZarrTests.writeV2Fixture(path, compressor: fixture.compressor, chunks: fixture.chunks)
            guard case .uint16(let image) = try ImageFile.read(path) else { Issue.record("\(fixture.codec): expected uint16"); continue }
            #expect(image.shape == Shape(width: 7, height: 5), "\(fixture.codec)")
            #expect(image.pixels == ZarrTests.fixtureValues, "\(fixture.codec)")
            // A region inside one chunk and one across all four.
            let array = try ZarrArray.open(path)
            let part = try array.read(origin: [2, 3], size: [2, 3]).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            #expect(part == [17, 18, 19, 24, 25, 26].map { ZarrTests.fixtureValues[$0] }, "\(fixture.codec)")
        }
    }

    @Test func readsZarrPythonV3BigEndianBloscExactly() throws {
        let dir = TestData.scratchDirectory("zarr-v3-fixture") + "/be.zarr"
        try ZarrTests.write(ZarrTests.v3Fixture.json, to: dir + "/zarr.json")
        for (key, hex) in zip(["0/0", "0/1", "1/0", "1/1"], ZarrTests.v3Fixture.chunks) {
            try ZarrTests.write(ZarrTests.bytes(hex: hex), to: dir + "/c/" + key)
        }
        let image = try OMEZarrImage.open(dir)
        #expect(image.ngffVersion == nil && image.zarrFormat == 3)
        #expect(image.levels[0].metadata.littleEndian == false)
        guard case .uint16(let values) = try image.read() else { Issue.record("expected uint16"); return }
        #expect(values.pixels == ZarrTests.fixtureValues)
    }

    @Test func missingChunkReadsAsFillValue() throws {
        let dir = TestData.scratchDirectory("zarr-fill") + "/a.zarr"
        var chunks = ZarrTests.v2Fixtures[1].chunks
        chunks[3] = ""   // chunk 1.1 never written
        try ZarrTests.writeV2Fixture(dir, compressor: ZarrTests.v2Fixtures[1].compressor, chunks: chunks, fill: "4242")
        guard case .uint16(let image) = try ImageFile.read(dir) else { Issue.record("expected uint16"); return }
        for row in 0..<5 {
            for column in 0..<7 {
                let expected = row >= 3 && column >= 4 ? 4242 : ZarrTests.fixtureValues[row * 7 + column]
                #expect(image.pixels[row * 7 + column] == expected, "(\(row), \(column))")
            }
        }
    }

    // MARK: Round trips

    @Test(arguments: [OMEZarrWriteOptions.Version.v04, .v05])
    func roundTripsEveryCodecAndType(version: OMEZarrWriteOptions.Version) throws {
        let dir = TestData.scratchDirectory("zarr-roundtrip-\(version.rawValue)")
        let codecs: [ZarrCompressor] = [.none, .gzip(level: 4), .zlib(level: 2), .zstd(level: 3),
                                        .blosc(cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0),
                                        .blosc(cname: "zstd", clevel: 3, shuffle: 2, blocksize: 0)]
        var random = SeededGenerator(seed: 3)
        let shape3 = Shape(width: 37, height: 29, depth: 7, channels: 2)
        let images: [AnyImage] = [
            .uint8(Image(shape: Shape(width: 41, height: 23), pixels: (0..<(41 * 23)).map { _ in UInt8(random.next(below: 256)) },
                         spacing: Spacing(x: 0.5, y: 0.25, unit: "µm"))),
            .uint16(Image(shape: shape3, pixels: (0..<shape3.count).map { _ in UInt16(random.next(below: 65536)) },
                          spacing: Spacing(x: 4, y: 4, z: 8, unit: "nm"))),
            .float32(Image(shape: Shape(width: 19, height: 17, depth: 5), pixels: (0..<(19 * 17 * 5)).map { _ in Float(random.nextGaussian()) })),
        ]
        for (c, codec) in codecs.enumerated() {
            for (i, image) in images.enumerated() {
                let path = "\(dir)/\(c)-\(i).ome.zarr"
                let options = OMEZarrWriteOptions(version: version, compressor: codec, chunkX: 16, chunkY: 8, chunkZ: 3)
                try OMEZarrWriter.writeImage(image, to: path, options: options)
                let read = try ImageFile.read(path)
                #expect(read.shape == image.shape, "\(codec) \(image.pixelType)")
                #expect(read.spacing == image.spacing, "\(codec) \(image.pixelType)")
                switch (read, image) {
                case let (.uint8(a), .uint8(b)): #expect(a.pixels == b.pixels, "\(codec)")
                case let (.uint16(a), .uint16(b)): #expect(a.pixels == b.pixels, "\(codec)")
                case let (.float32(a), .float32(b)): #expect(a.pixels == b.pixels, "\(codec)")
                default: Issue.record("\(codec): read \(read.pixelType), wrote \(image.pixelType)")
                }
                let info = try ImageFile.info(path)
                #expect(info.format == .omeZarr && info.variant.contains("NGFF \(version.rawValue)"))
                // Zarr v3 has no zlib codec: zlib is written as gzip there.
                if case let .zlib(level) = codec, version == .v05 {
                    #expect(info.compression == ZarrCompressor.gzip(level: level).description)
                } else {
                    #expect(info.compression == codec.description)
                }
                #expect(try ImageFile.format(of: path) == .omeZarr)
            }
        }
        // Writes leave no temporary files behind.
        let leftovers = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.contains(".partial-") } ?? []
        #expect(leftovers.isEmpty, "\(leftovers.prefix(3))")
    }

    // MARK: Partial reads and writes

    @Test func regionReadsTouchOnlyTheirChunks() throws {
        let path = TestData.scratchDirectory("zarr-partial") + "/v.ome.zarr"
        let shape = Shape(width: 90, height: 100, depth: 20)
        let image = Image<UInt16>(shape: shape, pixels: (0..<shape.count).map { UInt16($0 % 65521) })
        try OMEZarrWriter.writeImage(.uint16(image), to: path, options: OMEZarrWriteOptions(chunkX: 32, chunkY: 32, chunkZ: 4, levels: 1))
        let volume = try OMEZarrImage.open(path)
        let region = Region(x: 40, y: 10, z: 5, width: 30, height: 30, depth: 4)
        guard case .uint16(let block) = try volume.read(region: region) else { Issue.record("expected uint16"); return }
        #expect(block.pixels == image.cropped(to: region).pixels)
        // x 40…69 → chunks 1, 2; y 10…39 → 0, 1; z 5…8 → 1, 2.
        #expect(volume.levels[0].chunkFilesRead == 8)
        #expect(volume.levels[0].chunks(touching: [5, 10, 40], size: [4, 30, 30]).count == 8)
        // A block with a halo, as a block runner reads it: clipped to the volume.
        let halo = Region(x: 64, y: 64, z: 16, width: 26, height: 36, depth: 4).expanded(by: 8, haloZ: 2, within: shape)
        guard case .uint16(let withHalo) = try volume.read(region: halo) else { Issue.record("expected uint16"); return }
        #expect(withHalo.pixels == image.cropped(to: halo).pixels)
        #expect(throws: ZarrError.self) { try volume.read(region: Region(x: 80, y: 0, z: 0, width: 20, height: 4, depth: 1)) }
    }

    @Test func chunkAlignedBlockWritesAssembleTheVolume() throws {
        let path = TestData.scratchDirectory("zarr-blocks") + "/b.ome.zarr"
        let shape = Shape(width: 50, height: 40, depth: 9, channels: 2)
        let image = Image<Float>(shape: shape, pixels: (0..<shape.count).map { Float($0) * 0.5 })
        let writer = try OMEZarrWriter(path: path, shape: shape, pixelType: .float32, spacing: nil,
                                       options: OMEZarrWriteOptions(version: .v05, chunkX: 16, chunkY: 16, chunkZ: 4))
        // Blocks of 2 × 2 × 1 chunks, written in reverse order.
        for region in Region.tiles(covering: shape, blockWidth: 32, blockHeight: 32, blockDepth: 4).reversed() {
            try writer.write(image.cropped(to: region), at: (region.x, region.y, region.z))
        }
        try writer.buildPyramid()
        guard case .float32(let read) = try OMEZarrImage.open(path).read() else { Issue.record("expected float32"); return }
        #expect(read.pixels == image.pixels)
        let unaligned = image.cropped(to: Region(x: 8, y: 0, z: 0, width: 16, height: 16, depth: 4))
        let error = try #require(throws: ZarrError.self) { try writer.write(unaligned, at: (8, 0, 0)) }
        expectOneLine(error, mentions: "not aligned to the chunks")
    }

    @Test func pyramidAveragesIntensitiesAndPicksLabels() throws {
        let path = TestData.scratchDirectory("zarr-pyramid") + "/p.ome.zarr"
        let shape = Shape(width: 5, height: 3)
        let pixels: [UInt16] = [1, 2, 10, 20, 7,
                                3, 5, 30, 41, 9,
                                100, 200, 0, 1, 65535]
        let writer = try OMEZarrWriter(path: path, shape: shape, pixelType: .uint16, spacing: Spacing(0.5, unit: "µm"),
                                       options: OMEZarrWriteOptions(chunkX: 2, chunkY: 2, levels: 3))
        try writer.writeAll(.uint16(Image(shape: shape, pixels: pixels)))
        let labels = try writer.labelWriter(name: "cells", pixelType: .uint16, classes: [(1, "one")])
        try labels.writeAll(.uint16(Image(shape: shape, pixels: pixels)))
        let image = try OMEZarrImage.open(path)
        #expect(image.levels.count == 3 && image.labelNames == ["cells"])
        guard case .uint16(let level1) = try image.read(level: 1) else { Issue.record("expected uint16"); return }
        // Means rounded half up: (1+2+3+5)/4 = 2.75 → 3; (10+20+30+41)/4 = 25.25 → 25; (7+9)/2 = 8;
        // (100+200)/2 = 150; (0+1)/2 = 0.5 → 1; 65535.
        #expect(level1.shape == Shape(width: 3, height: 2))
        #expect(level1.pixels == [3, 25, 8, 150, 1, 65535])
        #expect(image.spacing(level: 1) == Spacing(x: 1, y: 1, z: 1, unit: "µm"))
        guard case .uint16(let labels1) = try image.labels("cells").read(level: 1) else { Issue.record("expected uint16"); return }
        #expect(labels1.pixels == [1, 10, 7, 100, 0, 65535])
        #expect(throws: ZarrError.self) { try image.labels("nuclei") }
    }

    @Test func writingOverAStoreReplacesItAndRefusesOtherDirectories() throws {
        let dir = TestData.scratchDirectory("zarr-replace")
        let path = dir + "/r.ome.zarr"
        let big = Image<UInt16>(shape: Shape(width: 64, height: 48, depth: 3), repeating: 9)
        let writer = try OMEZarrWriter(path: path, shape: big.shape, pixelType: .uint16, spacing: nil,
                                       options: OMEZarrWriteOptions(chunkX: 16, chunkY: 16, chunkZ: 2))
        try writer.writeAll(.uint16(big))
        try writer.labelWriter(name: "old", pixelType: .uint8).writeAll(.uint8(Image(shape: big.shape.singleChannel, repeating: 1)))
        #expect(try OMEZarrImage.open(path).levels.count == 3)
        // A smaller image written to the same name: one level, no labels, no stale chunks.
        let small = Image<UInt16>(shape: Shape(width: 20, height: 10), pixels: (0..<200).map { UInt16($0) })
        try OMEZarrWriter.writeImage(.uint16(small), to: path, options: OMEZarrWriteOptions(levels: 1))
        let image = try OMEZarrImage.open(path)
        #expect(image.levels.count == 1 && image.labelNames.isEmpty && image.shape == small.shape)
        #expect(!FileManager.default.fileExists(atPath: path + "/1") && !FileManager.default.fileExists(atPath: path + "/labels"))
        // A directory that is not a Zarr store is never deleted.
        let other = dir + "/notes.zarr"
        try ZarrTests.write("keep me", to: other + "/notes.txt")
        let error = try #require(throws: ZarrError.self) { try OMEZarrWriter.writeImage(.uint16(small), to: other) }
        expectOneLine(error, mentions: "not a Zarr store")
        #expect(FileManager.default.fileExists(atPath: other + "/notes.txt"))
    }

    // MARK: Bad input

    static func v2Array(_ dir: String, _ fields: String) throws -> String {
        let path = dir + "/a.zarr"
        try write(#"{"zarr_format": 2, "order": "C", "filters": null, "fill_value": 0, "dimension_separator": "/", \#(fields)}"#, to: path + "/.zarray")
        return path
    }

    @Test func absurdDeclaredSizesAreRefusedBeforeAllocation() throws {
        let dir = TestData.scratchDirectory("zarr-absurd")
        let cases: [(String, String)] = [
            (#""shape": [9223372036854775807, 2], "chunks": [1, 1], "dtype": "<u2", "compressor": null"#, "shape"),
            (#""shape": [4000000000, 4000000000, 4000000000], "chunks": [64, 64, 64], "dtype": "<u2", "compressor": null"#, "overflows"),
            (#""shape": [100, 100], "chunks": [100000, 100000], "dtype": "<f4", "compressor": null"#, "more than 1 GiB"),
            (#""shape": [100, 100], "chunks": [0, 10], "dtype": "<f4", "compressor": null"#, "chunks[0]"),
            (#""shape": [-5, 100], "chunks": [10, 10], "dtype": "<f4", "compressor": null"#, "shape[0]"),
            (#""shape": [100], "chunks": [10, 10], "dtype": "<f4", "compressor": null"#, "chunks"),
        ]
        for (fields, mention) in cases {
            let path = try ZarrTests.v2Array(dir, fields)
            let error = try #require(throws: ZarrError.self) { try ImageFile.read(path) }
            expectOneLine(error, mentions: mention)
        }
        // A huge but valid array: opening is fine, reading it whole is refused by the size limit.
        let path = try ZarrTests.v2Array(dir, #""shape": [100000, 100000, 100000], "chunks": [64, 64, 64], "dtype": "<u2", "compressor": null"#)
        let info = try ImageFile.info(path)
        #expect(info.width == 100_000 && info.depth == 100_000)
        let error = try #require(throws: ZarrError.self) { try ImageFile.read(path) }
        expectOneLine(error, mentions: "read limit")
    }

    @Test func corruptOrTruncatedChunksAreRefused() throws {
        let dir = TestData.scratchDirectory("zarr-corrupt")
        for fixture in ZarrTests.v2Fixtures {
            for damage in ["truncate", "garbage", "extra"] {
                var chunks = fixture.chunks
                var bytes = ZarrTests.bytes(hex: chunks[2])
                switch damage {
                case "truncate": bytes.removeLast(bytes.count / 2)
                case "garbage": for i in 0..<bytes.count where i % 3 == 1 { bytes[i] ^= 0x5A }
                default: bytes += [1, 2, 3, 4, 5, 6, 7, 8]
                }
                chunks[2] = bytes.map { String(format: "%02x", $0) }.joined()
                let path = "\(dir)/\(fixture.codec)-\(damage).zarr"
                try ZarrTests.writeV2Fixture(path, compressor: fixture.compressor, chunks: chunks)
                do {
                    let image = try ImageFile.read(path)
                    // Extra trailing bytes after a complete gzip/zlib stream are harmless only if the
                    // values are still right; anything else must throw.
                    guard case .uint16(let values) = image, values.pixels == ZarrTests.fixtureValues else {
                        Issue.record("\(fixture.codec) \(damage): read wrong values without an error"); continue
                    }
                } catch let error as ZarrError {
                    expectOneLine(error, mentions: "chunk 1.0 is corrupt or truncated")
                }
            }
        }
        // A blosc header that declares another size than the chunk's.
        var lie = ZarrTests.bytes(hex: ZarrTests.v2Fixtures[2].chunks[0])
        lie[4] = 0x30
        let metadata = try ZarrArrayMetadata(document: Array(#"{"zarr_format": 2, "shape": [5, 7], "chunks": [3, 4], "dtype": "<u2", "compressor": {"id": "blosc"}, "fill_value": 0}"#.utf8), format: 2)
        let error = try #require(throws: ZarrError.self) { try metadata.decodeChunk(lie, key: "0.0", path: "lie.zarr") }
        expectOneLine(error, mentions: "declares 48 bytes, 24 expected")
    }

    @Test func oversizedChunkFileIsRefusedUnread() throws {
        let dir = TestData.scratchDirectory("zarr-bigchunk") + "/a.zarr"
        try ZarrTests.writeV2Fixture(dir, compressor: "null", chunks: ["", "", "", ""])
        try ZarrTests.write([UInt8](repeating: 7, count: 200_000), to: dir + "/0.0")
        let error = try #require(throws: ZarrError.self) { try ImageFile.read(dir) }
        expectOneLine(error, mentions: "200000 bytes")
    }

    @Test func unsupportedCodecsTypesAndLayoutsAreNamed() throws {
        let dir = TestData.scratchDirectory("zarr-unsupported")
        let v2: [(String, String)] = [
            (#""shape": [4, 4], "chunks": [2, 2], "dtype": "<u2", "compressor": {"id": "lzma", "preset": 1}"#, #"codec "lzma""#),
            (#""shape": [4, 4], "chunks": [2, 2], "dtype": "<c8", "compressor": null"#, #"data type "<c8""#),
            (#""shape": [4, 4], "chunks": [2, 2], "dtype": "<u2", "compressor": null, "order": "F""#, #"order "F""#),
            (#""shape": [4, 4], "chunks": [2, 2], "dtype": "<u2", "compressor": null, "filters": [{"id": "delta", "dtype": "<u2"}]"#, #"filter "delta""#),
        ]
        for (fields, mention) in v2 {
            let path = dir + "/v2.zarr"
            try ZarrTests.write(#"{"zarr_format": 2, "fill_value": 0, \#(fields)}"#, to: path + "/.zarray")
            let error = try #require(throws: ZarrError.self) { try ImageFile.read(path) }
            expectOneLine(error, mentions: mention)
        }
        let base = #""zarr_format": 3, "node_type": "array", "shape": [4, 4], "data_type": "uint16", "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 2]}}, "chunk_key_encoding": {"name": "default"}, "fill_value": 0"#
        let v3: [(String, String)] = [
            (#""codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 1]}}]"#, "sharding"),
            (#""codecs": [{"name": "transpose", "configuration": {"order": [1, 0]}}, {"name": "bytes"}]"#, #"codec "transpose""#),
            (#""codecs": [{"name": "bytes"}, {"name": "crc32c"}]"#, #"codec "crc32c""#),
            (#""codecs": [{"name": "bytes"}, {"name": "zstd"}, {"name": "gzip"}]"#, "codec chain"),
            (#""codecs": []"#, "no \"bytes\" codec"),
        ]
        for (codecs, mention) in v3 {
            let path = dir + "/v3.zarr"
            try ZarrTests.write("{\(base), \(codecs)}", to: path + "/zarr.json")
            let error = try #require(throws: ZarrError.self) { try ImageFile.read(path) }
            expectOneLine(error, mentions: mention)
        }
        for (text, mention) in [("not json", "not valid JSON"), ("[1, 2]", "expected a JSON object"),
                                (#"{"zarr_format": 3, "node_type": "array"}"#, "shape: missing")] {
            let path = dir + "/json.zarr"
            try ZarrTests.write(text, to: path + "/zarr.json")
            let error = try #require(throws: ZarrError.self) { try ImageFile.read(path) }
            expectOneLine(error, mentions: mention)
        }
        // A directory with nothing Zarr in it, and a time series.
        let empty = dir + "/empty.zarr"
        try ZarrTests.makeDirectory(empty)
        expectOneLine(try #require(throws: ZarrError.self) { try ImageFile.info(empty) }, mentions: "not an OME-Zarr image")
        let series = dir + "/t.zarr"
        try ZarrTests.write(#"{"zarr_format": 2, "shape": [3, 1, 1, 4, 4], "chunks": [1, 1, 1, 4, 4], "dtype": "|u1", "compressor": null, "fill_value": 0}"#, to: series + "/.zarray")
        expectOneLine(try #require(throws: ZarrError.self) { try ImageFile.info(series) }, mentions: "time series (3 time points)")
    }

    @Test func multiscalesMetadataIsChecked() throws {
        let dir = TestData.scratchDirectory("zarr-ngff")
        let path = dir + "/i.ome.zarr"
        try OMEZarrWriter.writeImage(.uint8(Image(shape: Shape(width: 8, height: 8), repeating: 3)), to: path,
                                     options: OMEZarrWriteOptions(levels: 1))
        let good = try String(contentsOfFile: path + "/.zattrs", encoding: .utf8)
        for (from, to, mention) in [("\"path\": \"0\"", "\"path\": \"../../etc\"", "must be a path inside"),
                                    ("\"scale\": [1.0, 1.0]", "\"scale\": [1.0, -2.0]", "positive numbers"),
                                    ("\"name\": \"x\"", "\"name\": \"q\"", "axis \"q\""),
                                    ("\"path\": \"0\"", "\"path\": \"7\"", ".zarray / zarr.json")] {
            try ZarrTests.write(good.replacingOccurrences(of: from, with: to), to: path + "/.zattrs")
            do {
                _ = try ImageFile.read(path)
                Issue.record("\(to): read without an error")
            } catch {
                expectOneLine(error, mentions: mention)
            }
        }
    }
}
