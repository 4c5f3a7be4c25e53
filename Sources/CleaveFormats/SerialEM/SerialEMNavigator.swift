import CleaveCore
import Foundation

/// A SerialEM Navigator file (`.nav`, autodoc format 2.00) holding point items.
///
/// ```
/// AdocVersion = 2.00
/// LastSavedAs = /path/targets.nav
///
/// [Item = 1]            label shown in SerialEM's Navigator
/// Color = 0             0 red, 1 green, 2 blue, 3 yellow, 4 magenta, 5 black
/// StageXYZ = X Y Z      µm
/// NumPts = 1
/// Regis = 1             registration the stage coordinates belong to
/// Type = 0              0 point, 1 polygon, 2 map
/// Note = …              free text (no "=")
/// MapID = …             unique id
/// Acquire = 0
/// PtsX = X
/// PtsY = Y
/// ```
public struct SerialEMNavigator: Sendable, Equatable {
    /// One point item.
    public struct Point: Sendable, Equatable {
        /// The `[Item = label]` name.
        public var label: String
        public var stageX: Double
        public var stageY: Double
        public var stageZ: Double
        public var note: String
        public var color: Int
        public var registration: Int
        public var mapID: Int
        public var acquire: Bool

        /// - Precondition: `label` is letters, digits, `_` or `-`; `note` holds no `=` or line break.
        public init(label: String, stageX: Double, stageY: Double, stageZ: Double = 0, note: String = "", color: Int = 0,
                    registration: Int = 1, mapID: Int, acquire: Bool = false) {
            precondition(!label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") },
                         "SerialEMNavigator.Point: label \(label) must be letters, digits, _ or -")
            precondition(!note.contains("=") && !note.contains("\n"), "SerialEMNavigator.Point: note must not hold = or line breaks")
            self.label = label; self.stageX = stageX; self.stageY = stageY; self.stageZ = stageZ; self.note = note
            self.color = color; self.registration = registration; self.mapID = mapID; self.acquire = acquire
        }
    }

    public var points: [Point]
    /// `#` comment lines written before the first item (SerialEM and IMOD skip them).
    public var comments: [String]

    public init(points: [Point], comments: [String] = []) { self.points = points; self.comments = comments }

    /// The file's text; stage values with 3 decimals (1 nm).
    public func text(savedAs path: String) -> String {
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        var out = "AdocVersion = 2.00\nLastSavedAs = \(path)\n"
        for c in comments { out += "# " + c.replacingOccurrences(of: "\n", with: " ") + "\n" }
        for p in points {
            out += "\n[Item = \(p.label)]\n"
            out += "Color = \(p.color)\n"
            out += "StageXYZ = \(f(p.stageX)) \(f(p.stageY)) \(f(p.stageZ))\n"
            out += "NumPts = 1\n"
            out += "Regis = \(p.registration)\n"
            out += "Type = 0\n"
            if !p.note.isEmpty { out += "Note = \(p.note)\n" }
            out += "MapID = \(p.mapID)\n"
            out += "Acquire = \(p.acquire ? 1 : 0)\n"
            out += "PtsX = \(f(p.stageX))\n"
            out += "PtsY = \(f(p.stageY))\n"
        }
        return out
    }

    /// Writes the file.
    /// - Throws: ``SerialEMError/io(path:reason:)``.
    public func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text(savedAs: path).utf8)) else {
            throw SerialEMError.io(path: path, reason: "cannot write the navigator file")
        }
    }

    /// Reads the point items of a `.nav` file (other item types are skipped).
    /// - Throws: ``SerialEMError`` for unreadable files, malformed lines, and points without
    ///   `StageXYZ` or with values that are not numbers.
    public static func read(path: String) throws -> SerialEMNavigator {
        let doc = try Autodoc.read(path: path)
        var points: [Point] = []
        for s in doc.sections where s.type == "Item" {
            guard let type = s.entry("Type") else {
                throw SerialEMError.missingField(path: path, line: s.line, section: "Item = \(s.name)", field: "Type")
            }
            guard try type.integers(1, path: path)[0] == 0 else { continue }
            guard let stage = s.entry("StageXYZ") else {
                throw SerialEMError.missingField(path: path, line: s.line, section: "Item = \(s.name)", field: "StageXYZ")
            }
            let xyz = try stage.doubles(3, path: path)
            let label = s.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") } && !s.name.isEmpty ? s.name : "item"
            points.append(Point(label: label, stageX: xyz[0], stageY: xyz[1], stageZ: xyz[2],
                                note: (s.entry("Note")?.value ?? "").replacingOccurrences(of: "=", with: ":"),
                                color: try s.entry("Color").map { try $0.integers(1, path: path)[0] } ?? 0,
                                registration: try s.entry("Regis").map { try $0.integers(1, path: path)[0] } ?? 1,
                                mapID: try s.entry("MapID").map { try $0.integers(1, path: path)[0] } ?? 0,
                                acquire: try s.entry("Acquire").map { try $0.integers(1, path: path)[0] != 0 } ?? false))
        }
        return SerialEMNavigator(points: points)
    }
}
