import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The workbench keeps each image's feature stacks between strokes (issue 17's live update). Every
/// answer must be the one a workbench without the cache gives, after new strokes and with another
/// bank, and a region must get exactly the whole image's values there.
@Suite struct PixelFeatureCacheTests {
    struct Answer: Equatable {
        var labels: [UInt8]
        var probabilities: [Float]
    }

    /// Labels and probabilities (class-major pages) of a prediction, through the API.
    static func answer(_ client: some TestClientProtocol, prediction: String) async throws -> Answer {
        let labels = try await client.execute(uri: "/api/predictions/\(prediction)/labels.tif", method: .get)
        let probabilities = try await client.execute(uri: "/api/predictions/\(prediction)/probabilities.tif", method: .get)
        guard case .uint8(let l) = try ImageFile.read(data: [UInt8](labels.body.readableBytesView)),
              case .float32(let p) = try ImageFile.read(data: [UInt8](probabilities.body.readableBytesView)) else {
            Issue.record("labels not 8-bit or probabilities not float")
            return Answer(labels: [], probabilities: [])
        }
        return Answer(labels: l.pixels, probabilities: p.pixels)
    }

    /// One session: strokes, train (bank, seed fixed), predict the whole image and a region, one
    /// more stroke, train + predict again, then another bank. Returns every answer in order.
    static func session(cacheBytes: Int, name: String) async throws -> (answers: [Answer], statistics: [(computed: Int, storedBytes: Int)]) {
        let (workbench, app) = try Harness.workbench(name, pixelFeatureCacheBytes: cacheBytes)
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 600, overlap: 0, seed: 5, kind: .film, particlesPerTile: 30))
        let bytes = try ImageFile.encode(set.tiles[0].image, as: .tiff)
        return try await app.test(.router) { client in
            var answers: [Answer] = []
            var statistics: [(computed: Int, storedBytes: Int)] = []
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: bytes)
            try await PixelClassificationRoutesTests.paintTruth(client, image: image, mask: set.tiles[0].particleMask, count: 8)
            // 600² with 512-px feature blocks: a region across four blocks, and one inside a single block.
            let regions = [#"{"x": 400, "y": 380, "width": 190, "height": 200}"#, #"{"x": 10, "y": 20, "width": 300, "height": 120}"#]
            func update(bank: String) async throws {
                let trained = try await Harness.run(client, "/api/images/\(image)/train",
                                                    #"{"sessionId": "session-0001", "treeCount": 12, "bank": "\#(bank)", "seed": 4}"#)
                let model = try #require((trained["result"] as? [String: Any])?["modelId"] as? String)
                statistics.append(workbench.pixelFeatureCacheStatistics)
                let whole = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001", "modelId": "\#(model)"}"#)
                let wholeAnswer = try await answer(client, prediction: try #require((whole["result"] as? [String: Any])?["predictionId"] as? String))
                answers.append(wholeAnswer)
                for region in regions {
                    let job = try await Harness.run(client, "/api/images/\(image)/predict",
                                                    #"{"sessionId": "session-0001", "modelId": "\#(model)", "region": \#(region)}"#)
                    let part = try await answer(client, prediction: try #require((job["result"] as? [String: Any])?["predictionId"] as? String))
                    answers.append(part)
                    // Exactly the whole image's labels and probabilities at the region's pixels.
                    let box = try JSONSerialization.jsonObject(with: Data(region.utf8)) as! [String: Int]
                    let (x0, y0, w, h) = (box["x"]!, box["y"]!, box["width"]!, box["height"]!)
                    let classCount = wholeAnswer.probabilities.count / (600 * 600)
                    var labels: [UInt8] = [], probabilities = [Float](repeating: 0, count: w * h * classCount)
                    for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { labels.append(wholeAnswer.labels[y * 600 + x]) } }
                    for c in 0..<classCount {
                        for y in 0..<h { for x in 0..<w { probabilities[c * w * h + y * w + x] = wholeAnswer.probabilities[c * 360_000 + (y + y0) * 600 + x + x0] } }
                    }
                    #expect(part == Answer(labels: labels, probabilities: probabilities), "region \(region), bank \(bank)")
                }
                statistics.append(workbench.pixelFeatureCacheStatistics)
            }
            try await update(bank: "fast")
            // A new stroke of class 2 in the top-left corner: a new model, the same features.
            try await Harness.post(client, "/api/images/\(image)/strokes",
                                   #"{"sessionId": "session-0001", "class": 2, "radius": 2, "points": [[3, 3], [9, 4]]}"#, status: .created)
            try await update(bank: "fast")
            // Another bank: other features (a stale stack would be the wrong size or the wrong values).
            try await update(bank: "default")
            return (answers, statistics)
        }
    }

    @Test func cachedLiveUpdatesEqualUncachedOnes() async throws {
        let cached = try await Self.session(cacheBytes: 1 << 30, name: "feature-cache-on")
        let uncached = try await Self.session(cacheBytes: 0, name: "feature-cache-off")
        #expect(cached.answers.count == 9 && cached.answers == uncached.answers)
        // The new stroke changed the model, so its answers differ from the first update's.
        #expect(cached.answers[0] != cached.answers[3])
        // Cached: the 4 blocks of the fast bank computed once (by the first training and prediction),
        // none after the new stroke; 4 more for the other bank.
        let computed = cached.statistics.map(\.computed)
        #expect(computed[0] <= 4 && Array(computed[1...3]) == [4, 4, 4] && computed[4] <= 8 && computed[5] == 8, "\(computed)")
        #expect(cached.statistics.last!.storedBytes > 0)
        // Without the cache every training and prediction computes its blocks again and nothing is kept.
        #expect(uncached.statistics.map(\.storedBytes) == [0, 0, 0, 0, 0, 0])
        #expect(uncached.statistics[1].computed > uncached.statistics[0].computed)
    }
}
