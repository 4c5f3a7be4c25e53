import CleaveServer
import CleaveTestSupport
import GRDB
import Testing

@Suite struct DatabaseTests {
    @Test func migrationsCreateTheSchemaInWALMode() throws {
        let directory = TestData.scratchDirectory("server-db-schema")
        let database = try WorkbenchDatabase(path: directory + "/cleave.sqlite")
        try #require(database.sqlitePool).read { db in
            let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            #expect(tables.isSuperset(of: ["projects", "images", "events", "annotations", "grdb_migrations",
                                           "jobs", "classes", "models", "clusterings", "predictions", "object_sets"]))
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            #expect(applied == WorkbenchDatabase.migrationNames)
            let eventColumns = Set(try db.columns(in: "events").map(\.name))
            // Exactly these: nothing that could hold a name, an e-mail address or an IP address.
            #expect(eventColumns == ["id", "user_id", "session_id", "project_id", "image_id", "app_version",
                                     "model_version", "client_time", "server_time", "type", "payload"])
            let annotationColumns = Set(try db.columns(in: "annotations").map(\.name))
            #expect(annotationColumns.isSuperset(of: ["image_id", "class_index", "radius", "points", "state"]))
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
        }
    }

    @Test func reopeningKeepsDataAndDoesNotRerunMigrations() throws {
        let directory = TestData.scratchDirectory("server-db-reopen")
        do {
            let database = try WorkbenchDatabase(path: directory + "/cleave.sqlite")
            try #require(database.sqlitePool).write { db in
                try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES ('p1', 'kept', 'now')")
            }
        }
        let reopened = try WorkbenchDatabase(path: directory + "/cleave.sqlite")
        let names = try #require(reopened.sqlitePool).read { db in try String.fetchAll(db, sql: "SELECT name FROM projects") }
        #expect(names == ["kept"])
        let count = try #require(reopened.sqlitePool).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") }
        #expect(count == WorkbenchDatabase.migrationNames.count)
    }
}
