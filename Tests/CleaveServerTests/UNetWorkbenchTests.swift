import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 2: a U-Net trained in the workbench as a job with live figures, cancelled without
/// leaving a model, applied by `predict` and downloadable as a Cleave model and ONNX.
@Suite struct UNetWorkbenchTests {
    @Test func trainPredictDownloadAndCancelAUNet() async throws {
        let (_, app) = try Harness.workbench("server-unet")
        try await app.test(.router) { client in
            let (project, image) = try await WorkbenchDefectsTests.disksProject(client)

            // Bad settings are refused before any job starts.
            for body in [#"{"sessionId": "session-0001", "method": "unet", "steps": 0}"#,
                         #"{"sessionId": "session-0001", "method": "unet", "minutes": -1}"#,
                         #"{"sessionId": "session-0001", "method": "svm"}"#] {
                let refused = try await Harness.post(client, "/api/images/\(image)/train", body, status: .badRequest)
                #expect((refused["error"] as? String)?.isEmpty == false, "\(body)")
            }

            // A few strokes are too few for a validation split: all of them train the network and
            // the figures say so; every step's loss is in the final figures.
            let trained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "method": "unet", "steps": 6, "seed": 2}"#)
            let result = try #require(trained["result"] as? [String: Any])
            let modelID = try #require(result["modelId"] as? String)
            #expect(result["steps"] as? Int == 6 && result["validationMeanIoU"] == nil)
            let metrics = try #require(trained["metrics"] as? [String: Any])
            #expect(metrics["validated"] as? Bool == false && metrics["step"] as? Int == 6 && metrics["totalSteps"] as? Int == 6)
            let losses = try #require(metrics["loss"] as? [[Double]])
            let steps: [Int] = losses.map { Int($0[0]) }
            #expect(steps == Array(1...6))
            #expect(losses.allSatisfy { $0[1].isFinite && $0[1] > 0 })
            let model = try await Harness.get(client, "/api/models/\(modelID)")
            #expect(model["method"] as? String == "unet" && model["steps"] as? Int == 6)

            // Predict: the whole image, and a region that is exactly the same crop of it.
            func labels(_ prediction: String) async throws -> [UInt8] {
                let tiff = try await client.execute(uri: "/api/predictions/\(prediction)/labels.tif", method: .get)
                guard case .uint8(let image) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { return [] }
                return image.pixels
            }
            let whole = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let wholeID = try #require((whole["result"] as? [String: Any])?["predictionId"] as? String)
            let wholeLabels = try await labels(wholeID)
            #expect(wholeLabels.count == 64 * 64 && Set(wholeLabels).isSubset(of: [1, 2]))
            let prediction = try await Harness.get(client, "/api/predictions/\(wholeID)")
            let fractions = prediction["fractions"] as? [[String: Any]] ?? []
            let counted = fractions.compactMap { $0["pixels"] as? Int }.reduce(0, +)
            #expect(counted == 64 * 64)
            let part = try await Harness.run(client, "/api/images/\(image)/predict",
                                             #"{"sessionId": "session-0001", "region": {"x": 8, "y": 12, "width": 20, "height": 24}}"#)
            let partLabels = try await labels(try #require((part["result"] as? [String: Any])?["predictionId"] as? String))
            var crop: [UInt8] = []
            for y in 12..<36 { for x in 8..<28 { crop.append(wholeLabels[y * 64 + x]) } }
            #expect(partLabels == crop)

            // Downloads: the model file reads back, ONNX starts with its ir_version field; a forest has no ONNX.
            let json = try await client.execute(uri: "/api/models/\(modelID)/model.json", method: .get)
            #expect(json.status == .ok && json.headers[.contentDisposition]?.contains("cleave-model-v1.json") == true)
            let decoded = try JSONSerialization.jsonObject(with: Data(json.body.readableBytesView)) as? [String: Any]
            #expect((decoded?["classes"] as? [Any])?.count == 2)
            let onnx = try await client.execute(uri: "/api/models/\(modelID)/model.onnx", method: .get)
            let bytes = [UInt8](onnx.body.readableBytesView)
            #expect(onnx.status == .ok && bytes.first == 0x08 && bytes.count > 10_000)
            let forest = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast"}"#)
            let forestID = try #require((forest["result"] as? [String: Any])?["modelId"] as? String)
            #expect(try await client.execute(uri: "/api/models/\(forestID)/model.onnx", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/models/\(forestID)/model.json", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/models/\(modelID)/weights.bin", method: .get).status == .notFound)

            // Cancel stops a long training between two steps and makes no model.
            let before = (try await Harness.get(client, "/api/projects/\(project)/models")["models"] as? [Any])?.count
            let long = try await Harness.post(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "method": "unet", "steps": 20000}"#,
                                              status: .accepted)
            let longID = try #require(long["id"] as? String)
            var state = ""
            for _ in 0..<600 where state != "running" {
                state = try await Harness.get(client, "/api/jobs/\(longID)")["state"] as? String ?? ""
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(state == "running")
            try await Harness.post(client, "/api/jobs/\(longID)/cancel", "{}")
            let ended = try await Harness.follow(client, job: longID).last
            #expect(ended?["state"] as? String == "cancelled")
            #expect((try await Harness.get(client, "/api/projects/\(project)/models")["models"] as? [Any])?.count == before)
        }
    }
}

/// Issue 22, item 2 (batch): the class fractions of every image of a project in one CSV.
@Suite struct ProjectFractionsTests {
    @Test func oneRowPerImageAndClassFromEachImagesCurrentResult() async throws {
        let (_, app) = try Harness.workbench("server-project-fractions")
        let (stack, _) = WorkbenchDefectsTests.diskStack()
        try await app.test(.router) { client in
            let (project, first) = try await WorkbenchDefectsTests.disksProject(client, name: "disks, first.tif", filmClass: "film, bright")
            let second = try await Harness.uploadImage(client, project: project, name: "second.tif", bytes: try Harness.tiff(stack.plane(1)))
            _ = try await Harness.run(client, "/api/images/\(first)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast"}"#)
            func predict(_ image: String, _ extra: String = "") async throws -> [String: Any] {
                let job = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"\#(extra)}"#)
                return try await Harness.get(client, "/api/predictions/\(try #require((job["result"] as? [String: Any])?["predictionId"] as? String))")
            }
            let accepted = try await predict(first)
            try await Harness.post(client, "/api/predictions/\(try #require(accepted["id"] as? String))/accept", #"{"sessionId": "session-0001"}"#)
            _ = try await predict(first)   // newer, but not accepted: the accepted one stays the image's result
            _ = try await predict(first, #", "region": {"x": 0, "y": 0, "width": 10, "height": 10}"#)   // a live preview never counts

            let response = try await client.execute(uri: "/api/projects/\(project)/fractions.csv", method: .get)
            #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
            #expect(lines.first == "image,image_id,prediction_id,model_version,state,class_value,class,pixels,percent,area,area_unit,note")
            let fractions = try #require(accepted["fractions"] as? [[String: Any]])
            let expected = fractions.map { f -> String in
                let name = f["name"] as? String == "film, bright" ? "\"film, bright\"" : (f["name"] as? String ?? "")
                return "\"disks, first.tif\",\(first),\(accepted["id"] as? String ?? ""),1,accepted,\(f["value"] as? Int ?? 0),\(name),\(f["pixels"] as? Int ?? 0),"
            }
            let firstRows = lines.filter { $0.contains(first) }
            #expect(firstRows.count == 2)
            #expect(zip(firstRows, expected).allSatisfy { $0.hasPrefix($1) })
            #expect(lines.filter { $0.contains(second) } == ["second.tif,\(second),,,,,,,,,,no whole-image result yet"])

            let unknown = try await client.execute(uri: "/api/projects/no-such-project/fractions.csv", method: .get)
            #expect(unknown.status == .notFound)
        }
    }
}
