import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 4: correcting a result by hand (brush, lasso, fill) reaches the labels and the
/// fractions at once, becomes reference labels of provenance 3 and training labels of the next model.
@Suite struct CorrectionTests {
    @Test func brushLassoAndFillCorrectTheResultAndTeachTheNextModel() async throws {
        let (_, app) = try Harness.workbench("server-corrections")
        try await app.test(.router) { client in
            let (_, image) = try await WorkbenchDefectsTests.disksProject(client)
            let trained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let firstModel = try #require((trained["result"] as? [String: Any])?["modelId"] as? String)
            let strokeFilm = try #require((try await Harness.get(client, "/api/models/\(firstModel)")["labelledPixels"] as? [String: Any])?["2"] as? Int)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            func labels() async throws -> [UInt8] {
                let tiff = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
                guard case .uint8(let image) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { return [] }
                return image.pixels
            }
            func correct(_ body: String, status: HTTPResponse.Status = .ok) async throws -> [String: Any] {
                try await Harness.post(client, "/api/predictions/\(predictionID)/corrections", body, status: status)
            }
            let original = try await labels()
            #expect(original[46 * 64 + 30] == 1 && original[2 * 64 + 60] == 2)

            // Fill: the disk at (30, 46) (4-connected, as scipy.ndimage.label) becomes film.
            let disk = WorkbenchDefectsTests.component(original, width: 64, seed: 46 * 64 + 30)
            let filled = try await correct(#"{"sessionId": "session-0001", "class": 2, "mode": "fill", "points": [[30.5, 46.5]]}"#)
            #expect(filled["changedPixels"] as? Int == disk.count && filled["correctedPixels"] as? Int == disk.count)
            var expected = original
            for i in disk { expected[i] = 2 }
            #expect(try await labels() == expected)
            let fractions = (filled["prediction"] as? [String: Any])?["fractions"] as? [[String: Any]] ?? []
            #expect(fractions.map { $0["pixels"] as? Int } == [expected.filter { $0 == 1 }.count, expected.filter { $0 == 2 }.count])

            // Lasso: a square over part of the disk at (44, 20) (pixel centres 40.5…47.5 × 14.5…25.5).
            _ = try await correct(#"{"sessionId": "session-0001", "class": 2, "mode": "lasso", "points": [[40, 14], [48, 14], [48, 26], [40, 26]]}"#)
            for y in 14..<26 { for x in 40..<48 { expected[y * 64 + x] = 2 } }
            #expect(try await labels() == expected)

            // Brush: radius 2.5 around (10.5, 10.5) gives film back to disk, as strokes rasterise.
            let brushed = try await correct(#"{"sessionId": "session-0001", "class": 1, "mode": "brush", "points": [[10.5, 10.5]], "radius": 2.5}"#)
            var disc = 0
            for y in 0..<64 { for x in 0..<64 where pow(Double(x) - 10, 2) + pow(Double(y) - 10, 2) <= 6.25 { expected[y * 64 + x] = 1; disc += 1 } }
            #expect(brushed["correctedPixels"] as? Int == disc)
            #expect(try await labels() == expected)

            // Reference: corrected pixels have provenance 3, but 2 under a stroke (painted later: it wins).
            let strokes: [(Double, Double)] = [(16.5, 18.5), (44.5, 20.5), (4.5, 4.5), (58.5, 58.5)]
            func underStroke(_ i: Int) -> Bool {
                let x = Double(i % 64) + 0.5, y = Double(i / 64) + 0.5
                return strokes.contains { p in
                    let dx: Double = x - p.0, dy: Double = y - p.1
                    return dx * dx + dy * dy <= 6.25
                }
            }
            let provenanceTIFF = try await client.execute(uri: "/api/images/\(image)/reference/provenance.tif", method: .get)
            guard case .uint8(let provenance) = try ImageFile.read(data: [UInt8](provenanceTIFF.body.readableBytesView)) else { Issue.record("no provenance"); return }
            let corrected = (0..<4096).filter { expected[$0] != original[$0] || disk.contains($0) }
            #expect(corrected.allSatisfy { provenance.pixels[$0] == (underStroke($0) ? 2 : 3) })
            #expect(corrected.contains(where: underStroke))
            let reference = try await Harness.get(client, "/api/images/\(image)/reference")
            #expect(reference["correctedPixels"] as? Int == provenance.pixels.filter { $0 == 3 }.count)

            // The next model trains on the corrections too.
            let retrained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let secondModel = try #require((retrained["result"] as? [String: Any])?["modelId"] as? String)
            let film = try #require((try await Harness.get(client, "/api/models/\(secondModel)")["labelledPixels"] as? [String: Any])?["2"] as? Int)
            #expect(film >= strokeFilm + disk.count)

            // Bad input: one line each; nothing changes.
            for (body, message) in [(#"{"sessionId": "session-0001", "class": 2, "mode": "spray", "points": [[1, 1]]}"#, "mode must be brush, lasso or fill"),
                                    (#"{"sessionId": "session-0001", "class": 9, "mode": "fill", "points": [[1, 1]]}"#, "class 9 is not a class of this project"),
                                    (#"{"sessionId": "session-0001", "class": 2, "mode": "lasso", "points": [[1, 1], [2, 2]]}"#, "points: a lasso correction takes 3 to 10000 points, got 2"),
                                    (#"{"sessionId": "session-0001", "class": 2, "mode": "fill", "points": [[99, 1]]}"#, "the fill point (99.0, 1.0) is outside the prediction"),
                                    (#"{"sessionId": "session-0001", "class": 2, "mode": "brush", "points": [[1, 1]], "radius": 0}"#, "radius must be 0.5 to 500 pixels"),
                                    (#"{"sessionId": "session-0001", "class": 2, "mode": "brush", "points": [[1, 1e308]]}"#, "points[0] must be [x, y]")] {
                let response = try await correct(body, status: .badRequest)
                #expect((response["error"] as? String)?.hasPrefix(message) == true, "\(response)")
            }
            #expect(try await labels() == expected)
        }
    }
}

extension WorkbenchDefectsTests {
    /// The 4-connected component of `labels` containing `seed` (indices), by breadth-first search.
    static func component(_ labels: [UInt8], width: Int, seed: Int) -> Set<Int> {
        var found: Set<Int> = [seed], queue = [seed]
        while let i = queue.popLast() {
            let x = i % width, y = i / width
            for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < width && ny >= 0 && ny < labels.count / width {
                let j = ny * width + nx
                if labels[j] == labels[seed] && found.insert(j).inserted { queue.append(j) }
            }
        }
        return found
    }
}
