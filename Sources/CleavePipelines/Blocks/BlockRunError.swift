import CleaveCore

/// Why a block run (``BlockPlan``, ``BlockJournal``, ``BlockPrediction``) cannot start or
/// continue. Fields are named as in the pipeline (`blockSize`, `blocks`); the CLI translates
/// them to its flags. One line each.
public enum BlockRunError: CleaveErrorProtocol, Equatable {
    /// A block side smaller than the halo of context the method reads around every block.
    case blockSmallerThanHalo(field: String, blockSize: Int, halo: Int, method: String)
    /// A share of the blocks that does not parse or does not exist (`i/N` with 0 ≤ i < N).
    case invalidShare(field: String, value: String, reason: String)
    /// The output already holds a run of another model, input or options.
    case otherRun(path: String, field: String, recorded: String, requested: String)
    /// The input cannot be processed block by block.
    case unsupportedInput(path: String, reason: String)
    /// An option of the method that cannot run block by block.
    case unsupportedOption(field: String, reason: String)
    /// The journal next to the output cannot be read or written.
    case journal(path: String, reason: String)

    /// One line naming the field or path, what is wrong and what to do.
    public var description: String {
        switch self {
        case let .blockSmallerThanHalo(field, blockSize, halo, method):
            return "\(field) \(blockSize) is smaller than the \(halo)-pixel halo \(method) reads around every block; use a block of at least \(halo) pixels"
        case let .invalidShare(field, value, reason):
            return "\(field) '\(value)': \(reason)"
        case let .otherRun(path, field, recorded, requested):
            return "\(path): holds a block run with another \(field) (\(recorded), this run: \(requested)); give another output folder or delete it to start again"
        case let .unsupportedInput(path, reason):
            return "\(path): \(reason)"
        case let .unsupportedOption(field, reason):
            return "\(field) is not available block by block: \(reason)"
        case let .journal(path, reason):
            return "\(path): block journal: \(reason)"
        }
    }
}
