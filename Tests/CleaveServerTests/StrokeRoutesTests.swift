import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct StrokeRoutesTests {
    static func stroke(_ classIndex: Int, _ x: Double) -> String {
        #"{"sessionId": "session-0001", "class": \#(classIndex), "radius": 4.5, "points": [[\#(x), 10], [\#(x + 5), 12.25]]}"#
    }

    static func strokeIDs(_ client: some TestClientProtocol, _ image: String, all: Bool = false) async throws -> [Int] {
        let response = try await client.execute(uri: "/api/images/\(image)/strokes" + (all ? "?include=undone" : ""), method: .get)
        return (try Harness.object(response)["strokes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
    }

    @Test func strokesUndoRedoAndEvents() async throws {
        let app = try await buildApplication(Harness.configuration("server-strokes"))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif",
                                                      bytes: try Harness.tiff(Harness.rampImage(width: 64, height: 64)))
            var ids: [Int] = []
            for (classIndex, x) in [(1, 1.0), (2, 20.0), (1, 40.0)] {
                let response = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(),
                                                        body: Harness.body(Self.stroke(classIndex, x)))
                #expect(response.status == .created)
                let stroke = try Harness.object(response)
                #expect(stroke["class"] as? Int == classIndex && stroke["radius"] as? Double == 4.5 && stroke["state"] as? String == "active")
                #expect((stroke["points"] as? [[Double]]) == [[x, 10], [x + 5, 12.25]])
                ids.append(try #require(stroke["id"] as? Int))
            }
            #expect(try await Self.strokeIDs(client, image) == ids)

            let session = Harness.body(#"{"sessionId": "session-0001"}"#)
            let undo1 = try Harness.object(try await client.execute(uri: "/api/images/\(image)/strokes/undo", method: .post, headers: Harness.headers(), body: session))
            #expect((undo1["stroke"] as? [String: Any])?["id"] as? Int == ids[2])
            _ = try await client.execute(uri: "/api/images/\(image)/strokes/undo", method: .post, headers: Harness.headers(), body: session)
            #expect(try await Self.strokeIDs(client, image) == [ids[0]])
            let redo = try Harness.object(try await client.execute(uri: "/api/images/\(image)/strokes/redo", method: .post, headers: Harness.headers(), body: session))
            #expect((redo["stroke"] as? [String: Any])?["id"] as? Int == ids[1])   // most recently undone first
            #expect(try await Self.strokeIDs(client, image) == [ids[0], ids[1]])

            // A new stroke clears the redo stack.
            let fourth = try Harness.object(try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(),
                                                                     body: Harness.body(Self.stroke(2, 50))))
            let nothing = try await client.execute(uri: "/api/images/\(image)/strokes/redo", method: .post, headers: Harness.headers(), body: session)
            #expect(nothing.status == .ok)
            #expect(try Harness.object(nothing)["stroke"] is NSNull)
            #expect(try await Self.strokeIDs(client, image) == [ids[0], ids[1], try #require(fourth["id"] as? Int)])
            #expect(try await Self.strokeIDs(client, image, all: true).count == 4)

            // Every action is an event of this user, tied to the image.
            let events = try Harness.object(try await client.execute(uri: "/api/events?imageId=\(image)", method: .get, headers: Harness.headers()))["events"]
                as? [[String: Any]] ?? []
            #expect(events.map { $0["type"] as? String } == ["stroke", "stroke", "stroke", "undo", "undo", "redo", "stroke"])   // the empty redo records nothing
            #expect((events[0]["payload"] as? [String: Any])?["strokeId"] as? Int == ids[0])
            #expect(events.allSatisfy { $0["projectId"] as? String == project })
        }
    }

    @Test func badStrokeRequests() async throws {
        let app = try await buildApplication(Harness.configuration("server-strokes-bad"))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif",
                                                      bytes: try Harness.tiff(Harness.rampImage(width: 16, height: 16)))
            let bodies = [
                #"{"sessionId": "session-0001", "class": 256, "radius": 2, "points": [[1, 1]]}"#,
                #"{"sessionId": "session-0001", "class": -1, "radius": 2, "points": [[1, 1]]}"#,
                #"{"sessionId": "session-0001", "class": 1, "radius": -2, "points": [[1, 1]]}"#,
                #"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": []}"#,
                #"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": [[1, 1, 1]]}"#,
                #"{"sessionId": "session-0001", "class": 1, "radius": 2}"#,
                #"{"sessionId": "x", "class": 1, "radius": 2, "points": [[1, 1]]}"#,
            ]
            for body in bodies {
                let response = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(), body: Harness.body(body))
                #expect(response.status == .badRequest, "\(body)")
            }
            let noUser = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(user: nil),
                                                  body: Harness.body(Self.stroke(1, 1)))
            #expect(noUser.status == .forbidden)
            let unknown = try await client.execute(uri: "/api/images/nope/strokes", method: .post, headers: Harness.headers(), body: Harness.body(Self.stroke(1, 1)))
            #expect(unknown.status == .notFound)
            let undoUnknown = try await client.execute(uri: "/api/images/nope/strokes/undo", method: .post, headers: Harness.headers(),
                                                       body: Harness.body(#"{"sessionId": "session-0001"}"#))
            #expect(undoUnknown.status == .notFound)
            #expect(try await Self.strokeIDs(client, image, all: true).isEmpty)
        }
    }

    @Test func strokesSurviveARestartOnTheSameDataDirectory() async throws {
        let configuration = Harness.configuration("server-strokes-restart")
        let app = try await buildApplication(configuration)
        let (image, saved) = try await app.test(.router) { client -> (String, [Int]) in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif",
                                                      bytes: try Harness.tiff(Harness.rampImage(width: 32, height: 32)))
            var saved: [Int] = []
            for x in [1.0, 2.0, 3.0] {
                let response = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(),
                                                        body: Harness.body(Self.stroke(1, x)))
                saved.append(try #require(try Harness.object(response)["id"] as? Int))
            }
            _ = try await client.execute(uri: "/api/images/\(image)/strokes/undo", method: .post, headers: Harness.headers(),
                                         body: Harness.body(#"{"sessionId": "session-0001"}"#))
            return (image, saved)
        }
        // A second application on the same data directory: a restart.
        let restarted = try await buildApplication(configuration)
        try await restarted.test(.router) { client in
            #expect(try await Self.strokeIDs(client, image) == Array(saved.prefix(2)))
            let redo = try await client.execute(uri: "/api/images/\(image)/strokes/redo", method: .post, headers: Harness.headers(),
                                                body: Harness.body(#"{"sessionId": "session-0001"}"#))
            #expect((try Harness.object(redo)["stroke"] as? [String: Any])?["id"] as? Int == saved[2])
            let tile = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png", method: .get)
            #expect(tile.status == .ok)
        }
    }
}
