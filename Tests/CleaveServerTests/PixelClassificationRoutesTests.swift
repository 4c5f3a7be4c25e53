import CleaveCore
import CleaveFormats
import CleaveObjects
import CleavePipelines
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct PixelClassificationRoutesTests {
    /// Paints class 1 on particle pixels and class 2 on film pixels of the synthetic tile (from its truth mask).
    static func paintTruth(_ client: some TestClientProtocol, image: String, mask: Image<UInt8>, count: Int = 12) async throws {
        var inside: [(Int, Int)] = [], outside: [(Int, Int)] = []
        for y in stride(from: 4, to: mask.height - 4, by: 3) {
            for x in stride(from: 4, to: mask.width - 4, by: 3) {
                // Only pixels whose 5×5 neighbourhood agrees, so a radius-1.5 dab stays in its class.
                var all = true, none = true
                for dy in -2...2 { for dx in -2...2 { if mask[x + dx, y + dy] > 0 { none = false } else { all = false } } }
                if all { inside.append((x, y)) } else if none { outside.append((x, y)) }
            }
        }
        for (classValue, pixels) in [(1, inside), (2, outside)] {
            let step = max(1, pixels.count / count)
            for i in stride(from: 0, to: pixels.count, by: step).prefix(count) {
                let (x, y) = pixels[i]
                try await Harness.post(client, "/api/images/\(image)/strokes",
                                       #"{"sessionId": "session-0001", "class": \#(classValue), "radius": 1.5, "points": [[\#(Double(x) + 0.5), \#(Double(y) + 0.5)]]}"#,
                                       status: .created)
            }
        }
    }

    @Test func classesTrainPredictOverlaysAndAccept() async throws {
        let (_, app) = try Harness.workbench("server-pixels")
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 256, overlap: 0, seed: 3, kind: .film, particlesPerTile: 12))
        let bytes = try ImageFile.encode(set.tiles[0].image, as: .tiff)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: bytes)
            let particle = try await Harness.post(client, "/api/projects/\(project)/classes",
                                                  ##"{"name": "particle", "colour": "#ff0000", "sessionId": "session-0001"}"##, status: .created)
            #expect(particle["value"] as? Int == 1 && particle["colour"] as? String == "#ff0000")
            let film = try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "film"}"#, status: .created)
            #expect(film["value"] as? Int == 2)

            // One class only: refused before any work.
            let lonely = try await client.execute(uri: "/api/images/\(image)/train", method: .post, headers: Harness.headers(),
                                                  body: Harness.body(#"{"sessionId": "session-0001"}"#))
            #expect(lonely.status == .badRequest)
            #expect(Harness.errorMessage(lonely) == "no strokes to train from: paint at least two classes first")

            try await Self.paintTruth(client, image: image, mask: set.tiles[0].particleMask)
            let trained = try await Harness.run(client, "/api/images/\(image)/train",
                                                #"{"sessionId": "session-0001", "treeCount": 20, "bank": "fast", "seed": 2}"#)
            let modelID = try #require((trained["result"] as? [String: Any])?["modelId"] as? String)
            #expect((trained["result"] as? [String: Any])?["version"] as? Int == 1)
            let model = try await Harness.get(client, "/api/models/\(modelID)")
            #expect((model["classes"] as? [[String: Any]])?.map { $0["name"] as? String } == ["particle", "film"])
            #expect(model["trainedOn"] as? [String] == [image])
            let models = try await Harness.get(client, "/api/projects/\(project)/models")
            #expect((models["models"] as? [[String: Any]])?.count == 1)

            // Whole image.
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            let prediction = try await Harness.get(client, "/api/predictions/\(predictionID)")
            #expect(prediction["modelVersion"] as? Int == 1)
            let fractions = try #require(prediction["fractions"] as? [[String: Any]])
            #expect(fractions.map { $0["pixels"] as? Int ?? 0 }.reduce(0, +) == 256 * 256)
            let percentSum = fractions.map { $0["percent"] as? Double ?? 0 }.reduce(0, +)
            #expect(abs(percentSum - 100) < 1e-9)
            // 5 nm pixels: area = pixels × 25 nm².
            #expect(fractions[0]["area"] as? Double == Double(fractions[0]["pixels"] as? Int ?? -1) * 25)
            #expect(fractions[0]["unit"] as? String == "nm²")

            // Labels agree with the truth on most pixels.
            let tiff = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
            #expect(tiff.status == .ok && tiff.headers[.contentType] == "image/tiff")
            guard case .uint8(let labels) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { Issue.record("not 8-bit"); return }
            var agree = 0
            for i in labels.pixels.indices where (labels.pixels[i] == 1) == (set.tiles[0].particleMask.pixels[i] > 0) { agree += 1 }
            #expect(Double(agree) / Double(labels.pixels.count) > 0.85)
            let truthFraction = Double(set.tiles[0].particleMask.pixels.filter { $0 > 0 }.count) / Double(256 * 256)
            #expect(abs((fractions[0]["percent"] as? Double ?? 0) / 100 - truthFraction) < 0.1)

            for (path, alpha) in [("labels.png?opacity=1", 255), ("uncertainty.png?opacity=0", 0)] {
                let png = try await client.execute(uri: "/api/predictions/\(predictionID)/\(path)", method: .get)
                #expect(png.status == .ok && png.headers[.contentType] == "image/png")
                guard case .uint8(let rgba) = try ImageFile.read(data: [UInt8](png.body.readableBytesView)) else { continue }
                #expect(rgba.shape == Shape(width: 256, height: 256, channels: 4))
                #expect(rgba[0, 0, 0, 3] == UInt8(alpha))
            }
            let fractionsJSON = try await Harness.get(client, "/api/predictions/\(predictionID)/fractions.json")
            #expect((fractionsJSON["fractions"] as? [[String: Any]])?.count == 2)

            // A region (the "live" visible part) gives the same labels as the whole-image run there.
            let live = try await Harness.run(client, "/api/images/\(image)/predict",
                                             #"{"sessionId": "session-0001", "modelId": "\#(modelID)", "region": {"x": 64, "y": 32, "width": 100, "height": 80}}"#)
            let liveID = (live["result"] as? [String: Any])?["predictionId"] as? String ?? ""
            let regionTIFF = try await client.execute(uri: "/api/predictions/\(liveID)/labels.tif", method: .get)
            guard case .uint8(let regionLabels) = try ImageFile.read(data: [UInt8](regionTIFF.body.readableBytesView)) else { return }
            #expect(regionLabels.width == 100 && regionLabels.height == 80)
            var same = 0
            for y in 0..<80 { for x in 0..<100 where regionLabels[x, y] == labels[x + 64, y + 32] { same += 1 } }
            #expect(same == 8000)   // the region walks the whole image's feature blocks: exactly its labels

            // Objects of class 1 (CleavePipelines' ObjectsPipeline): the same count as labelling directly.
            let objectsJob = try await Harness.run(client, "/api/images/\(image)/objects",
                                                   #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 1, "minimumSize": 5}"#)
            let setID = try #require((objectsJob["result"] as? [String: Any])?["objectSetId"] as? String)
            let objectSet = try await Harness.get(client, "/api/objectsets/\(setID)")
            let expected = ConnectedComponents.label(AnyImage(labels), class: 1, connectivity: .full).removingSmallObjects(minimumSize: 5).objectCount
            #expect(objectSet["count"] as? Int == expected && expected > 0)
            let objects = try #require(objectSet["objects"] as? [[String: Any]])
            #expect(objects.first?["class"] as? String == "particle")
            #expect(((objects.first?["values"] as? [String: Any])?["area"] as? Double ?? 0) >= 5)
            let renamed = try await Harness.post(client, "/api/objectsets/\(setID)/objects/1/class", #"{"sessionId": "session-0001", "class": "aggregate"}"#)
            #expect(renamed["class"] as? String == "aggregate" && renamed["id"] as? Int == 1)
            let csv = try await client.execute(uri: "/api/objectsets/\(setID)/objects.csv", method: .get)
            let lines = String(buffer: csv.body).split(separator: "\n")
            #expect(lines.count == expected + 1 && lines[0].hasPrefix("label,class,") && lines[1].hasPrefix("1,aggregate,"))
            let objectsPNG = try await client.execute(uri: "/api/objectsets/\(setID)/labels.png", method: .get)
            #expect(objectsPNG.status == .ok)
            for (uri, json, status, message) in [
                ("/api/objectsets/\(setID)/objects/9999/class", #"{"sessionId": "session-0001", "class": "x"}"#, HTTPResponse.Status.notFound, "no object 9999 in object set \(setID) (objects are 1 to \(expected))"),
                ("/api/objectsets/nope/objects/1/class", #"{"sessionId": "session-0001", "class": "x"}"#, .notFound, "no object set with id nope"),
                ("/api/images/\(image)/objects", #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 7}"#, .badRequest, "class 7 is not one of the prediction's classes (1, 2)"),
                ("/api/images/\(image)/objects", #"{"sessionId": "session-0001", "predictionId": "nope", "class": 1}"#, .notFound, "no prediction with id nope"),
            ] {
                let response = try await client.execute(uri: uri, method: .post, headers: Harness.headers(), body: Harness.body(json))
                #expect(response.status == status && Harness.errorMessage(response) == message)
            }

            let accepted = try await Harness.post(client, "/api/predictions/\(predictionID)/accept", #"{"sessionId": "session-0001"}"#)
            #expect(accepted["state"] as? String == "accepted")
            let rejected = try await Harness.post(client, "/api/predictions/\(liveID)/reject", #"{"sessionId": "session-0001"}"#)
            #expect(rejected["state"] as? String == "rejected")
            let list = try await Harness.get(client, "/api/images/\(image)/predictions")
            #expect((list["predictions"] as? [[String: Any]])?.map { $0["state"] as? String } == ["accepted", "rejected"])

            let events = try await Harness.get(client, "/api/events?imageId=\(image)")["events"] as? [[String: Any]] ?? []
            let types = events.map { $0["type"] as? String ?? "" }.filter { $0 != "stroke" }
            #expect(types == ["train", "predict", "predict", "objects.run", "object.reclassify", "accept", "reject"])
            #expect(events.first(where: { $0["type"] as? String == "predict" })?["modelVersion"] as? String == "1")
        }
    }

    @Test func classAndModelErrors() async throws {
        let (_, app) = try Harness.workbench("server-pixels-bad")
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif", bytes: try Harness.tiff(Harness.rampImage(width: 64, height: 64)))
            let first = try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "quartz", "value": 3}"#, status: .created)
            let cases: [(String, HTTPRequest.Method, String, HTTPResponse.Status, String)] = [
                ("/api/projects/\(project)/classes", .post, #"{"name": "Quartz"}"#, .conflict, "a class named Quartz exists in this project"),
                ("/api/projects/\(project)/classes", .post, #"{"name": "x", "value": 3}"#, .conflict, "class value 3 is taken in this project"),
                ("/api/projects/\(project)/classes", .post, #"{"name": "x", "value": 300}"#, .badRequest, "value must be 1 to 255, got 300"),
                ("/api/projects/\(project)/classes", .post, #"{"name": "x", "colour": "red"}"#, .badRequest, "colour must be #rrggbb, got red"),
                ("/api/projects/\(project)/classes", .post, #"{"name": "  "}"#, .badRequest, "class name must be 1 to 100 characters, got 0"),
                ("/api/projects/nope/classes", .post, #"{"name": "x"}"#, .notFound, "no project with id nope"),
                ("/api/classes/nope", .put, #"{"name": "x"}"#, .notFound, "no class with id nope"),
                ("/api/classes/\(first["id"] as? String ?? "")", .put, #"{"value": 4}"#, .badRequest, "a class's value cannot change (strokes refer to it); create a new class"),
                ("/api/images/\(image)/predict", .post, #"{"sessionId": "session-0001"}"#, .badRequest, "the project has no trained model yet; train one first"),
                ("/api/images/\(image)/predict", .post, #"{"sessionId": "session-0001", "modelId": "nope"}"#, .notFound, "no model with id nope"),
                ("/api/images/\(image)/train", .post, #"{"sessionId": "session-0001", "treeCount": 0}"#, .badRequest, "treeCount must be 1 to 500, got 0"),
                ("/api/images/\(image)/train", .post, #"{"sessionId": "session-0001", "imageIds": ["elsewhere"]}"#, .badRequest, "image elsewhere is not an image of this project"),
                ("/api/images/nope/train", .post, #"{"sessionId": "session-0001"}"#, .notFound, "no image with id nope"),
                ("/api/predictions/nope", .get, "", .notFound, "no prediction with id nope"),
                ("/api/predictions/nope/accept", .post, #"{"sessionId": "session-0001"}"#, .notFound, "no prediction with id nope"),
                ("/api/models/nope", .get, "", .notFound, "no model with id nope"),
            ]
            for (uri, method, json, status, message) in cases {
                let response = try await client.execute(uri: uri, method: method, headers: Harness.headers(), body: Harness.body(json))
                #expect(response.status == status, "\(method) \(uri) \(json)")
                #expect(Harness.errorMessage(response) == message)
            }
            let renamed = try await Harness.post(client, "/api/classes/\(first["id"] as? String ?? "")", ##"{"name": "Qz", "colour": "#00ff00"}"##, method: .put)
            #expect(renamed["name"] as? String == "Qz" && renamed["colour"] as? String == "#00ff00" && renamed["value"] as? Int == 3)
            let deleted = try await client.execute(uri: "/api/classes/\(first["id"] as? String ?? "")", method: .delete, headers: Harness.headers())
            #expect(try Harness.object(deleted)["deleted"] as? Int == 1)
            #expect((try await Harness.get(client, "/api/projects/\(project)/classes")["classes"] as? [Any])?.isEmpty == true)
            // A region outside the image.
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 1, "radius": 3, "points": [[5, 5]]}"#, status: .created)
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 2, "radius": 3, "points": [[50, 50]]}"#, status: .created)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 3, "bank": "fast"}"#)
            let outside = try await client.execute(uri: "/api/images/\(image)/predict", method: .post, headers: Harness.headers(),
                                                   body: Harness.body(#"{"sessionId": "session-0001", "region": {"x": 60, "y": 0, "width": 10, "height": 10}}"#))
            #expect(outside.status == .badRequest)
            #expect(Harness.errorMessage(outside) == "region (60, 0, 10x10) is not inside the 64x64 image")
        }
    }
}
