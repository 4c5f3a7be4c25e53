import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveRender
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The workbench's download routes: probabilities.tif, overlay.png, objects.geojson.
@Suite struct ExportRoutesTests {
    static func decode(_ response: TestResponse) throws -> AnyImage {
        try ImageFile.read(data: [UInt8](response.body.readableBytesView))
    }

    @Test func probabilitiesOverlayAndGeoJSON() async throws {
        let (_, app) = try Harness.workbench("server-exports")
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 128, overlap: 0, seed: 5, kind: .film, particlesPerTile: 6))
        let source = set.tiles[0].image
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif",
                                                      bytes: try ImageFile.encode(source, as: .tiff))
            try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "particle", "colour": "#ff0000"}"##, status: .created)
            try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "film", "colour": "#0000ff"}"##, status: .created)
            try await PixelClassificationRoutesTests.paintTruth(client, image: image, mask: set.tiles[0].particleMask, count: 8)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            let labelsTIFF = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
            guard case .uint8(let labels) = try Self.decode(labelsTIFF) else { Issue.record("labels.tif is not 8-bit"); return }

            // probabilities.tif: one float page per class (classes 1, 2 in order), each pixel a
            // distribution whose largest entry is the label's.
            let probabilitiesTIFF = try await client.execute(uri: "/api/predictions/\(predictionID)/probabilities.tif", method: .get)
            #expect(probabilitiesTIFF.status == .ok && probabilitiesTIFF.headers[.contentType] == "image/tiff")
            guard case .float32(let probabilities) = try Self.decode(probabilitiesTIFF) else { Issue.record("probabilities.tif is not float32"); return }
            // Classes are ImageJ channels, not z-slices (issue 22): the description says channels=2 and no slices.
            #expect(probabilities.shape == Shape(width: 128, height: 128, channels: 2))
            let description = String(decoding: [UInt8](probabilitiesTIFF.body.readableBytesView), as: UTF8.self)
            #expect(description.contains("channels=2\n") && !description.contains("slices="))
            #expect(probabilities.spacing?.x == source.spacing?.x && probabilities.spacing?.y == source.spacing?.y
                     && probabilities.spacing?.unit == "nm")
            let n = 128 * 128
            var outside = 0, badSum = 0, notArgmax = 0, firstClass = 0
            for p in 0..<n {
                let values = (0..<2).map { probabilities.pixels[$0 * n + p] }
                if values.contains(where: { !($0 >= 0 && $0 <= 1) }) { outside += 1 }
                if abs(values.reduce(0, +) - 1) > 1e-4 { badSum += 1 }
                let label = Int(labels.pixels[p])   // class value 1 or 2 = page 0 or 1
                if !(1...2).contains(label) || values[label - 1] < values.max()! - 1e-6 { notArgmax += 1 }
                if values[0] > values[1] { firstClass += 1 }
            }
            #expect(outside == 0 && badSum == 0 && notArgmax == 0)
            // Both classes occur (a constant map would pass the checks above too).
            #expect(firstClass > n / 50 && firstClass < n - n / 50)

            // overlay.png: RGB of the image's size; opacity 1 is the class colour everywhere (all
            // pixels are labelled), opacity 0 the grey image through its default window.
            let overlay = try await client.execute(uri: "/api/predictions/\(predictionID)/overlay.png", method: .get)
            #expect(overlay.status == .ok && overlay.headers[.contentType] == "image/png")
            guard case .uint8(let blended) = try Self.decode(overlay) else { Issue.record("overlay.png is not 8-bit"); return }
            #expect(blended.shape == Shape(width: 128, height: 128, channels: 3))
            let labelsPNG = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.png?opacity=1", method: .get)
            guard case .uint8(let painted) = try Self.decode(labelsPNG) else { Issue.record("labels.png is not 8-bit"); return }
            var differs = 0
            for p in 0..<n where (0..<3).contains(where: { blended.pixels[$0 * n + p] != painted.pixels[$0 * n + p] }) { differs += 1 }
            #expect(differs > n * 9 / 10)
            let solid = try await client.execute(uri: "/api/predictions/\(predictionID)/overlay.png?opacity=1", method: .get)
            guard case .uint8(let colours) = try Self.decode(solid) else { Issue.record("overlay.png is not 8-bit"); return }
            var wrongColour = 0
            for p in 0..<n {
                let expected: [UInt8] = labels.pixels[p] == 1 ? [255, 0, 0] : [0, 0, 255]
                if (0..<3).contains(where: { colours.pixels[$0 * n + p] != expected[$0] }) { wrongColour += 1 }
            }
            #expect(wrongColour == 0)

            // A region prediction: opacity 0 gives the cropped grey picture exactly.
            let live = try await Harness.run(client, "/api/images/\(image)/predict",
                                             #"{"sessionId": "session-0001", "region": {"x": 20, "y": 10, "width": 50, "height": 40}}"#)
            let liveID = try #require((live["result"] as? [String: Any])?["predictionId"] as? String)
            let window = try await Harness.get(client, "/api/images/\(image)/window")
            let low = try #require(window["low"] as? Double), high = try #require(window["high"] as? Double)
            let grey = Display.grey(source.cropped(to: Region(x: 20, y: 10, width: 50, height: 40)), window: low...high)
            let plain = try await client.execute(uri: "/api/predictions/\(liveID)/overlay.png?opacity=0", method: .get)
            guard case .uint8(let picture) = try Self.decode(plain) else { Issue.record("overlay.png is not 8-bit"); return }
            #expect(picture.shape == Shape(width: 50, height: 40, channels: 3))
            #expect(picture.pixels == grey.pixels + grey.pixels + grey.pixels)

            // objects.geojson: one closed polygon feature per object; the polygons' area (exterior
            // minus holes, shoelace) equals the object's measured area in pixels.
            let objectsJob = try await Harness.run(client, "/api/images/\(image)/objects",
                                                   #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 1, "minimumSize": 3}"#)
            let setID = try #require((objectsJob["result"] as? [String: Any])?["objectSetId"] as? String)
            let objectSet = try await Harness.get(client, "/api/objectsets/\(setID)")
            let count = try #require(objectSet["count"] as? Int)
            #expect(count > 0)
            let areas = Dictionary(uniqueKeysWithValues: (objectSet["objects"] as? [[String: Any]] ?? []).map {
                ($0["id"] as? Int ?? -1, ($0["values"] as? [String: Any])?["area"] as? Double ?? -1)
            })
            try await Harness.post(client, "/api/objectsets/\(setID)/objects/1/class", #"{"sessionId": "session-0001", "class": "aggregate"}"#)
            let geo = try await client.execute(uri: "/api/objectsets/\(setID)/objects.geojson", method: .get)
            #expect(geo.status == .ok && geo.headers[.contentType] == "application/geo+json")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(geo.body.readableBytesView)) as? [String: Any])
            #expect(document["type"] as? String == "FeatureCollection")
            let features = try #require(document["features"] as? [[String: Any]])
            #expect(features.count == count)
            var openRings = 0, wrongArea = 0
            var labelsSeen: [Int] = []
            for feature in features {
                let geometry = feature["geometry"] as? [String: Any] ?? [:]
                let properties = feature["properties"] as? [String: Any] ?? [:]
                let label = properties["label"] as? Int ?? -1
                labelsSeen.append(label)
                let polygons: [[[[Double]]]]
                switch geometry["type"] as? String {
                case "Polygon": polygons = [geometry["coordinates"] as? [[[Double]]] ?? []]
                case "MultiPolygon": polygons = geometry["coordinates"] as? [[[[Double]]]] ?? []
                default: polygons = []
                }
                var area = 0.0
                for polygon in polygons {
                    for ring in polygon {
                        if ring.count < 4 || ring.first != ring.last { openRings += 1 }
                        var twice = 0.0
                        for i in 0..<(ring.count - 1) { twice += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] }
                        area += twice / 2   // exteriors positive, holes negative
                    }
                }
                let measured = (properties["measurements"] as? [String: Any])?["area"] as? Double
                if polygons.isEmpty || measured != areas[label] || abs(area - (measured ?? -1)) > 1e-9 { wrongArea += 1 }
                if label == 1 { #expect((properties["classification"] as? [String: Any])?["name"] as? String == "aggregate") }
                else { #expect((properties["classification"] as? [String: Any])?["color"] as? [Int] == [255, 0, 0]) }
            }
            #expect(openRings == 0 && wrongArea == 0)
            #expect(labelsSeen.sorted() == Array(1...count))

            // Bad ids and options: one-line errors.
            for (uri, status, message) in [
                ("/api/predictions/nope/probabilities.tif", HTTPResponse.Status.notFound, "no prediction with id nope"),
                ("/api/predictions/nope/overlay.png", .notFound, "no prediction with id nope"),
                ("/api/objectsets/nope/objects.geojson", .notFound, "no object set with id nope"),
                ("/api/predictions/\(predictionID)/overlay.png?opacity=2", .badRequest, "opacity must be 0 to 1, got 2.0"),
                ("/api/predictions/\(predictionID)/overlay.png?opacity=x", .badRequest, "query parameter opacity must be a number, got x"),
            ] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == status && Harness.errorMessage(response) == message, "\(uri)")
                #expect(!Harness.errorMessage(response).contains("\n"))
            }

            // The page enables its export buttons from these OpenAPI paths.
            let openAPI = try await Harness.get(client, "/api/openapi.json")
            let paths = openAPI["paths"] as? [String: Any] ?? [:]
            for path in ["/api/predictions/{predictionId}/probabilities.tif", "/api/predictions/{predictionId}/overlay.png",
                         "/api/objectsets/{objectSetId}/objects.geojson"] {
                #expect((paths[path] as? [String: Any])?["get"] != nil, "\(path)")
            }
        }
    }
}
