import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import CleaveTestSupport
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 19 (server half): inputs that used to bring `cleave serve` down or leak its paths.
/// Before these fixes the first two tests ended the whole test process (a trap on the image's
/// window), the upload race gave sporadic 500s naming server paths, and cross-site requests were
/// accepted.
@Suite struct HostileInputTests {
    /// A 64×48 float image with the given non-finite values at the given pixel indices.
    static func floatTIFF(_ bad: [(index: Int, value: Float)]) throws -> [UInt8] {
        var image = Image<Float>(width: 64, height: 48)
        for i in image.pixels.indices { image.pixels[i] = Float(i % 97) / 7 }
        for (index, value) in bad { image.pixels[index] = value }
        return try Harness.tiff(image)
    }

    @Test func nonFiniteFloatUploadsAreRefusedWithOneLineAndLeaveNothing() async throws {
        let configuration = Harness.configuration("server-hostile-nonfinite")
        let app = try await buildApplication(configuration)
        // ≥ 2 % −Inf is what trapped the window's percentile interpolation; one NaN / +Inf each too.
        let minusInf = (0..<80).map { (index: 64 * 10 + $0, value: -Float.infinity) }
        let cases: [(String, [(index: Int, value: Float)], String)] = [
            ("nan.tif", [(64 * 3 + 5, .nan)], "nan.tif: 1 pixel is not finite (1 NaN), the first at x=5, y=3;"),
            ("inf.tif", [(7, .infinity)], "inf.tif: 1 pixel is not finite (1 +Inf), the first at x=7, y=0;"),
            ("minus-inf.tif", minusInf, "minus-inf.tif: 80 pixels are not finite (80 -Inf), the first at x=0, y=10;"),
        ]
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            for (name, bad, message) in cases {
                let response = try await Harness.upload(client, project: project, name: name, bytes: try Self.floatTIFF(bad))
                #expect(response.status == .unprocessableContent, "\(name)")
                #expect(Harness.errorMessage(response).hasPrefix(message), "\(Harness.errorMessage(response))")
                #expect(!Harness.errorMessage(response).contains("\n"))
            }
            #expect(Harness.files(under: configuration.dataDirectory + "/blobs").isEmpty)
            #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
            let list = try await Harness.get(client, "/api/projects/\(project)/images")
            #expect((list["images"] as? [Any])?.isEmpty == true)
            // A finite float image is still welcome.
            _ = try await Harness.uploadImage(client, project: project, name: "fine.tif", bytes: try Self.floatTIFF([]))
        }
    }

    /// Images stored without the full check (too large to decode at upload, or stored by an older
    /// server) fail their window, tiles and jobs alone — also after a restart — and the server lives on.
    @Test func aStoredNonFiniteImageFailsEachRequestAloneAcrossRestarts() async throws {
        var configuration = Harness.configuration("server-hostile-stored", reuse: true)
        try? FileManager.default.removeItem(atPath: configuration.dataDirectory)
        configuration.fullValidationBytes = 0   // headers only at upload, as for images over 512 MiB
        let bytes = try Self.floatTIFF((0..<80).map { (index: 64 * 10 + $0, value: -Float.infinity) } + [(3, .nan)])
        let image = try await buildApplication(configuration).test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "bad.tif", bytes: bytes)
            _ = try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "a", "value": 1}"#, status: .created)
            _ = try await Harness.post(client, "/api/images/\(image)/strokes",
                                       #"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": [[5, 5], [9, 9]]}"#, status: .created)
            return image
        }
        let expected = "bad.tif: 81 pixels are not finite (1 NaN, 80 -Inf), the first at x=3, y=0;"
        for _ in 0..<2 {   // a fresh workbench over the same data directory = a restart
            try await buildApplication(configuration).test(.router) { client in
                for uri in ["/api/images/\(image)/window", "/api/images/\(image)/tiles/0/0/0.png",
                            "/api/images/\(image)/tiles/0/0/0.png?low=0&high=1", "/api/images/\(image)/window"] {
                    let response = try await client.execute(uri: uri, method: .get)
                    #expect(response.status == .unprocessableContent, "\(uri)")
                    #expect(Harness.errorMessage(response).hasPrefix(expected), "\(uri): \(Harness.errorMessage(response))")
                }
                let cluster = try await client.execute(uri: "/api/images/\(image)/cluster", method: .post, headers: Harness.headers(),
                                                       body: Harness.body(#"{"sessionId": "session-0001", "clusterCount": 2}"#))
                #expect(cluster.status == .unprocessableContent)
                #expect(Harness.errorMessage(cluster).hasPrefix(expected))
                let train = try await client.execute(uri: "/api/images/\(image)/train", method: .post, headers: Harness.headers(),
                                                     body: Harness.body(#"{"sessionId": "session-0001"}"#))
                #expect(train.status == .unprocessableContent, "\(String(buffer: train.body))")
                #expect(Harness.errorMessage(train).hasPrefix(expected))
                // The server still answers everything else.
                #expect(try await client.execute(uri: "/api/projects", method: .get).status == .ok)
            }
        }
    }

    @Test func imagesOverThePixelBudgetAreRefusedBeforeDecoding() async throws {
        var configuration = Harness.configuration("server-hostile-budget", reuse: true)
        try? FileManager.default.removeItem(atPath: configuration.dataDirectory)
        // A decompression bomb in miniature: 4000×4000 zeros deflate to a few KiB.
        let bomb = try ImageFile.encode(Image<UInt8>(width: 4000, height: 4000), as: .tiff,
                                        options: ImageWriteOptions(compression: .deflate))
        #expect(bomb.count < 100_000)
        let (project, image) = try await buildApplication(configuration).test(.router) { client in
            let project = try await Harness.createProject(client)
            return (project, try await Harness.uploadImage(client, project: project, name: "big.tif", bytes: bomb))
        }
        configuration.maximumImagePixels = 1_000_000
        let expected = "big.tif is 4000x4000x1x1 = 16.0 MP; this workbench takes images of at most 1.0 MP (its memory budget;"
        let temporary = configuration.dataDirectory + "/tmp"
        try await buildApplication(configuration).test(.router) { client in
            // Refused at upload from the header; nothing stored.
            let response = try await Harness.upload(client, project: project, name: "big.tif", bytes: bomb)
            #expect(response.status == .contentTooLarge)
            #expect(Harness.errorMessage(response).hasPrefix(expected), "\(Harness.errorMessage(response))")
            #expect(Harness.errorMessage(response).contains("--max-image-pixels"))
            #expect(Harness.files(under: temporary).isEmpty)
            // Stored under a larger budget: its tiles and jobs are refused without decoding it.
            for uri in ["/api/images/\(image)/window", "/api/images/\(image)/tiles/4/0/0.png"] {
                let refused = try await client.execute(uri: uri, method: .get)
                #expect(refused.status == .contentTooLarge, "\(uri)")
                #expect(Harness.errorMessage(refused).hasPrefix(expected))
            }
            let cluster = try await client.execute(uri: "/api/images/\(image)/cluster", method: .post, headers: Harness.headers(),
                                                   body: Harness.body(#"{"sessionId": "session-0001"}"#))
            #expect(cluster.status == .contentTooLarge)
        }
    }

    @Test func twentyIdenticalParallelUploadsAllSucceed() async throws {
        let configuration = Harness.configuration("server-hostile-parallel")
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 300, height: 200))
        let digest = SHA256.hex(bytes)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await Harness.upload(client, project: project, name: "same.tif", bytes: bytes)
                        return (response.status, String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (status, body) in statuses { #expect(status == .created, "\(body)") }
            let list = try await Harness.get(client, "/api/projects/\(project)/images")
            #expect((list["images"] as? [Any])?.count == 20)
        }
        #expect(Harness.files(under: configuration.dataDirectory + "/blobs") == ["\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"])
        #expect(Harness.files(under: configuration.dataDirectory + "/tmp").isEmpty)
    }

    /// The store itself, without the HTTP layer in between: many threads adopting the same
    /// content at once (the check-then-move race of issue 19 item 5).
    @Test func blobStoreAdoptsTheSameContentConcurrently() throws {
        let directory = TestData.scratchDirectory("server-hostile-blobs")
        let store = try BlobStore(dataDirectory: directory)
        let bytes = Data((0..<4096).map { UInt8($0 % 251) })
        let digest = SHA256.hex([UInt8](bytes))
        let failures = LockedCounter()
        for round in 0..<20 {
            if round > 0 { try FileManager.default.removeItem(atPath: directory + "/blobs/\(digest.prefix(2))") }
            let temporary = (0..<16).map { _ in store.temporaryPath() }
            for path in temporary { _ = FileManager.default.createFile(atPath: path, contents: bytes) }
            DispatchQueue.concurrentPerform(iterations: temporary.count) { i in
                do { try store.adopt(temporaryFile: temporary[i], sha256: digest) } catch { failures.add(String(describing: error)) }
            }
            #expect(try store.verifiedBytes(sha256: digest) == [UInt8](bytes))
        }
        #expect(failures.messages.isEmpty, "\(failures.messages.prefix(3))")
        #expect(Harness.files(under: directory + "/tmp").isEmpty)
    }

    @Test func errorLinesNeverShowServerPaths() async throws {
        let configuration = Harness.configuration("server-hostile-paths")
        let app = try await buildApplication(configuration)
        let bytes = try Harness.tiff(Harness.rampImage(width: 40, height: 30))
        let digest = SHA256.hex(bytes)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "ramp.tif", bytes: bytes)
            // The blob changes on disk: a server-side (500) error about a server file.
            let blob = configuration.dataDirectory + "/blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: blob))
            let response = try await client.execute(uri: "/api/images/\(image)/window", method: .get)
            #expect(response.status == .internalServerError)
            let message = Harness.errorMessage(response)
            #expect(message.contains("fails its checksum"), "\(message)")
            #expect(!message.contains(configuration.dataDirectory) && !message.contains("/blobs"), "\(message)")
        }
        let redactor = PathRedactor(configuration: configuration)
        #expect(redactor.clean("cannot open \(configuration.dataDirectory)/results/x.part", allPaths: false)
                == "cannot open <data directory>/results/x.part")
        #expect(redactor.clean("The file “/srv/other/place/file.tif” couldn’t be opened.", allPaths: true)
                == "The file “<server path>” couldn’t be opened.")
        // 4xx lines keep routes and ratios; only 5xx lines lose every absolute path.
        #expect(redactor.clean("no route for GET /api/x/y", allPaths: false) == "no route for GET /api/x/y")
        #expect(redactor.clean("ratio 1/2 of http://127.0.0.1:8080/web/app.js", allPaths: true) == "ratio 1/2 of http://127.0.0.1:8080/web/app.js")
    }

    @Test func crossSiteRequestsAreRefused() async throws {
        let app = try await buildApplication(Harness.configuration("server-hostile-csrf"))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let name = Harness.body(#"{"name": "X"}"#)
            func fields(_ pairs: [(String, String)]) -> HTTPFields {
                var fields = HTTPFields()
                for (key, value) in pairs { fields[HTTPField.Name(key)!] = value }
                return fields
            }
            let refused: [(String, HTTPFields, String)] = [
                ("form post from another site", fields([("Content-Type", "text/plain"), ("Origin", "http://evil.example")]), "refused: a POST from another site"),
                ("another Origin with the header", fields([("Content-Type", "application/json"), ("Origin", "http://evil.example"),
                                                          ("X-Cleave-User", Harness.user)]), "refused: a POST from another site"),
                ("text/plain without Origin", fields([("Content-Type", "text/plain;charset=UTF-8"), ("X-Cleave-User", Harness.user)]),
                 "refused: Content-Type text/plain is what cross-site forms send"),
                ("url-encoded form", fields([("Content-Type", "application/x-www-form-urlencoded"), ("X-Cleave-User", Harness.user)]),
                 "refused: Content-Type application/x-www-form-urlencoded"),
                ("no X-Cleave-User", fields([("Content-Type", "application/json")]), "refused: a POST needs the X-Cleave-User header"),
                ("Origin null", fields([("Content-Type", "application/json"), ("Origin", "null"), ("X-Cleave-User", Harness.user)]),
                 "refused: a POST from another site"),
                ("DNS rebinding", fields([("Content-Type", "application/json"), ("Host", "evil.example:8080"), ("X-Cleave-User", Harness.user)]),
                 "refused: this workbench answers only to a loopback host"),
            ]
            for (what, headers, message) in refused {
                let response = try await client.execute(uri: "/api/projects", method: .post, headers: headers, body: name)
                #expect(response.status == .forbidden, "\(what)")
                #expect(Harness.errorMessage(response).hasPrefix(message), "\(what): \(Harness.errorMessage(response))")
            }
            // Uploads, deletes and puts are state-changing too.
            let bytes = try Harness.tiff(Harness.rampImage(width: 20, height: 20))
            let upload = try await client.execute(uri: "/api/projects/\(project)/images?name=a.tif", method: .post,
                                                  headers: fields([("Content-Type", "text/plain"), ("Origin", "http://evil.example")]),
                                                  body: Harness.body(bytes))
            #expect(upload.status == .forbidden)
            let bare = try await client.execute(uri: "/api/projects/\(project)/images?name=a.tif", method: .post,
                                                headers: fields([("Content-Type", "application/octet-stream")]), body: Harness.body(bytes))
            #expect(bare.status == .forbidden)
            #expect(try await client.execute(uri: "/api/events", method: .delete).status == .forbidden)
            #expect(try await client.execute(uri: "/api/projects/\(project)/consent", method: .put, headers: fields([("Content-Type", "application/json")]),
                                             body: Harness.body(#"{"consent": true}"#)).status == .forbidden)
            // Reading through a rebound host name is refused too (DNS rebinding reads data).
            let rebound = try await client.execute(uri: "/api/projects", method: .get, headers: fields([("Host", "attacker.example")]))
            #expect(rebound.status == .forbidden)
            #expect(try await client.execute(uri: "/", method: .get, headers: fields([("Host", "attacker.example")])).status == .forbidden)
            let list = try await Harness.get(client, "/api/projects")
            #expect((list["projects"] as? [Any])?.count == 1)   // nothing was created above

            // The workbench's own page: same Origin, loopback Host, the header, JSON.
            for host in ["localhost", "127.0.0.1:8080", "[::1]:8080", "localhost:9000"] {
                let own = try await client.execute(uri: "/api/projects", method: .post,
                                                   headers: fields([("Content-Type", "application/json"), ("Host", host),
                                                                    ("X-Cleave-User", Harness.user), ("Origin", "http://localhost")]),
                                                   body: name)
                #expect(own.status == .created, "\(host): \(String(buffer: own.body))")
            }
            #expect(try await client.execute(uri: "/api/projects", method: .get, headers: fields([("Host", "127.0.0.1:8080")])).status == .ok)
        }
        // Bound to every interface on purpose (which needs an account): host names are the user's
        // business, the rest holds.
        var open = Harness.configuration("server-hostile-csrf-open")
        open.host = "0.0.0.0"
        open.passwordCost = 4
        try Workbench(configuration: open).accounts.addUser(name: "ada", password: AuthorizationTests.password, admin: true)
        try await buildApplication(open).test(.router) { client in
            let ada = try await AuthorizationTests.signIn(client, "ada", admin: true)
            var fields = AuthorizationTests.headers(ada)
            fields[HTTPField.Name("Host")!] = "workstation.lab.example:8080"
            let named = try await client.execute(uri: "/api/projects", method: .get, headers: fields)
            #expect(named.status == .ok)
            fields[.origin] = "http://evil.example"
            let foreign = try await client.execute(uri: "/api/projects", method: .post, headers: fields, body: Harness.body(#"{"name": "X"}"#))
            #expect(foreign.status == .forbidden)
        }
    }

    @Test func jobJSONAlwaysHasErrorAndResult() async throws {
        let (workbench, app) = try Harness.workbench("server-hostile-jobjson")
        let job = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .object([:])) { _ in .null }
        _ = await workbench.jobs.wait(job.id)
        let failing = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .object([:])) { _ in
            throw APIError(.badRequest, "no good")
        }
        _ = await workbench.jobs.wait(failing.id)
        try await app.test(.router) { client in
            for id in [job.id, failing.id] {
                let response = try await client.execute(uri: "/api/jobs/\(id)", method: .get)
                let text = String(buffer: response.body)
                for key in ["\"result\":", "\"error\":", "\"imageId\":null", "\"projectId\":null", "\"startedAt\":", "\"finishedAt\":"] {
                    #expect(text.contains(key), "\(key) missing in \(text)")
                }
            }
            let done = try Harness.object(try await client.execute(uri: "/api/jobs/\(job.id)", method: .get))
            #expect(done["error"] is NSNull)
            let failed = try Harness.object(try await client.execute(uri: "/api/jobs/\(failing.id)", method: .get))
            #expect(failed["result"] is NSNull)
            #expect(failed["error"] as? String == "no good")
            // A queued job has no start or end yet: both null, not missing.
            let queued = try JSONDecoder().decode(JobDTO.self, from: Data(#"{"id": "x", "kind": "test", "params": null, "state": "queued", "progress": 0, "stage": "queued", "createdAt": "t"}"#.utf8))
            let json = String(decoding: try JSONEncoder().encode(queued), as: UTF8.self)
            #expect(json.contains("\"startedAt\":null") && json.contains("\"finishedAt\":null") && json.contains("\"result\":null"))
        }
    }
}

/// The export's zip writer refuses what its 16/32-bit fields cannot hold instead of trapping.
@Suite struct ZipLimitTests {
    @Test func moreEntriesThanTheDirectoryCanCountIsAnError() throws {
        let path = TestData.scratchDirectory("server-hostile-zip") + "/many.zip"
        let zip = try ZipWriter(path: path)
        for i in 0..<0xFFFF { try zip.add("e\(i)", bytes: []) }
        #expect(throws: APIError.self) { try zip.add("one-too-many", bytes: []) }
        try zip.finish()
    }
}

/// Error messages gathered from concurrent threads.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ message: String) { lock.lock(); stored.append(message); lock.unlock() }
    var messages: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

/// Numbers from clients that used to reach an Int conversion or sum unchecked (each a trap that
/// ends the process): far-away stroke points (also stored by an older server), a prediction region
/// at Int.max, a cluster query at x=1e300.
@Suite struct HostileNumberTests {
    @Test func farAwayNumbersAreRefusedOrClampedNeverTrapped() async throws {
        let (workbench, app) = try Harness.workbench("server-hostile-numbers")
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 96, overlap: 0, seed: 5, kind: .film, particlesPerTile: 4))
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "tile.tif",
                                                      bytes: try ImageFile.encode(set.tiles[0].image, as: .tiff))
            try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "particle"}"##, status: .created)
            try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "film"}"##, status: .created)
            let far = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(),
                                               body: Harness.body(#"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": [[1e300, 5]]}"#))
            #expect(far.status == .badRequest)
            #expect(Harness.errorMessage(far).hasPrefix("point 0 lies too far outside the image"))
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 1, "radius": 3, "points": [[20, 20], [30, 30]]}"#, status: .created)
            try await Harness.post(client, "/api/images/\(image)/strokes", #"{"sessionId": "session-0001", "class": 2, "radius": 3, "points": [[60, 60], [80, 70]]}"#, status: .created)
            // A stroke row as an older server could have stored it: rasterising it must not trap.
            try await workbench.database.write { db in
                try db.execute(sql: """
                    INSERT INTO annotations (image_id, user_id, session_id, class_index, radius, points, state, created_at)
                    VALUES (?, ?, ?, 2, 2, '[[1e300, -1e300], [-1e300, 1e300]]', 'active', '2026-01-01T00:00:00.000Z')
                    """, arguments: [image, Harness.user, Harness.session])
            }
            let reference = try await Harness.get(client, "/api/images/\(image)/reference")
            #expect((reference["strongPixels"] as? Int ?? 0) > 0)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 1}"#)
            let region = #"{"sessionId": "session-0001", "region": {"x": 9223372036854775806, "y": 0, "width": 2, "height": 2}}"#
            let predict = try await client.execute(uri: "/api/images/\(image)/predict", method: .post, headers: Harness.headers(), body: Harness.body(region))
            #expect(predict.status == .badRequest)
            #expect(Harness.errorMessage(predict).contains("is not inside the 96x96 image"))
            let clustered = try await Harness.run(client, "/api/images/\(image)/cluster", #"{"sessionId": "session-0001", "clusterCount": 2, "gridRows": 4, "gridColumns": 4}"#)
            let clustering = try #require((clustered["result"] as? [String: Any])?["clusteringId"] as? String)
            for query in ["x=1e300&y=0", "x=-1e300&y=-1e300", "x=5&y=1e19"] {
                let at = try await client.execute(uri: "/api/clusterings/\(clustering)/at?\(query)", method: .get)
                #expect(at.status == .ok, "\(query)")
                #expect(try Harness.object(at)["cluster"] is NSNull, "\(query)")
            }
            #expect(try Harness.object(try await client.execute(uri: "/api/clusterings/\(clustering)/at?x=5&y=5", method: .get))["cluster"] as? Int != nil)
            let reduce = try await client.execute(uri: "/api/images/\(image)/cluster", method: .post, headers: Harness.headers(),
                                                  body: Harness.body(#"{"sessionId": "session-0001", "reduce": "pca:4000000000000000000"}"#))
            #expect(reduce.status == .badRequest)
        }
    }
}
