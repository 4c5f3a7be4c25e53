/// A failure caused by the user's input or data (as opposed to a programming error).
///
/// `description` is one line that says what went wrong, where, and why; the CLI prints it and
/// exits non-zero. Modules define their own richer error types that conform to this protocol.
public protocol CleaveErrorProtocol: Error, CustomStringConvertible {}

/// One field of an options value that cannot be used: the field's API name (the Swift property,
/// which is also the workbench's JSON name), the value as given and why it cannot be used.
///
/// Modules say fields, never command-line flags; the command line turns `field` into its flag
/// and the server into its JSON field, each in one table.
public struct InvalidField: Sendable, Equatable, CustomStringConvertible {
    /// The options type's property, e.g. `clusterCount`.
    public let field: String
    /// The value as given (nil when the problem is the field's absence or a combination).
    public let value: String?
    /// Why it cannot be used, and what would work.
    public let reason: String

    public init(field: String, value: String?, reason: String) {
        self.field = field; self.value = value; self.reason = reason
    }

    /// `field value: reason` (or `field: reason` without a value).
    public var description: String { value.map { "\(field) \($0): \(reason)" } ?? "\(field): \(reason)" }

    /// `text` with every field written in backticks (`` `slices` ``) replaced by `name(field)`:
    /// how a front end says a module's message in its own words (the command line: flags; the
    /// server: JSON names). An unclosed backtick and what follows it stay as written.
    /// - Complexity: O(`text.count`).
    public static func renamingFields(in text: String, _ name: (String) -> String) -> String {
        guard text.contains("`") else { return text }
        var out = "", field = "", inside = false
        for c in text {
            if c == "`" {
                if inside { out += name(field); field = "" }
                inside.toggle()
            } else if inside { field.append(c) } else { out.append(c) }
        }
        return inside ? out + "`" + field : out
    }

    /// This field in a front end's words: the field as `name(field)`, fields inside the reason
    /// renamed alike (``renamingFields(in:_:)``), the value as given.
    public func renamed(_ name: (String) -> String) -> InvalidField {
        InvalidField(field: name(field), value: value, reason: InvalidField.renamingFields(in: reason, name))
    }
}

/// A module error that may be about one option field (``InvalidField``); front ends rename the
/// field into their own words (a flag, a JSON name) and keep the reason. Each error type says
/// which of its cases names a field (usually one `invalidOption(field:value:reason:)` case).
public protocol FieldNamingError: CleaveErrorProtocol {
    /// The field this error is about, or nil when it is about data, files or state.
    var invalidField: InvalidField? { get }
}

/// A general input error with a ready message. Modules throw their own typed errors instead;
/// this is left for the command line's own checks.
public struct CleaveError: CleaveErrorProtocol, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
