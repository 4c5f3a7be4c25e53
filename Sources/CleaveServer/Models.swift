import Foundation
import Hummingbird

/// A project: a named set of images.
public struct ProjectDTO: ResponseCodable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var createdAt: String
    /// The project's explicit opt-in to contributing its images and reference data to open data.
    public var consent: Bool = false
    /// The caller's role in the project (owner, annotator, viewer; "admin" for administrators;
    /// "owner" for the single user), in `GET /api/projects` and the answer to creating one.
    public var role: String? = nil
}

/// What the API says about an image.
public struct ImageDTO: ResponseCodable, Equatable, Sendable {
    public var id: String
    public var projectId: String
    public var name: String
    public var sha256: String
    public var byteCount: Int
    public var format: String
    public var width: Int
    public var height: Int
    public var depth: Int
    public var channels: Int
    public var pixelType: String
    /// Physical pixel size (x, y, unit), when the file said.
    public var spacing: SpacingDTO?
    public var tileSize: Int
    /// Pyramid levels: level 0 is full resolution, level L is downsampled by 2^L; the last fits one tile.
    public var levelCount: Int
    public var createdAt: String
}

public struct SpacingDTO: Codable, Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var unit: String
}

/// The default contrast window of an image (what tiles use without `low`/`high`), and the
/// window the page's Auto button applies.
public struct WindowDTO: ResponseCodable, Equatable, Sendable {
    public var low: Double
    public var high: Double
    /// "full-range" (8-bit) or "percentiles 0.5-99.5".
    public var method: String
    /// Auto contrast: the 0.5–99.5 percentiles of the plane, for every pixel type (for 8-bit
    /// images the default stays the full 0…255 range, so nothing is stretched silently).
    public var auto: AutoWindowDTO? = nil
}

public struct AutoWindowDTO: Codable, Equatable, Sendable {
    public var low: Double
    public var high: Double
    public var method: String
}

/// One recorded interaction.
public struct EventDTO: ResponseCodable, Equatable, Sendable {
    public var id: Int64
    public var userId: String
    public var sessionId: String
    public var projectId: String?
    public var imageId: String?
    public var appVersion: String
    /// Version of the model a result came from (train, predict), else nil.
    public var modelVersion: String? = nil
    public var clientTime: String?
    public var serverTime: String
    public var type: String
    public var payload: JSONValue
}

/// An event as the page posts it.
public struct EventInput: Codable, Sendable {
    public var type: String
    public var sessionId: String
    public var projectId: String?
    public var imageId: String?
    public var clientTime: String?
    public var payload: JSONValue?
}

public struct EventBatchInput: Codable, Sendable {
    public var events: [EventInput]
}

/// A brush stroke: class value (1…255; 0 = eraser), radius in image pixels, polyline points [[x, y], …] in
/// full-resolution image pixel coordinates, on plane `plane` of a stack (0-based, default 0).
public struct StrokeInput: Codable, Sendable {
    public var sessionId: String
    public var `class`: Int
    public var radius: Double
    public var points: [[Double]]
    public var plane: Int?
}

public struct StrokeDTO: ResponseCodable, Equatable, Sendable {
    public var id: Int64
    public var imageId: String
    public var `class`: Int
    public var radius: Double
    public var points: [[Double]]
    /// The plane of a stack the stroke was painted on (0 for 2D images).
    public var plane: Int = 0
    public var state: String
    public var createdAt: String
}

public struct UndoRedoInput: Codable, Sendable {
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

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

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
