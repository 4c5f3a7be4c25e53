import CleaveCore
import CleaveFormats
import Foundation

extension Workbench {
    /// Largest number of events in one POST.
    public static let maximumEventBatch = 1000

    /// Checks a pseudonymous id (user or session): 8…64 characters of letters, digits, `-`, `_`.
    /// Free text (names, e-mail addresses) cannot pass, which keeps identities out of the log.
    static func validatedID(_ text: String?, what: String) throws -> String {
        guard let text, (8...64).contains(text.utf8.count),
              text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 })
        else {
            throw APIError(.badRequest, "\(what) must be 8 to 64 letters, digits, '-' or '_'")
        }
        return text
    }

    static func validatedType(_ text: String) throws -> String {
        guard (1...64).contains(text.utf8.count),
              text.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 95 })
        else {
            throw APIError(.badRequest, "event type must be 1 to 64 characters of a-z, 0-9, '.', '-', '_', got \"\(text.prefix(70))\"")
        }
        return text
    }

    /// Appends a batch of events for `userID` in one transaction (all or nothing).
    /// - Returns: the stored events.
    public func recordEvents(_ batch: [EventInput], userID: String) async throws -> [EventDTO] {
        let user = try Workbench.validatedID(userID, what: "X-Cleave-User")
        guard batch.count <= Workbench.maximumEventBatch else {
            throw APIError(.contentTooLarge, "\(batch.count) events in one batch, at most \(Workbench.maximumEventBatch)")
        }
        let serverTime = Workbench.now()
        var pending: [EventDTO] = []
        for input in batch {
            let session = try Workbench.validatedID(input.sessionId, what: "sessionId")
            pending.append(EventDTO(id: 0, userId: user, sessionId: session, projectId: input.projectId,
                                    imageId: input.imageId, appVersion: cleaveVersion,
                                    clientTime: input.clientTime.map { String($0.prefix(40)) }, serverTime: serverTime,
                                    type: try Workbench.validatedType(input.type), payload: input.payload ?? .object([:])))
        }
        let events = pending
        return try await database.write { db in
            try events.map { try Workbench.insert($0, db) }
        }
    }

    static func insert(_ event: EventDTO, _ db: any SQLConnection) throws -> EventDTO {
        var stored = event
        stored.id = try db.insertReturningKey(event) ?? 0
        return stored
    }

    /// The user's own events, oldest first, optionally for one image.
    public func events(userID: String, imageID: String? = nil) async throws -> [EventDTO] {
        let user = try Workbench.validatedID(userID, what: "X-Cleave-User")
        return try await database.read { db in
            if let imageID {
                return try db.fetchAll(EventDTO.self, where: "user_id = ? AND image_id = ?", [user, imageID], orderBy: "id")
            }
            return try db.fetchAll(EventDTO.self, where: "user_id = ?", [user], orderBy: "id")
        }
    }

    /// Who did something and when they say they did it: the pieces every server-recorded event carries.
    public struct Actor: Sendable {
        /// The browser's pseudonymous user id (`X-Cleave-User`, or the account's pseudonym).
        public var userID: String
        /// The page session the action came from.
        public var sessionID: String
        /// The page's clock when it happened (ISO 8601), if sent; the server's time is recorded besides.
        public var clientTime: String?

        /// Validates the pseudonymous ids (400 when malformed or missing).
        public init(userID: String, sessionID: String?, clientTime: String? = nil) throws {
            self.userID = try Workbench.validatedID(userID, what: "X-Cleave-User")
            self.sessionID = try Workbench.validatedID(sessionID, what: "sessionId")
            self.clientTime = clientTime.map { String($0.prefix(40)) }
        }
    }

    /// Appends one server-recorded event inside a write transaction.
    @discardableResult
    static func record(_ type: String, by actor: Actor, projectID: String?, imageID: String?, modelVersion: String? = nil,
                       payload: [String: JSONValue], _ db: any SQLConnection) throws -> EventDTO {
        try insert(EventDTO(id: 0, userId: actor.userID, sessionId: actor.sessionID, projectId: projectID, imageId: imageID,
                            appVersion: cleaveVersion, modelVersion: modelVersion, clientTime: actor.clientTime,
                            serverTime: now(), type: type, payload: .object(payload)), db)
    }

    /// Appends one server-recorded event in its own transaction.
    @discardableResult
    func record(_ type: String, by actor: Actor, projectID: String?, imageID: String?, modelVersion: String? = nil,
                payload: [String: JSONValue]) throws -> EventDTO {
        try database.write { db in
            try Workbench.record(type, by: actor, projectID: projectID, imageID: imageID, modelVersion: modelVersion, payload: payload, db)
        }
    }

    /// The user's own events as CSV (id, times, type, ids, versions, payload JSON).
    public func eventsCSV(userID: String) async throws -> String {
        Workbench.csv(try await events(userID: userID))
    }

    static func csv(_ events: [EventDTO]) -> String {
        func field(_ s: String?) -> String { s.map(CSVText.field) ?? "" }
        var lines = ["id,server_time,client_time,user_id,session_id,project_id,image_id,type,app_version,model_version,payload"]
        for e in events {
            lines.append([String(e.id), e.serverTime, e.clientTime, e.userId, e.sessionId, e.projectId, e.imageId, e.type,
                          e.appVersion, e.modelVersion, JSONValue.text(e.payload)].map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Deletes all of the user's own events (the only way events are ever removed).
    /// - Returns: how many were deleted.
    public func deleteEvents(userID: String) async throws -> Int {
        let user = try Workbench.validatedID(userID, what: "X-Cleave-User")
        return try await database.write { db in
            try db.execute(sql: "DELETE FROM events WHERE user_id = ?", arguments: [user])
            return db.changesCount
        }
    }
}

extension EventDTO: Record {
    static let table = "events"
    static let noun = "event"
    /// The id is the database's (``SQLConnection/insertReturningKey(_:extra:)``).
    func columns() throws -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("user_id", userId), ("session_id", sessionId), ("project_id", projectId), ("image_id", imageId),
         ("app_version", appVersion), ("model_version", modelVersion), ("client_time", clientTime),
         ("server_time", serverTime), ("type", type), ("payload", String(decoding: try JSONEncoder().encode(payload), as: UTF8.self))]
    }

    init(row: SQLRow) throws {
        let payloadText: String = row["payload"]
        self.init(id: row["id"], userId: row["user_id"], sessionId: row["session_id"],
                  projectId: row["project_id"], imageId: row["image_id"], appVersion: row["app_version"],
                  modelVersion: row["model_version"],
                  clientTime: row["client_time"], serverTime: row["server_time"], type: row["type"],
                  payload: try JSONDecoder().decode(JSONValue.self, from: Data(payloadText.utf8)))
    }
}
