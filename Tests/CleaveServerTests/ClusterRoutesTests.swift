import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import CleaveTestSupport

@Suite struct ClusterRoutesTests {
    static let body = #"{"sessionId": "session-0001", "mode": "grid", "gridRows": 8, "gridColumns": 8, "clusterCount": 3, "seed": 1}"#

    @Test func clusterPickMergeAcceptAndCachedRecluster() async throws {
        let (_, app) = try Harness.workbench("server-cluster")
        let bytes = try Harness.particleTile()
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: bytes)
            let job = try await Harness.run(client, "/api/images/\(image)/cluster", Self.body)
            #expect(job["kind"] as? String == "cluster")
            let id = try #require((job["result"] as? [String: Any])?["clusteringId"] as? String)
            var clustering = try await Harness.get(client, "/api/clusterings/\(id)")
            #expect(clustering["clusterCount"] as? Int == 3)
            #expect(clustering["patchCount"] as? Int == 64)
            #expect(clustering["featuresCached"] as? Bool == false)
            let clusters = try #require(clustering["clusters"] as? [[String: Any]])
            #expect(clusters.count == 3)
            #expect(clusters.map { $0["size"] as? Int ?? 0 }.reduce(0, +) == 64)

            // The same answer as the CLI's pipeline call on the same pixels.
            let decoded = try ImageFile.read(data: bytes)
            let options = LocatorOptions(sampling: .patches(.grid(rows: 8, columns: 8)), clusterCount: 3, seed: 1)
            let direct = try Locator.run([try Locator.image(decoded, name: "tile.tif")], options: options)
            #expect(clusters.map { $0["size"] as? Int } == direct.clusterSizes.map { Optional($0) })
            #expect(clustering["suggestedPick"] as? Int == direct.picked)

            // Re-cluster with another k: features come from the cache.
            let again = try await Harness.run(client, "/api/images/\(image)/cluster", Self.body.replacingOccurrences(of: "\"clusterCount\": 3", with: "\"clusterCount\": 2"))
            let second = try await Harness.get(client, "/api/clusterings/\((again["result"] as? [String: Any])?["clusteringId"] as? String ?? "")")
            #expect(second["featuresCached"] as? Bool == true)
            #expect(second["clusterCount"] as? Int == 2)

