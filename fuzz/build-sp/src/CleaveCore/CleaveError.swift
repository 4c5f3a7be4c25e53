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

/// Progress of a long job: `report(done, total, stage)`; callers report at most a few hundred times.
public struct Progress: Sendable {
    public let report: @Sendable (_ done: Int, _ total: Int, _ stage: String) -> Void
    public init(_ report: @escaping @Sendable (_ done: Int, _ total: Int, _ stage: String) -> Void) {
        self.report = report
    }
    /// Reports nothing.
    public static let silent = Progress { _, _, _ in }
}

/// Cleave's version, written into models, summaries and exported metadata.
public let cleaveVersion = "0.1.0"
