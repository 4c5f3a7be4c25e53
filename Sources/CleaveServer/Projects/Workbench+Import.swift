import CleaveCore
import CleaveFormats
import CleaveRender
import Foundation
import Hummingbird

/// One stroke as a project export stores it (`strokes/<image id>.json`, format version 2): what
/// was painted, by whom (the pseudonym events carry) and when, and when it was first undone.
public struct ExportedStroke: Codable, Equatable, Sendable {
    /// Class value 1…255; 0 the eraser.
    public var `class`: Int
    /// Brush radius in full-resolution pixels.
    public var radius: Double
    /// The polyline [[x, y], …] in full-resolution pixel coordinates.
    public var points: [[Double]]
    /// The plane of a stack (0 for 2D images).
    public var plane: Int
    /// `active`, `undone` or `discarded`.
    public var state: String
    /// The pseudonymous user who painted it.
    public var user: String
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
    /// When it was first undone (ISO 8601), for strokes that were.
    public var undoneAt: String?
}

/// Where an imported project came from, as its export says.
public struct ImportSourceDTO: ResponseCodable, Equatable, Sendable {
    /// The project's id on the server that exported it.
    public var projectId: String
    /// Its name there.
    public var projectName: String
    /// When it was exported (ISO 8601), as the export says.
    public var exportedAt: String?
    /// The Cleave version that exported it.
    public var cleaveVersion: String?
    /// The export's format version (1: labels only, 2: with strokes).
    public var formatVersion: Int
    /// SHA-256 of the archive as received.
    public var archiveSha256: String
}

/// What an import created.
public struct ProjectImportDTO: ResponseCodable, Equatable, Sendable {
    /// The new project (new ids; the caller is its owner).
    public var project: ProjectDTO
    /// Images imported (each checked against the export's SHA-256 and decoded).
    public var images: Int
    /// Classes imported.
    public var classes: Int
    /// Strokes imported (active and undone, with their painters' pseudonyms and times).
    public var strokes: Int
    /// Reference pixels the export holds only as labels (picked clusters, accepted or corrected
    /// results: the export carries no results), so the new project does not have them.
    public var unrestoredPixels: Int
    /// Archive entries that are not part of a project export (ignored), e.g. `__MACOSX/…`.
    public var ignoredEntries: [String]
    /// The exported project.
    public var source: ImportSourceDTO
}

extension Workbench {
    /// The format version project exports are written in and the newest one imports read.
    public static let exportFormatVersion = 2

    /// The image's strokes (all states, in drawing order) as `strokes/<id>.json` of an export.
    func exportedStrokes(imageID: String) async throws -> [UInt8] {
        let strokes = try await database.read { db -> [ExportedStroke] in
            var firstUndo: [Int64: String] = [:]
            for row in try SQLRow.fetchAll(db, sql: "SELECT payload, server_time FROM events WHERE image_id = ? AND type = 'undo' ORDER BY id",
                                           arguments: [imageID]) {
                guard let payload = JSONValue.parse(row["payload"]), let id = payload["strokeId"]?.numberValue else { continue }
                if firstUndo[Int64(id)] == nil { firstUndo[Int64(id)] = row["server_time"] }
            }
            return try SQLRow.fetchAll(db, sql: "SELECT * FROM annotations WHERE image_id = ? ORDER BY id", arguments: [imageID]).map { row in
                let stroke = try StrokeDTO(row: row)
                return ExportedStroke(class: stroke.class, radius: stroke.radius, points: stroke.points, plane: stroke.plane,
                                      state: stroke.state, user: row["user_id"], createdAt: stroke.createdAt,
                                      undoneAt: stroke.state == "active" ? nil : firstUndo[stroke.id])
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(strokes))
    }

    /// Imports a project export (``exportProject(projectID:userID:sessionID:openData:)``) from
    /// the zip at `archive` as a new project owned by `owner`; see ``ProjectImporter``.
    public func importProject(archive: String, name: String?, owner: Account?, userID: String, sessionID: String?) async throws -> ProjectImportDTO {
        try await ProjectImporter(database: database, blobs: blobs, configuration: configuration)
            .run(archive: archive, name: name, owner: owner, userID: userID, sessionID: sessionID)
    }

    /// Starts receiving a project archive into a temporary file (size-limited as image uploads
    /// are; the first bytes must look like a zip).
    public func beginArchiveUpload() throws -> UploadSink {
        try UploadSink(path: blobs.temporaryPath() + ".zip", limit: configuration.maximumUploadBytes, expecting: .zipArchive)
    }
}

/// Imports a project export zip into a workbench data directory: the server's
/// `POST /api/projects/import` and `cleave import-project` both call ``run(archive:name:owner:userID:sessionID:progress:)``.
///
/// Everything is checked before anything is stored: the archive (``ZipReader``: no traversal,
/// duplicates, bombs or truncation), `metadata.json` (format, a version this build reads, classes,
/// images), each image (SHA-256 against the manifest, then decoded as an upload is), the label and
/// provenance TIFFs (shape, classes they use), the strokes (classes, planes, and that painting them
/// again gives the export's painted labels). Then the images enter the blob store and one
/// transaction adds the project, its owner, classes, images, strokes (original painters and times),
/// the `import` event and the `import.project` audit record. Any failure leaves no project, no
/// temporary file, and no blob that the import added.
public struct ProjectImporter: Sendable {
    let database: WorkbenchDatabase
    let blobs: BlobStore
    let configuration: ServerConfiguration

