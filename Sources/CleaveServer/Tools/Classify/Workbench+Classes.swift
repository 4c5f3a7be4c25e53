import CleaveCore
import CleaveRender
import Foundation
import Hummingbird

/// A class of a project (what strokes, picks and predictions label pixels with).
public struct ClassDTO: ResponseCodable, Equatable, Sendable {
    /// The class's id (the `{classId}` of its routes).
    public var id: String
    /// The project it belongs to.
    public var projectId: String
    /// Label value 1…255, unique in the project.
    public var value: Int
    /// The class name, 1 to 100 characters, unique in the project ignoring case.
    public var name: String
    /// The overlay colour as `#rrggbb`.
    public var colour: String
}

/// `POST /api/projects/{projectId}/classes` (create) and `PUT /api/classes/{classId}` (rename or
/// recolour; absent fields stay as they are), annotators and up.
public struct ClassInput: Codable, Sendable {
    /// The class name, 1 to 100 characters after trimming (required when creating).
    public var name: String?
    /// The overlay colour as `#rrggbb` (default when creating: the palette's colour for the value).
    public var colour: String?
    /// The label value 1…255 (create only; default the smallest free one). A class's value never
    /// changes: strokes refer to it.
    public var value: Int?
    /// The page session that asked; the `class.create` / `class.update` event is recorded only when
    /// it is sent.
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
}

extension Workbench {
    static func cleanName(_ raw: String, what: String, limit: Int = 100) throws -> String {
        let name = String(raw.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).trimmingCharacters(in: .whitespaces)
        guard (1...limit).contains(name.count) else { throw APIError(.badRequest, "\(what) must be 1 to \(limit) characters, got \(name.count)") }
        return name
    }

    /// The project's classes by value.
    public func classes(projectID: String) async throws -> [ClassDTO] {
        _ = try await project(id: projectID)
        return try await list(ClassDTO.self, "project_id", projectID, orderBy: "value")
    }

