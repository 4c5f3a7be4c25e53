import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 2: "Automatic" in the workbench is `cleave train --method auto` — both methods
/// on the same held-out blocks, the better one kept — and the job, the model and the event say
/// which was kept and why in the CLI's words.
@Suite struct MethodSelectionWorkbenchTests {
    /// A 256×256 8-bit image of dark disks on a bright film (classes disk 1, film 2) with strokes of
    /// both classes in every 128-pixel block, so that the held-out blocks (the diagonal) and the
    /// training blocks both hold each class.
    static func project(_ client: some TestClientProtocol) async throws -> String {
        let disks = [(40, 40), (190, 50), (60, 190), (200, 200)]
        var image = Image<UInt8>(width: 256, height: 256)
        var generator = SeededGenerator(seed: 4)
        for y in 0..<256 {
            for x in 0..<256 {
                let inside = disks.contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) < 24 * 24 }
                image[x, y] = UInt8((inside ? 60 : 190) + Int(generator.next() % 13) - 6)
            }
        }
        let project = try await Harness.createProject(client)
        let id = try await Harness.uploadImage(client, project: project, name: "disks-256.tif", bytes: try Harness.tiff(image))
        try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "disk"}"#, status: .created)
        try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "film"}"#, status: .created)
        let film = [(8, 100, 120, 100), (140, 120, 250, 120), (130, 250, 250, 250), (8, 130, 110, 130)]
        for (x, y) in disks {
            try await Harness.post(client, "/api/images/\(id)/strokes",
                                   #"{"sessionId": "session-0001", "class": 1, "radius": 4, "points": [[\#(x - 12), \#(y)], [\#(x + 12), \#(y)]]}"#, status: .created)
        }
        for (x0, y0, x1, y1) in film {
            try await Harness.post(client, "/api/images/\(id)/strokes",
                                   #"{"sessionId": "session-0001", "class": 2, "radius": 4, "points": [[\#(x0), \#(y0)], [\#(x1), \#(y1)]]}"#, status: .created)
        }
        return id
    }

    @Test func automaticKeepsTheBetterMethodAndSaysWhy() async throws {
        let (_, app) = try Harness.workbench("server-auto")
        try await app.test(.router) { client in
            let image = try await Self.project(client)
            let refused = try await Harness.post(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "method": "svm"}"#, status: .badRequest)
            #expect(refused["error"] as? String == "method must be forest, unet or auto, got svm")

            let trained = try await Harness.run(client, "/api/images/\(image)/train",
                                                #"{"sessionId": "session-0001", "method": "auto", "steps": 12, "treeCount": 10, "bank": "fast", "seed": 3}"#)
            let result = try #require(trained["result"] as? [String: Any])
            let selection = try #require(result["selection"] as? [String: Any])
            let chosen = try #require(selection["chosen"] as? String)
            let forest = try #require(selection["forestMeanIoU"] as? Double), unet = try #require(selection["unetMeanIoU"] as? Double)
            let reason = try #require(selection["reason"] as? String)
            // MethodSelection.choose: the U-Net only when strictly better; the CLI's sentence.
            #expect(chosen == (unet > forest ? "unet" : "forest"))
            #expect(result["method"] as? String == chosen)
            let comparison = String(format: "held-out mean IoU: U-Net %.3f, forest %.3f on %d labelled pixels", unet, forest,
                                    selection["heldOutPixels"] as? Int ?? -1)
            #expect(reason.hasPrefix(chosen == "unet" ? "kept the U-Net: " : "kept the forest (retrained on every label)"), "\(reason)")
            #expect(reason.contains(comparison), "\(reason) lacks \(comparison)")
            #expect((selection["heldOutPixels"] as? Int ?? 0) > 0)
            // The U-Net's steps were drawn for the chart.
            let metrics = try #require(trained["metrics"] as? [String: Any])
            #expect(metrics["totalSteps"] as? Int == 12 && metrics["validated"] as? Bool == true)

            // The model carries the same selection; the 'train' event too; predict uses it.
            let modelID = try #require(result["modelId"] as? String)
            let model = try await Harness.get(client, "/api/models/\(modelID)")
            #expect((model["selection"] as? [String: Any])?["reason"] as? String == reason)
            #expect((model["method"] as? String ?? "forest") == chosen)
            let events = try await Harness.get(client, "/api/events")["events"] as? [[String: Any]] ?? []
            let train = try #require(events.last(where: { $0["type"] as? String == "train" }))
            #expect(((train["payload"] as? [String: Any])?["selection"] as? [String: Any])?["reason"] as? String == reason)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            #expect((predicted["result"] as? [String: Any])?["predictionId"] is String)
        }
    }

    @Test func automaticIsCancelledWhileItsUNetTrains() async throws {
        let (workbench, app) = try Harness.workbench("server-auto-cancel")
        try await app.test(.router) { client in
            let image = try await Self.project(client)
            let job = try await Harness.post(client, "/api/images/\(image)/train",
                                             #"{"sessionId": "session-0001", "method": "auto", "steps": 20000, "treeCount": 5, "bank": "fast"}"#,
                                             status: .accepted)
            let id = try #require(job["id"] as? String)
            while !(workbench.jobs.job(id)?.stage.hasPrefix("U-Net step") ?? false) {
                #expect(workbench.jobs.job(id)?.isFinished == false, "\(workbench.jobs.job(id)?.error ?? "")")
                if workbench.jobs.job(id)?.isFinished == true { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            _ = try await Harness.post(client, "/api/jobs/\(id)/cancel", "{}")
            let final = await workbench.jobs.wait(id)
            #expect(final?.state == "cancelled")
            let models = try await Harness.get(client, "/api/projects/\(try #require(final?.projectId))/models")["models"] as? [Any]
            #expect(models?.isEmpty == true)
        }
    }
}
