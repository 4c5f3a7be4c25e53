import CleaveCore
import Foundation
import GRDB

/// What a backup holds; written as `backup.json` beside the copied files.
public struct BackupManifest: Codable, Equatable, Sendable {
    /// The manifest format (1).
    public var format = 1
    /// The Cleave version that wrote the backup.
    public var cleaveVersion: String
    /// When the backup was made (ISO 8601, UTC).
    public var createdAt: String
    /// The database's applied migrations at the moment of the snapshot.
    public var migrations: [String]
    /// Image files copied (one per distinct SHA-256 the database names).
    public var blobCount: Int
    /// Their total size in bytes.
    public var blobBytes: Int64
    /// Files copied from `results/` (temporary `.part` files skipped).
    public var resultFiles: Int
    /// "sqlite" (cleave.sqlite) or "postgres" (cleave.pgdump, pg_dump's custom format); older backups are SQLite.
    public var database: String? = nil
}

/// Why a backup or restore stopped; one line each, naming the file or directory.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    case noDatabase(String)
    case targetExists(String)
    case notABackup(String)
    case missingBlob(String)
    case corruptBlob(String)
    case damagedDatabase(String)
    case noDataDirectory(String)
    case databaseKindMismatch(backup: String, target: String)
    case postgresTargetExists(String)
    case postgresTool(String)

    /// The one-line message, naming the file or directory.
    public var description: String {
        switch self {
        case .noDatabase(let directory): "\(directory) is not a workbench data directory (it has no cleave.sqlite)"
        case .targetExists(let path): "\(path) already exists and is not empty; choose a new directory (nothing is overwritten)"
        case .notABackup(let path): "\(path) is not a Cleave backup (it has no backup.json and cleave.sqlite)"
        case .missingBlob(let digest): "image file \(digest) named by the database is missing from the blob store"
        case .corruptBlob(let digest): "image file \(digest) fails its SHA-256 check"
        case .damagedDatabase(let detail): "the backup's database fails SQLite's integrity check: \(detail)"
        case .noDataDirectory(let directory): "\(directory) is not a workbench data directory (it has no blobs/)"
        case .databaseKindMismatch(let backup, let target):
            "the backup holds a\(backup == "sqlite" ? "n SQLite" : " PostgreSQL") database; restore it \(target == "sqlite" ? "without --database (into DIR/cleave.sqlite)" : "with --database postgres://…/NEW_DATABASE")"
        case .postgresTargetExists(let server): "database: \(server) already exists; restore creates a new database (nothing is overwritten)"
        case .postgresTool(let detail): "database: \(detail)"
        }
    }
}

/// `cleave backup` / `cleave restore`: a copy of a data directory that is consistent while the
/// server runs.
///
/// 1. The database is copied with SQLite's online backup API (GRDB `backup(to:)`) from one read
///    transaction: a snapshot of one moment, whatever the server writes meanwhile (WAL mode).
/// 2. Then every image file the snapshot names is copied and hashed again. Blobs are content
///    addressed and never change once stored, and an image row is written only after its blob,
///    so every blob the snapshot needs exists when it is copied.
/// 3. Then `results/` (label maps, probabilities, models; each written whole under a temporary
///    name and renamed). A result finished after the snapshot may be copied too; it is unused.
///
/// The tile cache is not copied (it is rebuilt on demand). Everything is written into
/// `TARGET.partial-…` and renamed to TARGET at the end: a backup exists whole or not at all.
public enum DataBackup {
    static let databaseName = "cleave.sqlite"
    static let manifestName = "backup.json"
    static let postgresDumpName = "cleave.pgdump"

