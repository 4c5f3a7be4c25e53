import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import CleaveTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Accounts, sessions and per-project roles (issue 23): every route × every role, ids of other
/// groups' projects guessed through every route, CSRF, cookie flags, rate limiting, logout,
/// the audit log and the refusal to serve the network without accounts.
@Suite struct AuthorizationTests {
    static let password = "correct horse battery"

    /// A signed-in test user (nil cookie: anonymous).
    struct Who: Sendable {
        var name: String
        var cookie: String?
        var csrf: String?
        /// The role in project A (nil: not a member), or "admin".
        var role: ProjectRole?
        var admin = false
    }

    /// A workbench whose bcrypt cost is the minimum (tests only), and its route rules.
    static func setup(_ name: String, secureCookies: Bool = false) throws -> (Workbench, RouteRules, some ApplicationProtocol) {
        var configuration = Harness.configuration(name)
        configuration.passwordCost = 4
        configuration.secureCookies = secureCookies
        configuration.jobConcurrency = 1
        let workbench = try Workbench(configuration: configuration)
        let rules = RouteRules()
        return (workbench, rules, Application(router: buildRouter(workbench, rules: rules)))
    }

    static func headers(_ who: Who?, csrf: Bool = true) -> HTTPFields {
        var fields = Harness.headers()
        if let who, let cookie = who.cookie { fields[.cookie] = "cleave_session=\(cookie)" }
        if csrf, let token = who?.csrf { fields[.init("X-CSRF-Token")!] = token }
        return fields
    }

    static func send(_ client: some TestClientProtocol, _ who: Who?, _ method: HTTPRequest.Method, _ uri: String,
                     _ body: String? = nil, csrf: Bool = true) async throws -> TestResponse {
        try await client.execute(uri: uri, method: method, headers: headers(who, csrf: csrf),
                                 body: body.map(Harness.body) ?? (method == .get ? nil : Harness.body("{}")))
    }

