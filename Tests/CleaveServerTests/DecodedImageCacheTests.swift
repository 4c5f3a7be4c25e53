import CleaveCore
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A lab works on several images at once: tiles already rendered must not decode their image
/// again when the decoded-image memory holds fewer images than are in use. (Before, the cache held
/// two images and every tile request looked up the default window through the decoded image, so
/// five groups on five images decoded and sorted a whole image per tile request.)
@Suite struct DecodedImageCacheTests {
    @Test func renderedTilesOfManyImagesDecodeNothingAgain() async throws {
        // Room for one decoded image only.
        let (workbench, app) = try Harness.workbench("server-decoded-cache", decodedImageBytes: 1)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            var ids: [String] = []
            for seed in 1...3 {
                ids.append(try await Harness.uploadImage(client, project: project, name: "tile\(seed).tif",
                                                         bytes: try Harness.particleTile(size: 64, seed: UInt64(seed))))
            }
            var first: [String: [UInt8]] = [:]
            for id in ids {
                let tile = try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png", method: .get)
                #expect(tile.status == .ok)
                first[id] = [UInt8](tile.body.readableBytesView)
            }
            let decodes = await workbench.imageDecodeCount
            #expect(decodes == 3, "one decode per image for the first tiles, got \(decodes)")
            for _ in 0..<3 {
                for id in ids {
                    let tile = try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png", method: .get)
                    #expect(tile.status == .ok && [UInt8](tile.body.readableBytesView) == first[id])
                    let window = try await Harness.get(client, "/api/images/\(id)/window")
                    #expect(window["low"] is Double)
                }
            }
            #expect(await workbench.imageDecodeCount == decodes, "rendered tiles and default windows decoded again")
        }
    }
}
