import Foundation
import CleaveCore
import CleaveRender

/// One class of a pixel classifier: the label value used in training images, a name and a colour.
public struct PixelClass: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Label value (≥ 1; 0 means "unlabelled" in training images). Prediction writes this value.
    public var value: Int32
    /// Human-readable name ("pore", "quartz"…).
    public var name: String
    /// Display colour in overlays.
    public var colour: RGB

    /// A class; ``PixelClassList`` checks values (≥ 1) and uniqueness when lists are read.
    public init(value: Int32, name: String, colour: RGB) {
        self.value = value
        self.name = name
        self.colour = colour
    }

    /// A class with a default name ("class 3") and the categorical palette colour for its position.
    public static func unnamed(_ value: Int32, position: Int) -> PixelClass {
        PixelClass(value: value, name: "class \(value)", colour: Palette.colour(forIndex: position))
    }

    /// `value=name`, e.g. `1=pore`.
    public var description: String { "\(value)=\(name)" }
}

/// Reading class lists: `--class 1=pore[:#0000ff]` flags, a CSV file (`value,name[,colour]` per line,
/// optional header) or a JSON file (`[{"value": 1, "name": "pore", "colour": "#0000ff"}, …]` or
/// `{"1": "pore", …}`).
public enum PixelClassList {
    /// Parses one `VALUE=NAME[:#rrggbb]` specification.
    /// - Throws: ``PixelClassifierError`` naming the specification when malformed.
    public static func parse(specification text: String, position: Int) throws -> PixelClass {
        guard let eq = text.firstIndex(of: "=") else {
            throw PixelClassifierError.invalidClass(specification: text, reason: "expected VALUE=NAME or VALUE=NAME:#rrggbb")
        }
        let valueText = text[..<eq].trimmingCharacters(in: .whitespaces)
        guard let value = Int32(valueText), value >= 1 else {
            throw PixelClassifierError.invalidClass(specification: text, reason: "the value must be an integer ≥ 1 (0 means unlabelled)")
        }
        var name = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        var colour = Palette.colour(forIndex: position)
        if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].hasPrefix("#") {
            let hex = String(name[name.index(after: colon)...])
            guard let parsed = RGB(hex: hex) else { throw PixelClassifierError.invalidClass(specification: text, reason: "colour '\(hex)' is not #rrggbb") }
            colour = parsed
            name = String(name[..<colon])
        }
        guard !name.isEmpty else { throw PixelClassifierError.invalidClass(specification: text, reason: "the name is empty") }
        return PixelClass(value: value, name: name, colour: colour)
    }

    /// Reads a class list from a `.json` or `.csv` file.
    /// - Throws: ``PixelClassifierError`` naming the file and line when unreadable or malformed.
    public static func read(path: String) throws -> [PixelClass] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineFileError.cannotRead(path: path, what: "the class list")
        }
        let classes: [PixelClass]
        if path.lowercased().hasSuffix(".json") {
            classes = try parseJSON(data, path: path)
        } else {
            classes = try parseCSV(String(decoding: data, as: UTF8.self), path: path)
        }
        try validate(classes, source: path)
        return classes
    }

    /// Checks the classes of a saved model (pixel classifier or U-Net) at `path`: distinct values
    /// ≥ 1, at most ``PixelClassifier/maxClassCount``.
    /// - Throws: ``ModelFileError/damaged(path:reason:)``.
    static func validateSaved(_ classes: [PixelClass], path: String) throws {
        do { try validate(classes, source: "classes") } catch {
            throw ModelFileError.damaged(path: path, reason: "\(error)")
        }
        guard classes.count <= PixelClassifier.maxClassCount else {
            throw ModelFileError.damaged(path: path, reason: "classes: \(classes.count) classes, at most \(PixelClassifier.maxClassCount)")
        }
    }

    /// Checks that values are distinct and ≥ 1.
    public static func validate(_ classes: [PixelClass], source: String) throws {
        var seen = Set<Int32>()
        for c in classes {
            guard c.value >= 1 else { throw PixelClassifierError.invalidClassList(source: source, line: nil, reason: "class value \(c.value) must be ≥ 1 (0 means unlabelled)") }
            guard seen.insert(c.value).inserted else { throw PixelClassifierError.invalidClassList(source: source, line: nil, reason: "class value \(c.value) is listed twice") }
        }
    }

    static func parseCSV(_ text: String, path: String) throws -> [PixelClass] {
        var classes: [PixelClass] = []
        for (number, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 0 && Int32(parts[0]) == nil { continue } // header
            guard parts.count >= 2, let value = Int32(parts[0]) else {
                throw PixelClassifierError.invalidClassList(source: path, line: number + 1, reason: "expected 'value,name[,#rrggbb]', got '\(line)'")
            }
            var colour = Palette.colour(forIndex: classes.count)
            if parts.count >= 3 && !parts[2].isEmpty {
                guard let parsed = RGB(hex: parts[2]) else { throw PixelClassifierError.invalidClassList(source: path, line: number + 1, reason: "colour '\(parts[2])' is not #rrggbb") }
                colour = parsed
            }
            classes.append(PixelClass(value: value, name: parts[1], colour: colour))
        }
        guard !classes.isEmpty else { throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "the class list is empty") }
        return classes
    }

    static func parseJSON(_ data: Data, path: String) throws -> [PixelClass] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "not valid JSON (\(error.localizedDescription))")
        }
        var classes: [PixelClass] = []
        if let list = object as? [[String: Any]] {
            for (i, entry) in list.enumerated() {
                guard let value = (entry["value"] as? NSNumber)?.int32Value, let name = entry["name"] as? String else {
                    throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "entry \(i) needs \"value\" (integer) and \"name\" (string)")
                }
                var colour = Palette.colour(forIndex: i)
                if let hex = (entry["colour"] ?? entry["color"]) as? String {
                    guard let parsed = RGB(hex: hex) else { throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "entry \(i): colour '\(hex)' is not #rrggbb") }
                    colour = parsed
                }
                classes.append(PixelClass(value: value, name: name, colour: colour))
            }
        } else if let map = object as? [String: Any] {
            let entries = try map.map { key, name -> (Int32, String) in
                guard let value = Int32(key), let name = name as? String else {
                    throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "expected {\"1\": \"name\", …}, got key '\(key)'")
                }
                return (value, name)
            }.sorted { $0.0 < $1.0 }
            for (i, entry) in entries.enumerated() {
                classes.append(PixelClass(value: entry.0, name: entry.1, colour: Palette.colour(forIndex: i)))
            }
        } else {
            throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "expected a JSON list of {value, name, colour} or an object {\"1\": \"name\"}")
        }
        guard !classes.isEmpty else { throw PixelClassifierError.invalidClassList(source: path, line: nil, reason: "the class list is empty") }
        return classes
    }
}
