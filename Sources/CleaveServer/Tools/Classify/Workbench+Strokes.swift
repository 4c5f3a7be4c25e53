import CleaveCore
import Foundation

extension Workbench {
    /// Largest stroke coordinate magnitude accepted (pixels): far beyond any image, small enough
    /// that every later computation on it stays exact and in range.
    static let maximumStrokeCoordinate = 1e9

    /// Most points in one stroke.
    public static let maximumStrokePoints = 20_000

    /// Stores a brush stroke and its `stroke` event in one transaction. Any strokes this user had
    /// undone on this image are discarded (a new stroke clears the redo stack). The response is
    /// sent only after the commit, so a stroke the page was told about survives a crash.
    /// Class 0 is the eraser: its pixels become unlabelled again (for training and reference data)
    /// and the event is `erase` instead of `stroke`.
    /// - Throws: 404 unknown image; 400 for class outside 0…255, radius outside (0, 1000], or points
    ///   that are empty, too many, not pairs, or not finite.
    public func addStroke(imageID: String, userID: String, input: StrokeInput) async throws -> StrokeDTO {
        let user = try Workbench.validatedID(userID, what: "X-Cleave-User")
        let session = try Workbench.validatedID(input.sessionId, what: "sessionId")
        let image = try await image(id: imageID)
        guard (0...255).contains(input.class) else { throw APIError(.badRequest, "class must be 0 (eraser) to 255, got \(input.class)") }
        guard input.radius.isFinite, input.radius > 0, input.radius <= 1000 else {
            throw APIError(.badRequest, "radius must be in (0, 1000] pixels, got \(input.radius)")
        }
        guard !input.points.isEmpty, input.points.count <= Workbench.maximumStrokePoints else {
            throw APIError(.badRequest, "a stroke needs 1 to \(Workbench.maximumStrokePoints) points, got \(input.points.count)")
        }
        for (i, point) in input.points.enumerated() where point.count != 2 || !point.allSatisfy(\.isFinite) {
            throw APIError(.badRequest, "point \(i) must be [x, y] with finite numbers")
        }
        for (i, point) in input.points.enumerated() where !point.allSatisfy({ abs($0) <= Workbench.maximumStrokeCoordinate }) {
            throw APIError(.badRequest, "point \(i) lies too far outside the image: coordinates must be within ±\(Int(Workbench.maximumStrokeCoordinate)) pixels, got [\(point[0]), \(point[1])]")
        }
        let plane = input.plane ?? 0
        guard (0..<image.depth).contains(plane) else {
            throw APIError(.badRequest, "plane must be 0 to \(image.depth - 1) (\(image.name) has \(image.depth) plane\(image.depth == 1 ? "" : "s")), got \(plane)")
        }
        let createdAt = Workbench.now()
        return try await database.write { db in
            try db.execute(sql: "UPDATE annotations SET state = 'discarded' WHERE image_id = ? AND user_id = ? AND state = 'undone'",
                           arguments: [imageID, user])
            var stroke = StrokeDTO(id: 0, imageId: imageID, class: input.class, radius: input.radius, points: input.points,
                                   plane: plane, state: "active", createdAt: createdAt)
            let id = try db.insertReturningKey(stroke, extra: [("user_id", user), ("session_id", session)]) ?? 0
            stroke.id = id
            let payload: JSONValue = .object(["strokeId": .number(Double(id)), "class": .number(Double(input.class)),
                                              "radius": .number(input.radius), "plane": .number(Double(plane)),
                                              "points": .array(input.points.map { .array($0.map(JSONValue.number)) })])
            _ = try Workbench.insert(EventDTO(id: 0, userId: user, sessionId: session, projectId: image.projectId,
                                              imageId: imageID, appVersion: cleaveVersion, clientTime: nil,
                                              serverTime: createdAt, type: input.class == 0 ? "erase" : "stroke", payload: payload), db)
            return stroke
        }
    }

    /// Undoes the user's latest active stroke on the image (`undo` event). Returns nil when there is
    /// nothing to undo.
    public func undoStroke(imageID: String, userID: String, sessionID: String) async throws -> StrokeDTO? {
        try await changeStroke(imageID: imageID, userID: userID, sessionID: sessionID, undo: true)
    }

    /// Re-applies the user's most recently undone stroke on the image (`redo` event). Returns nil
    /// when there is nothing to redo.
    public func redoStroke(imageID: String, userID: String, sessionID: String) async throws -> StrokeDTO? {
        try await changeStroke(imageID: imageID, userID: userID, sessionID: sessionID, undo: false)
    }

    private func changeStroke(imageID: String, userID: String, sessionID: String, undo: Bool) async throws -> StrokeDTO? {
        let user = try Workbench.validatedID(userID, what: "X-Cleave-User")
        let session = try Workbench.validatedID(sessionID, what: "sessionId")
        let image = try await image(id: imageID)
        let now = Workbench.now()
        return try await database.write { db -> StrokeDTO? in
            guard var stroke = try db.fetchAll(StrokeDTO.self, where: "image_id = ? AND user_id = ? AND state = ?",
                                               [imageID, user, undo ? "active" : "undone"],
                                               orderBy: undo ? "id DESC" : "undo_sequence DESC", limit: 1).first else { return nil }
            let id = stroke.id
            if undo {
                let next = (try Int64.fetchOne(db, sql: "SELECT MAX(undo_sequence) FROM annotations WHERE image_id = ?",
                                               arguments: [imageID]) ?? 0) + 1
                try db.execute(sql: "UPDATE annotations SET state = 'undone', undo_sequence = ? WHERE id = ?", arguments: [next, id])
            } else {
                try db.execute(sql: "UPDATE annotations SET state = 'active', undo_sequence = NULL WHERE id = ?", arguments: [id])
            }
            _ = try Workbench.insert(EventDTO(id: 0, userId: user, sessionId: session, projectId: image.projectId,
                                              imageId: imageID, appVersion: cleaveVersion, clientTime: nil, serverTime: now,
                                              type: undo ? "undo" : "redo", payload: .object(["strokeId": .number(Double(id))])), db)
            stroke.state = undo ? "undone" : "active"
            return stroke
        }
    }

    /// The image's strokes in drawing order; only active ones unless `includeUndone`.
    public func strokes(imageID: String, includeUndone: Bool = false) async throws -> [StrokeDTO] {
        _ = try await image(id: imageID)
        return try await database.read { db in
            let filter = includeUndone ? "" : " AND state = 'active'"
            return try db.fetchAll(StrokeDTO.self, where: "image_id = ?\(filter)", [imageID], orderBy: "id")
        }
    }
}

extension StrokeDTO: Record {
    static let table = "annotations"
    static let noun = "stroke"
    /// The id is the database's (``SQLConnection/insertReturningKey(_:extra:)``); who painted it
    /// (`user_id`, `session_id`) is written at insert (`extra`): the API does not show it.
    func columns() throws -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("image_id", imageId), ("class_index", self.class), ("radius", radius),
         ("points", String(decoding: try JSONEncoder().encode(points), as: UTF8.self)), ("plane", plane),
         ("state", state), ("created_at", createdAt)]
    }

    init(row: SQLRow) throws {
        let pointsText: String = row["points"]
        self.init(id: row["id"], imageId: row["image_id"], class: row["class_index"], radius: row["radius"],
                  points: try JSONDecoder().decode([[Double]].self, from: Data(pointsText.utf8)),
                  plane: row["plane"], state: row["state"], createdAt: row["created_at"])
    }
}