    /// SQLite's online backup of the database file (one read transaction: a snapshot of one
    /// moment, whatever the server writes meanwhile); returns the image digests and migrations it names.
    static func snapshotSQLite(_ databasePath: String, to copyPath: String) throws -> ([String], [String]) {
        // Opened as it is (no migration: the running server owns the schema).
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let source = try DatabaseQueue(path: databasePath, configuration: configuration)
        let copy = try DatabaseQueue(path: copyPath)
        try source.backup(to: copy)
        try source.close()
        let result = try copy.read { db -> ([String], [String]) in
            (try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM images ORDER BY sha256"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        }
        try copy.close()
        return result
    }

    /// pg_dump (custom format) of the PostgreSQL database from one snapshot: a read-only
    /// REPEATABLE READ transaction exports its snapshot, reads the image digests and migrations
    /// in it, and stays open while pg_dump runs with `--snapshot`, so the dump and the list of
    /// blobs to copy describe the same moment.
    static func dumpPostgres(_ location: PostgresLocation, to dumpPath: String) throws -> ([String], [String]) {
        let store = try PostgresStore(location: location)
        defer { try? store.close() }
        return try store.read { db -> ([String], [String]) in
            guard let snapshot = try String.fetchOne(db, sql: "SELECT pg_export_snapshot()") else {
                throw BackupError.postgresTool("PostgreSQL exported no snapshot")
            }
            let digests = try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM images ORDER BY sha256")
            let migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            try runPostgresTool("pg_dump", ["--format=custom", "--no-owner", "--snapshot=" + snapshot, "--file=" + dumpPath,
                                            "--dbname=" + location.libpqURL], location: location)
            return (digests, migrations)
        }
    }

    /// Runs pg_dump / pg_restore (PostgreSQL's client tools, on PATH or in /usr/lib/postgresql/*/bin)
    /// with the password in PGPASSWORD; its last error line becomes the error.
    static func runPostgresTool(_ name: String, _ arguments: [String], location: PostgresLocation) throws {
        var candidates = [String]()
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            candidates.append("\(directory)/\(name)")
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin/\(name)" }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BackupError.postgresTool("\(name) not found (install PostgreSQL's client tools: apt-get install postgresql-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let password = location.password { environment["PGPASSWORD"] = password }
        environment["PGCONNECT_TIMEOUT"] = String(location.connectTimeout)
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
            throw BackupError.postgresTool("\(name) failed (exit \(process.terminationStatus)): \(lines.last ?? "no message")")
        }
    }

    /// Backs up the data directory (and the PostgreSQL database `database`, when the server uses one)
    /// to `target` (a new or empty directory) while the server may run, reporting each step
    /// ("database", "image files k/n", "results") to `progress`; returns the manifest written as
    /// `backup.json`.
    ///
    /// - Throws: ``BackupError`` when the data directory has no database, `target` exists and is not
    ///   empty, an image file is missing or fails its SHA-256 check, or pg_dump fails; file system and
    ///   database errors as they come. Nothing is left at `target` then.
    /// - Complexity: reads and hashes every image file once; O(total bytes).
    public static func backup(dataDirectory: String, database: String? = nil, to target: String,
                              progress: ((String) -> Void)? = nil) throws -> BackupManifest {
        let manager = FileManager.default
        let databasePath = dataDirectory + "/" + databaseName
        let postgres = try database.map { try PostgresLocation(url: $0) }
        if postgres == nil {
            guard manager.fileExists(atPath: databasePath) else { throw BackupError.noDatabase(dataDirectory) }
        } else {
            guard manager.fileExists(atPath: dataDirectory + "/blobs") else { throw BackupError.noDataDirectory(dataDirectory) }
        }
        try checkFresh(target)
        let staging = target + ".partial-" + UUID().uuidString.lowercased()
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        do {
            // 1. The database snapshot.
            progress?("database")
            let (digests, migrations) = try postgres.map { try dumpPostgres($0, to: staging + "/" + postgresDumpName) }
                ?? snapshotSQLite(databasePath, to: staging + "/" + databaseName)

            // 2. The blobs the snapshot names, verified while copied.
            var blobBytes: Int64 = 0
            for (index, digest) in digests.enumerated() {
                progress?("image files \(index + 1)/\(digests.count)")
                guard BlobStore.isDigest(digest) else { throw BackupError.corruptBlob(digest) }
                let relative = "blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
                guard let data = manager.contents(atPath: dataDirectory + "/" + relative) else { throw BackupError.missingBlob(digest) }
                let bytes = [UInt8](data)
                guard SHA256.hex(bytes) == digest else { throw BackupError.corruptBlob(digest) }
                try manager.createDirectory(atPath: staging + "/" + (relative as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
                guard manager.createFile(atPath: staging + "/" + relative, contents: data) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: staging + "/" + relative])
                }
                blobBytes += Int64(bytes.count)
            }

            // 3. Results (whole files only: temporary ".part" files are being written).
            progress?("results")
            let results = try copyTree(from: dataDirectory + "/results", to: staging + "/results") { !$0.hasSuffix(".part") }

            let manifest = BackupManifest(cleaveVersion: cleaveVersion, createdAt: Workbench.now(), migrations: migrations,
                                          blobCount: digests.count, blobBytes: blobBytes, resultFiles: results,
                                          database: postgres == nil ? "sqlite" : "postgres")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: staging + "/" + manifestName))
            try place(staging, at: target)
            return manifest
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }

