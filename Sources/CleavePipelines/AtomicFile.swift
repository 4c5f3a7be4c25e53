import Foundation
import CleaveCore

/// Writes whole files or not at all.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `path`, then renames it over `path`: readers
    /// see the old file or the whole new one, and a failed write leaves no partial file.
    ///
    /// No `fsync`: Foundation's atomic writes sync every file, and on ext4 that flushes all of
    /// the run's dirty data with it (38 ms after a window run's two 16 MB label TIFFs, for a
    /// 1 kB summary). Durability against power loss is the file system's usual few seconds.
    static func write(_ data: Data, to path: String) throws {
        let temporary = temporaryPath(for: path)
        try writeTemporary(data, to: temporary, for: path)
        try commit(temporary, to: path)
    }

    /// Writes `data` to `temporary` (removed again when the write fails); messages name `path`.
    static func writeTemporary(_ data: Data, to temporary: String, for path: String) throws {
        guard let file = fopen(temporary, "wb") else {
            throw PipelineFileError.cannotWrite(path: path, reason: "\(String(cString: strerror(errno))); directory missing or not writable?")
        }
        let written = data.withUnsafeBytes { $0.isEmpty ? 0 : fwrite($0.baseAddress!, 1, $0.count, file) }
        let why = written == data.count ? nil : String(cString: strerror(errno))
        if fclose(file) != 0 || why != nil {
            unlink(temporary)
            throw PipelineFileError.cannotWrite(path: path, reason: why ?? String(cString: strerror(errno)))
        }
    }

    /// ``write(_:to:)`` for text (UTF-8).
    static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// A hidden temporary name in the same directory as `path` (so the rename is atomic).
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
    }

    /// Renames a finished temporary file into place.
    static func commit(_ temporary: String, to path: String) throws {
        if rename(temporary, path) != 0 {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw PipelineFileError.cannotWrite(path: path, reason: "cannot move the finished file into place (\(why))")
        }
    }
}
