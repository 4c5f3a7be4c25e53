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
