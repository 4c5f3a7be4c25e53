import Foundation

/// Image files on disk, content-addressed by SHA-256: `blobs/ab/cd/abcd…` under the data
/// directory. A blob is written once (moved in from a finished temporary file) and never changed;
/// reads can verify the checksum.
public struct BlobStore: Sendable {
    /// The `blobs` directory.
    public let root: String
    /// Where uploads are streamed before they are accepted (same file system, so a move is atomic).
    public let temporaryDirectory: String

    /// The store under `dataDirectory` (`blobs/` and `tmp/`), creating both directories if missing.
    ///
    /// - Throws: the file system's error when a directory cannot be created.
    public init(dataDirectory: String) throws {
        root = dataDirectory + "/blobs"
        temporaryDirectory = dataDirectory + "/tmp"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    /// Appended to a blob's name while the image deletion that removes it commits.
    public static let withdrawnSuffix = ".deleting"

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

    /// Moves a finished temporary file into the store under its digest. The same content is
    /// idempotent, also when several uploads of it finish at once: the blob is created with one
    /// atomic `link` (which fails, harmlessly, when it already exists — same name, same bytes),
    /// never with a check followed by a move that another upload can overtake. The temporary file
    /// is removed in every case.
    /// - Throws: ``APIError`` (500, no server paths in the message) when the file system refuses.
    public func adopt(temporaryFile: String, sha256: String) throws {
        let target = path(for: sha256)
        defer { unlink(temporaryFile) }
        try BlobStore.makeDirectories((target as NSString).deletingLastPathComponent, below: root)
        if link(temporaryFile, target) == 0 { return }
        let linkError = errno
        if linkError == EEXIST { return }
        // File systems without hard links: rename is atomic too and replaces identical bytes.
        if linkError == EPERM || linkError == ENOTSUP || linkError == EOPNOTSUPP || linkError == EXDEV,
           rename(temporaryFile, target) == 0 { return }
        throw APIError(.internalServerError, "cannot store the upload in the blob store: \(String(cString: strerror(linkError)))")
    }

    /// Creates `directory` and its missing parents up to `root`; a directory another upload
    /// creates at the same moment is fine.
    static func makeDirectories(_ directory: String, below root: String) throws {
        var missing: [String] = []
        var current = directory
        while current.count > root.count, access(current, F_OK) != 0 {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for path in missing.reversed() where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw APIError(.internalServerError, "cannot create a blob directory: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a blob and checks its digest.
    /// - Throws: ``APIError`` (500) when the blob is missing or its content no longer matches
    ///   (the message names the digest, never a server path).
    public func verifiedBytes(sha256: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(for: sha256)) else {
            throw APIError(.internalServerError, "image file \(sha256) is missing from the data directory's blob store")
        }
        let bytes = [UInt8](data)
        guard SHA256.hex(bytes) == sha256 else {
            throw APIError(.internalServerError, "image file \(sha256) in the blob store fails its checksum (the file changed on disk)")
        }
        return bytes
    }

    /// True for 64 lowercase hex digits.
    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
