import Foundation

// The workbench's storage interface: what every table access in the server goes through, so the
// same SQL runs on SQLite (GRDB, the default) and on PostgreSQL (postgres-nio, `--database`).
//
// A transaction's body is synchronous and gets one ``SQLConnection``; statements use `?`
// placeholders (rewritten to `$n` for PostgreSQL) and the SQL both dialects accept:
// `INSERT … ON CONFLICT … DO UPDATE/NOTHING`, `INSERT … RETURNING id`, `lower(name) = lower(?)`.
// Rows read back with the same subscripts GRDB's rows have (`row["name"]`, typed by context).

/// One value in a statement or a row. Booleans are bound as booleans (PostgreSQL's BOOLEAN
/// columns need them) and read back as 0/1 integers from either database.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    case blob([UInt8])
}

/// A Swift value that binds to a statement and decodes from a column.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// The value, or nil when the column's value has another type (or is NULL).
    static func fromSQL(_ value: SQLValue) -> Self?
}

extension String: SQLValueConvertible {
    /// The string as a TEXT value.
    public var sqlValue: SQLValue { .text(self) }
    /// The column's text (nil for NULL or another type).
    public static func fromSQL(_ value: SQLValue) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let integer): String(integer)
        case .double(let double): String(double)
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        case .bool(let flag): flag ? "1" : "0"
        case .null: nil
        }
    }
}

extension Int64: SQLValueConvertible {
    /// The value as an INTEGER.
    public var sqlValue: SQLValue { .integer(self) }
    /// The column's integer (nil for NULL or another type).
    public static func fromSQL(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let integer): integer
        case .double(let double): double.rounded(.towardZero) == double && abs(double) < 9.2e18 ? Int64(double) : nil
        case .bool(let flag): flag ? 1 : 0
        case .text(let text): Int64(text)
        case .null, .blob: nil
        }
    }
}

extension Int: SQLValueConvertible {
    /// The value as an INTEGER.
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    /// The column's integer (nil for NULL or another type).
    public static func fromSQL(_ value: SQLValue) -> Int? { Int64.fromSQL(value).map(Int.init) }
}

extension Double: SQLValueConvertible {
    /// The value as a REAL (double precision).
    public var sqlValue: SQLValue { .double(self) }
    /// The column's number (nil for NULL or another type).
    public static func fromSQL(_ value: SQLValue) -> Double? {
        switch value {
        case .double(let double): double
        case .integer(let integer): Double(integer)
        case .text(let text): Double(text)
        case .bool, .null, .blob: nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// The value as a BOOLEAN (an integer 0/1 in SQLite).
    public var sqlValue: SQLValue { .bool(self) }
    /// The column's truth value (nil for NULL or another type).
    public static func fromSQL(_ value: SQLValue) -> Bool? {
        switch value {
        case .bool(let flag): flag
        case .integer(let integer): integer != 0
        case .double(let double): double != 0
        case .text, .null, .blob: nil
        }
    }
}

/// A statement's arguments, written as an array literal like GRDB's: `arguments: [id, name, nil]`.
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral {
    /// The values, in the order of the statement's `?` placeholders.
    public var values: [SQLValue]
    /// Arguments from typed values.
    public init(_ values: [SQLValue]) { self.values = values }
    /// Arguments from a literal; nil is NULL.
    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }
}

/// One result row: columns by name (case-insensitive, as in SQLite) or by position.
public struct SQLRow: Sendable, Equatable {
    /// Column names, as the query named them.
    public let columns: [String]
    /// Values, one per column.
    public let values: [SQLValue]

    /// A row of `values` under `columns` (the same count).
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    func value(_ name: String) -> SQLValue {
        if let index = columns.firstIndex(of: name) { return values[index] }
        let lowered = name.lowercased()
        if let index = columns.firstIndex(where: { $0.lowercased() == lowered }) { return values[index] }
        preconditionFailure("no column \(name) in the row (\(columns.joined(separator: ", ")))")
    }

    /// The column's value; a NULL or a value of another type is a programming error (as in GRDB).
    public subscript<T: SQLValueConvertible>(_ name: String) -> T {
        let raw = value(name)
        guard let decoded = T.fromSQL(raw) else { preconditionFailure("column \(name) holds \(raw), not \(T.self)") }
        return decoded
    }

    /// The column's value, or nil when it is NULL.
    public subscript<T: SQLValueConvertible>(_ name: String) -> T? {
        T.fromSQL(value(name))
    }

    /// The value of column `index` (0-based), or nil when it is NULL or of another type.
    public subscript<T: SQLValueConvertible>(_ index: Int) -> T? {
        T.fromSQL(values[index])
    }
}

/// The connection a transaction body gets. Not to be kept beyond the body.
public protocol SQLConnection {
    /// Runs a statement that returns no rows.
    func execute(sql: String, arguments: SQLArguments) throws
    /// Runs a query and returns every row.
    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// Rows changed by the last `execute` of this connection.
    var changesCount: Int { get }
    /// Which database this is (for the few statements that differ, e.g. schema inspection).
    var dialect: SQLDialect { get }
}

/// The SQL dialect of a connection.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

extension SQLConnection {
    /// Runs a statement without arguments.
    public func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    /// Runs a query without arguments and returns every row.
    public func fetchAll(sql: String) throws -> [SQLRow] { try fetchAll(sql: sql, arguments: []) }

    /// Runs a query and returns its first row, if any.
    public func fetchOne(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try fetchAll(sql: sql, arguments: arguments).first
    }
}

extension SQLRow {
    /// Every row of the query (as GRDB's `Row.fetchAll`).
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        try db.fetchAll(sql: sql, arguments: arguments)
    }

    /// The first row of the query, if any (as GRDB's `Row.fetchOne`).
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try db.fetchAll(sql: sql, arguments: arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of the first row (nil when there is no row or it is NULL), as GRDB's `Int.fetchOne(db, …)`.
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchAll(sql: sql, arguments: arguments).first, !row.values.isEmpty else { return nil }
        return fromSQL(row.values[0])
    }

    /// The first column of every row (NULLs skipped).
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchAll(sql: sql, arguments: arguments).compactMap { $0.values.first.flatMap(fromSQL) }
    }
}

/// A database the workbench can use: transactions, synchronous (for job threads and the CLI)
/// and asynchronous (for request handlers: they never block a thread of Swift's cooperative pool).
public protocol SQLStore: Sendable {
    var dialect: SQLDialect { get }
    /// A read-only transaction that sees one consistent snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A write transaction; writes are serialised; an error rolls everything back.
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Closes every connection (the store is unusable afterwards).
    func close() throws
}
