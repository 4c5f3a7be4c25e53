import Foundation
import GRDB

/// The workbench database: by default one SQLite file (`cleave.sqlite`) in the data directory,
/// opened as a WAL-mode `DatabasePool`; or a PostgreSQL database (`cleave serve --database
/// postgres://…`). Either is brought to the newest schema by the same named migrations, and
/// every table access goes through ``SQLStore`` (``read(_:)``/``write(_:)``), so the server's code
/// and SQL are the same for both.
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
    /// Where the tables live.
    public let store: any SQLStore
    /// The SQLite connection pool (WAL: readers never block the writer); nil on PostgreSQL.
    public let sqlitePool: DatabasePool?
    /// The PostgreSQL database; nil on SQLite.
    public let postgres: PostgresLocation?

    /// Which database the tables live in (SQLite or PostgreSQL).
    public var dialect: SQLDialect { store.dialect }

    /// Opens (creating if needed) the SQLite database at `path` and runs pending migrations.
    /// - Throws: GRDB's error when the file cannot be opened or a migration fails.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try WorkbenchDatabase.migrator.migrate(pool)
        sqlitePool = pool
        postgres = nil
        store = SQLiteStore(pool: pool)
    }

    /// Connects to the PostgreSQL database at `location` and runs pending migrations.
    /// - Throws: ``DatabaseConfigurationError`` (one line naming `database`) when the server cannot
    ///   be reached within the connect timeout or refuses the login; ``PostgresStatementError``
    ///   when a migration fails.
    public init(postgres location: PostgresLocation) throws {
        let store = try PostgresStore(location: location)
        do { try WorkbenchDatabase.migratePostgres(store) } catch {
            try? store.close()
            throw error
        }
        self.store = store
        sqlitePool = nil
        postgres = location
    }

    /// Opens `--database`: a `postgres://` URL, else the SQLite file `cleave.sqlite` in `dataDirectory`.
    public convenience init(database: String?, dataDirectory: String) throws {
        if let database, !database.isEmpty {
            guard PostgresLocation.isPostgresURL(database) else {
                throw DatabaseConfigurationError.notAURL(PostgresLocation.redacted(database))
            }
            try self.init(postgres: PostgresLocation(url: database))
        } else {
            try self.init(path: dataDirectory + "/cleave.sqlite")
        }
    }

    /// A read-only transaction (one consistent snapshot). Blocks the calling thread: request
    /// handlers use the async form.
    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try store.read(body) }
    /// A write transaction (writes are serialised; an error rolls it back).
    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try store.write(body) }
    /// A read transaction for request handlers: runs off the cooperative threads, so a waiting
    /// handler never blocks the server.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await store.read(body)
    }
    /// A write transaction for request handlers (serialised; an error rolls it back), off the
    /// cooperative threads.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await store.write(body)
    }

    /// Closes the connections (PostgreSQL) or the pool (SQLite).
    public func close() throws { try store.close() }

    /// Creates database `name` (lower-case letters, digits, _) on the PostgreSQL server that
    /// `location` points at, unless it exists: for `cleave restore --database` and for tests.
    public static func createPostgresDatabase(named name: String, on location: PostgresLocation) throws {
        try PostgresStore.createDatabase(named: name, on: location)
    }

    /// The migrations applied to this database, in the order applied.
    public func appliedMigrations() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
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

    // MARK: - PostgreSQL

    /// The same migrations for PostgreSQL, by the same names, recorded in a table of the same name
    /// (`grdb_migrations`) so both databases report the same history. The column types follow
    /// SQLite's: TEXT (byte-order collation "C", as SQLite's BINARY), BIGINT, DOUBLE PRECISION,
    /// BOOLEAN; autoincrementing ids are BIGSERIAL; `users.name`'s NOCASE uniqueness is a unique
    /// index on lower(name) (queries compare lower(name) = lower(?) on both databases).
    static var postgresMigrations: [(name: String, statements: [String])] {
        let text = "TEXT COLLATE \"C\""
        return [
            ("v1-projects-images-events-annotations", [
                "CREATE TABLE projects (id \(text) PRIMARY KEY, name \(text) NOT NULL, created_at \(text) NOT NULL)",
                """
                CREATE TABLE images (id \(text) PRIMARY KEY,
                  project_id \(text) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                  name \(text) NOT NULL, sha256 \(text) NOT NULL, byte_count BIGINT NOT NULL, format \(text) NOT NULL,
                  width BIGINT NOT NULL, height BIGINT NOT NULL, depth BIGINT NOT NULL, channels BIGINT NOT NULL,
                  pixel_type \(text) NOT NULL, spacing_x DOUBLE PRECISION, spacing_y DOUBLE PRECISION, spacing_unit \(text),
                  created_at \(text) NOT NULL)
                """,
                "CREATE INDEX images_on_project_id ON images(project_id)",
                "CREATE INDEX images_on_sha256 ON images(sha256)",
                """
                CREATE TABLE events (id BIGSERIAL PRIMARY KEY, user_id \(text) NOT NULL, session_id \(text) NOT NULL,
                  project_id \(text), image_id \(text), app_version \(text) NOT NULL, client_time \(text),
                  server_time \(text) NOT NULL, type \(text) NOT NULL, payload \(text) NOT NULL)
                """,
                "CREATE INDEX events_on_user_id ON events(user_id)",
                "CREATE INDEX events_on_image_id ON events(image_id)",
                """
                CREATE TABLE annotations (id BIGSERIAL PRIMARY KEY,
                  image_id \(text) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  user_id \(text) NOT NULL, session_id \(text) NOT NULL, class_index BIGINT NOT NULL,
                  radius DOUBLE PRECISION NOT NULL, points \(text) NOT NULL, state \(text) NOT NULL,
                  undo_sequence BIGINT, created_at \(text) NOT NULL)
                """,
                "CREATE INDEX annotations_on_image_id ON annotations(image_id)",
            ]),
            ("v2-jobs-tools-reference", [
                "ALTER TABLE projects ADD COLUMN consent BOOLEAN NOT NULL DEFAULT false",
                "ALTER TABLE events ADD COLUMN model_version \(text)",
                """
                CREATE TABLE jobs (id \(text) PRIMARY KEY, kind \(text) NOT NULL, image_id \(text), project_id \(text),
                  params \(text) NOT NULL, state \(text) NOT NULL, progress DOUBLE PRECISION NOT NULL, stage \(text) NOT NULL,
                  result \(text), error \(text), created_at \(text) NOT NULL, started_at \(text), finished_at \(text))
                """,
                "CREATE INDEX jobs_on_image_id ON jobs(image_id)",
                """
                CREATE TABLE classes (id \(text) PRIMARY KEY,
                  project_id \(text) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                  value BIGINT NOT NULL, name \(text) NOT NULL, colour \(text) NOT NULL, created_at \(text) NOT NULL,
                  UNIQUE (project_id, value))
                """,
                "CREATE INDEX classes_on_project_id ON classes(project_id)",
                """
                CREATE TABLE models (id \(text) PRIMARY KEY,
                  project_id \(text) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                  version BIGINT NOT NULL, job_id \(text), summary \(text) NOT NULL, created_at \(text) NOT NULL,
                  UNIQUE (project_id, version))
                """,
                "CREATE INDEX models_on_project_id ON models(project_id)",
                """
                CREATE TABLE clusterings (id \(text) PRIMARY KEY,
                  image_id \(text) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  job_id \(text), summary \(text) NOT NULL, state \(text) NOT NULL, created_at \(text) NOT NULL)
                """,
                "CREATE INDEX clusterings_on_image_id ON clusterings(image_id)",
                """
                CREATE TABLE predictions (id \(text) PRIMARY KEY,
                  image_id \(text) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  model_id \(text) NOT NULL, job_id \(text), summary \(text) NOT NULL, state \(text) NOT NULL,
                  created_at \(text) NOT NULL)
                """,
                "CREATE INDEX predictions_on_image_id ON predictions(image_id)",
                """
                CREATE TABLE object_sets (id \(text) PRIMARY KEY,
                  image_id \(text) NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                  prediction_id \(text) NOT NULL, job_id \(text), summary \(text) NOT NULL, created_at \(text) NOT NULL)
                """,
                "CREATE INDEX object_sets_on_image_id ON object_sets(image_id)",
            ]),
            ("v3-stroke-planes", [
                "ALTER TABLE annotations ADD COLUMN plane BIGINT NOT NULL DEFAULT 0",
            ]),
            ("v4-regions-of-interest", [
                """
                CREATE TABLE regions_of_interest (image_id \(text) PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
                  polygon \(text), outside_class BIGINT, updated_at \(text) NOT NULL)
                """,
            ]),
            ("v5-accounts-roles-audit", [
                """
                CREATE TABLE users (id \(text) PRIMARY KEY, name \(text) NOT NULL, password_hash \(text) NOT NULL,
                  is_admin BOOLEAN NOT NULL DEFAULT false, pseudonym \(text) NOT NULL UNIQUE,
                  created_at \(text) NOT NULL, password_changed_at \(text) NOT NULL)
                """,
                "CREATE UNIQUE INDEX users_on_lower_name ON users (lower(name))",
                """
                CREATE TABLE sessions (token_hash \(text) PRIMARY KEY,
                  user_id \(text) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                  created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
                """,
                "CREATE INDEX sessions_on_user_id ON sessions(user_id)",
                """
                CREATE TABLE project_members (project_id \(text) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                  user_id \(text) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                  role \(text) NOT NULL, added_at \(text) NOT NULL, PRIMARY KEY (project_id, user_id))
                """,
                "CREATE INDEX project_members_on_user_id ON project_members(user_id)",
                """
                CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, time \(text) NOT NULL, user_id \(text), user_name \(text) NOT NULL,
                  action \(text) NOT NULL, target \(text) NOT NULL, project_id \(text), detail \(text))
                """,
            ]),
        ]
    }

    /// Applies the PostgreSQL migrations not yet recorded, each in its own transaction, under an
    /// advisory lock (two servers starting at once do not both migrate).
    static func migratePostgres(_ store: PostgresStore) throws {
        precondition(postgresMigrations.map(\.name) == migrationNames, "PostgreSQL and SQLite migrations differ")
        try store.write { db in
            try db.execute(sql: "SELECT pg_advisory_xact_lock(7210523)")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT COLLATE \"C\" NOT NULL PRIMARY KEY)")
        }
        for migration in postgresMigrations {
            try store.write { db in
                try db.execute(sql: "SELECT pg_advisory_xact_lock(7210523)")
                let done = try String.fetchOne(db, sql: "SELECT identifier FROM grdb_migrations WHERE identifier = ?", arguments: [migration.name])
                guard done == nil else { return }
                for statement in migration.statements { try db.execute(sql: statement) }
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [migration.name])
            }
        }
    }
}

