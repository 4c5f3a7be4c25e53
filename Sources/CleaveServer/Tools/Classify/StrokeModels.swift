import Foundation
import Hummingbird

/// A brush stroke: class value (1…255; 0 = eraser), radius in image pixels, polyline points [[x, y], …] in
/// full-resolution image pixel coordinates, on plane `plane` of a stack (0-based, default 0).
public struct StrokeInput: Codable, Sendable {
    /// The page session painting it (undo and redo act per session).
    public var sessionId: String
    /// Class value, 1…255; 0 erases.
    public var `class`: Int
    /// Brush radius in full-resolution image pixels.
    public var radius: Double
    /// The polyline [[x, y], …] in full-resolution image pixel coordinates.
    public var points: [[Double]]
    /// The plane of a stack (0-based); nil means 0.
    public var plane: Int?
}

/// A stored brush stroke, as `GET /api/images/{id}/strokes` lists it.
public struct StrokeDTO: ResponseCodable, Equatable, Sendable {
    /// Server-assigned id, increasing in the order strokes were stored.
    public var id: Int64
    /// The image it was painted on.
    public var imageId: String
    /// Class value, 1…255; 0 erased.
    public var `class`: Int
    /// Brush radius in full-resolution image pixels.
    public var radius: Double
    /// The polyline [[x, y], …] in full-resolution image pixel coordinates.
    public var points: [[Double]]
    /// The plane of a stack the stroke was painted on (0 for 2D images).
    public var plane: Int = 0
    /// `active` (used for training), `undone`, or `discarded` (undone and then overwritten by a newer stroke).
    public var state: String
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
}

/// The body of undo and redo: the session whose last stroke is undone or redone.
public struct UndoRedoInput: Codable, Sendable {
    /// The page session whose stroke is undone or redone.
    public var sessionId: String
}
