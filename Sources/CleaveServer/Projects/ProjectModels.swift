import Foundation
import Hummingbird

/// A project: a named set of images.
public struct ProjectDTO: ResponseCodable, Equatable, Sendable {
    /// Random UUID, stable for the project's life.
    public var id: String
    /// The name users gave it (1–200 characters).
    public var name: String
    /// When it was created (ISO 8601, UTC).
    public var createdAt: String
    /// The project's explicit opt-in to contributing its images and reference data to open data.
    public var consent: Bool = false
    /// The caller's role in the project (owner, annotator, viewer; "admin" for administrators;
    /// "owner" for the single user), in `GET /api/projects` and the answer to creating one.
    public var role: String? = nil
}

/// What the API says about an image.
public struct ImageDTO: ResponseCodable, Equatable, Sendable {
    /// Random UUID, stable for the image's life.
    public var id: String
    /// The project it belongs to.
    public var projectId: String
    /// The uploaded file's name.
    public var name: String
    /// SHA-256 of the uploaded file's bytes (hex); the blob store keeps one copy per content.
    public var sha256: String
    /// Size of the uploaded file in bytes.
    public var byteCount: Int
    /// The file format Cleave read it as: `tiff`, `png`, `mrc`, …
    public var format: String
    /// Columns (pixels).
    public var width: Int
    /// Rows (pixels).
    public var height: Int
    /// Planes (1 for a 2D image; a stack's pages or slices).
    public var depth: Int
    /// Channels per pixel (1 for greyscale; detectors or colours otherwise).
    public var channels: Int
    /// Sample type of the stored pixels: `uint8`, `uint16`, `float32`, …
    public var pixelType: String
    /// Physical pixel size (x, y, unit), when the file said.
    public var spacing: SpacingDTO?
    /// Edge of the square PNG tiles of the pyramid, in pixels of the tile's level.
    public var tileSize: Int
    /// Pyramid levels: level 0 is full resolution, level L is downsampled by 2^L; the last fits one tile.
    public var levelCount: Int
    /// When it was uploaded (ISO 8601, UTC).
    public var createdAt: String
}

/// A physical pixel size.
public struct SpacingDTO: Codable, Equatable, Sendable {
    /// Width of a pixel, in `unit`.
    public var x: Double
    /// Height of a pixel, in `unit`.
    public var y: Double
    /// The unit of `x` and `y` (`nm`, `µm`, …).
    public var unit: String
}

/// The default contrast window of an image (what tiles use without `low`/`high`), and the
/// window the page's Auto button applies.
public struct WindowDTO: ResponseCodable, Equatable, Sendable {
    /// Pixel value shown black.
    public var low: Double
    /// Pixel value shown white.
    public var high: Double
    /// "full-range" (8-bit) or "percentiles 0.5-99.5".
    public var method: String
    /// Auto contrast: the 0.5–99.5 percentiles of the plane, for every pixel type (for 8-bit
    /// images the default stays the full 0…255 range, so nothing is stretched silently).
    public var auto: AutoWindowDTO? = nil
}

/// The window the Auto button applies: `low`…`high` in pixel values, and how it was measured.
public struct AutoWindowDTO: Codable, Equatable, Sendable {
    /// Pixel value shown black (the 0.5th percentile).
    public var low: Double
    /// Pixel value shown white (the 99.5th percentile).
    public var high: Double
    /// How the window was measured, e.g. "percentiles 0.5-99.5".
    public var method: String
}

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

/// Any JSON value (event payloads are free-form but must be JSON).
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes null, a Boolean, a number, a string, an array or an object, in that order of trial.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Encodes the value as the JSON it stands for.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
