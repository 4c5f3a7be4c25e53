import CleaveCore
import CleaveFormats
import Foundation
import GRDB

/// An upload being streamed to a temporary file: bytes are hashed as they arrive and the size is
/// checked against the limit before each write, so memory stays bounded by one network chunk.
public final class UploadSink {
    public let path: String
    private let handle: FileHandle
    private var hasher = SHA256()
    public private(set) var byteCount = 0
    private let limit: Int
    private var closed = false

    init(path: String, limit: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw APIError(.internalServerError, "cannot create temporary upload file \(path)")
        }
        self.path = path
        self.limit = limit
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Appends a chunk. - Throws: 413 once the total exceeds the limit.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        byteCount += bytes.count
        guard byteCount <= limit else {
            throw APIError(.contentTooLarge, "upload exceeds the limit of \(limit) bytes")
        }
        hasher.update(bytes)
        try handle.write(contentsOf: Data(bytes))
    }

    /// Closes the file and returns the digest.
    func finish() throws -> String {
        try close()
        return hasher.finalizeHex()
    }

    func close() throws {
        if !closed { closed = true; try handle.close() }
    }

    /// Closes and deletes the temporary file (rejected upload).
    func discard() {
        try? close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension Workbench {
    /// Starts an upload into a temporary file; feed it with ``UploadSink/write(_:)`` and pass it to
    /// ``acceptUpload(_:projectID:name:)``.
    public func beginUpload() throws -> UploadSink {
        try UploadSink(path: blobs.temporaryPath(), limit: configuration.maximumUploadBytes)
    }

    /// Discards an unfinished upload.
    public func abandonUpload(_ sink: UploadSink) { sink.discard() }

    /// Validates a finished upload by decoding it completely with ``ImageFile`` (the format comes
    /// from the content, not the name), then moves it into the blob store and records it.
    /// On any failure the temporary file is deleted and nothing is recorded.
    /// - Throws: 404 for an unknown project, 400 (one line from the reader) for a file that is
    ///   not a readable TIFF/PNG/MRC.
    public func acceptUpload(_ sink: UploadSink, projectID: String, name: String) async throws -> ImageDTO {
        do {
            _ = try await project(id: projectID)
            let sha256 = try sink.finish()
            guard sink.byteCount > 0 else { throw APIError(.badRequest, "upload is empty") }
            let info: ImageInfo
            let decoded: AnyImage
            do {
                info = try ImageFile.info(sink.path)
                decoded = try ImageFile.read(sink.path)
            } catch {
                throw APIError(.badRequest, "not a readable image: " + Workbench.oneLine(error, replacing: sink.path, with: Workbench.sanitizedName(name)))
            }
            try blobs.adopt(temporaryFile: sink.path, sha256: sha256)
            let shape = decoded.shape
            let spacing = decoded.spacing ?? info.spacing
            let dto = ImageDTO(id: Workbench.newID(), projectId: projectID, name: Workbench.sanitizedName(name),
                               sha256: sha256, byteCount: sink.byteCount, format: info.format.rawValue,
                               width: shape.width, height: shape.height, depth: shape.depth, channels: shape.channels,
                               pixelType: decoded.pixelType.rawValue,
                               spacing: spacing.map { SpacingDTO(x: $0.x, y: $0.y, unit: $0.unit) },
                               tileSize: TilePyramid.tileSize,
                               levelCount: TilePyramid.levelCount(width: shape.width, height: shape.height),
                               createdAt: Workbench.now())
            try await database.pool.write { db in
                try db.execute(sql: """
                    INSERT INTO images (id, project_id, name, sha256, byte_count, format, width, height, depth,
                                        channels, pixel_type, spacing_x, spacing_y, spacing_unit, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [dto.id, dto.projectId, dto.name, dto.sha256, dto.byteCount, dto.format,
                                     dto.width, dto.height, dto.depth, dto.channels, dto.pixelType,
                                     dto.spacing?.x, dto.spacing?.y, dto.spacing?.unit, dto.createdAt])
            }
            return dto
        } catch {
            sink.discard()
            throw error
        }
    }

    /// Stores an in-memory image file (demo data, tests) through the same validation path.
    public func importImage(bytes: [UInt8], projectID: String, name: String) async throws -> ImageDTO {
        let sink = try beginUpload()
        do {
            try bytes.withUnsafeBytes { try sink.write($0) }
        } catch {
            sink.discard()
            throw error
        }
        return try await acceptUpload(sink, projectID: projectID, name: name)
    }

    /// An error's description on one line, with the temporary path replaced by the user's name.
    static func oneLine(_ error: Error, replacing path: String, with name: String) -> String {
        String(describing: error).replacingOccurrences(of: path, with: name).replacingOccurrences(of: "\n", with: " ")
    }
}