            // Overlay: RGBA, image-sized (256 ≤ 512 → scale 1), alpha from opacity.
            let overlay = try await client.execute(uri: "/api/clusterings/\(id)/overlay.png?opacity=0.5", method: .get)
            #expect(overlay.status == .ok && overlay.headers[.contentType] == "image/png")
            let png = try ImageFile.read(data: [UInt8](overlay.body.readableBytesView))
            #expect(png.shape == Shape(width: 256, height: 256, channels: 4))
            if case .uint8(let rgba) = png { #expect(rgba[10, 10, 0, 3] == 128) }

            // Pick + name (matching a class by name), merge, accept.
            _ = try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "particle", "colour": "#ff0000"}"##, status: .created)
            clustering = try await Harness.post(client, "/api/clusterings/\(id)/pick", #"{"sessionId": "session-0001", "cluster": 0, "name": "Particle"}"#)
            var picked = try #require((clustering["clusters"] as? [[String: Any]])?.first)
            #expect(picked["picked"] as? Bool == true && picked["name"] as? String == "Particle" && picked["class"] as? Int == 1)
            clustering = try await Harness.post(client, "/api/clusterings/\(id)/merge", #"{"sessionId": "session-0001", "clusters": [0, 2]}"#)
            let merged = try #require(clustering["clusters"] as? [[String: Any]])
            picked = merged[0]
            #expect(merged[2]["mergedInto"] as? Int == 0 && merged[2]["size"] as? Int == 0)
            #expect(picked["size"] as? Int == direct.clusterSizes[0] + direct.clusterSizes[2])
            // A pixel of a former cluster-2 patch now reports cluster 0.
            let patch2 = try #require(direct.labels.firstIndex(of: 2))
            let region = direct.layout.region(image: 0, row: patch2 / 8, column: patch2 % 8)
            let at = try await Harness.get(client, "/api/clusterings/\(id)/at?x=\(region.x + 1)&y=\(region.y + 1)")
            #expect(at["cluster"] as? Int == 0)
            clustering = try await Harness.post(client, "/api/clusterings/\(id)/accept", #"{"sessionId": "session-0001"}"#)
            #expect(clustering["state"] as? String == "accepted")
            let list = try await Harness.get(client, "/api/images/\(image)/clusterings")
            #expect((list["clusterings"] as? [[String: Any]])?.count == 2)

            // Events: run (with algorithm, k, features, seed, model version), pick, merge, accept.
            let events = try await Harness.get(client, "/api/events?imageId=\(image)")["events"] as? [[String: Any]] ?? []
            #expect(events.map { $0["type"] as? String ?? "" } == ["cluster.run", "cluster.run", "cluster.pick", "cluster.merge", "accept"])
            let run = try #require(events.first?["payload"] as? [String: Any])
            #expect(run["algorithm"] as? String == "kmeans" && run["clusterCount"] as? Int == 3 && run["seed"] as? Int == 1)
            #expect((run["features"] as? [String])?.isEmpty == false && run["modelVersion"] as? String != nil)
            #expect(events.allSatisfy { $0["sessionId"] as? String == Harness.session && $0["userId"] as? String == Harness.user })
        }
    }

    /// Issue 18 item 4: a Pick teaches a Locator model (the CLI's `Locator.learnPicks` on the same
    /// run, with the merges applied), served as model.json; clustering another image with
    /// `pickModelFrom` classifies it with that model, the picked cluster arriving picked and named.
    @Test func pickTeachesAModelThatClassifiesAnotherImage() async throws {
        let (_, app) = try Harness.workbench("server-pick-model")
        let bytes = try Harness.particleTile(), other = try Harness.particleTile(seed: 4)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: bytes)
            let second = try await Harness.uploadImage(client, project: project, name: "other.tif", bytes: other)
            let job = try await Harness.run(client, "/api/images/\(image)/cluster", Self.body)
            let id = try #require((job["result"] as? [String: Any])?["clusteringId"] as? String)
            let before = try await client.execute(uri: "/api/clusterings/\(id)/model.json", method: .get, headers: Harness.headers())
            #expect(before.status == .notFound)
            // Without a pick model, pickModelFrom is refused naming the field.
            let refused = try await Harness.post(client, "/api/images/\(second)/cluster",
                                                 Self.body.replacingOccurrences(of: "}", with: ", \"pickModelFrom\": \"\(id)\"}"), status: .badRequest)
            #expect((refused["error"] as? String ?? String(describing: refused)).contains("pickModelFrom"))

            let clustering = try await Harness.post(client, "/api/clusterings/\(id)/pick", #"{"sessionId": "session-0001", "cluster": 0, "name": "particle"}"#)
            let learned = try #require(clustering["pickModel"] as? [String: Any])
            #expect(learned["trainingPatches"] as? Int != nil && learned["picked"] as? [Int] == [0] && learned["name"] as? String == "particle")
            let file = try await client.execute(uri: "/api/clusterings/\(id)/model.json", method: .get, headers: Harness.headers())
            #expect(file.status == .ok)
            let folder = TestData.scratchDirectory("server-pick-model-file")
            try Data(file.body.readableBytesView).write(to: URL(fileURLWithPath: folder + "/model.json"))
            let served = try LocatorModel.load(folder + "/model.json")

            // The same model as the CLI's pipeline call on the same pixels.
            let decoded = try ImageFile.read(data: bytes)
            let options = LocatorOptions(sampling: .patches(.grid(rows: 8, columns: 8)), clusterCount: 3, seed: 1)
            let direct = try Locator.run([try Locator.image(decoded, name: "tile.tif")], options: options)
            let cli = try Locator.learnPicks(direct, picked: [0], name: "particle")
            #expect(served.classifier == cli.classifier && served.centroids == cli.centroids)

            // Another image, classified by the picks.
            let applied = try await Harness.run(client, "/api/images/\(second)/cluster",
                                                Self.body.replacingOccurrences(of: "}", with: ", \"pickModelFrom\": \"\(id)\"}"))
            let result = try await Harness.get(client, "/api/clusterings/\((applied["result"] as? [String: Any])?["clusteringId"] as? String ?? "")")
            #expect(result["route"] as? String == "classifier" && result["pickModelFrom"] as? String == id)
            let clusters = try #require(result["clusters"] as? [[String: Any]])
            #expect(clusters[0]["picked"] as? Bool == true && clusters[0]["name"] as? String == "particle")
            let expected = try Locator.run([try Locator.image(try ImageFile.read(data: other), name: "other.tif")], options: options, model: cli)
            #expect(expected.pickedBy == "classifier")
            #expect(clusters.map { $0["size"] as? Int } == expected.clusterSizes.map { Optional($0) })
        }
    }

