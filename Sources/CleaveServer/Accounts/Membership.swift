import Foundation

/// A project member as `GET /api/projects/{projectId}/members` lists it.
public struct MemberDTO: Codable, Equatable, Sendable {
    /// The member's account name.
    public var name: String
    /// The member's role in the project.
    public var role: ProjectRole
    /// When the account was added to the project (ISO 8601, UTC).
    public var addedAt: String
}

/// One audit record: who exported or deleted what, when.
public struct AuditDTO: Codable, Equatable, Sendable {
    /// The record's number, increasing in the order records were written.
    public var id: Int64
    /// When it happened (ISO 8601, UTC).
    public var time: String
    /// The account's name, or "local" in single-user mode (no accounts).
    public var user: String
    /// What was done, e.g. `export.project`, `delete.class` (the route's ``RouteRule/audit``).
    public var action: String
    /// What it was done to: the request path of the route, e.g. `/api/projects/<id>/export`.
    public var target: String
    /// The project the target belongs to, when it belongs to one.
    public var projectId: String?
    /// Further detail, when the recorder gave any (nil for route audits).
    public var detail: String?
}

/// The kinds of ids a route can name, with the project each belongs to.
public enum ResourceKind: String, CaseIterable, Sendable {
    case project, image, job, clustering, prediction, objectSet, model, `class`

    /// The route parameter that names this kind (`{imageId}` …).
    public var parameter: String { rawValue + "Id" }

    /// The noun in "no … with id X".
    var noun: String {
        switch self {
        case .objectSet: "object set"
        default: rawValue
        }
    }

    /// SQL giving the project of one id of this kind.
    var projectQuery: String {
        switch self {
        case .project: "SELECT id FROM projects WHERE id = ?"
        case .image: "SELECT project_id FROM images WHERE id = ?"
        case .job: "SELECT project_id FROM jobs WHERE id = ?"
        case .clustering: "SELECT images.project_id FROM clusterings JOIN images ON images.id = clusterings.image_id WHERE clusterings.id = ?"
        case .prediction: "SELECT images.project_id FROM predictions JOIN images ON images.id = predictions.image_id WHERE predictions.id = ?"
        case .objectSet: "SELECT images.project_id FROM object_sets JOIN images ON images.id = object_sets.image_id WHERE object_sets.id = ?"
        case .model: "SELECT project_id FROM models WHERE id = ?"
        case .class: "SELECT project_id FROM classes WHERE id = ?"
        }
    }
}

extension AccountStore {
    /// The project an id of `kind` belongs to, or nil when there is no such id.
    public func projectID(of kind: ResourceKind, id: String) async throws -> String? {
        let query = kind.projectQuery
        return try await database.read { db in try String.fetchOne(db, sql: query, arguments: [id]) }
    }

    /// The account's role in a project, or nil when it is not a member.
    public func role(of userID: String, in projectID: String) async throws -> ProjectRole? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT role FROM project_members WHERE project_id = ? AND user_id = ?",
                                arguments: [projectID, userID]).flatMap(ProjectRole.init(rawValue:))
        }
    }

    /// Every project the account is a member of, with its role.
    public func roles(of userID: String) async throws -> [String: ProjectRole] {
        try await database.read { db in
            var out: [String: ProjectRole] = [:]
            for row in try SQLRow.fetchAll(db, sql: "SELECT project_id, role FROM project_members WHERE user_id = ?", arguments: [userID]) {
                if let role = ProjectRole(rawValue: row["role"]) { out[row["project_id"]] = role }
            }
            return out
        }
    }

    /// Makes `name` a member with `role` (or changes its role). The last owner cannot be demoted.
    /// - Throws: ``AccountError/noSuchUser(_:)``, or an ``APIError`` 409 for the last owner.
    @discardableResult
    public func setMember(projectID: String, name: String, role: ProjectRole) throws -> MemberDTO {
        try database.write { db in
            guard let user = try SQLRow.fetchOne(db, sql: "SELECT id, name FROM users WHERE lower(name) = lower(?)", arguments: [name]) else {
                throw AccountError.noSuchUser(name)
            }
            let userID: String = user["id"]
            if role != .owner { try AccountStore.keepAnOwner(projectID: projectID, losing: userID, db) }
            let now = Workbench.now()
            try db.execute(sql: """
                INSERT INTO project_members (project_id, user_id, role, added_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role
                """, arguments: [projectID, userID, role.rawValue, now])
            let addedAt = try String.fetchOne(db, sql: "SELECT added_at FROM project_members WHERE project_id = ? AND user_id = ?",
                                              arguments: [projectID, userID]) ?? now
            return MemberDTO(name: user["name"], role: role, addedAt: addedAt)
        }
    }

    /// Adds the creator of a project as its owner.
    func addOwner(projectID: String, userID: String, _ db: any SQLConnection) throws {
        try db.execute(sql: "INSERT INTO project_members (project_id, user_id, role, added_at) VALUES (?, ?, 'owner', ?)",
                       arguments: [projectID, userID, Workbench.now()])
    }

    /// Removes a member. - Throws: ``AccountError/noSuchUser(_:)`` (also for non-members), 409 for the last owner.
    public func removeMember(projectID: String, name: String) throws {
        try database.write { db in
            guard let userID = try String.fetchOne(db, sql: """
                SELECT users.id FROM users JOIN project_members ON project_members.user_id = users.id
                WHERE lower(users.name) = lower(?) AND project_members.project_id = ?
                """, arguments: [name, projectID]) else { throw AccountError.noSuchUser(name) }
            try AccountStore.keepAnOwner(projectID: projectID, losing: userID, db)
            try db.execute(sql: "DELETE FROM project_members WHERE project_id = ? AND user_id = ?", arguments: [projectID, userID])
        }
    }

    private static func keepAnOwner(projectID: String, losing userID: String, _ db: any SQLConnection) throws {
        let others = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM project_members WHERE project_id = ? AND role = 'owner' AND user_id <> ?
            """, arguments: [projectID, userID]) ?? 0
        let isOwner = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ? AND role = 'owner')
            """, arguments: [projectID, userID]) ?? false
        if isOwner && others == 0 {
            throw APIError(.conflict, "a project keeps at least one owner: add another owner first")
        }
    }

    /// The members of a project, by name.
    public func members(projectID: String) async throws -> [MemberDTO] {
        try await database.read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT users.name, project_members.role, project_members.added_at FROM project_members
                JOIN users ON users.id = project_members.user_id WHERE project_members.project_id = ? ORDER BY lower(users.name)
                """, arguments: [projectID]).map {
                MemberDTO(name: $0["name"], role: ProjectRole(rawValue: $0["role"]) ?? .viewer, addedAt: $0["added_at"])
            }
        }
    }

    // MARK: - Audit

    /// Appends an audit record. `account` nil means single-user mode ("local").
    public func audit(_ account: Account?, action: String, target: String, projectID: String?, detail: String? = nil) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO audit (time, user_id, user_name, action, target, project_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Workbench.now(), account?.id, account?.name ?? "local", action, target, projectID, detail])
        }
    }

    /// The newest audit records first.
    public func auditLog(limit: Int = 1000) async throws -> [AuditDTO] {
        try await database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                AuditDTO(id: $0["id"], time: $0["time"], user: $0["user_name"], action: $0["action"], target: $0["target"],
                         projectId: $0["project_id"], detail: $0["detail"])
            }
        }
    }
}
