import CleaveFormats
import CleavePipelines
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ProjectRoutesTests {
    @Test func createListAndFetchProjects() async throws {
        let app = try await buildApplication(Harness.configuration("server-projects"))
        try await app.test(.router) { client in
            let first = try await Harness.createProject(client, name: "Sandstone")
            _ = try await Harness.createProject(client, name: "  Microcrystals  ")
            let list = try await client.execute(uri: "/api/projects", method: .get)
            #expect(list.status == .ok)
            let projects = try Harness.object(list)["projects"] as? [[String: Any]] ?? []
            #expect(projects.map { $0["name"] as? String } == ["Sandstone", "Microcrystals"])
            let one = try await client.execute(uri: "/api/projects/\(first)", method: .get)
            #expect(one.status == .ok)
            #expect(try Harness.object(one)["name"] as? String == "Sandstone")
            let images = try await client.execute(uri: "/api/projects/\(first)/images", method: .get)
            #expect((try Harness.object(images)["images"] as? [Any])?.count == 0)
        }
    }

    @Test func badProjectRequestsAreOneLineJSONErrors() async throws {
        let app = try await buildApplication(Harness.configuration("server-projects-bad", maximumJSONBytes: 1024))
        try await app.test(.router) { client in
            let unknown = try await client.execute(uri: "/api/projects/nope", method: .get)
            #expect(unknown.status == .notFound)
            #expect(Harness.errorMessage(unknown) == "no project with id nope")
            #expect(unknown.headers[.contentType]?.hasPrefix("application/json") == true)

            let unknownImages = try await client.execute(uri: "/api/projects/nope/images", method: .get)
            #expect(unknownImages.status == .notFound)

            let malformed = try await client.execute(uri: "/api/projects", method: .post, headers: Harness.headers(),
                                                     body: Harness.body("{\"name\": "))
            #expect(malformed.status == .badRequest)
            #expect(Harness.errorMessage(malformed).hasPrefix("malformed JSON body"))

            let missing = try await client.execute(uri: "/api/projects", method: .post, headers: Harness.headers(),
                                                   body: Harness.body("{\"title\": \"x\"}"))
            #expect(missing.status == .badRequest)
            #expect(Harness.errorMessage(missing) == "malformed JSON body: missing field \"name\"")

            let empty = try await client.execute(uri: "/api/projects", method: .post, headers: Harness.headers(),
                                                 body: Harness.body("{\"name\": \"   \"}"))
            #expect(empty.status == .badRequest)

            let huge = "{\"name\": \"" + String(repeating: "x", count: 2000) + "\"}"
            let oversized = try await client.execute(uri: "/api/projects", method: .post, headers: Harness.headers(),
                                                     body: Harness.body(huge))
            #expect(oversized.status == .contentTooLarge)
            #expect(Harness.errorMessage(oversized) == "request body exceeds the limit of 1024 bytes")

            let noRoute = try await client.execute(uri: "/api/nothing-here", method: .get)
            #expect(noRoute.status == .notFound)
            #expect(Harness.errorMessage(noRoute).contains("/api/nothing-here"))

            let list = try await client.execute(uri: "/api/projects", method: .get)
            #expect((try Harness.object(list)["projects"] as? [Any])?.count == 0)
        }
    }

    @Test func demoProjectIsCreatedOnce() async throws {
        let configuration = Harness.configuration("server-demo", demo: true)
        for _ in 0..<2 {
            let app = try await buildApplication(configuration)
            try await app.test(.router) { client in
                let projects = try Harness.object(try await client.execute(uri: "/api/projects", method: .get))["projects"]
                    as? [[String: Any]] ?? []
                #expect(projects.count == 1)
                let id = try #require(projects.first?["id"] as? String)
                #expect(projects.first?["name"] as? String == "Demo")
                let images = try Harness.object(try await client.execute(uri: "/api/projects/\(id)/images", method: .get))["images"]
                    as? [[String: Any]] ?? []
                #expect(images.count == 1)
                #expect(images.first?["width"] as? Int == 1024)
                #expect(images.first?["pixelType"] as? String == "uint16")
                let spacing = images.first?["spacing"] as? [String: Any]
                #expect(spacing?["x"] as? Double == 5)
                #expect(spacing?["unit"] as? String == "nm")
                let classes = try Harness.object(try await client.execute(uri: "/api/projects/\(id)/classes", method: .get))["classes"]
                    as? [[String: Any]] ?? []
                #expect(classes.map { $0["name"] as? String } == ["particle", "film", "grid bar"])
                // Example strokes and a first whole-image result, made once.
                let image = try #require(images.first?["id"] as? String)
                let strokes = try Harness.object(try await client.execute(uri: "/api/images/\(image)/strokes", method: .get))["strokes"] as? [Any] ?? []
                #expect(strokes.count == 9)
                let predictions = try Harness.object(try await client.execute(uri: "/api/images/\(image)/predictions", method: .get))["predictions"]
                    as? [[String: Any]] ?? []
                #expect(predictions.count == 1)
                #expect((predictions.first?["fractions"] as? [Any])?.count == 3)
            }
        }
    }

    @Test func demoImageIsTheSyntheticTileSetsTile() async throws {
        let configuration = Harness.configuration("server-demo-pixels", demo: true)
        let workbench = try Workbench(configuration: configuration)
        try await DemoProject.ensure(in: workbench)
        let project = try #require(try await workbench.projects().first)
        let image = try #require(try await workbench.images(projectID: project.id).first)
        let expected = try SyntheticTileSet.generate(DemoProject.options).tiles[0]
        let stored = try ImageFile.read(data: try workbench.blobs.verifiedBytes(sha256: image.sha256))
        guard case .uint16(let pixels) = stored else { Issue.record("demo image is not 16-bit"); return }
        #expect(pixels.pixels == expected.image.pixels)
        // Real particles to cluster: the truth mask covers a few percent of the tile, the bar some more.
        let particleShare = Double(expected.particleMask.pixels.filter { $0 > 0 }.count) / Double(1024 * 1024)
        #expect(particleShare > 0.01 && particleShare < 0.5)
        // Every pixel of every example stroke lies in its class in the generator's truth (1 particle,
        // 2 film, 3 grid bar), three strokes per class.
        let strokes = DemoProject.exampleStrokes(expected)
        #expect(strokes.map(\.class) == [1, 1, 1, 2, 2, 2, 3, 3, 3])
        for stroke in strokes {
            // Pixels whose centre is within the radius of the segment (an independent rasterisation).
            let (a, b, r) = (stroke.points[0], stroke.points[1], stroke.radius)
            var covered: [Int] = []
            for y in Int(min(a[1], b[1]) - r - 1)...Int(max(a[1], b[1]) + r + 1) {
                for x in Int(min(a[0], b[0]) - r - 1)...Int(max(a[0], b[0]) + r + 1) {
                    let (px, py) = (Double(x) + 0.5, Double(y) + 0.5), (dx, dy) = (b[0] - a[0], b[1] - a[1])
                    let t = max(0, min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)))
                    if pow(px - a[0] - t * dx, 2) + pow(py - a[1] - t * dy, 2) <= r * r { covered.append(y * 1024 + x) }
                }
            }
            #expect(!covered.isEmpty)
            let truth: (Int) -> Bool = switch stroke.class {
            case 1: { expected.particleMask.pixels[$0] > 0 }
            case 2: { expected.particleMask.pixels[$0] == 0 && expected.barMask.pixels[$0] == 0 }
            default: { expected.barMask.pixels[$0] > 0 }
            }
            #expect(covered.allSatisfy(truth), "stroke of class \(stroke.class) at \(stroke.points)")
        }
        // The first result: the image's one prediction, with the particle share near the truth's.
        let prediction = try #require(try await workbench.predictions(imageID: image.id).first)
        let particle = try #require(prediction.fractions.first { $0.name == "particle" })
        #expect(abs(particle.percent / 100 - particleShare) < 0.05, "particle \(particle.percent) % vs truth \(100 * particleShare) %")
    }
}
