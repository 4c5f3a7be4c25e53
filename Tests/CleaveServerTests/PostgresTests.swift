import CleaveServer
import CleaveTestSupport
import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--database postgres://…` (issue 23): URL checks, one-line errors for servers that cannot be
/// used (no crash, no hang), and the PostgreSQL schema against SQLite's. The rest of the server
/// suite runs on PostgreSQL when `CLEAVE_TEST_POSTGRES_URL` is set (`.ci/run` does).
@Suite struct PostgresTests {
    @Test func urlsAreCheckedAndErrorsNameTheFieldWithoutThePassword() throws {
        let location = try PostgresLocation(url: "postgres://cleave:s3cret@db.example:6543/work?connect_timeout=3")
        #expect(location.host == "db.example" && location.port == 6543 && location.user == "cleave")
        #expect(location.password == "s3cret" && location.database == "work" && location.connectTimeout == 3)
        #expect(!location.server.contains("s3cret"))
        let socket = try PostgresLocation(url: "postgresql://cleave@/work?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")

        for bad in ["postgres://u:pw@host:5432/", "postgres://u:pw@host:5432", "mysql://u@host/db", "postgres://u@host/a/b"] {
            #expect(throws: DatabaseConfigurationError.self) { try PostgresLocation(url: bad) }
            do { _ = try PostgresLocation(url: bad) } catch let error as DatabaseConfigurationError {
                #expect(error.description.hasPrefix("database: "))
                #expect(!error.description.contains("pw@"), "the password is never shown: \(error)")
            }
        }
        #expect(throws: DatabaseConfigurationError.unsupportedOption("sslmode=require")) {
            try PostgresLocation(url: "postgres://u@h/db?sslmode=require")
        }
        // Not a URL at all: the workbench refuses it rather than taking it for a file name.
        #expect(throws: DatabaseConfigurationError.notAURL("cleave.db")) {
            try WorkbenchDatabase(database: "cleave.db", dataDirectory: TestData.scratchDirectory("server-pg-not-url"))
        }
    }

    @Test func aClosedPortIsOneLineAtOnce() throws {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let started = Date()
        do {
            _ = try WorkbenchDatabase(database: "postgres://u:pw@127.0.0.1:1/db", dataDirectory: TestData.scratchDirectory("server-pg-refused"))
            Issue.record("connected to port 1")
        } catch let error as DatabaseConfigurationError {
            guard case .unreachable = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.hasPrefix("database: cannot connect to PostgreSQL at 127.0.0.1:1 (database db): "))
            #expect(!error.description.contains("\n") && !error.description.contains("pw"))
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        // A loopback listener that accepts (in the kernel) and never says a word.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(listener, 8) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let started = Date()
        #expect(throws: DatabaseConfigurationError.timedOut(server: "127.0.0.1:\(port) (database db)", seconds: 1)) {
            try WorkbenchDatabase(database: "postgres://u@127.0.0.1:\(port)/db?connect_timeout=1",
                                  dataDirectory: TestData.scratchDirectory("server-pg-silent"))
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.9 && elapsed < 4, "gave up after \(elapsed) s")
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresPlaceholders.numbered("SELECT ? FROM t WHERE a = '?' AND \"b?\" = ? AND c = ?")
                == "SELECT $1 FROM t WHERE a = '?' AND \"b?\" = $2 AND c = $3")
    }

    /// The same tables with the same columns in the same order on both databases, and the same
    /// migration history.
    @Test func postgresSchemaMatchesSQLite() throws {
        guard let url = Harness.postgresDatabase("server-pg-schema") else {
            print("PostgresTests: CLEAVE_TEST_POSTGRES_URL is not set: the PostgreSQL schema check is skipped (.ci/run sets it)")
            return
        }
        let postgres = try WorkbenchDatabase(database: url, dataDirectory: TestData.scratchDirectory("server-pg-schema"))
        let sqlite = try WorkbenchDatabase(path: TestData.scratchDirectory("server-pg-schema-sqlite") + "/cleave.sqlite")
        let pool = try #require(sqlite.sqlitePool)
        let sqliteTables = try pool.read { db -> [String: [String]] in
            var tables: [String: [String]] = [:]
            for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                tables[name] = try db.columns(in: name).map(\.name)
            }
            return tables
        }
        let postgresTables = try postgres.read { db -> [String: [String]] in
            var tables: [String: [String]] = [:]
            for row in try SQLRow.fetchAll(db, sql: """
                SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
                """) {
                tables[row["table_name"], default: []].append(row["column_name"])
            }
            return tables
        }
        #expect(postgresTables == sqliteTables)
        #expect(try postgres.appliedMigrations() == WorkbenchDatabase.migrationNames)
        #expect(try sqlite.appliedMigrations() == WorkbenchDatabase.migrationNames)
        // Opening again applies nothing twice.
        try postgres.close()
        let reopened = try WorkbenchDatabase(database: url, dataDirectory: TestData.scratchDirectory("server-pg-schema"))
        #expect(try reopened.appliedMigrations() == WorkbenchDatabase.migrationNames)
        // Names are unique whatever their case, as with SQLite's NOCASE column.
        let accounts = AccountStore(database: reopened, passwordCost: 4)
        try accounts.addUser(name: "Alice", password: "password-1", admin: false)
        #expect(throws: AccountError.nameTaken("alice")) { try accounts.addUser(name: "alice", password: "password-2", admin: false) }
        try reopened.close()
    }
}
