import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ReferenceExportTests {
    /// The stored entries of a zip (name → bytes), checking each CRC-32.
    static func entries(_ zip: [UInt8]) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:], i = 0
        func u32(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 | Int(zip[at + 2]) << 16 | Int(zip[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        while i + 30 <= zip.count, u32(i) == 0x0403_4b50 {
            let crc = UInt32(u32(i + 14)), size = u32(i + 18), nameLength = u16(i + 26), extra = u16(i + 28)
            let name = String(decoding: zip[(i + 30)..<(i + 30 + nameLength)], as: UTF8.self)
            let start = i + 30 + nameLength + extra
            let data = Array(zip[start..<(start + size)])
            #expect(CRC32.checksum(data) == crc, "\(name)")
            out[name] = data
            i = start + size
        }
        #expect(u32(zip.count - 22) == 0x0605_4b50)   // end of central directory
        #expect(u16(zip.count - 12) == out.count)
        return out
    }

    @Test func crc32MatchesZlib() {
        // python3 -c "import zlib; print(zlib.crc32(b'123456789'), zlib.crc32(b''))" → 3421780262 0
        #expect(CRC32.checksum(Array("123456789".utf8)) == 3_421_780_262)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func referenceLabelsProvenanceConsentAndExport() async throws {
        let (_, app) = try Harness.workbench("server-reference")
        let bytes = try Harness.tiff(Harness.rampImage(width: 64, height: 64))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "r.tif", bytes: bytes)
            try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "a"}"#, status: .created)
            try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "b"}"#, status: .created)
            // A 4×4 grid clustering; pick cluster 0 as class b (weak).
            let run = try await Harness.run(client, "/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "gridRows": 4, "gridColumns": 4, "clusterCount": 2}"#)
            let clusteringID = (run["result"] as? [String: Any])?["clusteringId"] as? String ?? ""
            try await Harness.post(client, "/api/clusterings/\(clusteringID)/pick", #"{"sessionId": "session-0001", "cluster": 0, "name": "b"}"#)
            let weakPatch = try await Harness.get(client, "/api/clusterings/\(clusteringID)/at?x=2&y=2")["cluster"] as? Int
            // Two strokes kept (strong), one undone at once (a slip).
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 1, "radius": 3, "points": [[10.5, 10.5]]}"#, status: .created)
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 2, "radius": 2, "points": [[40.5, 40.5], [44.5, 40.5]]}"#, status: .created)
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 1, "radius": 5, "points": [[50, 50]]}"#, status: .created)
            try await Harness.post(client, "/api/images/\(image)/strokes/undo", #"{"sessionId": "session-0001"}"#)
            // The eraser (class 0) withdraws labels: here the right half of the class-2 capsule.
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 0, "radius": 3, "points": [[46.5, 40.5]]}"#, status: .created)

            let summary = try await Harness.get(client, "/api/images/\(image)/reference")
            #expect(summary["activeStrokes"] as? Int == 3 && summary["discardedStrokes"] as? Int == 1 && summary["undoneStrokes"] as? Int == 0)
            #expect(summary["clusterings"] as? [String] == [clusteringID])
            let labelsResponse = try await client.execute(uri: "/api/images/\(image)/reference/labels.tif", method: .get)
            let provenanceResponse = try await client.execute(uri: "/api/images/\(image)/reference/provenance.tif", method: .get)
            guard case .uint8(let labels) = try ImageFile.read(data: [UInt8](labelsResponse.body.readableBytesView)),
                  case .uint8(let provenance) = try ImageFile.read(data: [UInt8](provenanceResponse.body.readableBytesView)) else {
                Issue.record("reference TIFFs are not 8-bit"); return
            }
            #expect(labels.spacing?.x == 2)
            #expect(labels[10, 10] == 1 && provenance[10, 10] == 2)
            #expect(labels[13, 10] == 1 && labels[14, 10] != 1 || provenance[14, 10] != 2)   // radius 3 from the centre 10.5
            #expect(labels[42, 40] == 2 && provenance[42, 40] == 2)
            #expect(labels[44, 40] == 0 && provenance[44, 40] == 0)   // erased
            #expect(provenance[50, 50] != 2)                                                  // the slip left nothing strong
            let discPixels = (0..<64).flatMap { y in (0..<64).map { x in (x, y) } }
                .filter { let dx = Double($0.0) + 0.5 - 10.5, dy = Double($0.1) + 0.5 - 10.5; return dx * dx + dy * dy <= 9 }.count
            #expect(discPixels == 29)
            let strong = provenance.pixels.filter { $0 == 2 }.count
            #expect(summary["strongPixels"] as? Int == strong && strong > 29)
            if weakPatch == 0 { #expect(provenance[2, 2] == 1 && labels[2, 2] == 2) } else { #expect(provenance[2, 2] == 0 && labels[2, 2] == 0) }
            #expect(summary["weakPixels"] as? Int == provenance.pixels.filter { $0 == 1 }.count)
            #expect((summary["weakPixels"] as? Int ?? 0) > 0)

            // Export (not open data): everything, with metadata and events.
            let export = try await client.execute(uri: "/api/projects/\(project)/export", method: .post, headers: Harness.headers(),
                                                  body: Harness.body(#"{"sessionId": "session-0001"}"#))
            #expect(export.status == .ok && export.headers[.contentType] == "application/zip")
            let files = try Self.entries([UInt8](export.body.readableBytesView))
            #expect(Set(files.keys) == ["metadata.json", "events.csv", "images/\(image).tif", "labels/\(image).tif", "provenance/\(image).tif",
                                        "strokes/\(image).json"])
            #expect(files["images/\(image).tif"] == bytes)
            #expect(files["provenance/\(image).tif"] == [UInt8](provenanceResponse.body.readableBytesView))
            let metadata = try #require(try JSONSerialization.jsonObject(with: Data(files["metadata.json"]!)) as? [String: Any])
            #expect(metadata["licence"] as? String == "CC-BY-4.0" && metadata["cleaveVersion"] as? String == cleaveVersion)
            #expect((metadata["classes"] as? [[String: Any]])?.map { $0["name"] as? String } == ["a", "b"])
            let entry = try #require((metadata["images"] as? [[String: Any]])?.first)
            #expect(entry["consent"] as? Bool == false && (entry["pixelSize"] as? [String: Any])?["unit"] as? String == "nm")
            let csv = String(decoding: files["events.csv"]!, as: UTF8.self).split(separator: "\n")
            #expect(csv.first?.hasPrefix("id,server_time,client_time,user_id,session_id") == true)
            #expect(csv.count == 1 + 7)   // cluster.run, cluster.pick, 3 strokes, undo, erase (classes created without a sessionId record nothing)
            #expect(csv.last?.contains(",erase,") == true)
            // Open data without consent: no images, and it says why.
            let closed = try await client.execute(uri: "/api/projects/\(project)/export", method: .post, headers: Harness.headers(),
                                                  body: Harness.body(#"{"sessionId": "session-0001", "openData": true}"#))
            let closedFiles = try Self.entries([UInt8](closed.body.readableBytesView))
            #expect(Set(closedFiles.keys) == ["metadata.json", "events.csv"])
            let closedMeta = try #require(try JSONSerialization.jsonObject(with: Data(closedFiles["metadata.json"]!)) as? [String: Any])
            #expect((closedMeta["excluded"] as? [[String: Any]])?.first?["reason"] as? String == "the project has not consented to open data")
            // Consent, then open data includes the image.
            let consented = try await Harness.post(client, "/api/projects/\(project)/consent", #"{"consent": true, "sessionId": "session-0001"}"#, method: .put)
            #expect(consented["consent"] as? Bool == true)
            let open = try await client.execute(uri: "/api/projects/\(project)/export", method: .post, headers: Harness.headers(),
                                                body: Harness.body(#"{"sessionId": "session-0001", "openData": true}"#))
            let openFiles = try Self.entries([UInt8](open.body.readableBytesView))
            #expect(openFiles["images/\(image).tif"] == bytes)
            let openMeta = try #require(try JSONSerialization.jsonObject(with: Data(openFiles["metadata.json"]!)) as? [String: Any])
            #expect(((openMeta["images"] as? [[String: Any]])?.first?["consent"] as? Bool) == true)

            // The user's own events: CSV, then delete.
            let own = try await client.execute(uri: "/api/events.csv", method: .get, headers: Harness.headers())
            let ownLines = String(buffer: own.body).split(separator: "\n")
            #expect(ownLines.contains { $0.contains(",export,") } && ownLines.contains { $0.contains(",consent,") })
            let other = try await client.execute(uri: "/api/events.csv", method: .get, headers: Harness.headers(user: Harness.otherUser))
            #expect(String(buffer: other.body).split(separator: "\n").count == 1)
            let deleted = try await client.execute(uri: "/api/events", method: .delete, headers: Harness.headers())
            #expect((try Harness.object(deleted)["deleted"] as? Int ?? 0) == ownLines.count - 1)

            for (uri, method, status, message) in [
                ("/api/images/nope/reference", HTTPRequest.Method.get, HTTPResponse.Status.notFound, "no image with id nope"),
                ("/api/images/nope/reference/labels.tif", .get, .notFound, "no image with id nope"),
                ("/api/projects/nope/export", .post, .notFound, "no project with id nope"),
                ("/api/projects/nope/consent", .put, .badRequest, "malformed JSON body: missing field \"consent\""),
            ] {
                let response = try await client.execute(uri: uri, method: method, headers: Harness.headers(), body: Harness.body(#"{"sessionId": "session-0001"}"#))
                #expect(response.status == status && Harness.errorMessage(response) == message, "\(uri)")
            }
            let noSession = try await client.execute(uri: "/api/projects/\(project)/export", method: .post, headers: Harness.headers(), body: Harness.body("{}"))
            #expect(noSession.status == .badRequest)
        }
    }
}
