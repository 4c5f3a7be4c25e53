import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveServer
import CleaveTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A zip written entry by entry, with full control over what the records claim (the hostile
/// cases): stored or raw-deflate data, declared sizes and CRC-32 that may lie.
struct TestZip {
    struct Item {
        var name: String
        var data: [UInt8]                 // what is stored (raw deflate for method 8)
        var method: UInt16 = 0
        var uncompressedSize: Int? = nil  // default: data.count (stored)
        var crc: UInt32? = nil            // default: CRC-32 of data (stored)
    }

    static func stored(_ entries: [(String, [UInt8])]) -> [UInt8] {
        build(entries.map { Item(name: $0.0, data: $0.1) })
    }

    static func build(_ items: [Item]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32, _ a: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { a.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
        for item in items {
            let name = Array(item.name.utf8)
            let crc = item.crc ?? CRC32.checksum(item.data)
            let size = UInt32(item.uncompressedSize ?? item.data.count)
            let offset = UInt32(out.count)
            le32(0x0403_4b50, &out); le16(20, &out); le16(0x0800, &out); le16(Int(item.method), &out); le16(0, &out); le16(0x21, &out)
            le32(crc, &out); le32(UInt32(item.data.count), &out); le32(size, &out); le16(name.count, &out); le16(0, &out)
            out += name + item.data
            le32(0x0201_4b50, &central); le16(20, &central); le16(20, &central); le16(0x0800, &central); le16(Int(item.method), &central)
            le16(0, &central); le16(0x21, &central); le32(crc, &central); le32(UInt32(item.data.count), &central); le32(size, &central)
            le16(name.count, &central); le16(0, &central); le16(0, &central); le16(0, &central); le16(0, &central); le32(0, &central)
            le32(offset, &central)
            central += name
        }
        let start = out.count
        out += central
        le32(0x0605_4b50, &out); le16(0, &out); le16(0, &out); le16(items.count, &out); le16(items.count, &out)
        le32(UInt32(central.count), &out); le32(UInt32(start), &out); le16(0, &out)
        return out
    }

    /// Raw deflate of `height × (width + 1)` zero bytes, taken from the IDAT stream of an all-zero
    /// 8-bit PNG (filter bytes and pixels are all 0): zlib's 2-byte header and Adler-32 stripped.
    static func deflatedZeros(width: Int, height: Int) throws -> (deflated: [UInt8], size: Int) {
        let png = try ImageFile.encode(Image<UInt8>(width: width, height: height), as: .png)
        var at = 8, stream: [UInt8] = []
        while at + 8 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            if String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self) == "IDAT" { stream += png[(at + 8)..<(at + 8 + length)] }
            at += 12 + length
        }
        return (Array(stream.dropFirst(2).dropLast(4)), height * (width + 1))
    }
}

/// Import of a project export zip (issue 23): round trip, every hostile archive, roles.
@Suite struct ProjectImportTests {
    static let session = "session-0001"