    static func login(_ client: some TestClientProtocol, _ name: String, _ password: String = AuthorizationTests.password) async throws -> TestResponse {
        try await client.execute(uri: "/api/session", method: .post, headers: [.contentType: "application/json"],
                                 body: Harness.body(#"{"name": "\#(name)", "password": "\#(password)"}"#))
    }

    /// Signs in and returns the session cookie's value and the CSRF token.
    static func signIn(_ client: some TestClientProtocol, _ name: String, role: ProjectRole? = nil, admin: Bool = false) async throws -> Who {
        let response = try await login(client, name)
        guard response.status == .ok, let setCookie = response.headers[.setCookie],
              let csrf = try Harness.object(response)["csrfToken"] as? String else {
            throw HarnessError.unexpected("login \(name): \(response.status) \(String(buffer: response.body))")
        }
        let value = setCookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1]
        return Who(name: name, cookie: String(value), csrf: csrf, role: role, admin: admin)
    }

    enum Outcome: Equatable { case allowed, unauthorized, forbidden, hidden }

    static func expected(_ access: Access, _ who: Who?) -> Outcome {
        guard let who else { return access == .open ? .allowed : .unauthorized }
        switch access {
        case .open, .signedIn: return .allowed
        case .admin: return who.admin ? .allowed : .forbidden
        case .member(let needed):
            if who.admin { return .allowed }
            guard let role = who.role else { return .hidden }
            return role >= needed ? .allowed : .forbidden
        }
    }

    /// Project A with an image, strokes, classes, a clustering, a model, a prediction and an
    /// object set, all made in single-user mode before the accounts exist.
    struct Fixture {
        var project = "", image = "", job = "", clustering = "", model = "", prediction = "", objectSet = "", classID = ""
        var sha256 = ""

        func uri(_ path: String) -> String {
            // {file}: a file of the page, or a model file (model.json, model.onnx).
            var uri = path.hasPrefix("/api/models/") ? path.replacingOccurrences(of: "{file}", with: "model.json") : path
            for (name, value) in [("{projectId}", project), ("{imageId}", image), ("{jobId}", job), ("{clusteringId}", clustering),
                                  ("{modelId}", model), ("{predictionId}", prediction), ("{objectSetId}", objectSet),
                                  ("{classId}", classID), ("{level}", "0"), ("{x}", "0"), ("{tile}", "0.png"),
                                  ("{objectId}", "1"), ("{file}", "app.js"), ("{axis}", "xz.png")] {
                uri = uri.replacingOccurrences(of: name, with: value)
            }
            return uri
        }
    }

    static func makeFixture(_ client: some TestClientProtocol) async throws -> Fixture {
        var fixture = Fixture()
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 128, overlap: 0, seed: 3, kind: .film, particlesPerTile: 6))
        fixture.project = try await Harness.createProject(client, name: "Alpha group secrets")
        let upload = try await Harness.upload(client, project: fixture.project, name: "alpha-tile.tif",
                                              bytes: try ImageFile.encode(set.tiles[0].image, as: .tiff))
        let image = try Harness.object(upload)
        fixture.image = image["id"] as? String ?? ""
        fixture.sha256 = image["sha256"] as? String ?? ""
        let particle = try await Harness.post(client, "/api/projects/\(fixture.project)/classes", #"{"name": "particle"}"#, status: .created)
        fixture.classID = particle["id"] as? String ?? ""
        try await Harness.post(client, "/api/projects/\(fixture.project)/classes", #"{"name": "film"}"#, status: .created)
        try await PixelClassificationRoutesTests.paintTruth(client, image: fixture.image, mask: set.tiles[0].particleMask, count: 6)
        let clustered = try await Harness.run(client, "/api/images/\(fixture.image)/cluster",
                                              #"{"sessionId": "session-0001", "mode": "grid", "gridRows": 4, "gridColumns": 4, "clusterCount": 2, "seed": 1}"#)
        fixture.job = clustered["id"] as? String ?? ""
        fixture.clustering = (clustered["result"] as? [String: Any])?["clusteringId"] as? String ?? ""
        let trained = try await Harness.run(client, "/api/images/\(fixture.image)/train",
                                            #"{"sessionId": "session-0001", "treeCount": 5, "bank": "fast", "seed": 2}"#)
        fixture.model = (trained["result"] as? [String: Any])?["modelId"] as? String ?? ""
        let predicted = try await Harness.run(client, "/api/images/\(fixture.image)/predict", #"{"sessionId": "session-0001"}"#)
        fixture.prediction = (predicted["result"] as? [String: Any])?["predictionId"] as? String ?? ""
        let objects = try await Harness.run(client, "/api/images/\(fixture.image)/objects",
                                            #"{"sessionId": "session-0001", "predictionId": "\#(fixture.prediction)", "class": 1, "minimumSize": 1}"#)
        fixture.objectSet = (objects["result"] as? [String: Any])?["objectSetId"] as? String ?? ""
        for id in [fixture.image, fixture.job, fixture.clustering, fixture.model, fixture.prediction, fixture.objectSet, fixture.classID] {
            #expect(!id.isEmpty)
        }
        return fixture
    }

    /// Users: ada (admin), owen/anna/vic (owner/annotator/viewer of A), olga (owner of B, another
    /// group), nora (no project).
    static func addUsers(_ workbench: Workbench, project: String) throws {
        let accounts = workbench.accounts
        try accounts.addUser(name: "ada", password: password, admin: true)
        for name in ["owen", "anna", "vic", "olga", "nora"] { try accounts.addUser(name: name, password: password, admin: false) }
        try accounts.setMember(projectID: project, name: "owen", role: .owner)
        try accounts.setMember(projectID: project, name: "anna", role: .annotator)
        try accounts.setMember(projectID: project, name: "vic", role: .viewer)
    }

    // MARK: - Every route × every role

    @Test func everyRouteChecksEveryRole() async throws {
        let (workbench, rules, app) = try Self.setup("server-authz-matrix")
        try await app.test(.router) { client in
            let fixture = try await Self.makeFixture(client)
            try Self.addUsers(workbench, project: fixture.project)
            var people: [Who?] = [nil]
            people.append(try await Self.signIn(client, "ada", admin: true))
            people.append(try await Self.signIn(client, "owen", role: .owner))
            people.append(try await Self.signIn(client, "anna", role: .annotator))
            people.append(try await Self.signIn(client, "vic", role: .viewer))
            people.append(try await Self.signIn(client, "olga"))
            people.append(try await Self.signIn(client, "nora"))
            // Olga's own project B (another group).
            let olga = people[5]!
            let projectB = try Harness.object(try await Self.send(client, olga, .post, "/api/projects", #"{"name": "Beta group"}"#))["id"] as? String ?? ""
            #expect(!projectB.isEmpty)

            let all = rules.all
            // + the page and its files; model.json and model.onnx are one route, /api/models/{modelId}/{file}.
            #expect(all.count == OpenAPIDocument.operations.count + 2 - 1)
            // Destructive routes last, so earlier checks still find their resources.
            let ordered = all.filter { $0.method != "DELETE" } + all.filter { $0.method == "DELETE" }
            var checked = 0
            for rule in ordered {
                let method = HTTPRequest.Method(rule.method)!
                for person in people {
                    var who = person
                    var uri = fixture.uri(rule.path)
                    if rule.path == "/api/classes/{classId}" && method == .delete {
                        // Each deletion gets its own class.
                        let made = try await workbench.accounts.database.write { db -> String in
                            let id = UUID().uuidString.lowercased()
                            let value = (try Int.fetchOne(db, sql: "SELECT MAX(value) FROM classes") ?? 0) + 1
                            try db.execute(sql: "INSERT INTO classes (id, project_id, value, name, colour, created_at) VALUES (?, ?, ?, ?, '#00ff00', 'now')",
                                           arguments: [id, fixture.project, value, "temporary-\(value)"])
                            return id
                        }
                        uri = uri.replacingOccurrences(of: fixture.classID, with: made)
                    }
                    if rule.path == "/api/images/{imageId}" && method == .delete {
                        // Each deletion gets its own image (a row with the fixture's file: the blob stays).
                        let made = try await workbench.accounts.database.write { db -> String in
                            let id = UUID().uuidString.lowercased()
                            try db.execute(sql: """
                                INSERT INTO images (id, project_id, name, sha256, byte_count, format, width, height, depth, channels,
                                                    pixel_type, created_at)
                                SELECT ?, project_id, 'temporary', sha256, byte_count, format, width, height, depth, channels, pixel_type, created_at
                                FROM images WHERE id = ?
                                """, arguments: [id, fixture.image])
                            return id
                        }
                        uri = uri.replacingOccurrences(of: fixture.image, with: made)
                    }
                    if rule.path == "/api/projects/{projectId}" && method == .delete {
                        // Each deletion gets its own project, with A's members.
                        let made = try await workbench.accounts.database.write { db -> String in
                            let id = UUID().uuidString.lowercased()
                            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES (?, 'temporary', 'now')", arguments: [id])
                            try db.execute(sql: """
                                INSERT INTO project_members (project_id, user_id, role, added_at)
                                SELECT ?, user_id, role, added_at FROM project_members WHERE project_id = ?
                                """, arguments: [id, fixture.project])
                            return id
                        }
                        uri = uri.replacingOccurrences(of: fixture.project, with: made)
                    }
                    if rule.path == "/api/session" && method == .delete, let signed = person {
                        // Logging out ends a throwaway session, not the one the matrix uses.
                        who = try await Self.signIn(client, signed.name, role: signed.role, admin: signed.admin)
                    }
                    let response = try await Self.send(client, who, method, uri)
                    let want = Self.expected(rule.access, who)
                    let label = "\(rule.method) \(rule.path) as \(who?.name ?? "anonymous") (\(rule.access)): \(response.status.code) \(Harness.errorMessage(response))"
                    switch want {
                    case .unauthorized: #expect(response.status == .unauthorized, "\(label)")
                    case .forbidden: #expect(response.status == .forbidden, "\(label)")
                    case .hidden:
                        #expect(response.status == .notFound && Harness.errorMessage(response).hasPrefix("no "), "\(label)")
                    case .allowed:
                        #expect(![401, 403].contains(response.status.code) && response.status.code < 500, "\(label)")
                        #expect(!(response.status == .notFound && Harness.errorMessage(response).hasSuffix(" with id \(fixture.project)")), "\(label)")
                    }
                    if want != .allowed {
                        let text = String(buffer: response.body)
                        for secret in ["Alpha group secrets", "alpha-tile", fixture.sha256] {
                            #expect(!text.contains(secret), "\(label) leaks \(secret)")
                        }
                    }
                    checked += 1
                }
            }
            #expect(checked == all.count * people.count)
        }
    }

    // MARK: - Another group's ids, through lists, tiles, jobs and the event export

    @Test func anotherGroupsIdsAreNeverAnswered() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-guess")
        try await app.test(.router) { client in
            let fixture = try await Self.makeFixture(client)
            try Self.addUsers(workbench, project: fixture.project)
            let anna = try await Self.signIn(client, "anna", role: .annotator)
            let olga = try await Self.signIn(client, "olga")
            let ada = try await Self.signIn(client, "ada", admin: true)

            // Anna's events on A's image; olga's export and lists never show them.
            let posted = try await Self.send(client, anna, .post, "/api/events",
                                             #"{"events": [{"type": "pan", "sessionId": "session-0001", "imageId": "\#(fixture.image)"}]}"#)
            #expect(posted.status == .created)
            let annaEvents = try Harness.object(posted)["events"] as? [[String: Any]] ?? []
            let pseudonym = annaEvents.first?["userId"] as? String ?? ""
            #expect(pseudonym.hasPrefix("u-") && !pseudonym.contains("anna"))

            let projects = try Harness.object(try await Self.send(client, olga, .get, "/api/projects"))["projects"] as? [[String: Any]]
            #expect(projects?.isEmpty == true)
            let adaProjects = try Harness.object(try await Self.send(client, ada, .get, "/api/projects"))["projects"] as? [[String: Any]]
            #expect(adaProjects?.map { $0["role"] as? String } == ["admin"])
            let annaProjects = try Harness.object(try await Self.send(client, anna, .get, "/api/projects"))["projects"] as? [[String: Any]]
            #expect(annaProjects?.map { $0["role"] as? String } == ["annotator"])

            for uri in ["/api/jobs", "/api/jobs?imageId=\(fixture.image)"] {
                let jobs = try Harness.object(try await Self.send(client, olga, .get, uri))["jobs"] as? [[String: Any]]
                #expect(jobs?.isEmpty == true, "\(uri)")
            }
            let annaJobs = try Harness.object(try await Self.send(client, anna, .get, "/api/jobs"))["jobs"] as? [[String: Any]]
            #expect((annaJobs?.count ?? 0) >= 4)

            let csv = try await Self.send(client, olga, .get, "/api/events.csv")
            #expect(csv.status == .ok && !String(buffer: csv.body).contains(fixture.image))
            let events = try Harness.object(try await Self.send(client, olga, .get, "/api/events?imageId=\(fixture.image)"))["events"] as? [[String: Any]]
            #expect(events?.isEmpty == true)
            // Olga cannot write events into A's log either, nor claim anna's pseudonym.
            let injected = try await Self.send(client, olga, .post, "/api/events",
                                               #"{"events": [{"type": "pan", "sessionId": "session-0001", "imageId": "\#(fixture.image)"}]}"#)
            #expect(injected.status == .notFound)
            var spoof = Self.headers(olga)
            spoof[.init("X-Cleave-User")!] = pseudonym
            let spoofed = try await client.execute(uri: "/api/events", method: .get, headers: spoof)
            #expect((try Harness.object(spoofed)["events"] as? [[String: Any]])?.isEmpty == true)

            // Tiles at every level of A's image, with and without a window; the project export.
            for uri in ["/api/images/\(fixture.image)/tiles/0/0/0.png", "/api/images/\(fixture.image)/tiles/1/0/0.png?low=0&high=100",
                        "/api/images/\(fixture.image)/tiles/0/0/0.png?plane=0"] {
                let tile = try await Self.send(client, olga, .get, uri)
                #expect(tile.status == .notFound && tile.headers[.contentType] != "image/png", "\(uri)")
                #expect(Harness.errorMessage(tile) == "no image with id \(fixture.image)")
            }
            let export = try await Self.send(client, olga, .post, "/api/projects/\(fixture.project)/export", #"{"sessionId": "session-0001"}"#)
            #expect(export.status == .notFound && export.headers[.contentType] != "application/zip")
            // Ids named in request bodies: olga's own image cannot borrow A's pick model, model or prediction.
            let projectB = try Harness.object(try await Self.send(client, olga, .post, "/api/projects", #"{"name": "Beta"}"#))["id"] as? String ?? ""
            var uploadHeaders = Self.headers(olga)
            uploadHeaders[.contentType] = "application/octet-stream"
            let uploaded = try await client.execute(uri: "/api/projects/\(projectB)/images?name=b.tif", method: .post, headers: uploadHeaders,
                                                    body: Harness.body(try Harness.particleTile(size: 64)))
            let imageB = try #require(try Harness.object(uploaded)["id"] as? String)
            for (uri, body, message) in [
                ("/api/images/\(imageB)/cluster", #"{"sessionId": "session-0001", "pickModelFrom": "\#(fixture.clustering)"}"#, "no clustering with id \(fixture.clustering)"),
                ("/api/images/\(imageB)/predict", #"{"sessionId": "session-0001", "modelId": "\#(fixture.model)"}"#, "no model with id \(fixture.model)"),
                ("/api/images/\(imageB)/objects", #"{"sessionId": "session-0001", "predictionId": "\#(fixture.prediction)", "class": 1}"#, "no prediction with id \(fixture.prediction)"),
            ] {
                let borrowed = try await Self.send(client, olga, .post, uri, body)
                #expect(borrowed.status == .notFound && Harness.errorMessage(borrowed) == message, "\(uri): \(borrowed.status) \(Harness.errorMessage(borrowed))")
            }

            // The same answer as an id that does not exist.
            let missing = try await Self.send(client, olga, .get, "/api/images/\(UUID().uuidString.lowercased())")
            let hidden = try await Self.send(client, olga, .get, "/api/images/\(fixture.image)")
            #expect(missing.status == hidden.status)
            #expect(Harness.errorMessage(hidden) == "no image with id \(fixture.image)")
        }
    }

    // MARK: - Sessions

    // MARK: - Regions of interest, corrections, pixel sizes, model files and project fractions (issue 22 routes)

    /// With real bodies: another group's member gets the 404 of a missing id, a viewer may read
    /// but not write (403, nothing changes), an annotator may write; model downloads and the
    /// fractions table are exports, recorded in the audit log.
    @Test func regionsCorrectionsAndModelFilesKeepTheirRoles() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-issue22")
        try await app.test(.router) { client in
            let fixture = try await Self.makeFixture(client)
            try Self.addUsers(workbench, project: fixture.project)
            let anna = try await Self.signIn(client, "anna", role: .annotator)
            let vic = try await Self.signIn(client, "vic", role: .viewer)
            let olga = try await Self.signIn(client, "olga")
            let ada = try await Self.signIn(client, "ada", admin: true)
            let roi = "/api/images/\(fixture.image)/roi"
            let polygon = #"{"sessionId": "session-0001", "polygon": [[4, 4], [100, 6], [60, 110]]}"#
            let correction = "/api/predictions/\(fixture.prediction)/corrections"
            let pixelSize = "/api/images/\(fixture.image)/pixel-size"
            let size = #"{"sessionId": "session-0001", "x": 7, "unit": "nm"}"#
            // The image's pixel size as sorted JSON.
            func spacing(_ who: Who) async throws -> String {
                let image = try Harness.object(try await Self.send(client, who, .get, "/api/images/\(fixture.image)"))
                guard let value = image["spacing"], !(value is NSNull) else { return "none" }
                return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
            }
            let brush = #"{"sessionId": "session-0001", "class": 1, "mode": "brush", "radius": 6, "points": [[10, 10], [60, 60], [110, 20]]}"#
            // The prediction's pixels per class, as "value:pixels".
            func fractions(_ who: Who) async throws -> [String] {
                let answer = try Harness.object(try await Self.send(client, who, .get, "/api/predictions/\(fixture.prediction)/fractions.json"))
                return (answer["fractions"] as? [[String: Any]] ?? []).map { "\($0["value"] ?? ""):\($0["pixels"] ?? "")" }
            }

            // Another group: every new route answers as for an id that does not exist.
            for (method, uri, body, message) in [
                (HTTPRequest.Method.get, roi, nil, "no image with id \(fixture.image)"),
                (.put, roi, polygon, "no image with id \(fixture.image)"),
                (.put, pixelSize, size, "no image with id \(fixture.image)"),
                (.post, correction, brush, "no prediction with id \(fixture.prediction)"),
                (.get, "/api/models/\(fixture.model)/model.json", nil, "no model with id \(fixture.model)"),
                (.get, "/api/models/\(fixture.model)/model.onnx", nil, "no model with id \(fixture.model)"),
                (.get, "/api/projects/\(fixture.project)/fractions.csv", nil, "no project with id \(fixture.project)"),
            ] as [(HTTPRequest.Method, String, String?, String)] {
                let hidden = try await Self.send(client, olga, method, uri, body)
                #expect(hidden.status == .notFound && Harness.errorMessage(hidden) == message, "\(method) \(uri): \(hidden.status) \(Harness.errorMessage(hidden))")
                #expect(!String(buffer: hidden.body).contains("Alpha group secrets") && !String(buffer: hidden.body).contains("particle"))
            }

            // A viewer reads the region and the files, but cannot set a region or correct a result.
            let before = try await fractions(vic)
            #expect(before.count == 2)
            let refusedROI = try await Self.send(client, vic, .put, roi, polygon)
            #expect(refusedROI.status == .forbidden && Harness.errorMessage(refusedROI).contains("viewer"), "\(Harness.errorMessage(refusedROI))")
            let refusedFix = try await Self.send(client, vic, .post, correction, brush)
            #expect(refusedFix.status == .forbidden, "\(refusedFix.status)")
            let spacingBefore = try await spacing(vic)
            let refusedSize = try await Self.send(client, vic, .put, pixelSize, size)
            #expect(refusedSize.status == .forbidden, "\(refusedSize.status)")
            #expect(try await spacing(vic) == spacingBefore)
            let unchanged = try Harness.object(try await Self.send(client, vic, .get, roi))
            #expect(unchanged["polygon"] == nil || unchanged["polygon"] is NSNull, "\(unchanged)")
            let after = try await fractions(vic)
            #expect(after == before, "\(before) then \(after)")
            let model = try await Self.send(client, vic, .get, "/api/models/\(fixture.model)/model.json")
            #expect(model.status == .ok && model.headers[.contentType] == "application/json")
            let table = try await Self.send(client, vic, .get, "/api/projects/\(fixture.project)/fractions.csv")
            #expect(table.status == .ok && String(buffer: table.body).contains("alpha-tile"))

            // An annotator may do both.
            let setROI = try await Self.send(client, anna, .put, roi, polygon)
            #expect(setROI.status == .ok, "\(setROI.status) \(Harness.errorMessage(setROI))")
            #expect((try Harness.object(try await Self.send(client, vic, .get, roi))["polygon"] as? [[Double]])?.count == 3)
            let corrected = try await Self.send(client, anna, .post, correction, brush)
            #expect(corrected.status == .ok, "\(corrected.status) \(Harness.errorMessage(corrected))")
            #expect(try await fractions(vic) != before)
            let setSize = try await Self.send(client, anna, .put, pixelSize, size)
            #expect(setSize.status == .ok, "\(setSize.status) \(Harness.errorMessage(setSize))")
            #expect(try await spacing(vic) != spacingBefore)

            // Downloads are exports: the audit says who took which model and table.
            let audit = try Harness.object(try await Self.send(client, ada, .get, "/api/audit"))["audit"] as? [[String: Any]] ?? []
            let exports = audit.filter { ["export.model", "export.fractions"].contains($0["action"] as? String) }
                .map { "\($0["user"] ?? "") \($0["action"] ?? "") \($0["target"] ?? "")" }
            #expect(exports.sorted() == ["vic export.fractions /api/projects/\(fixture.project)/fractions.csv",
                                         "vic export.model /api/models/\(fixture.model)/model.json"], "\(exports)")
        }
    }

    @Test func cookieFlagsCSRFLogoutAndPasswordChange() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-session")
        try await app.test(.router) { client in
            let fixture = try await Self.makeFixture(client)
            try Self.addUsers(workbench, project: fixture.project)
            let response = try await Self.login(client, "anna")
            #expect(response.status == .ok)
            let cookie = try #require(response.headers[.setCookie])
            let attributes = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(attributes == ["Path=/", "HttpOnly", "SameSite=Strict"])
            let token = String(cookie.split(separator: ";")[0].dropFirst("cleave_session=".count))
            #expect(token.count == 64)
            // Only the token's hash is stored.
            let stored = try await workbench.accounts.database.read { db in try String.fetchAll(db, sql: "SELECT token_hash FROM sessions") }
            #expect(stored == [SHA256.hex(Array(token.utf8))])
            let anna = try await Self.signIn(client, "anna", role: .annotator)

            // CSRF: a stroke without the token, with a wrong one and with another session's is refused; nothing stored.
            let stroke = #"{"sessionId": "session-0001", "class": 1, "radius": 2, "points": [[10, 10]]}"#
            let before = try await workbench.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM annotations") }
            let vic = try await Self.signIn(client, "vic", role: .viewer)
            // The wrong token differs from the right one in its first character (a fixed "0" was the
            // right token whenever the random one began with "0": one run in 16 failed).
            let wrongToken = (anna.csrf!.first == "0" ? "1" : "0") + String(anna.csrf!.dropFirst())
            for csrf in [nil, wrongToken, vic.csrf] {
                var who = anna
                who.csrf = csrf
                let refused = try await Self.send(client, who, .post, "/api/images/\(fixture.image)/strokes", stroke, csrf: csrf != nil)
                #expect(refused.status == .forbidden, "\(csrf ?? "none")")
                #expect(Harness.errorMessage(refused).contains("X-CSRF-Token"))
            }
            let after = try await workbench.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM annotations") }
            #expect(before == after)
            #expect(try await Self.send(client, anna, .post, "/api/images/\(fixture.image)/strokes", stroke).status == .created)
            // A viewer is told why it cannot paint.
            let viewer = try await Self.send(client, vic, .post, "/api/images/\(fixture.image)/strokes", stroke)
            #expect(viewer.status == .forbidden && Harness.errorMessage(viewer) == "your role in this project is viewer; this needs annotator or owner")

            // Who is signed in.
            let session = try Harness.object(try await Self.send(client, anna, .get, "/api/session"))
            #expect((session["user"] as? [String: Any])?["name"] as? String == "anna" && session["csrfToken"] as? String == anna.csrf)
            #expect(try await Self.send(client, nil, .get, "/api/session").status == .unauthorized)

            // Password change: the current password is required; other sessions end, this one stays.
            let other = try await Self.signIn(client, "anna", role: .annotator)
            let wrong = try await Self.send(client, anna, .put, "/api/session/password", #"{"currentPassword": "nope nope nope", "newPassword": "a new password"}"#)
            #expect(wrong.status == .forbidden)
            let short = try await Self.send(client, anna, .put, "/api/session/password", #"{"currentPassword": "\#(Self.password)", "newPassword": "short"}"#)
            #expect(short.status == .badRequest && Harness.errorMessage(short) == "newPassword: password is too short: at least 8 characters")
            let changed = try await Self.send(client, anna, .put, "/api/session/password", #"{"currentPassword": "\#(Self.password)", "newPassword": "a new password"}"#)
            #expect(changed.status == .ok)
            #expect(try await Self.send(client, other, .get, "/api/session").status == .unauthorized)
            #expect(try await Self.send(client, anna, .get, "/api/session").status == .ok)
            #expect(try await Self.login(client, "anna").status == .unauthorized)
            #expect(try await Self.login(client, "anna", "a new password").status == .ok)

            // Logout: the cookie is cleared and the old token no longer works.
            let logout = try await Self.send(client, anna, .delete, "/api/session")
            #expect(logout.status == .ok && logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await Self.send(client, anna, .get, "/api/projects").status == .unauthorized)
            #expect(try await Self.send(client, anna, .get, "/api/images/\(fixture.image)/tiles/0/0/0.png").status == .unauthorized)
        }
    }

    @Test func secureCookiesWhenAsked() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-secure", secureCookies: true)
        try workbench.accounts.addUser(name: "ada", password: Self.password, admin: true)
        try await app.test(.router) { client in
            let response = try await Self.login(client, "ada")
            #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
        }
    }

    @Test func loginRateLimitPerName() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-throttle")
        try workbench.accounts.addUser(name: "vic", password: Self.password, admin: false)
        try await app.test(.router) { client in
            for attempt in 1...5 {
                let response = try await Self.login(client, "vic", "wrong password \(attempt)")
                #expect(response.status == .unauthorized && Harness.errorMessage(response) == "wrong name or password")
            }
            // Now even the right password waits: 429 with Retry-After, the password unchecked.
            let refused = try await Self.login(client, "VIC")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            // An unknown name answers exactly like a wrong password.
            let unknown = try await Self.login(client, "nobody", "wrong password")
            #expect(unknown.status == .unauthorized && Harness.errorMessage(unknown) == "wrong name or password")
        }
    }

    @Test func throttleBacksOffExponentiallyAndForgetsOnSuccess() {
        let clock = LockedClock()
        let throttle = LoginThrottle(clock: { clock.now })
        let keys = LoginThrottle.keys(name: "Vic", address: "192.0.2.1")
        for _ in 0..<5 { #expect(throttle.wait(keys) == 0); throttle.failed(keys) }
        #expect(throttle.wait(keys) == 1)
        clock.advance(1)
        #expect(throttle.wait(keys) == 0)
        throttle.failed(keys)
        #expect(throttle.wait(keys) == 2)
        for _ in 0..<20 { throttle.failed(keys) }
        #expect(throttle.wait(keys) == LoginThrottle.maximumDelay)
        // Per address: another name from the same address waits too.
        #expect(throttle.wait(LoginThrottle.keys(name: "ada", address: "192.0.2.1")) == LoginThrottle.maximumDelay)
        #expect(throttle.wait(LoginThrottle.keys(name: "ada", address: "192.0.2.2")) == 0)
        throttle.succeeded(keys)
        #expect(throttle.wait(keys) == 0)
    }

    // MARK: - Members, audit, single-user mode, binding

    @Test func ownersManageMembersAndAdminsReadTheAudit() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-members")
        try await app.test(.router) { client in
            let fixture = try await Self.makeFixture(client)
            try Self.addUsers(workbench, project: fixture.project)
            let owen = try await Self.signIn(client, "owen", role: .owner)
            let anna = try await Self.signIn(client, "anna", role: .annotator)
            let nora = try await Self.signIn(client, "nora")
            let ada = try await Self.signIn(client, "ada", admin: true)
            let members = "/api/projects/\(fixture.project)/members"
            #expect(try await Self.send(client, anna, .post, members, #"{"name": "nora", "role": "viewer"}"#).status == .forbidden)
            #expect(try await Self.send(client, nora, .get, "/api/projects/\(fixture.project)").status == .notFound)
            #expect(try await Self.send(client, owen, .post, members, #"{"name": "nora", "role": "viewer"}"#).status == .ok)
            #expect(try await Self.send(client, nora, .get, "/api/projects/\(fixture.project)").status == .ok)
            #expect(try await Self.send(client, owen, .post, members, #"{"name": "nobody", "role": "viewer"}"#).status == .notFound)
            #expect(try await Self.send(client, owen, .post, members, #"{"name": "nora", "role": "boss"}"#).status == .badRequest)
            // The last owner stays.
            let demote = try await Self.send(client, owen, .post, members, #"{"name": "owen", "role": "viewer"}"#)
            #expect(demote.status == .conflict)
            #expect(try await Self.send(client, owen, .delete, members, #"{"name": "owen"}"#).status == .conflict)
            #expect(try await Self.send(client, owen, .delete, members, #"{"name": "nora"}"#).status == .ok)
            #expect(try await Self.send(client, nora, .get, "/api/projects/\(fixture.project)").status == .notFound)
            let listed = try Harness.object(try await Self.send(client, anna, .get, members))["members"] as? [[String: Any]] ?? []
            #expect(listed.map { "\($0["name"]!):\($0["role"]!)" } == ["anna:annotator", "owen:owner", "vic:viewer"])

            // A project nora creates is hers: she owns it, owen cannot see it.
            let created = try Harness.object(try await Self.send(client, nora, .post, "/api/projects", #"{"name": "Nora's"}"#))
            #expect(created["role"] as? String == "owner")
            let noraProject = created["id"] as? String ?? ""
            #expect(try await Self.send(client, owen, .get, "/api/projects/\(noraProject)").status == .notFound)

            // Exports and deletions are audited; only admins read the audit.
            #expect(try await Self.send(client, owen, .post, "/api/projects/\(fixture.project)/export", #"{"sessionId": "session-0001"}"#).status == .ok)
            #expect(try await Self.send(client, owen, .get, "/api/images/\(fixture.image)/reference/labels.tif").status == .ok)
            // The class labels strokes: refused until they may be discarded.
            #expect(try await Self.send(client, owen, .delete, "/api/classes/\(fixture.classID)").status == .conflict)
            #expect(try await Self.send(client, owen, .delete, "/api/classes/\(fixture.classID)?discard=true").status == .ok)
            // Renaming an image is an annotator's; deleting images and projects is the owner's, and audited.
            #expect(try await Self.send(client, anna, .put, "/api/images/\(fixture.image)", #"{"name": "renamed.tif"}"#).status == .ok)
            #expect(try await Self.send(client, anna, .put, "/api/projects/\(fixture.project)", #"{"name": "Renamed"}"#).status == .forbidden)
            #expect(try await Self.send(client, anna, .delete, "/api/images/\(fixture.image)").status == .forbidden)
            #expect(try await Self.send(client, owen, .put, "/api/projects/\(fixture.project)", #"{"name": "Renamed"}"#).status == .ok)
            #expect(try await Self.send(client, owen, .delete, "/api/images/\(fixture.image)").status == .ok)
            #expect(try await Self.send(client, owen, .delete, "/api/projects/\(fixture.project)").status == .ok)
            #expect(try await Self.send(client, owen, .get, "/api/projects/\(fixture.project)").status == .notFound)
            #expect(try await Self.send(client, owen, .get, "/api/audit").status == .forbidden)
            let audit = try Harness.object(try await Self.send(client, ada, .get, "/api/audit"))["audit"] as? [[String: Any]] ?? []
            let lines = audit.map { "\($0["user"]!) \($0["action"]!) \($0["target"]!)" }
            #expect(lines.contains("owen export.project /api/projects/\(fixture.project)/export"))
            #expect(lines.contains("owen export.reference /api/images/\(fixture.image)/reference/labels.tif"))
            #expect(lines.contains("owen delete.class /api/classes/\(fixture.classID)"))
            #expect(lines.contains("owen delete.image /api/images/\(fixture.image)"))
            #expect(lines.contains("owen delete.project /api/projects/\(fixture.project)"))
            #expect(lines.filter { $0.contains(" delete.") }.count == 3)
            #expect(lines.contains("owen member.remove /api/projects/\(fixture.project)/members"))
            #expect(audit.first(where: { $0["action"] as? String == "export.project" })?["projectId"] as? String == fixture.project)
            // Refused attempts are not recorded as exports.
            #expect(!lines.contains { $0.hasPrefix("anna ") || $0.hasPrefix("nora export") })
        }
    }

    @Test func singleUserModeNeedsNoLoginAndTheNetworkNeedsAccounts() async throws {
        let (workbench, _, app) = try Self.setup("server-authz-single")
        try await app.test(.router) { client in
            let session = try Harness.object(try await Self.send(client, nil, .get, "/api/session"))
            #expect(session["accounts"] as? Bool == false && session["user"] is NSNull)
            let project = try await Harness.createProject(client)
            let listed = try Harness.object(try await Self.send(client, nil, .get, "/api/projects"))["projects"] as? [[String: Any]]
            #expect(listed?.first?["id"] as? String == project && listed?.first?["role"] as? String == "owner")
            let login = try await Self.login(client, "ada")
            #expect(login.status == .conflict)
        }
        // Any other interface: refused with no account, served once one exists.
        var configuration = workbench.configuration
        configuration.host = "0.0.0.0"
        await #expect(throws: ServeRefusal.noAccounts(host: "0.0.0.0")) { _ = try await buildApplication(configuration) }
        configuration.host = "192.0.2.7"
        await #expect(throws: ServeRefusal.noAccounts(host: "192.0.2.7")) { _ = try await buildApplication(configuration) }
        try workbench.accounts.addUser(name: "ada", password: Self.password, admin: true)
        configuration.host = "0.0.0.0"
        _ = try await buildApplication(configuration)
    }

    @Test func aRouteWithoutAnAccessRuleIsRefused() async throws {
        let (workbench, _, _) = try Self.setup("server-authz-undeclared")
        let router = buildRouter(workbench)
        router.get("/api/sneaky") { _, _ in "secret data" }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/api/sneaky", method: .get)
            #expect(response.status == .internalServerError)
            // (5xx lines lose anything that looks like an absolute path.)
            #expect(Harness.errorMessage(response) == "GET <server path> declares no access rule; refused")
            #expect(!String(buffer: response.body).contains("secret data"))
        }
    }

    @Test func everyDocumentedOperationHasARule() throws {
        let (workbench, rules, _) = try Self.setup("server-authz-rules")
        _ = workbench
        let declared = Set(rules.all.map { "\($0.method) \($0.path)" })
        let documented = Set(OpenAPIDocument.operations.map {
            "\($0.method.uppercased()) \($0.path.replacingOccurrences(of: "{y}.png", with: "{tile}").replacingOccurrences(of: "{axis}.png", with: "{axis}").replacingOccurrences(of: "/api/models/{modelId}/model.json", with: "/api/models/{modelId}/{file}").replacingOccurrences(of: "/api/models/{modelId}/model.onnx", with: "/api/models/{modelId}/{file}"))"
        })
        #expect(declared == documented.union(["GET /", "GET /web/{file}"]))
        #expect(rules.all.filter { $0.access == .open }.map { "\($0.method) \($0.path)" }.sorted()
                == ["GET /", "GET /api/openapi.json", "GET /web/{file}", "POST /api/session"])
    }

    @Test func passwordsAndNamesAreChecked() throws {
        let (workbench, _, _) = try Self.setup("server-authz-passwords")
        let accounts = workbench.accounts
        #expect(throws: AccountError.passwordTooShort(minimum: 8)) { try accounts.addUser(name: "a", password: "", admin: false) }
        #expect(throws: AccountError.passwordTooLong(maximum: 72)) { try accounts.addUser(name: "a", password: String(repeating: "x", count: 73), admin: false) }
        #expect(throws: AccountError.invalidName("a b")) { try accounts.addUser(name: "a b", password: Self.password, admin: false) }
        try accounts.addUser(name: "Ada", password: Self.password, admin: true)
        #expect(throws: AccountError.nameTaken("ada")) { try accounts.addUser(name: "ada", password: Self.password, admin: false) }
        let hash = try accounts.database.read { db in try String.fetchOne(db, sql: "SELECT password_hash FROM users") } ?? ""
        #expect(hash.hasPrefix("$2b$04$") && !hash.contains(Self.password))
        #expect(try accounts.verify(name: "ada", password: Self.password)?.name == "Ada")
        #expect(try accounts.verify(name: "ada", password: Self.password + "!") == nil)
        #expect(try accounts.verify(name: "nobody", password: Self.password) == nil)
        #expect(AccountStore.constantTimeEqual("abc", "abc") && !AccountStore.constantTimeEqual("abc", "abd")
                && !AccountStore.constantTimeEqual("abc", "abcd"))
    }
}

/// A clock tests move by hand.
final class LockedClock: @unchecked Sendable {
    private let lock = NSLock()
    private var time = 1_000_000.0
    var now: Double { lock.lock(); defer { lock.unlock() }; return time }
    func advance(_ seconds: Double) { lock.lock(); time += seconds; lock.unlock() }
}