    /// An importer into the data directory of `configuration` (database and blob store opened by the caller).
    public init(database: WorkbenchDatabase, blobs: BlobStore, configuration: ServerConfiguration) {
        self.database = database
        self.blobs = blobs
        self.configuration = configuration
    }

    /// `metadata.json` is read into memory up to this size.
    static let maximumMetadataBytes = 64 << 20
    /// A `strokes/*.json` is read into memory up to this size.
    static let maximumStrokesBytes = 256 << 20

    struct Manifest {
        struct Class { var value: Int; var name: String; var colour: String }
        struct Picture {
            var name: String; var sha256: String; var image: String; var labels: String; var provenance: String
            var strokes: String?; var width: Int; var height: Int
        }
        var formatVersion: Int
        var projectID: String
        var projectName: String
        var exportedAt: String?
        var cleaveVersion: String?
        var classes: [Class]
        var images: [Picture]
    }

    struct Prepared {
        var picture: Manifest.Picture
        var temporaryFile: String
        var byteCount: Int
        var checked: Workbench.CheckedImage
        var strokes: [ExportedStroke]
        var unrestored: Int
    }

    /// Runs the import. `progress` hears (stage, fraction 0…1) as images are checked.
    /// - Throws: ``APIError``: 400 (one line: what, where, why) for an archive or export it
    ///   refuses, 413 for one past the limits, 404 never (the project is new).
    public func run(archive: String, name: String?, owner: Account?, userID: String, sessionID: String?,
                    progress: @Sendable (String, Double) -> Void = { _, _ in }) async throws -> ProjectImportDTO {
        let actor = try Workbench.Actor(userID: userID, sessionID: sessionID ?? "import-" + String(Workbench.newID().prefix(8)))
        let requestedName = try name.map { try Self.projectName($0) }
        progress("checking the archive", 0)
        let archiveSha256 = try Self.digest(of: archive)
        let reader: ZipReader
        do {
            reader = try ZipReader(path: archive, limits: .init(maximumEntryBytes: UInt64(configuration.maximumUploadBytes),
                                                                 maximumTotalBytes: try freeBytes()))
        } catch let error as ZipArchiveError { throw Self.apiError(error) }
        let manifest = try readManifest(reader)
        var prepared: [Prepared] = []
        var adopted: [String] = []
        defer { for p in prepared { unlink(p.temporaryFile) } }
        do {
            for (index, picture) in manifest.images.enumerated() {
                progress("checking \(picture.name)", Double(index) / Double(max(1, manifest.images.count)))
                prepared.append(try await prepare(picture, reader: reader, classes: Set(manifest.classes.map(\.value))))
            }
            progress("storing", 1)
            // Into the blob store (content-addressed; an existing blob of the same content is kept).
            for p in prepared {
                let target = blobs.path(for: p.picture.sha256)
                let existed = access(target, F_OK) == 0
                try blobs.adopt(temporaryFile: p.temporaryFile, sha256: p.picture.sha256)
                if !existed { adopted.append(p.picture.sha256) }
            }
            return try await store(manifest, prepared: prepared, name: requestedName, owner: owner, actor: actor,
                                   archiveSha256: archiveSha256, ignored: ignoredEntries(reader, manifest))
        } catch let error as ZipArchiveError {
            removeUnreferenced(adopted)
            throw Self.apiError(error)
        } catch {
            removeUnreferenced(adopted)
            throw error
        }
    }

