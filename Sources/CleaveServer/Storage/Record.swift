import Foundation

// One generic store for the workbench's save/get/list pattern: an entity says once which table it
// lives in, which columns it writes and how a row reads back (``Record``); inserting, upserting,
// updating, fetching, listing and deleting are written here once, over ``SQLConnection``, so they
// run on SQLite and PostgreSQL alike. Queries that are not of this shape (joins, counts, undo's
// "latest active stroke", version numbers) stay SQL where they are used.

/// A value the workbench keeps as one row of one table.
///
/// Conformers give the table, the key column, the columns an insert writes (``columns()``) and how
/// a row reads back (``init(row:)``); the generic operations on ``SQLConnection`` (`insert`,
/// `save`, `update`, `fetch`, `fetchAll`, `delete`) and ``Workbench/get(_:_:)`` do the rest.
protocol Record: Sendable {
    /// The table the records live in.
    static var table: String { get }
    /// The primary-key column (`fetch`, `update`, `save` and `delete` find a row by it); `id` unless said.
    static var key: String { get }
    /// The columns a query reads: `*` unless said (records kept as JSON read only `summary`).
    static var selection: String { get }
    /// What a 404 calls a record: "no \(noun) with id …".
    static var noun: String { get }
    /// The columns an insert writes, each with its value (nil is NULL), key first.
    func columns() throws -> [(name: String, value: (any SQLValueConvertible)?)]
    /// The record that a row read with ``selection`` holds.
    init(row: SQLRow) throws
}

extension Record {
    /// `id`.
    static var key: String { "id" }
    /// Every column.
    static var selection: String { "*" }
}

/// A record kept as its JSON (the `summary` column) next to the few columns queries filter and
/// join on: results (clusterings, predictions, object sets) and models. Reading decodes only the
/// JSON; the other columns are written from the value.
protocol SummaryRecord: Record, Codable {
    /// The columns besides `summary`, each with its value, key first.
    func indexColumns() throws -> [(name: String, value: (any SQLValueConvertible)?)]
}

extension SummaryRecord {
    /// Only the JSON.
    static var selection: String { "summary" }

    /// ``indexColumns()`` with `summary` (the value as compact JSON) after the key columns the
    /// table was declared with, in the same order as before this store existed.
    func columns() throws -> [(name: String, value: (any SQLValueConvertible)?)] {
        try indexColumns() + [("summary", JSONValue.text(try JSONValue.from(self)))]
    }

    /// Decodes the `summary` column.
    init(row: SQLRow) throws {
        self = try JSONDecoder().decode(Self.self, from: Data((row["summary"] as String).utf8))
    }
}

extension SQLConnection {
    /// Inserts `record` as a new row, with `extra` columns that the value does not hold (e.g. the
    /// job that made it); a row with the same key is an error.
    func insert<R: Record>(_ record: R, extra: [(name: String, value: (any SQLValueConvertible)?)] = []) throws {
        let (sql, arguments) = try Self.insertStatement(record, extra: extra)
        try execute(sql: sql, arguments: arguments)
    }

    /// Inserts `record` into a table whose key the database assigns (an autoincrementing id) and
    /// returns that key; `record`'s own key is not written.
    func insertReturningKey<R: Record>(_ record: R, extra: [(name: String, value: (any SQLValueConvertible)?)] = []) throws -> Int64? {
        let (sql, arguments) = try Self.insertStatement(record, extra: extra, skippingKey: true)
        return try Int64.fetchOne(self, sql: sql + " RETURNING \(R.key)", arguments: arguments)
    }

    /// Inserts `record`, or overwrites every column of the row with its key (`INSERT … ON
    /// CONFLICT (key) DO UPDATE`, one statement on both databases).
    func save<R: Record>(_ record: R) throws {
        let (sql, arguments) = try Self.insertStatement(record, extra: [])
        let assignments = try record.columns().map(\.name).filter { $0 != R.key }.map { "\($0) = excluded.\($0)" }
        try execute(sql: sql + " ON CONFLICT (\(R.key)) DO UPDATE SET " + assignments.joined(separator: ", "), arguments: arguments)
    }

