import CleaveCore
import CleaveFormats
import Foundation

/// An upload being streamed to a temporary file: bytes are hashed as they arrive and the size is
/// checked against the limit before each write, so memory stays bounded by one network chunk.
public final class UploadSink {
    /// The temporary file the bytes go to (in the blob store's `tmp` directory).
    public let path: String
    private let handle: FileHandle
    private var hasher = SHA256()
    /// Bytes received so far (including a chunk refused for going over the limit).
    public private(set) var byteCount = 0
    private let limit: Int
    private var closed = false
    private let expected: Expected

    /// What the bytes must start like.
    enum Expected { case image, zipArchive }

    init(path: String, limit: Int, expecting expected: Expected = .image) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw APIError(.internalServerError, "cannot create a temporary upload file in the data directory")
        }
        self.path = path
        self.limit = limit
        self.expected = expected
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// The first bytes, kept to recognise the format before the rest arrives.
    private var head: [UInt8] = []
    private var sniffed = false

    /// Appends a chunk. - Throws: 413 once the total exceeds the limit; 400 as soon as the first
    /// KiB shows the file is no TIFF, PNG or MRC (so a wrong multi-GB upload is refused early).
    public func unsafeWrite(_ bytes: UnsafeRawBufferPointer) throws {
        byteCount += bytes.count
        guard byteCount <= limit else {
            throw APIError(.contentTooLarge, "upload exceeds the limit of \(limit) bytes")
        }
        if !sniffed {
            head += bytes.prefix(UploadSink.sniffBytes - head.count)
            if head.count >= UploadSink.sniffBytes {
                sniffed = true
                if expected == .zipArchive {
                    // A project export starts with a local header (or is an empty archive's end record).
                    guard head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) else {
                        throw APIError(.badRequest, "not a zip archive: the first bytes are not a zip header (send the .zip that Export wrote)")
                    }
                } else if !UploadSink.looksLikeImage(head) {
                    throw APIError(.badRequest, "not a readable image: the first bytes are not a TIFF, PNG or MRC header")
                }
            }
        }
        hasher.update(bytes)
        try handle.write(contentsOf: Data(bytes))
    }

    static let sniffBytes = 1024

    /// TIFF (II*, MM*, BigTIFF), PNG signature, or MRC ("MAP " at byte 208).
    static func looksLikeImage(_ head: [UInt8]) -> Bool {
        guard head.count >= 8 else { return false }
        if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || head.starts(with: [0x49, 0x49, 0x2B, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) { return true }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return true }
        if head.count >= 212, Array(head[208..<211]) == Array("MAP".utf8) { return true }
        // Older MRC files have no MAP stamp; their mode word (bytes 12-15) is a small integer.
        if head.count >= 16 {
            let mode = Int(head[12]) | Int(head[13]) << 8 | Int(head[14]) << 16 | Int(head[15]) << 24
            if (0...6).contains(mode) || mode == 12 || mode == 101 { return true }
        }
        return false
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
            let displayName = try Workbench.checkedUploadName(name)
            let checked = try await Workbench.validateImageFile(sink.path, byteCount: sink.byteCount, name: displayName,
                                                               configuration: configuration)
            let shape = checked.shape, spacing = checked.spacing
            try blobs.adopt(temporaryFile: sink.path, sha256: sha256)
            let dto = ImageDTO(id: Workbench.newID(), projectId: projectID, name: displayName,
                               sha256: sha256, byteCount: sink.byteCount, format: checked.format.rawValue,
                               width: shape.width, height: shape.height, depth: shape.depth, channels: shape.channels,
                               pixelType: checked.pixelType.rawValue,
                               spacing: spacing.map { SpacingDTO(x: $0.x, y: $0.y, unit: $0.unit) },
                               tileSize: TilePyramid.tileSize,
                               levelCount: TilePyramid.levelCount(width: shape.width, height: shape.height),
                               createdAt: Workbench.now())
            let blobPath = blobs.path(for: sha256)
            try await database.write { db in
                // An image deletion that removed the last image of this content may have taken
                // the file between adopt and here (``Workbench/withdraw(_:into:)``): refuse, lose nothing.
                guard access(blobPath, F_OK) == 0 else {
                    throw APIError(.conflict, "\(displayName): an image with the same content was deleted at this moment; upload it again")
                }
                try db.insert(dto)
            }
            return dto
        } catch {
            sink.discard()
            throw error
        }
    }

    /// What ``validateImageFile(_:byteCount:name:configuration:)`` read from a file.
    struct CheckedImage {
        var format: ImageFormat
        var shape: Shape
        var pixelType: PixelType
        var spacing: Spacing?
    }

    /// The checks of an upload (and of each image of an imported project): the format comes from
    /// the content, the extension must agree, the header must fit the pixel budget, and an image
    /// small enough is decoded completely (every strip and checksum) with finite pixels.
    /// - Throws: 400, 413, 415 or 422 with one line naming `displayName`.
    static func validateImageFile(_ path: String, byteCount: Int, name displayName: String,
                                  configuration: ServerConfiguration) async throws -> CheckedImage {
        let info: ImageInfo
        do { info = try ImageFile.info(path) } catch {
            throw APIError(.badRequest, "not a readable image: " + Workbench.oneLine(error, replacing: path, with: displayName))
        }
        try Workbench.checkExtension(displayName, matches: info.format)
        // Header plausibility before any pixel is decoded: a 100 GB claim is refused here.
        let (declared, overflow) = info.shape.count.multipliedReportingOverflow(by: info.pixelType.bytesPerSample)
        guard !overflow, declared <= ImageFile.maximumImageBytes else {
            throw APIError(.contentTooLarge, "\(displayName): the header claims \(info.width)x\(info.height)x\(info.depth)x\(info.channels) \(info.pixelType.rawValue) pixels (\(overflow ? "more than 9 EB" : Workbench.gigabytes(declared))); the workbench takes at most \(Workbench.gigabytes(ImageFile.maximumImageBytes))")
        }
        try checkPixelBudget(name: displayName, width: info.width, height: info.height, depth: info.depth, channels: info.channels,
                         limit: configuration.maximumImagePixels)
        var shape = info.shape
        var pixelType = info.pixelType
        var spacing = info.spacing
        if declared <= configuration.fullValidationBytes {
            // Small enough to decode completely: every strip and checksum is checked.
            let decoded: AnyImage
            do {
                let path = path
                decoded = try await Workbench.offload { try ImageFile.read(path) }
                shape = decoded.shape; pixelType = decoded.pixelType; spacing = decoded.spacing ?? info.spacing
            } catch {
                throw APIError(.badRequest, "not a readable image: " + Workbench.oneLine(error, replacing: path, with: displayName))
            }
            // NaN / ±Inf pixels are refused here (422); larger images are checked when first decoded.
            try await Workbench.offload { try Workbench.checkFinite(decoded, name: displayName) }
        } else if info.compression == "none" && declared > byteCount {
            // Too large to decode here (memory stays bounded): uncompressed pixels must at least fit in the file.
            throw APIError(.badRequest, "not a readable image: \(displayName) is truncated: its header describes \(declared) bytes of pixels but the file has \(byteCount) bytes")
        }
        return CheckedImage(format: info.format, shape: shape, pixelType: pixelType, spacing: spacing)
    }

    static func gigabytes(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }

    /// Upload names are display names only, but a name that tries to be a path is refused
    /// outright (400) rather than silently shortened, so clients learn about the mistake.
    static func checkedUploadName(_ raw: String) throws -> String {
        if raw.contains("/") || raw.contains("\\") || raw == ".." || raw.hasPrefix("..") {
            throw APIError(.badRequest, "upload name \(String(raw.prefix(80)).debugDescription) contains a path; give a plain file name")
        }
        return sanitizedName(raw)
    }

    /// A name with an image extension must agree with the content (a PNG named .tif is refused:
    /// it is usually an export mistake that would silently lose metadata). Other names are fine.
    static func checkExtension(_ name: String, matches format: ImageFormat) throws {
        guard let dot = name.lastIndex(of: ".") else { return }
        let ext = name[name.index(after: dot)...].lowercased()
        let claimed: ImageFormat?
        switch ext {
        case "tif", "tiff": claimed = .tiff
        case "png": claimed = .png
        case "mrc", "st", "map", "rec": claimed = .mrc
        default: claimed = nil
        }
        if let claimed, claimed != format {
            throw APIError(.unsupportedMediaType, "\(name): the name says \(claimed.rawValue.uppercased()) but the content is \(format.rawValue.uppercased()); rename the file or export it again")
        }
    }

    /// Stores an in-memory image file (demo data, tests) through the same validation path.
    public func importImage(bytes: [UInt8], projectID: String, name: String) async throws -> ImageDTO {
        let sink = try beginUpload()
        do {
            try bytes.withUnsafeBytes { try sink.unsafeWrite($0) }
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