    /// A project with two images (16-bit TIFF with a pixel size, 8-bit PNG), two classes and
    /// strokes of every kind: painted, erased, a slip undone at once, one on a second image.
    static func makeProject(_ client: some TestClientProtocol, name: String = "Sandstone") async throws -> (project: String, images: [String]) {
        let project = try await Harness.createProject(client, name: name)
        let tile = try await Harness.uploadImage(client, project: project, name: "tile.tif", bytes: try Harness.particleTile(size: 96))
        var grey = Image<UInt8>(width: 40, height: 30)
        for y in 0..<30 { for x in 0..<40 { grey[x, y] = UInt8((x * 5 + y * 3) % 256) } }
        let second = try await Harness.uploadImage(client, project: project, name: "grey.png", bytes: try Harness.png(grey))
        try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "grain", "colour": "#ff0000"}"##, status: .created)
        try await Harness.post(client, "/api/projects/\(project)/classes", ##"{"name": "pore", "colour": "#0000ff"}"##, status: .created)
        for (classValue, points, radius) in [(1, "[[20.5, 20.5], [40.5, 30.5]]", 3.0), (2, "[[70.5, 70.5]]", 4.0), (1, "[[60.5, 20.5]]", 2.5),
                                             (0, "[[40.5, 30.5]]", 2.0), (2, "[[10.5, 80.5], [30.5, 85.5]]", 2.0)] {
            try await Harness.post(client, "/api/images/\(tile)/strokes",
                                   #"{"sessionId": "\#(session)", "class": \#(classValue), "radius": \#(radius), "points": \#(points)}"#, status: .created)
        }
        try await Harness.post(client, "/api/images/\(tile)/strokes", #"{"sessionId": "\#(session)", "class": 1, "radius": 5, "points": [[50.5, 50.5]]}"#, status: .created)
        try await Harness.post(client, "/api/images/\(tile)/strokes/undo", #"{"sessionId": "\#(session)"}"#)
        try await Harness.post(client, "/api/images/\(second)/strokes", #"{"sessionId": "\#(session)", "class": 2, "radius": 3, "points": [[10.5, 10.5], [20.5, 12.5]]}"#, status: .created)
        return (project, [tile, second])
    }

    static func export(_ client: some TestClientProtocol, _ project: String) async throws -> [UInt8] {
        let response = try await client.execute(uri: "/api/projects/\(project)/export", method: .post, headers: Harness.headers(),
                                                body: Harness.body(#"{"sessionId": "\#(session)"}"#))
        guard response.status == .ok else { throw HarnessError.unexpected("export: \(response.status) \(String(buffer: response.body))") }
        return [UInt8](response.body.readableBytesView)
    }

    static func importArchive(_ client: some TestClientProtocol, _ zip: [UInt8], query: String = "") async throws -> TestResponse {
        try await client.execute(uri: "/api/projects/import\(query)", method: .post,
                                 headers: [.contentType: "application/zip", .init("X-Cleave-User")!: Harness.user], body: Harness.body(zip))
    }

    /// The export as name → bytes, and its metadata.
    static func open(_ zip: [UInt8]) throws -> (files: [String: [UInt8]], metadata: [String: Any]) {
        let files = try ReferenceExportTests.entries(zip)
        let manifest = try #require(files["metadata.json"])
        let metadata = try #require(try JSONSerialization.jsonObject(with: Data(manifest)) as? [String: Any])
        return (files, metadata)
    }

    static func json(_ object: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) }

    // MARK: Round trip

    @Test func exportImportExportKeepsEverythingButIds() async throws {
        let (workbench, app) = try Harness.workbench("server-import-roundtrip")
        try await app.test(.router) { client in
            let (project, images) = try await Self.makeProject(client)
            let first = try await Self.export(client, project)
            let response = try await Self.importArchive(client, first)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let imported = try Harness.object(response)
            let newProject = try #require((imported["project"] as? [String: Any])?["id"] as? String)
            #expect((imported["project"] as? [String: Any])?["name"] as? String == "Sandstone (imported)")
            #expect(imported["images"] as? Int == 2 && imported["classes"] as? Int == 2 && imported["strokes"] as? Int == 7)
            #expect(imported["unrestoredPixels"] as? Int == 0 && (imported["ignoredEntries"] as? [String])?.isEmpty == true)
            let source = try #require(imported["source"] as? [String: Any])
            #expect(source["projectId"] as? String == project && source["formatVersion"] as? Int == 2)
            #expect(source["archiveSha256"] as? String == SHA256.hex(first))
            #expect(newProject != project)

            let second = try await Self.export(client, newProject)
            let (a, metaA) = try Self.open(first), (b, metaB) = try Self.open(second)
            // Same classes; same images by name with the same bytes, labels, provenance and strokes.
            #expect(metaA["classes"] as? [[String: AnyHashable]] == metaB["classes"] as? [[String: AnyHashable]])
            let imagesA = try #require(metaA["images"] as? [[String: Any]]), imagesB = try #require(metaB["images"] as? [[String: Any]])
            #expect(imagesA.count == 2 && imagesB.count == 2)
            for entryA in imagesA {
                let entryB = try #require(imagesB.first { $0["name"] as? String == entryA["name"] as? String })
                #expect(entryB["id"] as? String != entryA["id"] as? String)
                for key in ["sha256", "width", "height", "depth", "format", "strongPixels", "weakPixels", "discardedStrokes"] {
                    #expect(entryA[key] as? AnyHashable == entryB[key] as? AnyHashable, "\(key)")
                }
                #expect(entryA["pixelSize"] as? [String: AnyHashable] == entryB["pixelSize"] as? [String: AnyHashable])
                for key in ["image", "labels", "provenance", "strokes"] {
                    let nameA = try #require(entryA[key] as? String), nameB = try #require(entryB[key] as? String)
                    let fileA = try #require(a[nameA]), fileB = try #require(b[nameB])
                    #expect(fileA == fileB, "\(key) of \(entryA["name"] ?? "")")
                }
            }
            let tileEntry = try #require(imagesA.first { $0["name"] as? String == "tile.tif" })
            #expect(tileEntry["discardedStrokes"] as? Int == 1 && (tileEntry["strongPixels"] as? Int ?? 0) > 100)
            let tileB = try #require(imagesB.first { $0["name"] as? String == "tile.tif" })
            let strokesName = try #require(tileB["strokes"] as? String)
            let strokesJSON = try #require(b[strokesName])
            let strokes = try JSONDecoder().decode([ExportedStroke].self, from: Data(strokesJSON))
            #expect(strokes.count == 6 && strokes.allSatisfy { $0.user == Harness.user } && strokes.last?.state == "undone" && strokes.last?.undoneAt != nil)

            // A second import of the same archive: another project, another suffix.
            let again = try Harness.object(try await Self.importArchive(client, first))
            #expect((again["project"] as? [String: Any])?["name"] as? String == "Sandstone (imported 2)")
            let named = try Harness.object(try await Self.importArchive(client, first, query: "?name=Second%20look"))
            #expect((named["project"] as? [String: Any])?["name"] as? String == "Second look")

            // Provenance: the import is an event of the new project and an audit record.
            let events = try await workbench.database.read { db in
                try SQLRow.fetchAll(db, sql: "SELECT type, payload FROM events WHERE project_id = ? AND type = 'import'", arguments: [newProject])
                    .map { $0["payload"] as String }
            }
            #expect(events.count == 1 && events.first?.contains(project) == true)
            let audit = try await workbench.accounts.auditLog().filter { $0.action == "import.project" }
            #expect(audit.count == 3 && audit.contains { $0.projectId == newProject && ($0.detail ?? "").contains(project) })

            // The imported project trains and predicts exactly as the original.
            let newTile = try #require(tileB["id"] as? String)
            var predicted: [Image<UInt8>] = []
            for image in [images[0], newTile] {
                _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "\#(Self.session)", "treeCount": 8, "bank": "fast", "seed": 4}"#)
                let job = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "\#(Self.session)"}"#)
                let id = try #require((job["result"] as? [String: Any])?["predictionId"] as? String)
                let labels = try await client.execute(uri: "/api/predictions/\(id)/labels.tif", method: .get)
                guard case .uint8(let map) = try ImageFile.read(data: [UInt8](labels.body.readableBytesView)) else {
                    Issue.record("labels.tif is not 8-bit"); return
                }
                predicted.append(map)
            }
            // The same labels pixel for pixel (the files differ only in the ids they name).
            let differing = zip(predicted[0].pixels, predicted[1].pixels).filter { $0 != $1 }.count
            #expect(predicted[0].shape == predicted[1].shape && differing == 0 && predicted[0].shape.count == 96 * 96, "\(differing) pixels differ")
            #expect(Set(predicted[0].pixels) == [1, 2])
        }
    }

    // MARK: Hostile archives

    @Test func hostileArchivesAreRefusedAndLeaveNothing() async throws {
        let (workbench, app) = try Harness.workbench("server-import-hostile")
        try await app.test(.router) { client in
            let (project, _) = try await Self.makeProject(client)
            let good = try await Self.export(client, project)
            let (files, metadata) = try Self.open(good)
            let order = files.keys.sorted()
            func rebuilt(_ change: (inout [String: [UInt8]], inout [String: Any]) throws -> Void) throws -> [UInt8] {
                var f = files, m = metadata
                try change(&f, &m)
                f["metadata.json"] = try Self.json(m)
                return TestZip.stored(order.filter { f[$0] != nil }.map { ($0, f[$0]!) } + f.keys.filter { !order.contains($0) }.sorted().map { ($0, f[$0]!) })
            }
            let images = try #require(metadata["images"] as? [[String: Any]])
            let tile = try #require(images.first { $0["name"] as? String == "tile.tif" })
            let tileFile = try #require(tile["image"] as? String), strokesFile = try #require(tile["strokes"] as? String)
            let zeros = try TestZip.deflatedZeros(width: 4095, height: 4096)   // 16 MiB of zeros in ~16 KiB
            let dataDirectory = workbench.configuration.dataDirectory
            let blobsBefore = Harness.files(under: dataDirectory + "/blobs")

            var cases: [(String, [UInt8], HTTPResponse.Status, String)] = []
            cases.append(("not a zip", (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, .badRequest, "not a zip archive"))
            cases.append(("tiny", Array("hello".utf8), .badRequest, "not a zip archive"))
            cases.append(("truncated", Array(good.prefix(good.count * 2 / 3)), .badRequest, "truncated"))
            cases.append(("bomb", TestZip.build(order.map { TestZip.Item(name: $0, data: files[$0]!) }
                                        + [TestZip.Item(name: "zeros.bin", data: zeros.deflated, method: 8, uncompressedSize: zeros.size, crc: 0)]),
                 .contentTooLarge, "over the limit"))
            cases.append(("lying size", TestZip.build(order.filter { $0 != "metadata.json" }.map { TestZip.Item(name: $0, data: files[$0]!) }
                                             + [TestZip.Item(name: "metadata.json", data: zeros.deflated, method: 8, uncompressedSize: 1000, crc: 0)]),
                 .contentTooLarge, "more than the 1000 bytes"))
            cases.append(("traversal", try rebuilt { f, _ in f["../../etc/cron.d/evil"] = Array("x".utf8) }, .badRequest, "path traversal"))
            cases.append(("absolute", try rebuilt { f, _ in f["/tmp/evil"] = Array("x".utf8) }, .badRequest, "absolute path"))
            cases.append(("duplicate", TestZip.stored(order.map { ($0, files[$0]!) } + [("metadata.json", files["metadata.json"]!)]),
                 .badRequest, "two entries named metadata.json"))
            cases.append(("no manifest", TestZip.stored(order.filter { $0 != "metadata.json" }.map { ($0, files[$0]!) }),
                 .badRequest, "no metadata.json"))
            cases.append(("newer", try rebuilt { _, m in m["formatVersion"] = 99 }, .badRequest, "newer Cleave"))
            cases.append(("sha256", try rebuilt { f, _ in f[tileFile]![f[tileFile]!.count - 1] ^= 0xFF }, .badRequest, "SHA-256"))
            cases.append(("undecodable", try rebuilt { f, m in
                    let junk = Array("II*\0".utf8) + [UInt8](repeating: 0xEE, count: 3000)
                    f[tileFile] = junk
                    var list = m["images"] as! [[String: Any]]
                    let i = list.firstIndex { $0["name"] as? String == "tile.tif" }!
                    list[i]["sha256"] = SHA256.hex(junk)
                    m["images"] = list
                }, .badRequest, "not a readable image"))
            cases.append(("missing class", try rebuilt { _, m in m["classes"] = (m["classes"] as! [[String: Any]]).filter { $0["value"] as? Int != 2 } },
                 .badRequest, "class 2, which metadata.json's classes do not define"))
            cases.append(("edited strokes", try rebuilt { f, _ in
                    var strokes = try JSONDecoder().decode([ExportedStroke].self, from: Data(f[strokesFile]!))
                    strokes.remove(at: 1)
                    let encoded: Data = try JSONEncoder().encode(strokes)
                    f[strokesFile] = [UInt8](encoded)
                }, .badRequest, "disagree"))
            cases.append(("crc", TestZip.build(order.map { TestZip.Item(name: $0, data: files[$0]!, crc: $0 == tileFile ? 12345 : nil) }), .badRequest, "CRC-32"))
            // Empty archive (an end record only): no manifest.
            cases.append(("empty zip", TestZip.stored([]), .badRequest, "no metadata.json"))
            for (label, zip, status, words) in cases {
                let response = try await Self.importArchive(client, zip)
                let message = Harness.errorMessage(response)
                #expect(response.status == status && message.contains(words), "\(label): \(response.status) \(message)")
                #expect(!message.contains("\n") && !message.contains(dataDirectory), "\(label): \(message)")
            }
            // Nothing half-imported: one project, no temporary files, the same blobs, no import records.
            let projects = try await workbench.projects()
            #expect(projects.count == 1)
            #expect(Harness.files(under: dataDirectory + "/tmp").isEmpty)
            #expect(Harness.files(under: dataDirectory + "/blobs") == blobsBefore)
            #expect(try await workbench.accounts.auditLog().filter { $0.action == "import.project" }.isEmpty)
            // And the untouched archive still imports.
            #expect(try await Self.importArchive(client, good).status == .created)
        }
    }

    /// The reader on its own: names, limits and the records it refuses.
    @Test func zipReaderRefusesUnsafeNamesAndReadsWhatZipWriterWrites() throws {
        let directory = TestData.scratchDirectory("server-zipreader")
        let path = directory + "/a.zip"
        let writer = try ZipWriter(path: path)
        try writer.add("dir/one.txt", bytes: Array("one".utf8))
        try writer.add("two.bin", bytes: [UInt8](repeating: 7, count: 3 << 20))
        try writer.finish()
        let reader = try ZipReader(path: path, limits: .init(maximumEntryBytes: 8 << 20, maximumTotalBytes: 16 << 20))
        #expect(reader.entries.map(\.name) == ["dir/one.txt", "two.bin"])
        #expect(try reader.bytes(try #require(reader.entry("dir/one.txt")), limit: 10) == Array("one".utf8))
        var pieces = 0, total = 0
        try reader.unsafeUnpack(try #require(reader.entry("two.bin"))) { pieces += 1; total += $0.count }
        #expect(total == 3 << 20 && pieces >= 3)   // streamed in pieces of at most 1 MiB
        #expect(throws: ZipArchiveError.self) { try ZipReader(path: path, limits: .init(maximumEntryBytes: 1 << 20, maximumTotalBytes: 16 << 20)) }
        #expect(throws: ZipArchiveError.self) { try ZipReader(path: path, limits: .init(maximumEntries: 1, maximumEntryBytes: 8 << 20, maximumTotalBytes: 16 << 20)) }
        for bad in ["../x", "a/../../x", "/abs", "C:/windows", "a\\b", ""] {
            #expect(throws: ZipArchiveError.self, "\(bad)") { try ZipReader.checkName(bad) }
        }
        for fine in ["a/b.tif", "images/x..y.tif", "..hidden", "dir/"] { try ZipReader.checkName(fine) }
        // Overlapping entries (two central records pointing at one local header).
        var bytes = TestZip.stored([("a.txt", Array("abc".utf8)), ("b.txt", Array("def".utf8))])
        let second = bytes.count - 22 - (46 + 5)   // the second central record
        for i in 0..<4 { bytes[second + 42 + i] = 0 }
        bytes[second + 28] = 5
        let overlapping = directory + "/overlap.zip"
        FileManager.default.createFile(atPath: overlapping, contents: Data(bytes))
        #expect(throws: ZipArchiveError.self) { try ZipReader(path: overlapping, limits: .init(maximumEntryBytes: 1 << 20, maximumTotalBytes: 1 << 20)) }
    }

    // MARK: Roles

    @Test func anyoneSignedInImportsAndOwnsTheImport() async throws {
        let (workbench, _, app) = try AuthorizationTests.setup("server-import-roles")
        try await app.test(.router) { client in
            let (project, _) = try await Self.makeProject(client, name: "Alpha group secrets")
            let zip = try await Self.export(client, project)
            try AuthorizationTests.addUsers(workbench, project: project)
            let vic = try await AuthorizationTests.signIn(client, "vic", role: .viewer)    // viewer of A
            let nora = try await AuthorizationTests.signIn(client, "nora")                 // no project at all
            func importAs(_ who: AuthorizationTests.Who?, csrf: Bool = true) async throws -> TestResponse {
                var headers = AuthorizationTests.headers(who, csrf: csrf)
                headers[.contentType] = "application/zip"
                return try await client.execute(uri: "/api/projects/import", method: .post, headers: headers, body: Harness.body(zip))
            }
            #expect(try await importAs(nil).status == .unauthorized)
            #expect(try await importAs(nora, csrf: false).status == .forbidden)       // no CSRF token
            let imported = try await importAs(nora)
            #expect(imported.status == .created, "\(String(buffer: imported.body))")
            let newProject = try #require((try Harness.object(imported)["project"] as? [String: Any])?["id"] as? String)
            // Nora owns it; Vic (a member of the source project only) does not see it.
            let members = try Harness.object(try await AuthorizationTests.send(client, nora, .get, "/api/projects/\(newProject)/members"))
            #expect((members["members"] as? [[String: Any]])?.map { "\($0["name"] ?? "")=\($0["role"] ?? "")" } == ["nora=owner"])
            #expect(try await AuthorizationTests.send(client, vic, .get, "/api/projects/\(newProject)").status == .notFound)
            #expect(try await importAs(vic).status == .created)
            let audit = try await workbench.accounts.auditLog().filter { $0.action == "import.project" }
            #expect(audit.map(\.user).sorted() == ["nora", "vic"])
            // The strokes keep their painter's pseudonym; the import event carries the importer's.
            let pseudonym = try #require(try workbench.accounts.account(named: "nora")?.pseudonym)
            let users = try await workbench.database.read { db in
                try SQLRow.fetchAll(db, sql: "SELECT DISTINCT user_id FROM events WHERE project_id = ? AND type = 'import'", arguments: [newProject]).map { $0["user_id"] as String }
            }
            #expect(users == [pseudonym])
        }
    }
}
