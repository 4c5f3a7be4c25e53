import Foundation

/// Image files on disk, content-addressed by SHA-256: `blobs/ab/cd/abcd…` under the data
/// directory. A blob is written once (moved in from a finished temporary file) and never changed;
/// reads can verify the checksum.
public struct BlobStore: Sendable {
    /// The `blobs` directory.
    public let root: String
    /// Where uploads are streamed before they are accepted (same file system, so a move is atomic).
    public let temporaryDirectory: String

    public init(dataDirectory: String) throws {
        root = dataDirectory + "/blobs"
        temporaryDirectory = dataDirectory + "/tmp"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    /// The path of the blob with this digest (64 lowercase hex digits).
    public func path(for sha256: String) -> String {
        precondition(BlobStore.isDigest(sha256), "BlobStore.path(for:) needs a 64-digit hex digest, got \(sha256)")
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return "\(root)/\(a)/\(b)/\(sha256)"
    }

    /// A fresh temporary file path (not created).
    public func temporaryPath() -> String {
        temporaryDirectory + "/upload-" + UUID().uuidString.lowercased()
    }

    /// Moves a finished temporary file into the store under its digest. When the blob already
    /// exists (same content uploaded before) the temporary file is removed instead.
    public func adopt(temporaryFile: String, sha256: String) throws {
        let target = path(for: sha256)
        let manager = FileManager.default
        if manager.fileExists(atPath: target) {
            try? manager.removeItem(atPath: temporaryFile)
            return
        }
        try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try manager.moveItem(atPath: temporaryFile, toPath: target)
    }

    /// Reads a blob and checks its digest.
    /// - Throws: ``APIError`` (500) when the blob is missing or its content no longer matches.
    public func verifiedBytes(sha256: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(for: sha256)) else {
            throw APIError(.internalServerError, "blob \(sha256) is missing from \(root)")
        }
        let bytes = [UInt8](data)
        guard SHA256.hex(bytes) == sha256 else {
            throw APIError(.internalServerError, "blob \(sha256) in \(root) fails its checksum (file changed on disk)")
        }
        return bytes
    }

    /// True for 64 lowercase hex digits.
    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
