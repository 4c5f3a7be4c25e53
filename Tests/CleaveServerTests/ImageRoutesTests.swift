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

    @Test func aPNGNamedTifIsAcceptedAsPNG() async throws {
        let app = try await buildApplication(Harness.configuration("server-upload-png"))
        var grey = Image<UInt8>(width: 40, height: 30)
        for i in grey.pixels.indices { grey.pixels[i] = UInt8(i % 251) }
        let bytes = try Harness.png(grey)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "really-a-png.tif", bytes: bytes)
            #expect(response.status == .created)
            let image = try Harness.object(response)
            #expect(image["format"] as? String == "png")
            #expect(image["pixelType"] as? String == "uint8")
            #expect(image["name"] as? String == "really-a-png.tif")
        }
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

    @Test func traversalNameThroughTheAPIStoresOnlyTheBlob() async throws {
        let configuration = Harness.configuration("server-upload-traversal")
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 20, height: 10))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let response = try await Harness.upload(client, project: project, name: "../../../../tmp/owned.tif", bytes: bytes)
            #expect(response.status == .created)
            #expect(try Harness.object(response)["name"] as? String == "owned.tif")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/owned.tif"))
        let digest = SHA256.hex(bytes)
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs") == ["\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"])
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
