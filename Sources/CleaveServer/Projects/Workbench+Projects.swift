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
            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)",
                           arguments: [project.id, project.name, project.createdAt])
            if let owner { try accounts.addOwner(projectID: project.id, userID: owner.id, db) }
        }
        var created = project
        created.role = owner.map { _ in ProjectRole.owner.rawValue }
        return created
    }

    /// All projects, oldest first.
    public func projects() async throws -> [ProjectDTO] {
        try await database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM projects ORDER BY created_at, id").map {
                ProjectDTO(id: $0["id"], name: $0["name"], createdAt: $0["created_at"], consent: $0["consent"])
            }
        }
    }

    /// One project, or a 404.
    public func project(id: String) async throws -> ProjectDTO {
        let project = try await database.read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM projects WHERE id = ?", arguments: [id]).map {
                ProjectDTO(id: $0["id"], name: $0["name"], createdAt: $0["created_at"], consent: $0["consent"])
            }
        }
        guard let project else { throw APIError(.notFound, "no project with id \(id)") }
        return project
    }

    /// The images of a project, oldest first.
    public func images(projectID: String) async throws -> [ImageDTO] {
        _ = try await project(id: projectID)
        return try await database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM images WHERE project_id = ? ORDER BY created_at, id",
                             arguments: [projectID]).map(Workbench.imageDTO)
        }
    }

    /// One image, or a 404.
    public func image(id: String) async throws -> ImageDTO {
        let image = try await database.read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM images WHERE id = ?", arguments: [id]).map(Workbench.imageDTO)
        }
        guard let image else { throw APIError(.notFound, "no image with id \(id)") }
        return image
    }

    static func imageDTO(_ row: SQLRow) -> ImageDTO {
        let width: Int = row["width"], height: Int = row["height"]
        var spacing: SpacingDTO? = nil
        if let x: Double = row["spacing_x"], let y: Double = row["spacing_y"], let unit: String = row["spacing_unit"] {
            spacing = SpacingDTO(x: x, y: y, unit: unit)
        }
        return ImageDTO(id: row["id"], projectId: row["project_id"], name: row["name"], sha256: row["sha256"],
                        byteCount: row["byte_count"], format: row["format"], width: width, height: height,
                        depth: row["depth"], channels: row["channels"], pixelType: row["pixel_type"], spacing: spacing,
                        tileSize: TilePyramid.tileSize, levelCount: TilePyramid.levelCount(width: width, height: height),
                        createdAt: row["created_at"])
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