    static func apiError(_ error: ZipArchiveError) -> APIError {
        APIError(error.kind == .tooLarge ? .contentTooLarge : .badRequest, "project archive refused: \(error.message)")
    }

    /// A blob the failed import added and no image refers to is removed again.
    private func removeUnreferenced(_ digests: [String]) {
        guard !digests.isEmpty else { return }
        let unreferenced = (try? database.read { db in try Workbench.unreferenced(Set(digests), db) }) ?? []
        for digest in unreferenced { unlink(blobs.path(for: digest)) }
    }

    private func freeBytes() throws -> UInt64 {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: blobs.temporaryDirectory)
        let free = (attributes?[.systemFreeSize] as? NSNumber)?.uint64Value ?? UInt64.max
        return min(free, 1 << 40)
    }

    static func digest(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw APIError(.internalServerError, "cannot read the received archive") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
    }

    static func projectName(_ raw: String) throws -> String {
        let name = String(raw.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw APIError(.badRequest, "project name must be 1 to 200 characters, got \(name.count)") }
        return name
    }

    // MARK: metadata.json

    private func readManifest(_ reader: ZipReader) throws -> Manifest {
        guard let entry = reader.entry("metadata.json") else {
            throw APIError(.badRequest, "project archive refused: no metadata.json (is this a Cleave project export? Export one with the project's Export button or POST /api/projects/{id}/export)")
        }
        let bytes: [UInt8]
        do { bytes = try reader.bytes(entry, limit: Self.maximumMetadataBytes) } catch let error as ZipArchiveError { throw Self.apiError(error) }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw APIError(.badRequest, "project archive refused: metadata.json is not a JSON object")
        }
        func refuse(_ why: String) -> APIError { APIError(.badRequest, "project archive refused: metadata.json: \(why)") }
        guard json["format"] as? String == "cleave-reference-data" else {
            throw refuse("format is \(String(describing: json["format"] ?? "missing").prefix(60)), expected cleave-reference-data")
        }
        guard let version = Self.integer(json["formatVersion"]), version >= 1 else { throw refuse("formatVersion must be a whole number ≥ 1") }
        guard version <= Workbench.exportFormatVersion else {
            throw refuse("formatVersion \(version) was written by a newer Cleave (\(String(describing: json["cleaveVersion"] ?? "?"))); this build (\(cleaveVersion)) reads up to \(Workbench.exportFormatVersion): update Cleave")
        }
        guard let project = json["project"] as? [String: Any], let projectID = project["id"] as? String,
              let projectName = project["name"] as? String else { throw refuse("project must have an id and a name") }
        guard let classList = json["classes"] as? [Any], let imageList = json["images"] as? [Any] else {
            throw refuse("classes and images must be lists")
        }
        var classes: [Manifest.Class] = []
        for (i, item) in classList.enumerated() {
            guard let c = item as? [String: Any], let value = Self.integer(c["value"]), (1...255).contains(value),
                  let name = c["name"] as? String, let colour = c["colour"] as? String else {
                throw refuse("class \(i + 1) needs a value 1…255, a name and a colour")
            }
            guard RGB(hex: colour) != nil else { throw refuse("class \(name.prefix(60)): colour must be #rrggbb, got \(colour.prefix(20))") }
            let clean = try Workbench.cleanName(name, what: "class name")
            guard !classes.contains(where: { $0.value == value }) else { throw refuse("class value \(value) is listed twice") }
            guard !classes.contains(where: { $0.name.lowercased() == clean.lowercased() }) else { throw refuse("class name \(clean) is listed twice") }
            classes.append(.init(value: value, name: clean, colour: RGB(hex: colour)!.hex))
        }
        var images: [Manifest.Picture] = []
        for (i, item) in imageList.enumerated() {
            guard let m = item as? [String: Any], let name = m["name"] as? String, let sha = m["sha256"] as? String,
                  let image = m["image"] as? String, let labels = m["labels"] as? String, let provenance = m["provenance"] as? String,
                  let width = Self.integer(m["width"]), let height = Self.integer(m["height"]) else {
                throw refuse("image \(i + 1) needs name, sha256, image, labels, provenance, width and height")
            }
            guard BlobStore.isDigest(sha) else { throw refuse("image \(name.prefix(60)): sha256 must be 64 lowercase hex digits") }
            let strokes = m["strokes"] as? String
            if version >= 2, strokes == nil { throw refuse("image \(name.prefix(60)) has no strokes entry (format version \(version) lists one per image)") }
            for file in [image, labels, provenance] + (strokes.map { [$0] } ?? []) where reader.entry(file) == nil {
                throw APIError(.badRequest, "project archive refused: metadata.json lists \(file.prefix(120)) for image \(name.prefix(60)), but the archive has no such entry")
            }
            images.append(.init(name: Workbench.sanitizedName(name), sha256: sha, image: image, labels: labels, provenance: provenance,
                                strokes: strokes, width: width, height: height))
        }
        let exported = Set(images.flatMap { [$0.image, $0.labels, $0.provenance] + ($0.strokes.map { [$0] } ?? []) })
        guard exported.count == images.count * (version >= 2 ? 4 : 3) else { throw refuse("two images share an entry") }
        return Manifest(formatVersion: version, projectID: String(projectID.prefix(100)), projectName: String(projectName.prefix(200)),
                        exportedAt: (json["exportedAt"] as? String).map { String($0.prefix(40)) },
                        cleaveVersion: (json["cleaveVersion"] as? String).map { String($0.prefix(40)) },
                        classes: classes, images: images)
    }

    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), abs(double) < 1e15 else { return nil }
        return Int(double)
    }

    private func ignoredEntries(_ reader: ZipReader, _ manifest: Manifest) -> [String] {
        let known = Set(["metadata.json", "events.csv"] + manifest.images.flatMap { [$0.image, $0.labels, $0.provenance] + ($0.strokes.map { [$0] } ?? []) })
        return reader.entries.filter { !$0.isDirectory && !known.contains($0.name) }.map(\.name)
    }

    // MARK: Images

    private func prepare(_ picture: Manifest.Picture, reader: ZipReader, classes: Set<Int>) async throws -> Prepared {
        let entry = reader.entry(picture.image)!
        let sink = try UploadSink(path: blobs.temporaryPath(), limit: configuration.maximumUploadBytes, expecting: .image)
        let sha256: String
        do {
            try reader.unsafeUnpack(entry) { try sink.unsafeWrite($0) }
            sha256 = try sink.finish()
        } catch {
            sink.discard()
            if let error = error as? APIError { throw APIError(error.status, "\(picture.image): \(error.message)") }
            throw error
        }
        do {
            guard sha256 == picture.sha256 else {
                throw APIError(.badRequest, "project archive refused: \(picture.image) has SHA-256 \(sha256.prefix(16))…, metadata.json says \(picture.sha256.prefix(16))… (damaged or edited export)")
            }
            guard sink.byteCount > 0 else { throw APIError(.badRequest, "project archive refused: \(picture.image) is empty") }
            let checked = try await Workbench.validateImageFile(sink.path, byteCount: sink.byteCount, name: picture.name, configuration: configuration)
            guard checked.shape.width == picture.width, checked.shape.height == picture.height else {
                throw APIError(.badRequest, "project archive refused: \(picture.image) is \(checked.shape.width)x\(checked.shape.height), metadata.json says \(picture.width)x\(picture.height)")
            }
            let (strokes, unrestored) = try checkLabels(picture, shape: checked.shape, reader: reader, classes: classes)
            return Prepared(picture: picture, temporaryFile: sink.path, byteCount: sink.byteCount, checked: checked,
                            strokes: strokes, unrestored: unrestored)
        } catch {
            sink.discard()
            throw error
        }
    }

    /// Reads the label and provenance TIFFs and the strokes; every class they use must be one of
    /// the export's classes, and painting the strokes again must give exactly the export's
    /// painted (provenance 2) labels. Returns the strokes and the labelled pixels that came from
    /// results (provenance 1 and 3), which the import cannot restore.
    private func checkLabels(_ picture: Manifest.Picture, shape: Shape, reader: ZipReader, classes: Set<Int>) throws -> ([ExportedStroke], Int) {
        let planeSize = shape.width * shape.height, count = planeSize * shape.depth
        func tiff(_ name: String) throws -> [UInt8] {
            let bytes: [UInt8]
            do { bytes = try reader.bytes(reader.entry(name)!, limit: count * 2 + (1 << 20)) } catch let error as ZipArchiveError { throw Self.apiError(error) }
            let image: AnyImage
            do { image = try ImageFile.read(data: bytes) } catch {
                throw APIError(.badRequest, "project archive refused: \(name) is not a readable TIFF: \(String(describing: error).replacingOccurrences(of: "\n", with: " ").prefix(200))")
            }
            guard case .uint8(let labels) = image, labels.shape.width == shape.width, labels.shape.height == shape.height,
                  labels.shape.depth == shape.depth, labels.shape.channels == 1 else {
                throw APIError(.badRequest, "project archive refused: \(name) must be an 8-bit image of \(shape.width)x\(shape.height)x\(shape.depth) like its image, got \(image.pixelType.rawValue) \(image.shape.width)x\(image.shape.height)x\(image.shape.depth)x\(image.shape.channels)")
            }
            return labels.pixels
        }
        let labels = try tiff(picture.labels), provenance = try tiff(picture.provenance)
        var used = Set<Int>()
        for v in labels where v != 0 { used.insert(Int(v)) }
        if let missing = used.subtracting(classes).min() {
            throw APIError(.badRequest, "project archive refused: \(picture.labels) uses class \(missing), which metadata.json's classes do not define (incomplete export)")
        }
        if let bad = provenance.first(where: { $0 > Provenance.corrected }) {
            throw APIError(.badRequest, "project archive refused: \(picture.provenance) holds provenance code \(bad); codes are 0 to 3")
        }
        var strokes: [ExportedStroke] = []
        if let file = picture.strokes {
            let bytes: [UInt8]
            do { bytes = try reader.bytes(reader.entry(file)!, limit: Self.maximumStrokesBytes) } catch let error as ZipArchiveError { throw Self.apiError(error) }
            do { strokes = try JSONDecoder().decode([ExportedStroke].self, from: Data(bytes)) } catch {
                throw APIError(.badRequest, "project archive refused: \(file) is not a list of strokes ({class, radius, points, plane, state, user, createdAt})")
            }
            for (i, s) in strokes.enumerated() {
                let at = "\(file) stroke \(i + 1)"
                guard s.class == 0 || classes.contains(s.class) else {
                    throw APIError(.badRequest, "project archive refused: \(at) paints class \(s.class), which metadata.json's classes do not define (incomplete export)")
                }
                guard s.radius.isFinite, s.radius > 0, s.radius <= 1000 else { throw APIError(.badRequest, "project archive refused: \(at): radius must be in (0, 1000], got \(s.radius)") }
                guard !s.points.isEmpty, s.points.count <= Workbench.maximumStrokePoints,
                      s.points.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isFinite && abs($0) <= Workbench.maximumStrokeCoordinate } }) else {
                    throw APIError(.badRequest, "project archive refused: \(at): points must be 1 to \(Workbench.maximumStrokePoints) pairs of finite coordinates")
                }
                guard (0..<shape.depth).contains(s.plane) else { throw APIError(.badRequest, "project archive refused: \(at): plane \(s.plane) outside 0…\(shape.depth - 1)") }
                guard ["active", "undone", "discarded"].contains(s.state) else { throw APIError(.badRequest, "project archive refused: \(at): state must be active, undone or discarded") }
                _ = try Workbench.validatedID(s.user, what: "\(at): user")
                guard Workbench.date(s.createdAt) != nil, s.undoneAt.map({ Workbench.date($0) != nil }) ?? true else {
                    throw APIError(.badRequest, "project archive refused: \(at): createdAt and undoneAt must be ISO 8601 times")
                }
            }
            // Painting the active strokes again must give the export's painted labels exactly.
            let active = strokes.enumerated().filter { $0.element.state == "active" }.map { i, s in
                StrokeDTO(id: Int64(i + 1), imageId: "", class: s.class, radius: s.radius, points: s.points, plane: s.plane, state: s.state, createdAt: s.createdAt)
            }
            var painted = [UInt8](repeating: 0, count: count), strong = [Bool](repeating: false, count: count)
            StrokeRaster.paint(active, width: shape.width, height: shape.height, depth: shape.depth, into: &painted) { index, value in
                strong[index] = value != 0
            }
            var disagree = 0
            for i in 0..<count where strong[i] != (provenance[i] == Provenance.strong) || (strong[i] && painted[i] != labels[i]) { disagree += 1 }
            guard disagree == 0 else {
                throw APIError(.badRequest, "project archive refused: \(picture.labels) and \(file) disagree at \(disagree) painted pixels (edited or damaged export)")
            }
        }
        let unrestored = zip(labels, provenance).reduce(0) { $0 + ($1.0 != 0 && $1.1 != Provenance.strong ? 1 : 0) }
        return (strokes, unrestored)
    }

    // MARK: The transaction

    private func store(_ manifest: Manifest, prepared: [Prepared], name: String?, owner: Account?, actor: Workbench.Actor,
                       archiveSha256: String, ignored: [String]) async throws -> ProjectImportDTO {
        let projectID = Workbench.newID(), createdAt = Workbench.now()
        let source = ImportSourceDTO(projectId: manifest.projectID, projectName: manifest.projectName, exportedAt: manifest.exportedAt,
                                     cleaveVersion: manifest.cleaveVersion, formatVersion: manifest.formatVersion, archiveSha256: archiveSha256)
        let blobs = self.blobs
        let strokeCount = prepared.reduce(0) { $0 + $1.strokes.count }
        let unrestored = prepared.reduce(0) { $0 + $1.unrestored }
        let finalName = try await database.write { db -> String in
            let taken = Set(try String.fetchAll(db, sql: "SELECT name FROM projects"))
            var chosen = name ?? Self.suffixed(manifest.projectName, 1)
            if name == nil { var n = 2; while taken.contains(chosen) { chosen = Self.suffixed(manifest.projectName, n); n += 1 } }
            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)", arguments: [projectID, chosen, createdAt])
            if let owner {
                try db.execute(sql: "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES (?, ?, 'owner', ?)",
                               arguments: [projectID, owner.id, createdAt])
            }
            for c in manifest.classes {
                try db.execute(sql: "INSERT INTO classes (id, project_id, value, name, colour, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [Workbench.newID(), projectID, c.value, c.name, c.colour, createdAt])
            }
            // Images keep the export's order (lists and training read them by creation time).
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let base = Workbench.date(createdAt) ?? Date()
            for (index, p) in prepared.enumerated() {
                let imageID = Workbench.newID(), shape = p.checked.shape
                let imageCreatedAt = formatter.string(from: base.addingTimeInterval(Double(index) * 0.001))
                guard access(blobs.path(for: p.picture.sha256), F_OK) == 0 else {
                    throw APIError(.conflict, "\(p.picture.name): an image with the same content was deleted at this moment; import again")
                }
                try db.execute(sql: """
                    INSERT INTO images (id, project_id, name, sha256, byte_count, format, width, height, depth,
                                        channels, pixel_type, spacing_x, spacing_y, spacing_unit, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [imageID, projectID, p.picture.name, p.picture.sha256, p.byteCount, p.checked.format.rawValue,
                                     shape.width, shape.height, shape.depth, shape.channels, p.checked.pixelType.rawValue,
                                     p.checked.spacing?.x, p.checked.spacing?.y, p.checked.spacing?.unit, imageCreatedAt])
                // Undo order: by the time each stroke was first undone.
                let undoOrder = p.strokes.indices.filter { p.strokes[$0].state != "active" }
                    .sorted { (p.strokes[$0].undoneAt ?? "~", $0) < (p.strokes[$1].undoneAt ?? "~", $1) }
                var sequence: [Int: Int] = [:]
                for (n, i) in undoOrder.enumerated() { sequence[i] = n + 1 }
                for (i, s) in p.strokes.enumerated() {
                    let points = String(decoding: try JSONEncoder().encode(s.points), as: UTF8.self)
                    let id = try Int64.fetchOne(db, sql: """
                        INSERT INTO annotations (image_id, user_id, session_id, class_index, radius, points, plane, state, undo_sequence, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                        """, arguments: [imageID, s.user, actor.sessionID, s.class, s.radius, points, s.plane, s.state,
                                         sequence[i], s.createdAt]) ?? 0
                    if let undoneAt = s.undoneAt {
                        // The painter's undo, at its original time (slips are told apart by it).
                        _ = try Workbench.insert(EventDTO(id: 0, userId: s.user, sessionId: actor.sessionID, projectId: projectID, imageId: imageID,
                                                          appVersion: cleaveVersion, clientTime: nil, serverTime: undoneAt, type: "undo",
                                                          payload: .object(["strokeId": .number(Double(id)), "imported": .bool(true)])), db)
                    }
                }
            }
            let detail: [String: JSONValue] = [
                "sourceProjectId": .string(source.projectId), "sourceProjectName": .string(source.projectName),
                "exportedAt": source.exportedAt.map(JSONValue.string) ?? .null, "cleaveVersion": source.cleaveVersion.map(JSONValue.string) ?? .null,
                "formatVersion": .number(Double(source.formatVersion)), "archiveSha256": .string(archiveSha256),
                "images": .number(Double(prepared.count)), "classes": .number(Double(manifest.classes.count)),
                "strokes": .number(Double(strokeCount)), "unrestoredPixels": .number(Double(unrestored)),
            ]
            try Workbench.record("import", by: actor, projectID: projectID, imageID: nil, payload: detail, db)
            let detailText = String(decoding: try JSONEncoder().encode(JSONValue.object(detail)), as: UTF8.self)
            try db.execute(sql: "INSERT INTO audit (time, user_id, user_name, action, target, project_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [createdAt, owner?.id, owner?.name ?? "local", "import.project", "/api/projects/\(projectID)", projectID, detailText])
            return chosen
        }
        var project = ProjectDTO(id: projectID, name: finalName, createdAt: createdAt)
        project.role = ProjectRole.owner.rawValue
        return ProjectImportDTO(project: project, images: prepared.count, classes: manifest.classes.count, strokes: strokeCount,
                                unrestoredPixels: unrestored, ignoredEntries: ignored, source: source)
    }

    /// "Name (imported)", "Name (imported 2)", … within 200 characters.
    static func suffixed(_ name: String, _ n: Int) -> String {
        let suffix = n == 1 ? " (imported)" : " (imported \(n))"
        return String(name.prefix(200 - suffix.count)) + suffix
    }
}
