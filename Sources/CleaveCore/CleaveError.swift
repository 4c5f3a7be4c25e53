/// A failure caused by the user's input or data (as opposed to a programming error).
///
/// `description` is one line that says what went wrong, where, and why; the CLI prints it and
/// exits non-zero. Modules define their own richer error types that conform to this protocol.
public protocol CleaveErrorProtocol: Error, CustomStringConvertible {}

/// A general input error with a ready message.
public struct CleaveError: CleaveErrorProtocol, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
