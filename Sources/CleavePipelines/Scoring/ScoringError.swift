import CleaveCore

/// Bad input to `cleave score` and the scoring glue: one line naming what, where and why.
public enum ScoringError: CleaveErrorProtocol, Equatable {
    case unreadable(path: String, reason: String)
    case missingColumn(path: String, column: String, header: String)
    case badRow(path: String, line: Int, reason: String)
    case duplicatePatch(path: String, line: Int, image: String, row: Int, column: Int)
    case unknownTile(path: String, line: Int, image: String, row: Int, column: Int, reason: String)
    case noMatches(truthPath: String, patchesPath: String)
    case shapeMismatch(truthPath: String, truth: String, predictedPath: String, predicted: String)
    case nonIntegerLabel(path: String, index: Int, value: Float)

    /// One line naming the file (and line), what is wrong and what would help.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read (\(reason))"
        case let .missingColumn(path, column, header):
            return "\(path): the header has no column '\(column)' (header: \(header))"
        case let .badRow(path, line, reason):
            return "\(path), line \(line): \(reason)"
        case let .duplicatePatch(path, line, image, row, column):
            return "\(path), line \(line): patch \(image) row \(row) col \(column) appears twice"
        case let .unknownTile(path, line, image, row, column, reason):
            return "\(path), line \(line): the truth names patch \(image) row \(row) col \(column), \(reason)"
        case let .noMatches(truthPath, patchesPath):
            return "\(truthPath): no patch matches \(patchesPath) (compare image file names and grid rows/cols)"
        case let .shapeMismatch(truthPath, truth, predictedPath, predicted):
            return "\(predictedPath): shape \(predicted) differs from the truth \(truthPath) (\(truth)); both label images must have the same size"
        case let .nonIntegerLabel(path, index, value):
            return "\(path): pixel \(index) holds \(value), which is not an integer label"
        }
    }
}
