import CleaveCore
import CleaveFormats
import Foundation

extension Workbench {
    /// Creates a project. Names are 1…200 characters after trimming; control characters are dropped.
    /// An `owner` account becomes the project's owner (single-user mode: nil).
    public func createProject(name rawName: String, owner: Account? = nil) async throws -> ProjectDTO {
        let name = String(rawName.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) })
            .trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else {
            throw APIError(.badRequest, "project name must be 1 to 200 characters, got \(name.count)")
        }
        let project = ProjectDTO(id: Workbench.newID(), name: name, createdAt: Workbench.now())
        let accounts = self.accounts
        try await database.write { db in
            try db.insert(project)
            if let owner { try accounts.addOwner(projectID: project.id, userID: owner.id, db) }
        }
        var created = project
        created.role = owner.map { _ in ProjectRole.owner.rawValue }
        return created
    }

    /// All projects, oldest first.
    public func projects() async throws -> [ProjectDTO] {
        try await database.read { db in try db.fetchAll(ProjectDTO.self, orderBy: "created_at, id") }
    }

    /// One project, or a 404.
    public func project(id: String) async throws -> ProjectDTO {
        try await get(ProjectDTO.self, id)
    }

    /// The images of a project, oldest first.
    public func images(projectID: String) async throws -> [ImageDTO] {
        _ = try await project(id: projectID)
        return try await list(ImageDTO.self, "project_id", projectID, orderBy: "created_at, id")
    }

    /// One image, or a 404.
    public func image(id: String) async throws -> ImageDTO {
        try await get(ImageDTO.self, id)
    }

    /// A display name safe to store and show: the last path component (both `/` and `\`
    /// separators), no control characters, no leading dots, at most 200 characters; "image" when
    /// nothing is left. Names are never used as file paths (blobs are named by digest), but this
    /// keeps `../../etc/passwd`-style names out of listings and exports.
    public static func sanitizedName(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var name = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) })
            .trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        if name.count > 200 { name = String(name.suffix(200)) }
        return name.isEmpty ? "image" : name
    }
}

extension ProjectDTO: Record {
    static let table = "projects"
    static let noun = "project"
    /// `consent` is not written: a new project has not consented (the column's default);
    /// ``Workbench/setConsent(projectID:userID:sessionID:consent:)`` changes it.
    func columns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("name", name), ("created_at", createdAt)]
    }

    init(row: SQLRow) {
        self.init(id: row["id"], name: row["name"], createdAt: row["created_at"], consent: row["consent"])
    }
}

extension ImageDTO: Record {
    static let table = "images"
    static let noun = "image"
    func columns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("project_id", projectId), ("name", name), ("sha256", sha256), ("byte_count", byteCount),
         ("format", format), ("width", width), ("height", height), ("depth", depth), ("channels", channels),
         ("pixel_type", pixelType), ("spacing_x", spacing?.x), ("spacing_y", spacing?.y), ("spacing_unit", spacing?.unit),
         ("created_at", createdAt)]
    }

    /// The tile size and pyramid levels are derived from the size, not stored.
    init(row: SQLRow) {
        let width: Int = row["width"], height: Int = row["height"]
        var spacing: SpacingDTO? = nil
        if let x: Double = row["spacing_x"], let y: Double = row["spacing_y"], let unit: String = row["spacing_unit"] {
            spacing = SpacingDTO(x: x, y: y, unit: unit)
        }
        self.init(id: row["id"], projectId: row["project_id"], name: row["name"], sha256: row["sha256"],
                  byteCount: row["byte_count"], format: row["format"], width: width, height: height,
                  depth: row["depth"], channels: row["channels"], pixelType: row["pixel_type"], spacing: spacing,
                  tileSize: TilePyramid.tileSize, levelCount: TilePyramid.levelCount(width: width, height: height),
                  createdAt: row["created_at"])
    }
}
