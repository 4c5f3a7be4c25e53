import Dispatch
import Foundation
import PostgresNIO

/// Why a `--database` value cannot be used. Each names the field (`database`) and never shows the password.
public enum DatabaseConfigurationError: Error, CustomStringConvertible, Equatable {
    case notAURL(String)
    case unsupportedOption(String)
    case unreachable(server: String, reason: String)
    case timedOut(server: String, seconds: Int)
    case refused(server: String, reason: String)
    case badDatabaseName(String)

    /// One line naming the field `database`, never the password.
    public var description: String {
        switch self {
        case .notAURL(let value):
            "database: \(value) is not a PostgreSQL URL (expected postgres://user:password@host:port/name, or postgres://user@/name?host=/socket/directory)"
        case .unsupportedOption(let option):
            "database: the URL option \(option) is not supported (supported: host=SOCKET_DIRECTORY, sslmode=disable, connect_timeout=SECONDS)"
        case .unreachable(let server, let reason): "database: cannot connect to PostgreSQL at \(server): \(reason)"
        case .timedOut(let server, let seconds): "database: no answer from PostgreSQL at \(server) within \(seconds) s (connect timeout)"
        case .refused(let server, let reason): "database: PostgreSQL at \(server) refused the connection: \(reason)"
        case .badDatabaseName(let name): "database: \(name) cannot be created here (1 to 63 lower-case letters, digits and _)"
        }
    }
}

/// A statement PostgreSQL refused (constraint, syntax, type): its message, SQLSTATE and the statement.
public struct PostgresStatementError: Error, CustomStringConvertible {
    /// PostgreSQL's message.
    public let message: String
    /// The SQLSTATE code (e.g. 23505 for a unique violation).
    public let sqlState: String
    /// The statement (shortened to 160 characters in the description).
    public let statement: String
    /// One line: the message, the SQLSTATE and the start of the statement.
    public var description: String { "database: PostgreSQL refused a statement: \(message) (SQLSTATE \(sqlState)) in: \(statement.prefix(160))" }
}

/// Where a PostgreSQL database is, parsed from `postgres://user:password@host:port/name`.
public struct PostgresLocation: Sendable, Equatable {
    /// The server's host name or address (ignored when `socketDirectory` is set).
    public var host: String
    /// The server's port (default 5432).
    public var port: Int
    /// A directory holding the server's Unix socket (`?host=/var/run/postgresql`), used instead of host:port.
    public var socketDirectory: String?
    /// The login role.
    public var user: String
    /// The password, if the URL has one (never printed).
    public var password: String?
    /// The database's name.
    public var database: String
    /// Seconds to wait for the connection and the login (`connect_timeout`, default 5).
    public var connectTimeout: Int

    /// True when `value` names a PostgreSQL database (and so is not an SQLite path).
    public static func isPostgresURL(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    /// - Throws: ``DatabaseConfigurationError`` naming the field when `url` is not a usable URL.
    public init(url: String) throws {
        guard PostgresLocation.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw DatabaseConfigurationError.notAURL(PostgresLocation.redacted(url))
        }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        user = components.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        password = components.password
        let name = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !name.isEmpty, !name.contains("/"), (1...65535).contains(port) else {
            throw DatabaseConfigurationError.notAURL(PostgresLocation.redacted(url))
        }
        database = name
        connectTimeout = 5
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("host", let directory) where directory.hasPrefix("/"): socketDirectory = directory
            case ("sslmode", "disable"): break
            case ("connect_timeout", let seconds):
                guard let value = Int(seconds), (1...600).contains(value) else { throw DatabaseConfigurationError.unsupportedOption("\(item.name)=\(seconds)") }
                connectTimeout = value
            default: throw DatabaseConfigurationError.unsupportedOption("\(item.name)=\(item.value ?? "")")
            }
        }
    }

    /// The same location with another database name (for creating a database on the same server).
    public func with(database name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    /// What error lines show: host and port (or socket), never the password.
    public var server: String {
        if let socketDirectory { return "\(socketDirectory)/.s.PGSQL.\(port) (database \(database))" }
        return "\(host):\(port) (database \(database))"
    }

    /// The URL with its password replaced by `***` (for error lines).
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// libpq's form of the location (for pg_dump / pg_restore / psql), without the password
    /// (pass ``password`` as PGPASSWORD).
    public var libpqURL: String {
        var components = URLComponents()
        components.scheme = "postgresql"
        components.user = user
        components.host = socketDirectory == nil ? host : ""
        components.port = port
        components.path = "/" + database
        if let socketDirectory { components.queryItems = [URLQueryItem(name: "host", value: socketDirectory)] }
        return components.string ?? "postgresql://\(user)@\(host):\(port)/\(database)"
    }

    var configuration: PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(Int64(connectTimeout))
        return configuration
    }
}

