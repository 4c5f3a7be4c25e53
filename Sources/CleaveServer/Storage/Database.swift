import Foundation
import GRDB

/// The workbench database: one SQLite file (`cleave.sqlite`) in the data directory, opened as a
/// WAL-mode `DatabasePool` and brought to the newest schema by versioned migrations.
///
/// ```
/// projects 1──* images ──* annotations (strokes)
///    │              ├──* clusterings, predictions, object_sets (results; arrays in results/)
///    ├──* classes    └──* jobs (background work: state, progress, result, error)
///    └──* models (versioned pixel classifiers; the model file in results/models/)
/// events (append-only; pseudonymous user id, session id, optional image id, model version)
/// users 1──* sessions (hashed tokens), users *──* projects through project_members (role)
/// audit (append-only: exports and deletions, who and when)
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
        migrator.registerMigration("v2-jobs-tools-reference") { db in
            try db.alter(table: "projects") { t in t.add(column: "consent", .boolean).notNull().defaults(to: false) }
            try db.alter(table: "events") { t in t.add(column: "model_version", .text) }
            try db.create(table: "jobs") { t in
                t.column("id", .text).primaryKey()
                t.column("kind", .text).notNull()
                t.column("image_id", .text).indexed()
                t.column("project_id", .text)
                t.column("params", .text).notNull()
                // queued | running | done | failed | cancelled
                t.column("state", .text).notNull()
                t.column("progress", .double).notNull()
                t.column("stage", .text).notNull()
                t.column("result", .text)
                t.column("error", .text)
                t.column("created_at", .text).notNull()
                t.column("started_at", .text)
                t.column("finished_at", .text)
            }
            try db.create(table: "classes") { t in
                t.column("id", .text).primaryKey()
                t.column("project_id", .text).notNull().indexed().references("projects", onDelete: .cascade)
                t.column("value", .integer).notNull()
                t.column("name", .text).notNull()
                t.column("colour", .text).notNull()
                t.column("created_at", .text).notNull()
                t.uniqueKey(["project_id", "value"])
            }
            try db.create(table: "models") { t in
                t.column("id", .text).primaryKey()
                t.column("project_id", .text).notNull().indexed().references("projects", onDelete: .cascade)
                t.column("version", .integer).notNull()
                t.column("job_id", .text)
                t.column("summary", .text).notNull()     // ModelDTO JSON
                t.column("created_at", .text).notNull()
                t.uniqueKey(["project_id", "version"])
            }
            try db.create(table: "clusterings") { t in
                t.column("id", .text).primaryKey()
                t.column("image_id", .text).notNull().indexed().references("images", onDelete: .cascade)
                t.column("job_id", .text)
                t.column("summary", .text).notNull()     // ClusteringDTO JSON (clusters, names, merges, state)
                t.column("state", .text).notNull()
                t.column("created_at", .text).notNull()
            }
            try db.create(table: "predictions") { t in
                t.column("id", .text).primaryKey()
                t.column("image_id", .text).notNull().indexed().references("images", onDelete: .cascade)
                t.column("model_id", .text).notNull()
                t.column("job_id", .text)
                t.column("summary", .text).notNull()     // PredictionDTO JSON
                t.column("state", .text).notNull()
                t.column("created_at", .text).notNull()
            }
            try db.create(table: "object_sets") { t in
                t.column("id", .text).primaryKey()
                t.column("image_id", .text).notNull().indexed().references("images", onDelete: .cascade)
                t.column("prediction_id", .text).notNull()
                t.column("job_id", .text)
                t.column("summary", .text).notNull()     // ObjectSetDTO JSON
                t.column("created_at", .text).notNull()
            }
        }
        migrator.registerMigration("v3-stroke-planes") { db in
            // The plane of a stack a stroke was painted on (0 for 2D images and older strokes).
            try db.alter(table: "annotations") { t in t.add(column: "plane", .integer).notNull().defaults(to: 0) }
        }
        migrator.registerMigration("v4-regions-of-interest") { db in
            // One region of interest per image: a polygon (JSON [[x, y], …]) and/or an outside class.
            try db.create(table: "regions_of_interest") { t in
                t.column("image_id", .text).primaryKey().references("images", onDelete: .cascade)
                t.column("polygon", .text)
                t.column("outside_class", .integer)
                t.column("updated_at", .text).notNull()
            }
        }
        migrator.registerMigration("v5-accounts-roles-audit") { db in
            // Local accounts (issue 23). Names are unique whatever their case; the password is a
            // bcrypt hash; `pseudonym` is the random id the account's events carry instead of a name.
            try db.create(table: "users") { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull().unique().collate(.nocase)
                t.column("password_hash", .text).notNull()
                t.column("is_admin", .boolean).notNull().defaults(to: false)
                t.column("pseudonym", .text).notNull().unique()
                t.column("created_at", .text).notNull()
                t.column("password_changed_at", .text).notNull()
            }
            // Login sessions: only the SHA-256 of the random token is stored.
            try db.create(table: "sessions") { t in
                t.column("token_hash", .text).primaryKey()
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("created_at", .double).notNull()
                t.column("expires_at", .double).notNull()
            }
            // owner | annotator | viewer
            try db.create(table: "project_members") { t in
                t.column("project_id", .text).notNull().references("projects", onDelete: .cascade)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("role", .text).notNull()
                t.column("added_at", .text).notNull()
                t.primaryKey(["project_id", "user_id"])
            }
            // Who exported or deleted what, when (append-only; the user's name is copied so the
            // record outlives the account).
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .text).notNull()
                t.column("user_id", .text)
                t.column("user_name", .text).notNull()
                t.column("action", .text).notNull()
                t.column("target", .text).notNull()
                t.column("project_id", .text)
                t.column("detail", .text)
            }
        }
        return migrator
    }
}