    /// Creates a class; the value defaults to the smallest free one, the colour to the palette's.
    /// - Throws: 400 for a bad name, colour or value; 409 when the value or name is taken.
    public func createClass(projectID: String, userID: String, input: ClassInput) async throws -> ClassDTO {
        _ = try await project(id: projectID)
        let name = try Workbench.cleanName(input.name ?? "", what: "class name")
        if let colour = input.colour, RGB(hex: colour) == nil { throw APIError(.badRequest, "colour must be #rrggbb, got \(colour.prefix(20))") }
        if let value = input.value, !(1...255).contains(value) { throw APIError(.badRequest, "value must be 1 to 255, got \(value)") }
        let actor = input.sessionId == nil ? nil : try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        return try await database.write { db in
            let existing = try db.fetchAll(ClassDTO.self, where: "project_id = ?", [projectID], orderBy: "value")
            if existing.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                throw APIError(.conflict, "a class named \(name) exists in this project")
            }
            let used = Set(existing.map(\.value))
            let value: Int
            if let wanted = input.value {
                guard !used.contains(wanted) else { throw APIError(.conflict, "class value \(wanted) is taken in this project") }
                value = wanted
            } else {
                guard let free = (1...255).first(where: { !used.contains($0) }) else { throw APIError(.conflict, "all 255 class values are taken") }
                value = free
            }
            let colour = (input.colour.flatMap { RGB(hex: $0) } ?? Palette.colour(forIndex: value - 1)).hex
            let dto = ClassDTO(id: Workbench.newID(), projectId: projectID, value: value, name: name, colour: colour)
            try db.insert(dto, extra: [("created_at", Workbench.now())])
            if let actor {
                try Workbench.record("class.create", by: actor, projectID: projectID, imageID: nil,
                                     payload: ["classId": .string(dto.id), "value": .number(Double(value)), "name": .string(name), "colour": .string(colour)], db)
            }
            return dto
        }
    }

    /// Renames or recolours a class.
    public func updateClass(id: String, userID: String, input: ClassInput) async throws -> ClassDTO {
        let name = try input.name.map { try Workbench.cleanName($0, what: "class name") }
        if let colour = input.colour, RGB(hex: colour) == nil { throw APIError(.badRequest, "colour must be #rrggbb, got \(colour.prefix(20))") }
        if input.value != nil { throw APIError(.badRequest, "a class's value cannot change (strokes refer to it); create a new class") }
        let actor = input.sessionId == nil ? nil : try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        return try await database.write { db in
            var dto = try Workbench.get(ClassDTO.self, id, db)
            if let name {
                if try SQLRow.fetchOne(db, sql: "SELECT id FROM classes WHERE project_id = ? AND lower(name) = lower(?) AND id != ?",
                                    arguments: [dto.projectId, name, id]) != nil {
                    throw APIError(.conflict, "a class named \(name) exists in this project")
                }
                dto.name = name
            }
            if let colour = input.colour.flatMap({ RGB(hex: $0) }) { dto.colour = colour.hex }
            try db.update(dto, columns: ["name", "colour"])
            if let actor {
                try Workbench.record("class.update", by: actor, projectID: dto.projectId, imageID: nil,
                                     payload: ["classId": .string(id), "name": .string(dto.name), "colour": .string(dto.colour)], db)
            }
            return dto
        }
    }

    /// Deletes a class. A class that labels anything (strokes not yet discarded, pixels corrected
    /// by hand on a result) is refused with 409 and those counts, unless `discard` is set: then its
    /// strokes become 'discarded' and its corrected pixels discarded corrections (both kept for
    /// provenance, neither used for training or reference labels any more) before the class goes.
    /// Trained models keep their own class list. Records a 'class.delete' event with the counts.
    /// - Returns: the class (1) and what was discarded.
    public func deleteClass(id: String, userID: String, sessionID: String?, discard: Bool) async throws -> ClassDeletionDTO {
        let actor = sessionID == nil ? nil : try Actor(userID: userID, sessionID: sessionID)
        let found = try await get(ClassDTO.self, id)
        let predictions = try await database.read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT predictions.summary FROM predictions JOIN images ON images.id = predictions.image_id
                WHERE images.project_id = ? ORDER BY predictions.created_at, predictions.id
                """, arguments: [found.projectId]).map(PredictionDTO.init(row:))
        }
        return try await database.write { [self] db in
            let strokes = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM annotations JOIN images ON images.id = annotations.image_id
                WHERE images.project_id = ? AND annotations.class_index = ? AND annotations.state != 'discarded'
                """, arguments: [found.projectId, found.value]) ?? 0
            // Read inside the transaction, so no correction lands between the count and the discard.
            var corrected: [(id: String, corrections: [UInt8])] = []
            var correctedPixels = 0
            for prediction in predictions {
                guard var corrections = predictionCorrections(prediction), corrections.contains(Workbench.correctedMark) else { continue }
                let labels = try predictionLabels(prediction)
                guard labels.count == corrections.count else { continue }
                var hits = 0
                for i in corrections.indices where corrections[i] == Workbench.correctedMark && Int(labels[i]) == found.value {
                    corrections[i] = Workbench.discardedCorrectionMark
                    hits += 1
                }
                if hits > 0 { corrected.append((prediction.id, corrections)); correctedPixels += hits }
            }
            if (strokes > 0 || correctedPixels > 0) && !discard {
                throw APIError(.conflict, "class \(found.name) labels \(strokes) stroke(s) and \(correctedPixels) corrected pixel(s); delete it with discard=true to discard them (they are kept for provenance, not used for training)",
                               counts: ["strokes": strokes, "correctedPixels": correctedPixels])
            }
            try db.execute(sql: """
                UPDATE annotations SET state = 'discarded'
                WHERE class_index = ? AND state != 'discarded' AND image_id IN (SELECT id FROM images WHERE project_id = ?)
                """, arguments: [found.value, found.projectId])
            for (predictionID, corrections) in corrected {
                try results.write(corrections, kind: "predictions", id: predictionID, part: "corrections")
            }
            try db.delete(ClassDTO.self, id)
            if let actor {
                try Workbench.record("class.delete", by: actor, projectID: found.projectId, imageID: nil, payload: [
                    "classId": .string(id), "value": .number(Double(found.value)), "name": .string(found.name),
                    "discardedStrokes": .number(Double(strokes)), "discardedCorrectedPixels": .number(Double(correctedPixels))], db)
            }
            return ClassDeletionDTO(deleted: 1, discardedStrokes: strokes, discardedCorrectedPixels: correctedPixels)
        }
    }
}

/// The answer to deleting a class.
public struct ClassDeletionDTO: ResponseCodable, Equatable, Sendable {
    /// Classes removed (1).
    public var deleted: Int
    /// Strokes of the class marked `discarded` (kept for provenance, not used for training).
    public var discardedStrokes: Int
    /// Corrected pixels of the class marked as discarded corrections.
    public var discardedCorrectedPixels: Int
}

extension ClassDTO: Record {
    static let table = "classes"
    static let noun = "class"
    /// `created_at` is written at insert (`extra`): the API does not show it.
    func columns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("project_id", projectId), ("value", value), ("name", name), ("colour", colour)]
    }

    init(row: SQLRow) {
        self.init(id: row["id"], projectId: row["project_id"], value: row["value"], name: row["name"], colour: row["colour"])
    }
}
