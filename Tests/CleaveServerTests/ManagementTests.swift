import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 5: renaming and deleting projects and images (what goes, what stays, running
/// jobs cancelled first, shared blobs kept) and deleting a class that labels strokes or corrections.
@Suite struct ManagementTests {
    static func events(_ client: some TestClientProtocol, type: String) async throws -> [[String: Any]] {
        let all = try await Harness.get(client, "/api/events")["events"] as? [[String: Any]] ?? []
        return all.filter { $0["type"] as? String == type }
    }

    @Test func projectsAndImagesAreRenamedWithAnEvent() async throws {
        let (_, app) = try Harness.workbench("server-manage-rename")
        try await app.test(.router) { client in
            let (project, image) = try await WorkbenchDefectsTests.disksProject(client)
            let renamed = try await Harness.post(client, "/api/projects/\(project)", #"{"name": "  Sandstone core 3 ", "sessionId": "session-0001"}"#, method: .put)
            #expect(renamed["name"] as? String == "Sandstone core 3")
            #expect(try await Harness.get(client, "/api/projects/\(project)")["name"] as? String == "Sandstone core 3")
            // Image names are display names, sanitised as at upload.
            let image2 = try await Harness.post(client, "/api/images/\(image)", #"{"name": "../slice-0042.tif", "sessionId": "session-0001"}"#, method: .put)
            #expect(image2["name"] as? String == "slice-0042.tif")
            #expect(try await Harness.get(client, "/api/images/\(image)")["name"] as? String == "slice-0042.tif")
            let projectEvents = try await Self.events(client, type: "project.rename")
            #expect(projectEvents.count == 1)
            #expect((projectEvents.first?["payload"] as? [String: Any])?["to"] as? String == "Sandstone core 3")
            let imageEvents = try await Self.events(client, type: "image.rename")
            #expect((imageEvents.first?["payload"] as? [String: Any])?["from"] as? String == "disks.tif")
            #expect(imageEvents.first?["imageId"] as? String == image)

            for (uri, body, status, message) in [
                ("/api/projects/\(project)", #"{"name": "   "}"#, HTTPResponse.Status.badRequest, "project name must be 1 to 200 characters, got 0"),
                ("/api/projects/\(project)", "{\"name\": \"\(String(repeating: "a", count: 201))\"}", .badRequest, "project name must be 1 to 200 characters, got 201"),
                ("/api/images/\(image)", #"{"name": ""}"#, .badRequest, "image name must be 1 to 200 characters, got 0"),
                ("/api/images/nope", #"{"name": "x"}"#, .notFound, "no image with id nope"),
                ("/api/projects/nope", #"{"name": "x"}"#, .notFound, "no project with id nope"),
            ] {
                let response = try await client.execute(uri: uri, method: .put, headers: Harness.headers(), body: Harness.body(body))
                #expect(response.status == status && Harness.errorMessage(response) == message, "\(uri) \(body): \(Harness.errorMessage(response))")
            }
            #expect(try await Harness.get(client, "/api/projects/\(project)")["name"] as? String == "Sandstone core 3")
        }
    }

    @Test func deletingAnImageRemovesItsWorkAndItsBlobOnlyWhenUnshared() async throws {
        let (workbench, app) = try Harness.workbench("server-manage-image")
        let data = workbench.configuration.dataDirectory
        try await app.test(.router) { client in
            let (project, image) = try await WorkbenchDefectsTests.disksProject(client)
            let dto = try await Harness.get(client, "/api/images/\(image)")
            let sha = try #require(dto["sha256"] as? String)
            // The same file uploaded again: another image, the same blob.
            let twin = try await Harness.uploadImage(client, project: project, name: "twin.tif",
                                                     bytes: try Harness.tiff(WorkbenchDefectsTests.diskStack().0.plane(0)))
            #expect(try await Harness.get(client, "/api/images/\(twin)")["sha256"] as? String == sha)
            _ = try await WorkbenchDefectsTests.stroke(client, twin, class: 1, at: (16.5, 18.5), plane: 0)

            _ = try await Harness.run(client, "/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "mode": "grid", "gridRows": 4, "gridColumns": 4, "clusterCount": 2, "seed": 1, "excludeDark": false}"#)
            let trained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            let model = try #require((trained["result"] as? [String: Any])?["modelId"] as? String)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let prediction = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            _ = try await Harness.run(client, "/api/images/\(image)/objects", #"{"sessionId": "session-0001", "predictionId": "\#(prediction)", "class": 1, "minimumSize": 1}"#)
            let tile = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png", method: .get)
            #expect(tile.status == .ok)
            #expect(Harness.files(under: data + "/tiles").contains { $0.hasPrefix(image + "/") })
            let resultFiles = Harness.files(under: data + "/results")
            #expect(resultFiles.contains { $0.hasPrefix("predictions/\(prediction).") })

            // The confirm's counts, then the deletion with the same counts.
            let preview = try await Harness.get(client, "/api/images/\(image)/deletion")
            let expected: [String: Int] = ["images": 1, "strokes": 4, "clusterings": 1, "predictions": 1, "objectSets": 1,
                                           "models": 0, "classes": 0, "runningJobs": 0]
            #expect(preview.mapValues { $0 as? Int } == expected.mapValues { Optional($0) })
            let deleted = try await Harness.post(client, "/api/images/\(image)?sessionId=session-0001", "", method: .delete)
            #expect(deleted.mapValues { $0 as? Int } == expected.mapValues { Optional($0) })

            for uri in ["/api/images/\(image)", "/api/predictions/\(prediction)", "/api/images/\(image)/tiles/0/0/0.png"] {
                let gone = try await client.execute(uri: uri, method: .get)
                #expect(gone.status == .notFound, "\(uri)")
            }
            let images = try await Harness.get(client, "/api/projects/\(project)/images")["images"] as? [[String: Any]] ?? []
            #expect(images.map { $0["id"] as? String } == [twin])
            // Its results' files and cached tiles are gone; the project's model and the twin's blob stay.
            let after = Harness.files(under: data + "/results")
            #expect(after.allSatisfy { $0.hasPrefix("models/") })
            #expect(after.contains("models/\(model).json"))
            #expect(!Harness.files(under: data + "/tiles").contains { $0.hasPrefix(image + "/") })
            #expect(try await Harness.get(client, "/api/models/\(model)")["id"] as? String == model)
            let blob = workbench.blobs.path(for: sha)
            #expect(FileManager.default.fileExists(atPath: blob))
            let jobs = try await Harness.get(client, "/api/jobs?imageId=\(image)")["jobs"] as? [[String: Any]] ?? []
            #expect(jobs.isEmpty)
            let event = try #require(try await Self.events(client, type: "image.delete").first)
            #expect((event["payload"] as? [String: Any])?["strokes"] as? Int == 4)
            #expect((event["payload"] as? [String: Any])?["name"] as? String == "disks.tif")

            // The last image with that content takes the blob with it.
            _ = try await Harness.post(client, "/api/images/\(twin)", "", method: .delete)
            #expect(!FileManager.default.fileExists(atPath: blob))
            #expect(try await client.execute(uri: "/api/images/\(twin)", method: .delete, headers: Harness.headers()).status == .notFound)
        }
    }

    @Test func deletingAnImageCancelsItsRunningJobFirst() async throws {
        let (workbench, app) = try Harness.workbench("server-manage-cancel")
        try await app.test(.router) { client in
            let (_, image) = try await WorkbenchDefectsTests.disksProject(client)
            // A U-Net with far more steps than the test waits for.
            let job = try await Harness.post(client, "/api/images/\(image)/train",
                                             #"{"sessionId": "session-0001", "method": "unet", "steps": 20000, "seed": 1}"#, status: .accepted)
            let id = try #require(job["id"] as? String)
            let jobs = workbench.jobs
            let final = Task { await jobs.wait(id) }
            while workbench.jobs.job(id)?.state != "running" { try await Task.sleep(for: .milliseconds(20)) }
            let deleted = try await Harness.post(client, "/api/images/\(image)", "", method: .delete)
            #expect(deleted["runningJobs"] as? Int == 1)
            #expect(await final.value?.state == "cancelled")
            #expect(workbench.jobs.job(id) == nil)
            #expect(workbench.jobs.unfinished(imageIDs: [image], projectID: nil).isEmpty)
            // No model was written for the deleted image.
            #expect(!Harness.files(under: workbench.configuration.dataDirectory + "/results").contains { $0.hasPrefix("models/") })
        }
    }

    @Test func deletingAProjectRemovesEverythingOfIt() async throws {
        let (workbench, app) = try Harness.workbench("server-manage-project")
        let data = workbench.configuration.dataDirectory
        try await app.test(.router) { client in
            let (project, image) = try await WorkbenchDefectsTests.disksProject(client)
            let sha = try #require(try await Harness.get(client, "/api/images/\(image)")["sha256"] as? String)
            // Another project with a different image, and one with the same file.
            let (other, otherImage) = try await WorkbenchDefectsTests.disksProject(client, name: "other.tif", spacing: false)
            let shared = try await Harness.createProject(client, name: "Shared")
            let sharedImage = try await Harness.uploadImage(client, project: shared, name: "same.tif",
                                                            bytes: try Harness.tiff(WorkbenchDefectsTests.diskStack().0.plane(0)))
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            _ = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let otherModel = try await Harness.run(client, "/api/images/\(otherImage)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            let otherModelID = try #require((otherModel["result"] as? [String: Any])?["modelId"] as? String)

            let preview = try await Harness.get(client, "/api/projects/\(project)/deletion")
            #expect(preview["images"] as? Int == 1 && preview["strokes"] as? Int == 4 && preview["models"] as? Int == 1
                    && preview["classes"] as? Int == 2 && preview["predictions"] as? Int == 1)
            let deleted = try await Harness.post(client, "/api/projects/\(project)?sessionId=session-0001", "", method: .delete)
            #expect(deleted.mapValues { $0 as? Int } == preview.mapValues { $0 as? Int })

            #expect(try await client.execute(uri: "/api/projects/\(project)", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/images/\(image)", method: .get).status == .notFound)
            let projects = try await Harness.get(client, "/api/projects")["projects"] as? [[String: Any]] ?? []
            #expect(Set(projects.compactMap { $0["id"] as? String }) == [other, shared])
            // Only the other project's model file is left; the shared blob stays with the other project's image.
            #expect(Harness.files(under: data + "/results") == ["models/\(otherModelID).json"])
            #expect(FileManager.default.fileExists(atPath: workbench.blobs.path(for: sha)))
            #expect(try await Harness.get(client, "/api/images/\(sharedImage)")["sha256"] as? String == sha)
            let leftovers = try await workbench.database.read { db in
                try ["images", "classes", "models", "jobs"].map { table in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE project_id = ?", arguments: [project]) ?? -1
                }
            }
            #expect(leftovers == [0, 0, 0, 0])
            let event = try #require(try await Self.events(client, type: "project.delete").first)
            #expect(event["projectId"] as? String == project)
            #expect((event["payload"] as? [String: Any])?["models"] as? Int == 1)
            // The other project still trains and predicts.
            _ = try await Harness.run(client, "/api/images/\(otherImage)/predict", #"{"sessionId": "session-0001"}"#)
        }
    }

    @Test func aClassWithStrokesOrCorrectionsIsDeletedOnlyByDiscardingThem() async throws {
        let (_, app) = try Harness.workbench("server-manage-class")
        try await app.test(.router) { client in
            let (project, image) = try await WorkbenchDefectsTests.disksProject(client)
            let third = try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "crack"}"#, status: .created)
            let thirdID = try #require(third["id"] as? String)
            _ = try await WorkbenchDefectsTests.stroke(client, image, class: 3, at: (30.5, 4.5), plane: 0)
            let trained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            let model = try #require((trained["result"] as? [String: Any])?["modelId"] as? String)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let prediction = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            // A lasso of 8 × 4 pixels corrected to the crack class.
            let corrected = try await Harness.post(client, "/api/predictions/\(prediction)/corrections",
                                                   #"{"sessionId": "session-0001", "class": 3, "mode": "lasso", "points": [[20, 40], [28, 40], [28, 44], [20, 44]]}"#)
            #expect(corrected["correctedPixels"] as? Int == 32)
            let referenceBefore = try await Harness.get(client, "/api/images/\(image)/reference")
            #expect(referenceBefore["correctedPixels"] as? Int == 32 && referenceBefore["activeStrokes"] as? Int == 5)

            // Refused with the counts, and nothing changes.
            let refused = try await client.execute(uri: "/api/classes/\(thirdID)?sessionId=session-0001", method: .delete, headers: Harness.headers())
            #expect(refused.status == .conflict)
            let body = try Harness.object(refused)
            #expect(body["strokes"] as? Int == 1 && body["correctedPixels"] as? Int == 32)
            #expect(Harness.errorMessage(refused) == "class crack labels 1 stroke(s) and 32 corrected pixel(s); delete it with discard=true to discard them (they are kept for provenance, not used for training)")
            #expect((try await Harness.get(client, "/api/projects/\(project)/classes")["classes"] as? [Any])?.count == 3)

            let deleted = try await Harness.post(client, "/api/classes/\(thirdID)?discard=true&sessionId=session-0001", "", method: .delete)
            #expect(deleted["deleted"] as? Int == 1 && deleted["discardedStrokes"] as? Int == 1 && deleted["discardedCorrectedPixels"] as? Int == 32)
            let classes = try await Harness.get(client, "/api/projects/\(project)/classes")["classes"] as? [[String: Any]] ?? []
            #expect(classes.map { $0["name"] as? String } == ["disk", "film"])
            // The stroke is kept as discarded; the corrections are no reference labels any more.
            let strokes = try await Harness.get(client, "/api/images/\(image)/strokes?include=undone")["strokes"] as? [[String: Any]] ?? []
            #expect(strokes.filter { $0["class"] as? Int == 3 }.map { $0["state"] as? String } == ["discarded"])
            #expect((try await Harness.get(client, "/api/images/\(image)/strokes")["strokes"] as? [[String: Any]] ?? []).count == 4)
            let referenceAfter = try await Harness.get(client, "/api/images/\(image)/reference")
            #expect(referenceAfter["correctedPixels"] as? Int == 0)
            #expect(referenceAfter["activeStrokes"] as? Int == 4)
            // The next model learns two classes; the first keeps its three.
            let retrained = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            let second = try #require((retrained["result"] as? [String: Any])?["modelId"] as? String)
            let secondClasses = try await Harness.get(client, "/api/models/\(second)")["classes"] as? [[String: Any]] ?? []
            #expect(secondClasses.map { $0["value"] as? Int } == [1, 2])
            let firstClasses = try await Harness.get(client, "/api/models/\(model)")["classes"] as? [[String: Any]] ?? []
            #expect(firstClasses.map { $0["value"] as? Int } == [1, 2, 3])
            let event = try #require(try await Self.events(client, type: "class.delete").first)
            #expect((event["payload"] as? [String: Any])?["discardedCorrectedPixels"] as? Int == 32)
        }
    }
}
