import CleaveCore
import CleaveFormats
import CleaveRender
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ImageRoutesTests {
    @Test func uploadStoresAContentAddressedValidatedImage() async throws {
        let configuration = Harness.configuration("server-upload")
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 300, height: 200))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "ramp.tif", bytes: bytes)
            #expect(response.status == .created)
            let image = try Harness.object(response)
            let digest = SHA256.hex(bytes)
            #expect(image["sha256"] as? String == digest)
            #expect(image["byteCount"] as? Int == bytes.count)
            #expect(image["format"] as? String == "tiff")
            #expect(image["width"] as? Int == 300)
            #expect(image["height"] as? Int == 200)
            #expect(image["pixelType"] as? String == "uint16")
            #expect(image["levelCount"] as? Int == 2)   // 300 > 256 → one downsampled level
            #expect((image["spacing"] as? [String: Any])?["x"] as? Double == 2)
            let blob = configuration.dataDirectory + "/blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
            #expect(FileManager.default.contents(atPath: blob).map { [UInt8]($0) } == bytes)

            let id = try #require(image["id"] as? String)
            let info = try await client.execute(uri: "/api/images/\(id)", method: .get)
            #expect(info.status == .ok)
            #expect(try Harness.object(info)["name"] as? String == "ramp.tif")
            let list = try Harness.object(try await client.execute(uri: "/api/projects/\(project)/images", method: .get))
            #expect((list["images"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

            // The same content again is a second image record over the same blob.
            let again = try await Harness.uploadImage(client, project: project, name: "copy.tif", bytes: bytes)
            #expect(again != id)
            #expect(Harness.files(under: configuration.dataDirectory + "/blobs") == ["\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"])
        }
    }

    @Test func aPNGNamedTifIsRefusedAndLeavesNothing() async throws {
        let configuration = Harness.configuration("server-upload-png")
        let app = try await buildApplication(configuration)
        var grey = Image<UInt8>(width: 40, height: 30)
        for i in grey.pixels.indices { grey.pixels[i] = UInt8(i % 251) }
        let bytes = try Harness.png(grey)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "really-a-png.tif", bytes: bytes)
            #expect(response.status == .unsupportedMediaType)
            #expect(Harness.errorMessage(response) == "really-a-png.tif: the name says TIFF but the content is PNG; rename the file or export it again")
            // Under its own name (or a name without an image extension) the same bytes are fine.
            let renamed = try await Harness.upload(client, project: project, name: "really-a-png.png", bytes: bytes)
            #expect(renamed.status == .created)
            #expect(try Harness.object(renamed)["format"] as? String == "png")
        }
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs").count == 1)
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    /// A classic little-endian TIFF header describing `width`×`height` 16-bit pixels in one
    /// uncompressed strip at offset 256, padded with `padding` zero bytes of "pixels".
    static func claimedTIFF(width: UInt32, height: UInt32, stripBytes: UInt32, padding: Int) -> [UInt8] {
        var b: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func short(_ v: UInt16) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func long(_ v: UInt32) { b += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        let entries: [(UInt16, UInt16, UInt32)] = [(256, 4, width), (257, 4, height), (258, 3, 16), (259, 3, 1), (262, 3, 1),
                                                   (273, 4, 256), (277, 3, 1), (278, 4, height), (279, 4, stripBytes)]
        short(UInt16(entries.count))
        for (tag, type, value) in entries {
            short(tag); short(type); long(1)
            if type == 3 { short(UInt16(value)); short(0) } else { long(value) }
        }
        long(0)
        b += [UInt8](repeating: 0, count: 256 - b.count + padding)
        return b
    }

    @Test func headerClaimsAreCheckedBeforeDecoding() async throws {
        // 240000² 16-bit pixels: a 107 GiB claim in a 1.3 kB file.
        var configuration = Harness.configuration("server-upload-claims")
        configuration.fullValidationBytes = 10_000   // larger images: header + size checks only
        let workbench = try Workbench(configuration: configuration)
        let app = Application(router: buildRouter(workbench))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let huge = try await Harness.upload(client, project: project, name: "huge.tif",
                                                bytes: Self.claimedTIFF(width: 240_000, height: 240_000, stripBytes: 4_000_000_000, padding: 1024))
            #expect(huge.status == .contentTooLarge || huge.status == .badRequest)
            let message = Harness.errorMessage(huge)
            #expect(message.hasPrefix("huge.tif: the header claims 240000x240000x1x1 uint16 pixels (107.3 GiB)") || message.hasPrefix("not a readable image"), "\(message)")
            // 200×100 16-bit = 40,000 bytes declared (> 10,000: header-only path) but only 1,000 present: truncated.
            let short = try await Harness.upload(client, project: project, name: "short.tif",
                                                 bytes: Self.claimedTIFF(width: 200, height: 100, stripBytes: 40_000, padding: 1000))
            #expect(short.status == .badRequest)
            #expect(Harness.errorMessage(short) == "not a readable image: short.tif: TIFF truncated at offset 256: expected 40000 bytes, file has 1000")
            // Complete: accepted from its header without decoding.
            let whole = try await Harness.upload(client, project: project, name: "whole.tif",
                                                 bytes: Self.claimedTIFF(width: 200, height: 100, stripBytes: 40_000, padding: 40_000))
            #expect(whole.status == .created)
            #expect(try Harness.object(whole)["width"] as? Int == 200)
            // Garbage longer than 1 KiB is refused as soon as its first KiB arrives.
            let garbage = try await Harness.upload(client, project: project, name: "noise.tif", bytes: [UInt8](repeating: 0x41, count: 5000))
            #expect(garbage.status == .badRequest)
            #expect(Harness.errorMessage(garbage) == "not a readable image: the first bytes are not a TIFF, PNG or MRC header")
        }
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs").count == 1)
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    @Test(arguments: [("truncated", 0), ("garbage", 1), ("empty", 2)])
    func rejectedUploadsLeaveNothingBehind(label: String, kind: Int) async throws {
        let configuration = Harness.configuration("server-upload-bad-\(label)")
        let app = try await buildApplication(configuration)
        let tiff = try Harness.tiff(Harness.rampImage(width: 200, height: 150))
        let bytes: [UInt8] = [Array(tiff.prefix(tiff.count * 2 / 3)), Array("hello, not an image".utf8), []][kind]
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "bad.tif", bytes: bytes)
            #expect(response.status == .badRequest)
            let message = Harness.errorMessage(response)
            #expect(!message.contains("\n"))
            #expect(!message.contains(configuration.dataDirectory))   // no server paths leak out
            if kind != 2 { #expect(message.hasPrefix("not a readable image: ")) }
            let list = try Harness.object(try await client.execute(uri: "/api/projects/\(project)/images", method: .get))
            #expect((list["images"] as? [Any])?.count == 0)
        }
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs").isEmpty)
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    @Test func oversizedUploadIs413AndLeavesNothing() async throws {
        let configuration = Harness.configuration("server-upload-big", maximumUploadBytes: 10_000)
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 200, height: 100))   // ~40 kB
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "big.tif", bytes: bytes)
            #expect(response.status == .contentTooLarge)
            #expect(Harness.errorMessage(response) == "upload exceeds the limit of 10000 bytes")
        }
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs").isEmpty)
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    @Test(arguments: [("../../etc/passwd", "passwd"), (#"..\..\windows\evil.tif"#, "evil.tif"),
                      ("/abs/path/.hidden.png", "hidden.png"), ("..", "image"), ("a\u{0}b\nc.tif", "abc.tif")])
    func pathTraversalInNamesIsNeutralised(raw: String, expected: String) async throws {
        #expect(Workbench.sanitizedName(raw) == expected)
    }

    @Test(arguments: ["../../../../tmp/owned.tif", #"..\evil.tif"#, "/etc/passwd", "..", "dir/ok.tif"])
    func pathsAsUploadNamesAreRefusedAndStoreNothing(name: String) async throws {
        let configuration = Harness.configuration("server-upload-traversal-\(name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.count)-\(name.utf8.count)-\(name.hasPrefix("/"))")
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 20, height: 10))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: name, bytes: bytes)
            #expect(response.status == .badRequest)
            #expect(Harness.errorMessage(response) == "upload name \(name.debugDescription) contains a path; give a plain file name")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/owned.tif"))
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs").isEmpty)
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    @Test func unknownIdsAre404() async throws {
        let app = try await buildApplication(Harness.configuration("server-unknown"))
        try await app.test(.router) { client in
            let upload = try await Harness.upload(client, project: "missing", name: "x.tif", bytes: [1, 2, 3])
            #expect(upload.status == .notFound)
            #expect(Harness.errorMessage(upload) == "no project with id missing")
            for uri in ["/api/images/missing", "/api/images/missing/window", "/api/images/missing/tiles/0/0/0.png",
                        "/api/images/missing/strokes"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .notFound, "\(uri)")
                #expect(Harness.errorMessage(response) == "no image with id missing", "\(uri)")
            }
        }
    }
}
