import Foundation

/// A small comma-separated table with a header row (patch tables, label tables).
struct CSVTable {
    let path: String
    let header: [String]
    /// Data rows with their 1-based line numbers in the file.
    let rows: [(line: Int, fields: [String])]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScoringError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScoringError.unreadable(path: path, reason: "not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    init(text: String, path: String) throws {
        self.path = path
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\r")) }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw ScoringError.badRow(path: path, line: 1, reason: "the file is empty; expected a header row") }
        header = CSVTable.fields(first).map { $0.lowercased() }
        var rows: [(Int, [String])] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = CSVTable.fields(line)
            guard fields.count >= header.count else {
                throw ScoringError.badRow(path: path, line: index + 1, reason: "\(fields.count) fields, but the header has \(header.count)")
            }
            rows.append((index + 1, fields))
        }
        self.rows = rows
    }

    /// Splits one line at commas, honouring double-quoted fields.
    static func fields(_ line: String) -> [String] {
        var out: [String] = [], current = "", quoted = false
        var iterator = line.makeIterator()
        while let ch = iterator.next() {
            if ch == "\"" { quoted.toggle(); continue }
            if ch == "," && !quoted { out.append(current.trimmingCharacters(in: .whitespaces)); current = ""; continue }
            current.append(ch)
        }
        out.append(current.trimmingCharacters(in: .whitespaces))
        return out
    }

    func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw ScoringError.missingColumn(path: path, column: name, header: header.joined(separator: ","))
        }
        return index
    }

    func integer(_ fields: [String], _ column: Int, line: Int, name: String) throws -> Int {
        guard let value = Int(fields[column]) else {
            throw ScoringError.badRow(path: path, line: line, reason: "\(name) '\(fields[column])' is not an integer")
        }
        return value
    }
}