/// The PostgreSQL backend: a small pool of postgres-nio connections on their own event loop.
///
/// Transaction bodies are synchronous (the same code runs on SQLite): each statement waits for
/// its result on the calling thread, which is never an event-loop thread of this store and, for
/// the async entry points, never a thread of Swift's cooperative pool either (they hop to
/// ``queue`` first). Writes are serialised inside the process (one writer at a time, as SQLite
/// does), so read-modify-write transactions behave the same on both databases; reads run on up to
/// ``maximumConnections`` − 1 connections at once in REPEATABLE READ snapshots.
final class PostgresStore: SQLStore, @unchecked Sendable {
    let location: PostgresLocation
    let dialect = SQLDialect.postgres
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var closed = false
    private let slots: DispatchSemaphore
    private let writer = DispatchSemaphore(value: 1)
    private var nextID = 0
    static let maximumConnections = 8
    static let queue = DispatchQueue(label: "cleave.postgres", qos: .userInitiated, attributes: .concurrent)

    /// Connects once (so a bad URL fails here, with one line) and keeps that connection.
    init(location: PostgresLocation) throws {
        self.location = location
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "cleave.postgres")
        logger.logLevel = .critical
        self.logger = logger
        slots = DispatchSemaphore(value: PostgresStore.maximumConnections)
        do {
            idle.append(try connect())
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    deinit {
        try? close()
    }

    private func connect() throws -> PostgresConnection {
        let id = lock.withLock { () -> Int in nextID += 1; return nextID }
        do {
            return try PostgresConnection.connect(on: group.next(), configuration: location.configuration, id: id, logger: logger).wait()
        } catch let error as PSQLError {
            throw PostgresStore.connectionError(error, location: location)
        } catch {
            throw DatabaseConfigurationError.unreachable(server: location.server, reason: "\(error)")
        }
    }

    static func connectionError(_ error: PSQLError, location: PostgresLocation) -> DatabaseConfigurationError {
        if let message = error.serverInfo?[.message] {
            return .refused(server: location.server, reason: message)
        }
        let underlying = error.underlying.map { "\($0)" } ?? "\(error.code)"
        let lowered = underlying.lowercased()
        if lowered.contains("timeout") || lowered.contains("timed out") {
            return .timedOut(server: location.server, seconds: location.connectTimeout)
        }
        // NIO's multi-attempt connection errors are long; the cause is what a person needs.
        for cause in ["connection refused", "no such file or directory", "network is unreachable", "no route to host",
                      "connection reset", "could not resolve", "name or service not known"] where lowered.contains(cause) {
            return .unreachable(server: location.server, reason: cause)
        }
        return .unreachable(server: location.server, reason: underlying)
    }

    func close() throws {
        let connections = lock.withLock { () -> [PostgresConnection]? in
            if closed { return nil }
            closed = true
            defer { idle = [] }
            return idle
        }
        guard let connections else { return }
        for connection in connections { try? connection.close().wait() }
        try group.syncShutdownGracefully()
    }

    // MARK: - Connections and transactions

    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        var connection = lock.withLock { idle.popLast() }
        if let existing = connection, existing.isClosed { connection = nil }
        let live = try connection ?? connect()
        do {
            let result = try body(live)
            lock.withLock { if !closed && !live.isClosed { idle.append(live) } }
            return result
        } catch {
            // The transaction was rolled back; a connection that broke meanwhile is dropped.
            lock.withLock { if !closed && !live.isClosed { idle.append(live) } }
            throw error
        }
    }

