import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import CleaveTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Shared helpers: a workbench on a scratch data directory, JSON bodies, the user header.
enum Harness {
    static let user = "user-0000-aaaa"
    static let otherUser = "user-1111-bbbb"
    static let session = "session-0001"

    static func configuration(_ name: String, maximumUploadBytes: Int = 8 << 20, maximumJSONBytes: Int = 64 << 10,
                              demo: Bool = false, reuse: Bool = false) -> ServerConfiguration {
        let directory = reuse ? "/tmp/cleave-tests-\(getpid())-\(name)" : TestData.scratchDirectory(name)
        var configuration = ServerConfiguration(dataDirectory: directory + "/data", demo: demo, maximumUploadBytes: maximumUploadBytes,
                                                maximumJSONBytes: maximumJSONBytes)
        configuration.database = postgresDatabase(name, fresh: !reuse)
        return configuration
    }

    /// `$CLEAVE_TEST_POSTGRES_URL` (a PostgreSQL server's URL, e.g. postgres://postgres@127.0.0.1:5433/postgres)
    /// runs every workbench of the server tests on PostgreSQL: each test gets a database of its
    /// own on that server (`.ci/run` sets it; without it the tests use SQLite files).
    static var postgresServer: String? {
        ProcessInfo.processInfo.environment["CLEAVE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The URL of a new database for test `name` on ``postgresServer`` (nil without one). `fresh`
    /// gives each call its own database; otherwise calls with one name share one (a restart).
    static func postgresDatabase(_ name: String, fresh: Bool = true) -> String? {
        guard let server = postgresServer, let url = postgresDatabaseURL(name, fresh: fresh) else { return nil }
        let database = String(URLComponents(string: url)!.path.dropFirst())
        do {
            try WorkbenchDatabase.createPostgresDatabase(named: database, on: try PostgresLocation(url: server))
        } catch {
            fatalError("CLEAVE_TEST_POSTGRES_URL=\(PostgresLocation.redacted(server)): cannot create test database \(database): \(error)")
        }
        return url
    }

    /// The URL of a database for test `name` on ``postgresServer`` that is not created (nil without a server).
    static func postgresDatabaseURL(_ name: String, fresh: Bool = true) -> String? {
        guard let server = postgresServer else { return nil }
        let cleaned = String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(30))
        let suffix = fresh ? UUID().uuidString.lowercased().prefix(8).description : "p\(getpid())"
        var components = URLComponents(string: server)!
        components.path = "/cleave_t_\(cleaned)_\(suffix)"
        return components.string!
    }

    static func headers(user: String? = Harness.user) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let user { fields[.init("X-Cleave-User")!] = user }
        return fields
    }

    static func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

    static func body(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    /// The response body parsed as a JSON object.
    static func object(_ response: TestResponse) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        guard let object = value as? [String: Any] else { throw HarnessError.notAnObject(String(buffer: response.body)) }
        return object
    }

    /// The one-line message of an error response.
    static func errorMessage(_ response: TestResponse) -> String {
        ((try? object(response))?["error"] as? String) ?? "<no error field: \(String(buffer: response.body))>"
    }

    /// A 16-bit image whose value is `100 × column` (so windows map to known grey levels).
    static func rampImage(width: Int, height: Int, spacing: Spacing? = Spacing(x: 2, y: 2, unit: "nm")) -> Image<UInt16> {
        var image = Image<UInt16>(width: width, height: height, spacing: spacing)
        for row in 0..<height { for column in 0..<width { image[column, row] = UInt16(column * 100) } }
        return image
    }

    static func tiff<S: PixelScalar>(_ image: Image<S>) throws -> [UInt8] { try ImageFile.encode(image, as: .tiff) }

    static func png(_ image: Image<UInt8>) throws -> [UInt8] { try ImageFile.encode(image, as: .png) }