    @Test func badClusterRequests() async throws {
        let (_, app) = try Harness.workbench("server-cluster-bad")
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif", bytes: try Harness.tiff(Harness.rampImage(width: 64, height: 64)))
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/api/images/nope/cluster", Self.body, .notFound, "no image with id nope"),
                ("/api/images/\(image)/cluster", #"{"mode": "grid"}"#, .badRequest, "sessionId must be 8 to 64 letters, digits, '-' or '_'"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "mode": "hexagon"}"#, .badRequest, "mode hexagon: use grid or window"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "clusterCount": 0}"#, .badRequest, "clusterCount 0: the cluster count must be 1 to 64"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "mode": "window", "windowSize": 8}"#, .badRequest, "windowSize 8: the window side must be odd, 3 to 1025"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "scaler": "magic"}"#, .badRequest, "scaler magic: use zscore, minmax or robust"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "reduce": "pca"}"#, .badRequest, "reduce pca: use none, pca:N, pca:FRACTION (e.g. pca:0.95) or nmf:N"),
                ("/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "clusterCount": "four"}"#, .badRequest, "malformed JSON body: wrong type at clusterCount"),
                ("/api/clusterings/nope/pick", #"{"sessionId": "session-0001", "cluster": 0, "name": "x"}"#, .notFound, "no clustering with id nope"),
            ]
            for (uri, json, status, message) in cases {
                let response = try await client.execute(uri: uri, method: .post, headers: Harness.headers(), body: Harness.body(json))
                #expect(response.status == status, "\(uri) \(json)")
                #expect(Harness.errorMessage(response) == message)
            }
            // Unknown feature names: 400 naming the word.
            let features = try await client.execute(uri: "/api/images/\(image)/cluster", method: .post, headers: Harness.headers(),
                                                    body: Harness.body(#"{"sessionId": "session-0001", "features": ["mean", "bogus"]}"#))
            #expect(features.status == .badRequest && Harness.errorMessage(features).contains("bogus"))
            // A grid finer than the image fails the job with a one-line error (the Locator's own message).
            let job = try await Harness.post(client, "/api/images/\(image)/cluster",
                                             #"{"sessionId": "session-0001", "gridRows": 100, "gridColumns": 100}"#, status: .accepted)
            let end = try await Harness.follow(client, job: job["id"] as? String ?? "")
            #expect(end.last?["state"] as? String == "failed")
            let error = try #require(end.last?["error"] as? String)
            #expect(!error.isEmpty && !error.contains("\n"))
            // It names the JSON field, never the command line's flag (issue 24).
            #expect(error.hasPrefix("gridRows 100x100: finer than the ") && !error.contains("--"), "\(error)")
            // Pick/merge of clusters that do not exist.
            let ok = try await Harness.run(client, "/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "gridRows": 4, "gridColumns": 4, "clusterCount": 2, "excludeDark": false}"#)
            let id = (ok["result"] as? [String: Any])?["clusteringId"] as? String ?? ""
            for (path, json, message) in [
                ("pick", #"{"sessionId": "session-0001", "cluster": 5, "name": "x"}"#, "cluster must be 0 to 1, got 5"),
                ("pick", #"{"sessionId": "session-0001", "cluster": 0, "name": ""}"#, "name must be 1 to 100 characters, got 0"),
                ("pick", #"{"sessionId": "session-0001", "cluster": 0, "name": "x", "class": 9}"#, "class 9 is not a class of this project (have )"),
                ("merge", #"{"sessionId": "session-0001", "clusters": [0]}"#, "clusters must be two cluster indices 0 to 1, got [0]"),
                ("merge", #"{"sessionId": "session-0001", "clusters": [1, 1]}"#, "clusters 1 and 1 are already one cluster"),
            ] {
                let response = try await client.execute(uri: "/api/clusterings/\(id)/\(path)", method: .post, headers: Harness.headers(), body: Harness.body(json))
                #expect(response.status == .badRequest)
                #expect(Harness.errorMessage(response) == message)
            }
            let opacity = try await client.execute(uri: "/api/clusterings/\(id)/overlay.png?opacity=2", method: .get)
            #expect(opacity.status == .badRequest && Harness.errorMessage(opacity) == "opacity must be 0 to 1, got 2.0")
        }
    }
}
