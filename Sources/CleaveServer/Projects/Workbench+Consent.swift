import Foundation

/// Open-data consent: whether a project's images and events may leave in an open-data export
/// (``exportProject(projectID:userID:sessionID:openData:)``).
extension Workbench {
    /// Sets the project's open-data consent (`consent` event).
    public func setConsent(projectID: String, userID: String, sessionID: String?, consent: Bool) async throws -> ProjectDTO {
        let actor = try Actor(userID: userID, sessionID: sessionID)
        _ = try await project(id: projectID)
        try await database.write { db in
            try db.execute(sql: "UPDATE projects SET consent = ? WHERE id = ?", arguments: [consent, projectID])
            try Workbench.record("consent", by: actor, projectID: projectID, imageID: nil, payload: ["consent": .bool(consent)], db)
        }
        return try await project(id: projectID)
    }
}
