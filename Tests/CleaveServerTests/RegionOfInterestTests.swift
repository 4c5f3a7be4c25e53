import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 3: a region of interest (polygon and/or a class outside the sample) changes what
/// fractions, objects and label exports count.
@Suite struct RegionOfInterestTests {
    @Test func polygonAndOutsideClassChangeFractionsObjectsAndExports() async throws {
        let (_, app) = try Harness.workbench("server-roi")
        try await app.test(.router) { client in
            let (_, image) = try await WorkbenchDefectsTests.disksProject(client)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            func labels() async throws -> [UInt8] {
                let tiff = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
                guard case .uint8(let image) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { return [] }
                return image.pixels
            }
            func fractions() async throws -> [Int: Int] {
                let list = try await Harness.get(client, "/api/predictions/\(predictionID)")["fractions"] as? [[String: Any]] ?? []
                return Dictionary(uniqueKeysWithValues: list.map { (($0["value"] as? Int) ?? -1, ($0["pixels"] as? Int) ?? -1) })
            }
            let all = try await labels()
            #expect(try await fractions() == [1: all.filter { $0 == 1 }.count, 2: all.filter { $0 == 2 }.count])
            #expect(try await Harness.get(client, "/api/images/\(image)/roi")["polygon"] == nil)

            // The left half (x < 32): the disk at (44, 20) leaves the fractions, the TIFF and the objects.
            let polygon = #"[[0, 0], [32, 0], [32, 64], [0, 64]]"#
            let roi = try await Harness.post(client, "/api/images/\(image)/roi", #"{"sessionId": "session-0001", "polygon": \#(polygon)}"#, method: .put)
            #expect((roi["polygon"] as? [[Double]])?.count == 4)
            let left = (0..<all.count).filter { $0 % 64 < 32 }
            #expect(try await fractions() == [1: left.filter { all[$0] == 1 }.count, 2: left.filter { all[$0] == 2 }.count])
            let summary = try await Harness.get(client, "/api/predictions/\(predictionID)")["roi"] as? [String: Any]
            #expect(summary?["insidePixels"] as? Int == 32 * 64 && summary?["totalPixels"] as? Int == 64 * 64)
            let clipped = try await labels()
            #expect(clipped.indices.allSatisfy { clipped[$0] == ($0 % 64 < 32 ? all[$0] : 0) })
            let job = try await Harness.run(client, "/api/images/\(image)/objects",
                                            #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 1, "minimumSize": 20}"#)
            let setID = try #require((job["result"] as? [String: Any])?["objectSetId"] as? String)
            let objects = try await Harness.get(client, "/api/objectsets/\(setID)")["objects"] as? [[String: Any]] ?? []
            let columns = objects.compactMap { (($0["values"] as? [String: Any])?["centroid_col"] as? Double) }
            #expect(objects.count == 2 && columns.count == 2 && columns.allSatisfy { $0 < 32 }, "\(objects.count) objects at columns \(columns)")

            // Film as the outside class (and no polygon): only disks count, 100 %.
            let outside = try await Harness.post(client, "/api/images/\(image)/roi", #"{"sessionId": "session-0001", "outsideClass": 2}"#, method: .put)
            #expect(outside["outsideClass"] as? Int == 2 && outside["polygon"] == nil)
            let list = try await Harness.get(client, "/api/predictions/\(predictionID)")["fractions"] as? [[String: Any]] ?? []
            #expect(list.count == 1 && list.first?["value"] as? Int == 1 && list.first?["percent"] as? Double == 100)
            #expect(try await labels() == all)   // the outside class stays a label

            // Bad input: one line each, nothing stored.
            for (body, message) in [(#"{"sessionId": "session-0001", "polygon": [[0, 0], [1, 1]]}"#, "polygon must have 3 to 10000 vertices, got 2"),
                                    (#"{"sessionId": "session-0001", "polygon": [[0, 0], [1, 1], [2]]}"#, "polygon vertex 2 must be [x, y]"),
                                    (#"{"sessionId": "session-0001", "polygon": [[0, 0], [1e300, 1], [2, 2]]}"#, "polygon vertex 1 must be [x, y]"),
                                    (#"{"sessionId": "session-0001", "outsideClass": 9}"#, "outsideClass 9 is not a class of this project")] {
                let response = try await Harness.post(client, "/api/images/\(image)/roi", body, status: .badRequest, method: .put)
                #expect((response["error"] as? String)?.hasPrefix(message) == true, "\(response)")
            }
            #expect(try await Harness.get(client, "/api/images/\(image)/roi")["outsideClass"] as? Int == 2)

            // Clearing restores every pixel; each change is an event.
            _ = try await Harness.post(client, "/api/images/\(image)/roi", #"{"sessionId": "session-0001"}"#, method: .put)
            #expect(try await fractions() == [1: all.filter { $0 == 1 }.count, 2: all.filter { $0 == 2 }.count])
            #expect(try await Harness.get(client, "/api/predictions/\(predictionID)")["roi"] == nil)
            let events = try await Harness.get(client, "/api/events?imageId=\(image)")["events"] as? [[String: Any]] ?? []
            #expect(events.filter { $0["type"] as? String == "roi" }.count == 3)
        }
    }
}

/// Issue 22, item 5: a pixel size given by hand reaches the fractions' areas; bad sizes are refused.
@Suite struct PixelSizeTests {
    @Test func aPixelSizeByHandRecomputesAreasAndBadOnesAreRefused() async throws {
        let (_, app) = try Harness.workbench("server-pixel-size")
        try await app.test(.router) { client in
            let (_, image) = try await WorkbenchDefectsTests.disksProject(client, spacing: false)
            #expect(try await Harness.get(client, "/api/images/\(image)")["spacing"] == nil)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast"}"#)
            let job = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let prediction = try #require((job["result"] as? [String: Any])?["predictionId"] as? String)
            func fractions() async throws -> [[String: Any]] { try await Harness.get(client, "/api/predictions/\(prediction)")["fractions"] as? [[String: Any]] ?? [] }
            #expect(try await fractions().allSatisfy { $0["area"] == nil })

            let set = try await Harness.post(client, "/api/images/\(image)/pixel-size", #"{"sessionId": "session-0001", "x": 2, "y": 3, "unit": "um"}"#, method: .put)
            let spacing = try #require(set["spacing"] as? [String: Any])
            #expect(spacing["x"] as? Double == 2 && spacing["y"] as? Double == 3 && spacing["unit"] as? String == "µm")
            for fraction in try await fractions() {
                #expect(fraction["area"] as? Double == Double(fraction["pixels"] as? Int ?? -1) * 6 && fraction["unit"] as? String == "µm²")
            }
            // A new prediction uses it too.
            let again = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let newer = try await Harness.get(client, "/api/predictions/\(try #require((again["result"] as? [String: Any])?["predictionId"] as? String))")
            #expect((newer["fractions"] as? [[String: Any]])?.first?["unit"] as? String == "µm²")

            for fields in [#""x": 0, "unit": "nm""#, #""x": -1, "unit": "nm""#, #""x": 1e9, "unit": "nm""#, #""x": 1, "unit": "furlong""#,
                           #""x": 1"#, #""unit": "nm""#, #""y": 2"#, #""x": 1, "y": 0, "unit": "nm""#] {
                let refused = try await client.execute(uri: "/api/images/\(image)/pixel-size", method: .put, headers: Harness.headers(),
                                                       body: Harness.body(#"{"sessionId": "session-0001", \#(fields)}"#))
                #expect(refused.status == .badRequest && Harness.errorMessage(refused).contains("session") == false, "\(fields)")
            }
            #expect((try await Harness.get(client, "/api/images/\(image)")["spacing"] as? [String: Any])?["unit"] as? String == "µm")

            let cleared = try await Harness.post(client, "/api/images/\(image)/pixel-size", #"{"sessionId": "session-0001"}"#, method: .put)
            #expect(cleared["spacing"] == nil)
            #expect(try await fractions().allSatisfy { $0["area"] == nil })
            let missing = try await client.execute(uri: "/api/images/no-such-image/pixel-size", method: .put, headers: Harness.headers(),
                                                   body: Harness.body(#"{"sessionId": "session-0001", "x": 1, "unit": "nm"}"#))
            #expect(missing.status == .notFound)
        }
    }
}