    /// Restores a backup into a new data directory (refused when it exists and is not empty),
    /// after checking the database's integrity and every image file's digest. A PostgreSQL
    /// backup goes into `database`, a new database on a PostgreSQL server (created here;
    /// refused when it exists), with pg_restore; an SQLite backup into DIR/cleave.sqlite.
    public static func restore(from backup: String, to dataDirectory: String, database: String? = nil,
                               progress: ((String) -> Void)? = nil) throws -> BackupManifest {
        let manager = FileManager.default
        guard let manifestData = manager.contents(atPath: backup + "/" + manifestName),
              let manifest = try? JSONDecoder().decode(BackupManifest.self, from: manifestData),
              manager.fileExists(atPath: backup + "/" + databaseName) || manager.fileExists(atPath: backup + "/" + postgresDumpName)
        else { throw BackupError.notABackup(backup) }
        let kind = manager.fileExists(atPath: backup + "/" + postgresDumpName) ? "postgres" : "sqlite"
        let postgres = try database.map { try PostgresLocation(url: $0) }
        guard kind == (postgres == nil ? "sqlite" : "postgres") else {
            throw BackupError.databaseKindMismatch(backup: kind, target: postgres == nil ? "sqlite" : "postgres")
        }
        try checkFresh(dataDirectory)
        if let postgres { try checkNewPostgresDatabase(postgres) }
        let staging = dataDirectory + ".partial-" + UUID().uuidString.lowercased()
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        var createdDatabase = false
        do {
            progress?("database")
            let digests: [String]
            if let postgres {
                try PostgresStore.createDatabase(named: postgres.database, on: postgres)
                createdDatabase = true
                try runPostgresTool("pg_restore", ["--no-owner", "--exit-on-error", "--dbname=" + postgres.libpqURL,
                                                   backup + "/" + postgresDumpName], location: postgres)
                let restored = try WorkbenchDatabase(postgres: postgres)   // brings an older backup to this version's schema
                digests = try restored.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM images ORDER BY sha256") }
                try restored.close()
            } else {
                try manager.copyItem(atPath: backup + "/" + databaseName, toPath: staging + "/" + databaseName)
                let check = try DatabaseQueue(path: staging + "/" + databaseName)
                let (integrity, names) = try check.read { db in
                    (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                     try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM images ORDER BY sha256"))
                }
                try check.close()
                guard integrity == ["ok"] else { throw BackupError.damagedDatabase(integrity.prefix(3).joined(separator: "; ")) }
                digests = names
            }
            for (index, digest) in digests.enumerated() {
                progress?("image files \(index + 1)/\(digests.count)")
                guard BlobStore.isDigest(digest) else { throw BackupError.corruptBlob(digest) }
                let relative = "blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
                guard let data = manager.contents(atPath: backup + "/" + relative) else { throw BackupError.missingBlob(digest) }
                guard SHA256.hex([UInt8](data)) == digest else { throw BackupError.corruptBlob(digest) }
                try manager.createDirectory(atPath: staging + "/" + (relative as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
                try manager.copyItem(atPath: backup + "/" + relative, toPath: staging + "/" + relative)
            }
            if postgres == nil {
                // Brings an older backup to this version's schema.
                _ = try WorkbenchDatabase(path: staging + "/" + databaseName)
            } else {
                try manager.createDirectory(atPath: staging + "/blobs", withIntermediateDirectories: true)
            }
            progress?("results")
            _ = try copyTree(from: backup + "/results", to: staging + "/results") { _ in true }
            try place(staging, at: dataDirectory)
            return manifest
        } catch {
            try? manager.removeItem(atPath: staging)
            if createdDatabase, let postgres { try? PostgresStore.dropDatabase(named: postgres.database, on: postgres) }
            throw error
        }
    }

    /// A PostgreSQL restore target must not exist yet (restore creates it, and drops it again on failure).
    static func checkNewPostgresDatabase(_ location: PostgresLocation) throws {
        let store = try PostgresStore(location: location.with(database: "postgres"))
        defer { try? store.close() }
        let exists = try store.read { db in
            try Int.fetchOne(db, sql: "SELECT 1 FROM pg_database WHERE datname = ?", arguments: [location.database])
        }
        if exists != nil { throw BackupError.postgresTargetExists(location.server) }
    }

    /// A target must not exist, or be an empty directory.
    static func checkFresh(_ path: String) throws {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else { return }
        guard let entries = try? manager.contentsOfDirectory(atPath: path), entries.isEmpty else { throw BackupError.targetExists(path) }
    }

    /// Renames the finished staging directory to its place (an empty directory there is replaced).
    static func place(_ staging: String, at target: String) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
        guard rename(staging, target) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }

    /// Copies the regular files of a tree whose names pass `keep`; returns how many.
    static func copyTree(from source: String, to destination: String, keep: (String) -> Bool) throws -> Int {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: source) else { return 0 }
        var count = 0
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue,
                  keep(relative) else { continue }
            try manager.createDirectory(atPath: destination + "/" + (relative as NSString).deletingLastPathComponent,
                                        withIntermediateDirectories: true)
            // A file renamed away between listing and copying is skipped.
            do { try manager.copyItem(atPath: source + "/" + relative, toPath: destination + "/" + relative) } catch {
                if manager.fileExists(atPath: source + "/" + relative) { throw error }
                continue
            }
            count += 1
        }
        return count
    }
}
