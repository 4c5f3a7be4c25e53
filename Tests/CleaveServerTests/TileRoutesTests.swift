import CleaveCore
import CleaveFormats
import CleaveRender
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct TileRoutesTests {
    static func decode(_ response: TestResponse) throws -> Image<UInt8> {
        #expect(response.headers[.contentType] == "image/png")
        guard case .uint8(let image) = try ImageFile.read(data: [UInt8](response.body.readableBytesView)) else {
            throw HarnessError.unexpected("tile is not 8-bit")
        }
        return image
    }

    @Test func pyramidGeometryAndExplicitWindow() async throws {
        let configuration = Harness.configuration("server-tiles")
        let app = try await buildApplication(configuration)
        let ramp = Harness.rampImage(width: 600, height: 300)   // value = 100 × column
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let id = try await Harness.uploadImage(client, project: project, name: "ramp.tif", bytes: try Harness.tiff(ramp))
            let info = try Harness.object(try await client.execute(uri: "/api/images/\(id)", method: .get))
            #expect(info["levelCount"] as? Int == 3)   // 600 → 300 → 150 fits one tile
            #expect(info["tileSize"] as? Int == 256)

            // Window 0…25500: grey = value / 100 = column, exactly.
            let full = try Self.decode(try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png?low=0&high=25500", method: .get))
            #expect(full.width == 256 && full.height == 256)
            #expect(full[10, 5] == 10)
            #expect(full[200, 100] == 200)
            // Second tile of row 0 starts at column 256: saturated.
            let right = try Self.decode(try await client.execute(uri: "/api/images/\(id)/tiles/0/1/0.png?low=0&high=25500", method: .get))
            #expect(right[0, 0] == 255)
            // Edge tile: columns 512…599, rows 256…299.
            let corner = try Self.decode(try await client.execute(uri: "/api/images/\(id)/tiles/0/2/1.png?low=0&high=60000", method: .get))
            #expect(corner.width == 88 && corner.height == 44)
            // Level 2 (one tile): 150 × 75, pixel (ox) averages columns 4·ox … 4·ox+3 → 100·(4·ox + 1.5).
            let top = try Self.decode(try await client.execute(uri: "/api/images/\(id)/tiles/2/0/0.png?low=0&high=60000", method: .get))
            #expect(top.width == 150 && top.height == 75)
            let expected = (100 * (4 * 50 + 1.5)) / 60000 * 255   // 86.34
            #expect(abs(Double(top[50, 10]) - expected) <= 0.5)

            // Tiles are cached on disk per window.
            let cached = Harness.files(under: configuration.dataDirectory + "/tiles/\(id)")
            #expect(cached.contains("0_25500/0/0_0.png"))
            #expect(cached.contains("0_60000/2/0_0.png"))
        }
    }

    @Test func defaultWindowIsPercentilesFor16BitAndFullRangeFor8Bit() async throws {
        let app = try await buildApplication(Harness.configuration("server-tiles-window"))
        let ramp = Harness.rampImage(width: 300, height: 40)
        var grey = Image<UInt8>(width: 30, height: 20)
        for i in grey.pixels.indices { grey.pixels[i] = UInt8(100 + i % 50) }
        let greyImage = grey
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let wide = try await Harness.uploadImage(client, project: project, name: "ramp.tif", bytes: try Harness.tiff(ramp))
            let window = try Harness.object(try await client.execute(uri: "/api/images/\(wide)/window", method: .get))
            let reference = Display.percentileWindow(ramp, low: 0.5, high: 99.5)
            // numpy.percentile(numpy.repeat(numpy.arange(300) * 100, 40), [0.5, 99.5]) == [100, 29800]
            #expect(abs((window["low"] as? Double ?? -1) - 100) < 1e-6)
            #expect(abs((window["high"] as? Double ?? -1) - 29800) < 1e-6)
            #expect(window["low"] as? Double == reference.lowerBound)
            // Default tile uses that window: column 150 → (15000 − 100) / 29700 · 255 = 127.93 → 128.
            let tile = try Self.decode(try await client.execute(uri: "/api/images/\(wide)/tiles/0/0/0.png", method: .get))
            #expect(tile[150, 0] == 128)
            #expect(tile[0, 0] == 0 && tile[255, 0] == 218)   // (25500 − 100) / 29700 · 255 = 218.08

            let narrow = try await Harness.uploadImage(client, project: project, name: "grey.png", bytes: try Harness.png(greyImage))
            let eight = try Harness.object(try await client.execute(uri: "/api/images/\(narrow)/window", method: .get))
            #expect(eight["low"] as? Double == 0 && eight["high"] as? Double == 255)
            // Auto contrast of 8-bit data is the percentiles too (issue 22: it stayed 0–255).
            // numpy.percentile(100 + numpy.arange(600) % 50, [0.5, 99.5]) == [100, 149]
            let auto = try #require(eight["auto"] as? [String: Any])
            #expect(auto["low"] as? Double == 100 && auto["high"] as? Double == 149)
            #expect(auto["method"] as? String == "percentiles 0.5-99.5")
            let unchanged = try Self.decode(try await client.execute(uri: "/api/images/\(narrow)/tiles/0/0/0.png", method: .get))
            #expect(unchanged.pixels == greyImage.pixels)   // 8-bit data is not stretched
        }
    }

    @Test func badTileRequests() async throws {
        let app = try await buildApplication(Harness.configuration("server-tiles-bad"))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let id = try await Harness.uploadImage(client, project: project, name: "r.tif",
                                                   bytes: try Harness.tiff(Harness.rampImage(width: 300, height: 40)))
            let cases: [(String, HTTPResponse.Status)] = [
                ("tiles/2/0/0.png", .notFound),            // only levels 0, 1
                ("tiles/0/2/0.png", .notFound),            // 2 columns of tiles at level 0
                ("tiles/0/0/1.png", .notFound),
                ("tiles/0/-1/0.png", .notFound),
                ("tiles/0/0/0.jpg", .notFound),
                ("tiles/x/0/0.png", .badRequest),
                ("tiles/0/0/0.png?low=5", .badRequest),
                ("tiles/0/0/0.png?low=9&high=3", .badRequest),
                ("tiles/0/0/0.png?low=a&high=3", .badRequest),
            ]
            for (path, status) in cases {
                let response = try await client.execute(uri: "/api/images/\(id)/\(path)", method: .get)
                #expect(response.status == status, "\(path)")
                #expect(!Harness.errorMessage(response).hasPrefix("<no error field"), "\(path)")
            }
        }
    }
}