    private func transaction<T>(begin: String, _ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { connection in
            let transaction = PostgresTransaction(connection: connection, logger: logger)
            try transaction.execute(sql: begin, arguments: [])
            do {
                let result = try body(transaction)
                try transaction.execute(sql: "COMMIT", arguments: [])
                return result
            } catch {
                try? transaction.execute(sql: "ROLLBACK", arguments: [])
                throw error
            }
        }
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        writer.wait()
        defer { writer.signal() }
        return try transaction(begin: "BEGIN", body)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await PostgresStore.onQueue { try self.read(body) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await PostgresStore.onQueue { try self.write(body) }
    }

    /// Runs blocking database work on ``queue`` and waits without blocking the caller's thread.
    static func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.async {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    /// Creates database `name` on the server `location` points at, unless it exists, connecting
    /// to `location`'s database (or to `postgres` when that is `name` itself). Used by tests (a
    /// fresh database each) and by `cleave restore --database`.
    static func createDatabase(named name: String, on location: PostgresLocation) throws {
        try maintenance(name, on: location) { statement in
            let exists = try statement.fetchAll(sql: "SELECT 1 FROM pg_database WHERE datname = ?", arguments: [name])
            if exists.isEmpty { try statement.execute(sql: "CREATE DATABASE \(name)", arguments: []) }
        }
    }

    /// Drops database `name` (a restore that failed half-way removes the database it created).
    static func dropDatabase(named name: String, on location: PostgresLocation) throws {
        try maintenance(name, on: location) { statement in
            try statement.execute(sql: "DROP DATABASE IF EXISTS \(name)", arguments: [])
        }
    }

    private static func maintenance(_ name: String, on location: PostgresLocation, _ body: (PostgresTransaction) throws -> Void) throws {
        guard !name.isEmpty, name.utf8.count <= 63,
              name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw DatabaseConfigurationError.badDatabaseName(name)
        }
        let store = try PostgresStore(location: location.database == name ? location.with(database: "postgres") : location)
        defer { try? store.close() }
        try store.withConnection { connection in
            try body(PostgresTransaction(connection: connection, logger: store.logger))
        }
    }
}

/// Statements on one checked-out connection (inside a transaction the store opened).
final class PostgresTransaction: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    private(set) var changesCount = 0
    var dialect: SQLDialect { .postgres }

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func execute(sql: String, arguments: SQLArguments) throws {
        let result = try run(sql: sql, arguments: arguments)
        changesCount = result.metadata.rows ?? 0
    }

    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let result = try run(sql: sql, arguments: arguments)
        return result.rows.map(PostgresTransaction.row)
    }

    private func run(sql: String, arguments: SQLArguments) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .double(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            case .bool(let flag): bindings.append(flag)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        let query = PostgresQuery(unsafeSQL: PostgresPlaceholders.numbered(sql), binds: bindings)
        do {
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            if let message = error.serverInfo?[.message] {
                throw PostgresStatementError(message: message, sqlState: error.serverInfo?[.sqlState] ?? "?", statement: sql)
            }
            throw DatabaseConfigurationError.unreachable(server: "the server", reason: error.underlying.map { "\($0)" } ?? "\(error.code)")
        }
    }

    static func row(_ row: PostgresRow) -> SQLRow {
        var columns: [String] = []
        var values: [SQLValue] = []
        columns.reserveCapacity(row.count)
        values.reserveCapacity(row.count)
        for cell in row {
            columns.append(cell.columnName)
            values.append(value(cell))
        }
        return SQLRow(columns: columns, values: values)
    }

    static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(SQLValue.double) ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .numeric:
            guard let decimal = try? cell.decode(Decimal.self) else { return .null }
            let double = NSDecimalNumber(decimal: decimal).doubleValue
            if double.rounded() == double, abs(double) < 9e15 { return .integer(Int64(double)) }
            return .double(double)
        case .bytea:
            return (try? cell.decode(ByteBuffer.self)).map { .blob(Array($0.readableBytesView)) } ?? .null
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }
}

/// The one SQL rewrite PostgreSQL needs: SQLite's `?` placeholders become `$1`, `$2`, …
public enum PostgresPlaceholders {
    /// `?` → `$n` outside quoted strings and identifiers.
    public static func numbered(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                number += 1
                output += "$\(number)"
            } else {
                output.append(character)
            }
        }
        return output
    }
}
