import Foundation
import Hummingbird

/// One recorded interaction.
public struct EventDTO: ResponseCodable, Equatable, Sendable {
    /// Server-assigned sequence number (increasing in the order events were stored).
    public var id: Int64
    /// Pseudonymous user id (never the account name).
    public var userId: String
    /// The page session that sent it.
    public var sessionId: String
    /// The project it concerns, if any.
    public var projectId: String?
    /// The image it concerns, if any.
    public var imageId: String?
    /// Cleave's version when it was stored.
    public var appVersion: String
    /// Version of the model a result came from (train, predict), else nil.
    public var modelVersion: String? = nil
    /// The page's clock when it happened (ISO 8601), if sent.
    public var clientTime: String?
    /// When the server stored it (ISO 8601, UTC).
    public var serverTime: String
    /// What happened: the page's types (e.g. `viewport`) and the server's own (`train`, `predict`,
    /// `cluster.run`, `class.create`, `correction`, `export`, …).
    public var type: String
    /// The event's details (free-form JSON; depends on `type`).
    public var payload: JSONValue
}

/// An event as the page posts it.
public struct EventInput: Codable, Sendable {
    /// What happened, e.g. `viewport`: 1 to 64 characters of a–z, 0–9, '.', '-' and '_'.
    public var type: String
    /// The page session sending it.
    public var sessionId: String
    /// The project it concerns, if any.
    public var projectId: String?
    /// The image it concerns, if any.
    public var imageId: String?
    /// The page's clock when it happened (ISO 8601).
    public var clientTime: String?
    /// The event's details (free-form JSON).
    public var payload: JSONValue?
}

/// Events the page posts together (`POST /api/events`); all are stored or none.
public struct EventBatchInput: Codable, Sendable {
    /// The events, in the order they happened.
    public var events: [EventInput]
}
