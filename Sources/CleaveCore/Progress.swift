/// Progress of a long job: `report(done, total, stage)`; callers report at most a few hundred times.
public struct Progress: Sendable {
    public let report: @Sendable (_ done: Int, _ total: Int, _ stage: String) -> Void
    public init(_ report: @escaping @Sendable (_ done: Int, _ total: Int, _ stage: String) -> Void) {
        self.report = report
    }
    /// Reports nothing.
    public static let silent = Progress { _, _, _ in }
}
