import Foundation

/// A JSON value Cleave writes into Zarr/NGFF metadata: keys keep their order and numbers print
/// as the shortest text that reads back to the same value (0.005, not 0.005000000000000001).
indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool { a.text() == b.text() }

    /// Indented JSON text (two spaces), ending without a newline.
    func text(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .number(let d):
            if d.isNaN { return "\"NaN\"" }
            if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
            return "\(d)"
        case .string(let s): return JSONValue.quoted(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            // Arrays of scalars stay on one line (shapes, scales).
            if items.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                return "[" + items.map { $0.text() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { pad + $0.text(indent: indent + 1) }.joined(separator: ",\n") + "\n" + end + "]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            return "{\n" + fields.map { pad + JSONValue.quoted($0.0) + ": " + $0.1.text(indent: indent + 1) }.joined(separator: ",\n") + "\n" + end + "}"
        }
    }

    static func quoted(_ s: String) -> String { JSONText.quoted(s) }

    static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .int($0) }) }
    static func numbers(_ values: [Double]) -> JSONValue { .array(values.map { .number($0) }) }
}

/// JSON string literals, shared by every JSON Cleave writes.
public enum JSONText {
    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Reading side: a parsed JSON document with typed accessors that name the field in errors.
struct JSONReader {
    let path: String

    /// Parses a metadata document.
    /// - Throws: ``ZarrError/badMetadata(path:field:reason:)`` when it is not a JSON object.
    func object(_ bytes: [UInt8], document: String) throws -> [String: Any] {
        guard bytes.count <= 64 << 20 else {
            throw ZarrError.absurdSize(path: path, field: document, reason: "\(bytes.count) bytes of metadata (more than 64 MiB)")
        }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            throw ZarrError.badMetadata(path: path, field: document, reason: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw ZarrError.badMetadata(path: path, field: document, reason: "expected a JSON object")
        }
        return object
    }

    func int(_ value: Any?, _ field: String) throws -> Int {
        if let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded() {
            let d = n.doubleValue
            guard d.isFinite, abs(d) < 9e18 else { throw ZarrError.absurdSize(path: path, field: field, reason: "\(n) is out of range") }
            return abs(d) < 9e15 ? Int(n.int64Value) : Int(d)
        }
        throw ZarrError.badMetadata(path: path, field: field, reason: value == nil ? "missing" : "expected an integer, found \(describe(value))")
    }

    func double(_ value: Any?, _ field: String) throws -> Double {
        if let n = value as? NSNumber { return n.doubleValue }
        throw ZarrError.badMetadata(path: path, field: field, reason: value == nil ? "missing" : "expected a number, found \(describe(value))")
    }

    func string(_ value: Any?, _ field: String) throws -> String {
        if let s = value as? String { return s }
        throw ZarrError.badMetadata(path: path, field: field, reason: value == nil ? "missing" : "expected a string, found \(describe(value))")
    }

    func array(_ value: Any?, _ field: String) throws -> [Any] {
        if let a = value as? [Any] { return a }
        throw ZarrError.badMetadata(path: path, field: field, reason: value == nil ? "missing" : "expected a list, found \(describe(value))")
    }

    func dictionary(_ value: Any?, _ field: String) throws -> [String: Any] {
        if let d = value as? [String: Any] { return d }
        throw ZarrError.badMetadata(path: path, field: field, reason: value == nil ? "missing" : "expected an object, found \(describe(value))")
    }

    func ints(_ value: Any?, _ field: String) throws -> [Int] {
        try array(value, field).enumerated().map { try int($0.element, "\(field)[\($0.offset)]") }
    }

    func describe(_ value: Any?) -> String {
        switch value {
        case nil: return "nothing"
        case is NSNull: return "null"
        case let s as String: return "\"\(s.prefix(40))\""
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case let n as NSNumber: return "\(n)"
        default: return "\(type(of: value!))"
        }
    }
}
