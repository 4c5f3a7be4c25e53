import CleaveCore
import Foundation

/// IMOD's "autodoc" text format, as SerialEM writes it for `.mdoc` image metadata and `.nav`
/// navigator files:
///
/// ```
/// PixelSpacing = 50          ← global key = value pairs, before any section
/// ImageSize = 1024 1024
/// [T = a title]              ← a section header: [type = name]
/// [ZValue = 0]
/// PieceCoordinates = 0 0 0   ← keys of section (ZValue, 0)
/// ```
///
/// Keys and values are trimmed; a value may itself contain `=`. Lines starting with `#` are
/// comments. The order of keys and sections is kept; every entry remembers its line (1-based) so
/// that errors can point at it.
public struct Autodoc: Sendable, Equatable {
    /// One `key = value` line.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: String
        public var line: Int
        public init(key: String, value: String, line: Int) { self.key = key; self.value = value; self.line = line }
    }

    /// One `[type = name]` section and its entries.
    public struct Section: Sendable, Equatable {
        public var type: String
        public var name: String
        /// Line of the `[type = name]` header.
        public var line: Int
        public var entries: [Entry]
        public init(type: String, name: String, line: Int, entries: [Entry] = []) {
            self.type = type; self.name = name; self.line = line; self.entries = entries
        }
        /// The first entry with this key (keys are case-sensitive, as in SerialEM).
        public func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }
    }

    /// The file the text came from (for messages).
    public var path: String
    public var global: [Entry]
    public var sections: [Section]

    public init(path: String, global: [Entry] = [], sections: [Section] = []) {
        self.path = path; self.global = global; self.sections = sections
    }

    /// The first global entry with this key.
    public func globalEntry(_ key: String) -> Entry? { global.first { $0.key == key } }

    /// Parses autodoc text.
    /// - Throws: ``SerialEMError/malformedLine(path:line:text:)`` for a line that is neither a
    ///   pair, a section header, a comment nor blank.
    /// - Complexity: O(characters).
    public init(text: String, path: String) throws {
        self.init(path: path)
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), let equals = line.firstIndex(of: "=") else {
                    throw SerialEMError.malformedLine(path: path, line: lineNumber, text: line)
                }
                let type = line[line.index(after: line.startIndex)..<equals].trimmingCharacters(in: .whitespaces)
                let name = line[line.index(after: equals)..<line.index(before: line.endIndex)].trimmingCharacters(in: .whitespaces)
                guard !type.isEmpty else { throw SerialEMError.malformedLine(path: path, line: lineNumber, text: line) }
                sections.append(Section(type: type, name: name, line: lineNumber))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw SerialEMError.malformedLine(path: path, line: lineNumber, text: line)
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !key.contains(" ") else { throw SerialEMError.malformedLine(path: path, line: lineNumber, text: line) }
            let entry = Entry(key: key, value: value, line: lineNumber)
            if sections.isEmpty { global.append(entry) } else { sections[sections.count - 1].entries.append(entry) }
        }
    }

    /// Reads and parses an autodoc file (UTF-8; Latin-1 when it is not valid UTF-8, as
    /// Windows-written files may be).
    /// - Throws: ``SerialEMError/io(path:reason:)`` when the file cannot be read; parse errors as above.
    public static func read(path: String) throws -> Autodoc {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SerialEMError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        let text = String(data: data, encoding: .utf8) ?? String(decoding: data.map { $0 < 128 ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        return try Autodoc(text: text.replacingOccurrences(of: "\r\n", with: "\n"), path: path)
    }

    /// The text of the autodoc: global pairs, then each section with a blank line before it.
    public var text: String {
        var out = ""
        for e in global { out += "\(e.key) = \(e.value)\n" }
        for s in sections {
            out += "\n[\(s.type) = \(s.name)]\n"
            for e in s.entries { out += "\(e.key) = \(e.value)\n" }
        }
        return out
    }
}

extension Autodoc.Entry {
    /// The value as `count` numbers (or at least `minimumCount` when given).
    /// - Throws: ``SerialEMError/badValue(path:line:field:value:expected:)`` naming the key.
    public func doubles(_ count: Int, minimumCount: Int? = nil, path: String) throws -> [Double] {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let numbers = parts.compactMap { Double($0) }
        let enough = minimumCount.map { numbers.count >= $0 && numbers.count <= count } ?? (numbers.count == count)
        guard numbers.count == parts.count, enough, numbers.allSatisfy(\.isFinite) else {
            let what = minimumCount.map { "\($0)…\(count) numbers" } ?? (count == 1 ? "a number" : "\(count) numbers")
            throw SerialEMError.badValue(path: path, line: line, field: key, value: value, expected: what)
        }
        return numbers
    }

    /// The value as `count` integers.
    /// - Throws: ``SerialEMError/badValue(path:line:field:value:expected:)`` naming the key.
    public func integers(_ count: Int, minimumCount: Int? = nil, path: String) throws -> [Int] {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let numbers = parts.compactMap { Int($0) }
        let enough = minimumCount.map { numbers.count >= $0 && numbers.count <= count } ?? (numbers.count == count)
        guard numbers.count == parts.count, enough else {
            let what = minimumCount.map { "\($0)…\(count) integers" } ?? (count == 1 ? "an integer" : "\(count) integers")
            throw SerialEMError.badValue(path: path, line: line, field: key, value: value, expected: what)
        }
        return numbers
    }
}
