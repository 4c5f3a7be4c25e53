import ArgumentParser
import CleaveCore
import CleaveServer
import Foundation

/// `cleave backup`: a consistent copy of a workbench data directory, also while the server runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a workbench data directory consistently, also while cleave serve runs.",
        discussion: """
        Copies the database with SQLite's online backup API (a snapshot of one moment, whatever \
        the server writes meanwhile), then every image file that snapshot names (each checked \
        against its SHA-256), then the results (label maps, models). The tile cache is left out \
        (it is rebuilt). The backup is written under a temporary name and renamed when complete, \
        so OUT holds a whole backup or nothing; an existing non-empty OUT is refused. \
        `cleave restore` brings it back.

        With --database (a server on PostgreSQL), the database is saved with pg_dump \
        (custom format, OUT/cleave.pgdump) from one snapshot that also lists the image files to \
        copy; pg_dump must be installed (Debian: postgresql-client, the server's major version or newer).

        Examples:
          cleave backup --data ~/cleave --out /backups/cleave-$(date +%F)
          cleave backup --data ~/cleave --database postgres://cleave:secret@127.0.0.1/cleave --out /backups/cleave-$(date +%F)
        """)

    @Option(name: .customLong("data"), help: ArgumentHelp("Data directory of the workbench.", valueName: "DIR"))
    var dataDirectory = "cleave-data"

    @Option(name: .customLong("out"), help: ArgumentHelp("New directory for the backup.", valueName: "OUT"))
    var output: String

    @Option(help: ArgumentHelp("The server's PostgreSQL database, when it runs with one (as for cleave serve --database).", valueName: "URL"))
    var database: String?

    func run() throws {
        let started = Date()
        let manifest = try backupStage("cleave backup") {
            try DataBackup.backup(dataDirectory: dataDirectory, database: database, to: output, progress: $0)
        }
        print(String(format: "cleave backup: %@ → %@: database, %d image files (%.1f MiB), %d result files in %.1f s",
                     dataDirectory, output, manifest.blobCount, Double(manifest.blobBytes) / 1_048_576, manifest.resultFiles,
                     Date().timeIntervalSince(started)))
    }
}

/// `cleave restore`: a backup into a new data directory.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a cleave backup into a new data directory.",
        discussion: """
        Checks the backup's database (SQLite integrity check) and every image file (SHA-256) \
        before anything is placed; DIR must not exist or be empty, and is created whole or not \
        at all. Start the server on it with cleave serve --data DIR.

        A PostgreSQL backup (taken with --database) is restored with pg_restore into a new \
        database named by --database (created on that server; an existing one is refused), then \
        start the server with cleave serve --data DIR --database URL.

        Examples:
          cleave restore /backups/cleave-2026-12-07 --data ~/cleave-restored
          cleave restore /backups/cleave-2026-12-07 --data ~/cleave-restored --database postgres://cleave:secret@127.0.0.1/cleave_restored
        """)

    @Argument(help: ArgumentHelp("A directory written by cleave backup.", valueName: "BACKUP"))
    var backup: String

    @Option(name: .customLong("data"), help: ArgumentHelp("New data directory to restore into.", valueName: "DIR"))
    var dataDirectory: String

    @Option(help: ArgumentHelp("A new PostgreSQL database for a PostgreSQL backup (created on that server).", valueName: "URL"))
    var database: String?

    func run() throws {
        let manifest = try backupStage("cleave restore") {
            try DataBackup.restore(from: backup, to: dataDirectory, database: database, progress: $0)
        }
        print("cleave restore: \(backup) (taken \(manifest.createdAt)) → \(dataDirectory): \(manifest.blobCount) image files, \(manifest.resultFiles) result files")
    }
}

/// The stage a backup or restore is at, on one terminal line (nothing when standard error is not a terminal).
private func stageLine(_ prefix: String) -> ((String) -> Void)? {
    guard isatty(STDERR_FILENO) != 0 else { return nil }
    return { stage in FileHandle.standardError.write(Data("\r\(prefix): \(stage)\u{1B}[K".utf8)) }
}

private func endStageLine() {
    if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

/// Runs a backup or restore with its stage line (`name: stage…`), ending the line however it
/// ends; the backup's errors in the command line's words (a database error names its flag).
private func backupStage(_ name: String, _ body: (((String) -> Void)?) throws -> BackupManifest) throws -> BackupManifest {
    defer { endStageLine() }
    do {
        return try body(stageLine(name))
    } catch let error as BackupError {
        throw CleaveError(error.description)
    } catch let error as DatabaseConfigurationError {
        throw CleaveError("--" + error.description)
    }
}
