import Foundation
import GRDB

/// The workbench database: one SQLite file (`cleave.sqlite`) in the data directory, opened as a
/// WAL-mode `DatabasePool` and brought to the newest schema by versioned migrations.
///
/// ```
/// projects 1──* images ──* annotations (strokes)
///                 events (append-only; pseudonymous user id, session id, optional image id)
/// ```
public final class WorkbenchDatabase: Sendable {
    /// The connection pool (WAL: readers never block the writer).
    public let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    /// - Throws: GRDB's error when the file cannot be opened or a migration fails.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try WorkbenchDatabase.migrator.migrate(pool)
    }

    /// Names of the migrations, in order; each one is applied once and recorded by GRDB.
    public static var migrationNames: [String] { migrator.migrations }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-projects-images-events-annotations") { db in
            try db.create(table: "projects") { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull()
                t.column("created_at", .text).notNull()
            }
            try db.create(table: "images") { t in
                t.column("id", .text).primaryKey()
                t.column("project_id", .text).notNull().indexed().references("projects", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("sha256", .text).notNull().indexed()
                t.column("byte_count", .integer).notNull()
                t.column("format", .text).notNull()
                t.column("width", .integer).notNull()
                t.column("height", .integer).notNull()
                t.column("depth", .integer).notNull()
                t.column("channels", .integer).notNull()
                t.column("pixel_type", .text).notNull()
                t.column("spacing_x", .double)
                t.column("spacing_y", .double)
                t.column("spacing_unit", .text)
                t.column("created_at", .text).notNull()
            }
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("user_id", .text).notNull().indexed()
                t.column("session_id", .text).notNull()
                t.column("project_id", .text)
                t.column("image_id", .text).indexed()
                t.column("app_version", .text).notNull()
                t.column("client_time", .text)
                t.column("server_time", .text).notNull()
                t.column("type", .text).notNull()
                t.column("payload", .text).notNull()
            }
            try db.create(table: "annotations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("image_id", .text).notNull().indexed().references("images", onDelete: .cascade)
                t.column("user_id", .text).notNull()
                t.column("session_id", .text).notNull()
                t.column("class_index", .integer).notNull()
                t.column("radius", .double).notNull()
                t.column("points", .text).notNull()
                // active | undone | discarded (undone and then overwritten by a newer stroke)
                t.column("state", .text).notNull()
                t.column("undo_sequence", .integer)
                t.column("created_at", .text).notNull()
            }
        }
        return migrator
    }
}
