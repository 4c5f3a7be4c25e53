import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct EventRoutesTests {
    static let batch = #"""
    {"events": [
      {"type": "session.start", "sessionId": "session-0001", "clientTime": "2026-11-24T06:00:00.000Z"},
      {"type": "viewport", "sessionId": "session-0001", "imageId": "img-1",
       "payload": {"x": 12, "y": -3.5, "scale": 0.25, "tags": ["a", true, null]}}
    ]}
    """#

    @Test func eventsRoundTripPerUserAndCanBeDeleted() async throws {
        let app = try await buildApplication(Harness.configuration("server-events"))
        try await app.test(.router) { client in
            let posted = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body(Self.batch))
            #expect(posted.status == .created)
            let stored = try Harness.object(posted)["events"] as? [[String: Any]] ?? []
            #expect(stored.count == 2)
            let other = #"{"events": [{"type": "tool.change", "sessionId": "session-9999", "payload": {"tool": "brush"}}]}"#
            _ = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(user: Harness.otherUser), body: Harness.body(other))

            let mine = try Harness.object(try await client.execute(uri: "/api/events", method: .get, headers: Harness.headers()))
            let events = mine["events"] as? [[String: Any]] ?? []
            #expect(events.map { $0["type"] as? String } == ["session.start", "viewport"])
            #expect(events.allSatisfy { $0["userId"] as? String == Harness.user && $0["sessionId"] as? String == "session-0001" })
            #expect(events[0]["clientTime"] as? String == "2026-11-24T06:00:00.000Z")
            #expect(events[0]["serverTime"] as? String != nil)
            #expect(events[0]["appVersion"] as? String != nil)
            #expect(events[1]["imageId"] as? String == "img-1")
            let payload = events[1]["payload"] as? [String: Any]
            #expect(payload?["x"] as? Double == 12 && payload?["y"] as? Double == -3.5 && payload?["scale"] as? Double == 0.25)
            #expect((payload?["tags"] as? [Any])?.count == 3)
            let filtered = try Harness.object(try await client.execute(uri: "/api/events?imageId=img-1", method: .get, headers: Harness.headers()))
            #expect((filtered["events"] as? [Any])?.count == 1)

            let deleted = try await client.execute(uri: "/api/events", method: .delete, headers: Harness.headers())
            #expect(deleted.status == .ok)
            #expect(try Harness.object(deleted)["deleted"] as? Int == 2)
            let after = try Harness.object(try await client.execute(uri: "/api/events", method: .get, headers: Harness.headers()))
            #expect((after["events"] as? [Any])?.count == 0)
            let theirs = try Harness.object(try await client.execute(uri: "/api/events", method: .get, headers: Harness.headers(user: Harness.otherUser)))
            #expect((theirs["events"] as? [Any])?.count == 1)
        }
    }

    @Test func badEventRequests() async throws {
        let app = try await buildApplication(Harness.configuration("server-events-bad", maximumJSONBytes: 256 << 10))
        try await app.test(.router) { client in
            let ok = #"{"events": [{"type": "x", "sessionId": "session-0001"}]}"#
            let noUser = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(user: nil), body: Harness.body(ok))
            // Without the header a state-changing request is refused before the route (cross-site guard).
            #expect(noUser.status == .forbidden)
            #expect(Harness.errorMessage(noUser).hasPrefix("refused: a POST needs the X-Cleave-User header"))
            var short = Harness.headers()
            short[.init("X-Cleave-User")!] = "abc"
            let malformed = try await client.execute(uri: "/api/events", method: .post, headers: short, body: Harness.body(ok))
            #expect(malformed.status == .badRequest)
            #expect(Harness.errorMessage(malformed) == "X-Cleave-User must be 8 to 64 letters, digits, '-' or '_'")
            let email = try await client.execute(uri: "/api/events", method: .get, headers: Harness.headers(user: "someone@example.org"))
            #expect(email.status == .badRequest)
            let badType = #"{"events": [{"type": "Not A Type", "sessionId": "session-0001"}]}"#
            #expect(try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body(badType)).status == .badRequest)
            let badSession = #"{"events": [{"type": "x", "sessionId": "s"}]}"#
            #expect(try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body(badSession)).status == .badRequest)
            let notJSON = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body("events=1"))
            #expect(notJSON.status == .badRequest)
            let wrongShape = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body(#"{"events": {}}"#))
            #expect(Harness.errorMessage(wrongShape) == "malformed JSON body: wrong type at events")
            let many = "{\"events\": [" + Array(repeating: #"{"type": "x", "sessionId": "session-0001"}"#, count: 1001).joined(separator: ",") + "]}"
            let tooMany = try await client.execute(uri: "/api/events", method: .post, headers: Harness.headers(), body: Harness.body(many))
            #expect(tooMany.status == .contentTooLarge)
            // Nothing from the failed batches was stored (each batch is one transaction).
            let mine = try Harness.object(try await client.execute(uri: "/api/events", method: .get, headers: Harness.headers()))
            #expect((mine["events"] as? [Any])?.count == 0)
        }
    }
}