    /// Writes the named columns of `record` over the row with its key; other columns keep their values.
    func update<R: Record>(_ record: R, columns names: [String]) throws {
        let all = try record.columns()
        guard let key = all.first(where: { $0.name == R.key }) else { preconditionFailure("\(R.self) has no \(R.key) column") }
        let chosen = names.map { name -> (name: String, value: (any SQLValueConvertible)?) in
            guard let column = all.first(where: { $0.name == name }) else { preconditionFailure("\(R.self) has no column \(name)") }
            return column
        }
        try execute(sql: "UPDATE \(R.table) SET \(chosen.map { "\($0.name) = ?" }.joined(separator: ", ")) WHERE \(R.key) = ?",
                    arguments: SQLArguments((chosen + [key]).map { $0.value?.sqlValue ?? .null }))
    }

    /// The record with `key`, or nil.
    func fetch<R: Record>(_ type: R.Type, _ key: any SQLValueConvertible) throws -> R? {
        try fetchOne(sql: "SELECT \(R.selection) FROM \(R.table) WHERE \(R.key) = ?", arguments: [key]).map(R.init(row:))
    }

    /// The records that match `condition` (SQL with `?` placeholders for `arguments`; nil for
    /// every row) in the order `order` (SQL), at most `limit`.
    func fetchAll<R: Record>(_ type: R.Type, where condition: String? = nil, _ arguments: SQLArguments = [],
                             orderBy order: String, limit: Int? = nil) throws -> [R] {
        var sql = "SELECT \(R.selection) FROM \(R.table)"
        var values = arguments.values
        if let condition { sql += " WHERE " + condition }
        sql += " ORDER BY " + order
        if let limit { sql += " LIMIT ?"; values.append(.integer(Int64(limit))) }
        return try fetchAll(sql: sql, arguments: SQLArguments(values)).map(R.init(row:))
    }

    /// Deletes the record with `key` (nothing when there is none).
    func delete<R: Record>(_ type: R.Type, _ key: any SQLValueConvertible) throws {
        try execute(sql: "DELETE FROM \(R.table) WHERE \(R.key) = ?", arguments: [key])
    }

    private static func insertStatement<R: Record>(_ record: R, extra: [(name: String, value: (any SQLValueConvertible)?)],
                                                   skippingKey: Bool = false) throws -> (String, SQLArguments) {
        var columns = try record.columns() + extra
        if skippingKey { columns.removeAll { $0.name == R.key } }
        let names = columns.map(\.name).joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return ("INSERT INTO \(R.table) (\(names)) VALUES (\(marks))", SQLArguments(columns.map { $0.value?.sqlValue ?? .null }))
    }
}

extension Workbench {
    /// The record with `id`, read in its own transaction.
    /// - Throws: ``APIError`` 404 "no \(noun) with id …" when there is none.
    func get<R: Record>(_ type: R.Type, _ id: String) async throws -> R {
        let found = try await database.read { db in try db.fetch(R.self, id) }
        guard let found else { throw APIError(.notFound, "no \(R.noun) with id \(id)") }
        return found
    }

    /// The record with `id` inside a transaction.
    /// - Throws: ``APIError`` 404 "no \(noun) with id …" when there is none.
    static func get<R: Record>(_ type: R.Type, _ id: String, _ db: any SQLConnection) throws -> R {
        guard let found = try db.fetch(R.self, id) else { throw APIError(.notFound, "no \(R.noun) with id \(id)") }
        return found
    }

    /// The records whose `column` is `value`, in the order `order`, read in their own transaction.
    func list<R: Record>(_ type: R.Type, _ column: String, _ value: String, orderBy order: String) async throws -> [R] {
        try await database.read { db in try db.fetchAll(R.self, where: "\(column) = ?", [value], orderBy: order) }
    }
}