    /// Creates a project through the API and returns its id.
    static func createProject(_ client: some TestClientProtocol, name: String = "P") async throws -> String {
        let response = try await client.execute(uri: "/api/projects", method: .post, headers: headers(),
                                                body: body(#"{"name": "\#(name)"}"#))
        guard response.status == .created, let id = try object(response)["id"] as? String else {
            throw HarnessError.unexpected("create project: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    /// Uploads bytes and returns the response.
    static func upload(_ client: some TestClientProtocol, project: String, name: String, bytes: [UInt8]) async throws -> TestResponse {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
        return try await client.execute(uri: "/api/projects/\(project)/images?name=\(escaped)", method: .post,
                                        headers: [.contentType: "application/octet-stream", .init("X-Cleave-User")!: user], body: body(bytes))
    }

    /// Uploads bytes that must be accepted and returns the image id.
    static func uploadImage(_ client: some TestClientProtocol, project: String, name: String, bytes: [UInt8]) async throws -> String {
        let response = try await upload(client, project: project, name: name, bytes: bytes)
        guard response.status == .created, let id = try object(response)["id"] as? String else {
            throw HarnessError.unexpected("upload: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    /// Every regular file under a directory (relative paths), sorted.
    static func files(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }
}

extension Harness {
    /// A workbench and an application over it (tests that also call the workbench directly).
    static func workbench(_ name: String, jobConcurrency: Int = 1,
                          pixelFeatureCacheBytes: Int = 1 << 30, decodedImageBytes: Int = 1 << 30) throws -> (Workbench, some ApplicationProtocol) {
        var configuration = configuration(name)
        configuration.jobConcurrency = jobConcurrency
        configuration.pixelFeatureCacheBytes = pixelFeatureCacheBytes
        configuration.decodedImageBytes = decodedImageBytes
        let workbench = try Workbench(configuration: configuration)
        return (workbench, Application(router: buildRouter(workbench)))
    }

    /// A 256×256 16-bit synthetic TEM tile with particles (CleavePipelines' SyntheticTileSet).
    static func particleTile(size: Int = 256, seed: UInt64 = 3) throws -> [UInt8] {
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: size, overlap: 0, seed: seed, kind: .film,
                                                      particlesPerTile: 12))
        return try ImageFile.encode(set.tiles[0].image, as: .tiff)
    }

    /// POSTs JSON and returns the parsed object, requiring `status`.
    @discardableResult
    static func post(_ client: some TestClientProtocol, _ uri: String, _ json: String, status: HTTPResponse.Status = .ok,
                     method: HTTPRequest.Method = .post) async throws -> [String: Any] {
        let response = try await client.execute(uri: uri, method: method, headers: headers(), body: body(json))
        guard response.status == status else {
            throw HarnessError.unexpected("\(method) \(uri): \(response.status) \(String(buffer: response.body))")
        }
        return try object(response)
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> [String: Any] {
        let response = try await client.execute(uri: uri, method: .get, headers: headers())
        guard response.status == .ok else { throw HarnessError.unexpected("GET \(uri): \(response.status) \(String(buffer: response.body))") }
        return try object(response)
    }

    /// Follows a job's server-sent events until it finishes; returns every state seen (the last is terminal).
    static func follow(_ client: some TestClientProtocol, job: String) async throws -> [[String: Any]] {
        let response = try await client.execute(uri: "/api/jobs/\(job)/events", method: .get)
        guard response.status == .ok, response.headers[.contentType] == "text/event-stream" else {
            throw HarnessError.unexpected("events: \(response.status)")
        }
        return try String(buffer: response.body).split(separator: "\n").filter { $0.hasPrefix("data: ") }.map {
            try JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any] ?? [:]
        }
    }

    /// Starts a job with POST and waits for it; returns the final job object (requires state done).
    static func run(_ client: some TestClientProtocol, _ uri: String, _ json: String) async throws -> [String: Any] {
        let job = try await post(client, uri, json, status: .accepted)
        let states = try await follow(client, job: try #require(job["id"] as? String))
        let last = try #require(states.last)
        guard last["state"] as? String == "done" else { throw HarnessError.unexpected("job ended \(last["state"] ?? "?"): \(last["error"] ?? "")") }
        return last
    }
}

enum HarnessError: Error {
    case notAnObject(String)
    case unexpected(String)
}
