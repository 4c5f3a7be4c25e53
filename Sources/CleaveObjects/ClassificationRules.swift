import CleaveCore

/// Readable rules that put objects into classes by their measurements.
///
/// ```
/// equivalent_diameter_um > 300 -> phenocryst
/// area < 50 -> microlite
/// eccentricity >= 0.9 and area > 20 -> needle
/// else -> sub-phenocryst
/// ```
/// One rule per line (or separated by `;`); `#` starts a comment. A condition compares a
/// measurement (a column of the ``ObjectTable``) with a number using `>`, `>=`, `<`, `<=`,
/// `==` or `!=`, and conditions combine with `and` / `or` (`and` binds tighter). Rules are tried
/// in order and the first that holds names the class; `else -> name` catches the rest; objects
/// no rule matches stay unclassified (empty class). A NaN measurement makes its comparison false.
public struct ClassificationRules: Sendable, CustomStringConvertible {
    enum Comparison: String, CaseIterable { case ge = ">=", le = "<=", eq = "==", ne = "!=", gt = ">", lt = "<" }
    struct Condition { let measurement: String; let comparison: Comparison; let value: Double }
    /// Disjunction of conjunctions; empty = else.
    struct Rule { let alternatives: [[Condition]]; let className: String; let text: String }
    let rules: [Rule]

    /// Parses rules.
    /// - Throws: ``ObjectsError`` naming the rule number, the text and what is wrong.
    public init(_ text: String) throws {
        var rules: [Rule] = []
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == ";" })
        for (number, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmed
            if trimmed.isEmpty { continue }
            guard let arrow = trimmed.range(of: "->") else {
                throw ObjectsError.invalidRule(rule: number + 1, text: trimmed, reason: "expected 'CONDITION -> CLASS' (e.g. 'area < 50 -> microlite')")
            }
            let condition = String(trimmed[..<arrow.lowerBound]).trimmed
            let className = String(trimmed[arrow.upperBound...]).trimmed
            guard !className.isEmpty else { throw ObjectsError.invalidRule(rule: number + 1, text: trimmed, reason: "no class name after '->'") }
            if condition == "else" {
                rules.append(Rule(alternatives: [], className: className, text: trimmed)); continue
            }
            var alternatives: [[Condition]] = []
            for part in condition.components(separatedBy: " or ") {
                var conjunction: [Condition] = []
                for atom in part.components(separatedBy: " and ") {
                    conjunction.append(try Self.parseCondition(atom.trimmed, rule: number + 1, text: trimmed))
                }
                alternatives.append(conjunction)
            }
            rules.append(Rule(alternatives: alternatives, className: className, text: trimmed))
        }
        guard !rules.isEmpty else { throw ObjectsError.invalidRule(rule: nil, text: "", reason: "no rule found (expected lines like 'area < 50 -> microlite')") }
        self.rules = rules
    }

    static func parseCondition(_ atom: String, rule: Int, text: String) throws -> Condition {
        for comparison in Comparison.allCases {
            guard let range = atom.range(of: comparison.rawValue) else { continue }
            let name = String(atom[..<range.lowerBound]).trimmed
            let number = String(atom[range.upperBound...]).trimmed
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ObjectsError.invalidRule(rule: rule, text: text, reason: "'\(name)' is not a measurement name")
            }
            guard let value = Double(number) else {
                throw ObjectsError.invalidRule(rule: rule, text: text, reason: "'\(number)' is not a number")
            }
            return Condition(measurement: name, comparison: comparison, value: value)
        }
        throw ObjectsError.invalidRule(rule: rule, text: text, reason: "'\(atom)' has no comparison (use >, >=, <, <=, == or !=)")
    }

    /// Measurement names the rules use.
    public var measurements: [String] {
        var seen: [String] = []
        for rule in rules { for c in rule.alternatives.joined() where !seen.contains(c.measurement) { seen.append(c.measurement) } }
        return seen
    }

    /// Class names in rule order (first appearance).
    public var classNames: [String] {
        var seen: [String] = []
        for rule in rules where !seen.contains(rule.className) { seen.append(rule.className) }
        return seen
    }

    /// The class of every object ("" when no rule matches).
    /// - Throws: ``ObjectsError`` when a rule names a measurement the table lacks; the message says
    ///   when it is a 2D-only measurement on a volume and otherwise lists the valid names.
    public func classify(_ table: ObjectTable) throws -> [String] {
        for name in measurements where !table.has(name) {
            _ = try table.column(name) // throws, listing the valid names
        }
        let columns = Dictionary(uniqueKeysWithValues: try measurements.map { ($0, try table.column($0)) })
        return (0..<table.count).map { row in
            for rule in rules {
                if rule.alternatives.isEmpty { return rule.className }
                let holds = rule.alternatives.contains { conjunction in
                    conjunction.allSatisfy { c in
                        let v = columns[c.measurement]![row]
                        switch c.comparison {
                        case .gt: return v > c.value
                        case .ge: return v >= c.value
                        case .lt: return v < c.value
                        case .le: return v <= c.value
                        case .eq: return v == c.value
                        case .ne: return !v.isNaN && v != c.value
                        }
                    }
                }
                if holds { return rule.className }
            }
            return ""
        }
    }

    public var description: String { rules.map(\.text).joined(separator: "; ") }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let r = rest.range(of: separator) {
            parts.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