// MARK: - SQLite through GRDB

/// The SQLite backend: GRDB's pool. Its async reads and writes run on GRDB's own dispatch
/// queues, so request handlers never block a cooperative thread on the database.
final class SQLiteStore: SQLStore {
    let pool: DatabasePool
    let dialect = SQLDialect.sqlite

    init(pool: DatabasePool) { self.pool = pool }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.read { db in try body(GRDBConnection(db: db)) }
    }

    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.write { db in try body(GRDBConnection(db: db)) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBConnection(db: db)) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.write { db in try body(GRDBConnection(db: db)) }
    }

    func close() throws { try pool.close() }
}

/// A GRDB `Database` (valid inside one transaction body) as an ``SQLConnection``.
struct GRDBConnection: SQLConnection {
    let db: Database
    var dialect: SQLDialect { .sqlite }
    var changesCount: Int { db.changesCount }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .integer(let integer): integer.databaseValue
            case .double(let double): double.databaseValue
            case .text(let text): text.databaseValue
            case .bool(let flag): flag.databaseValue
            case .blob(let bytes): Data(bytes).databaseValue
            }
        })
    }

    func execute(sql: String, arguments: SQLArguments) throws {
        try db.execute(sql: sql, arguments: GRDBConnection.arguments(arguments))
    }

    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        try Row.fetchAll(db, sql: sql, arguments: GRDBConnection.arguments(arguments)).map { row in
            SQLRow(columns: Array(row.columnNames), values: row.databaseValues.map { value in
                switch value.storage {
                case .null: .null
                case .int64(let integer): .integer(integer)
                case .double(let double): .double(double)
                case .string(let text): .text(text)
                case .blob(let data): .blob([UInt8](data))
                }
            })
        }
    }
}
