import CleaveCore

/// Bad input to a learning algorithm: each case prints as one line naming what, where and why.
public enum LearningError: CleaveErrorProtocol, Equatable {
    /// `Matrix([[…]])` with rows of different length.
    case raggedRows(row: Int, expected: Int, actual: Int)
    /// A matrix without rows or columns where some are needed.
    case empty(operation: String)
    /// A non-finite value (NaN or ±infinity) at (`row`, `column`).
    case notFinite(operation: String, row: Int, column: Int)
    /// A negative value where the algorithm needs nonnegative input (NMF).
    case negativeValue(operation: String, row: Int, column: Int, value: Float)
    /// A parameter outside its valid range.
    case invalidParameter(operation: String, name: String, value: String, reason: String)
    /// Column counts that do not agree (model fitted on `expected` features, given `actual`).
    case columnMismatch(operation: String, expected: Int, actual: Int)
    /// Arrays that must have the same length do not.
    case lengthMismatch(operation: String, expected: Int, actual: Int)
    /// Too many points for an O(n²) algorithm.
    case tooLarge(operation: String, count: Int, limit: Int, suggestion: String)
    /// Training labels with a single class where a classifier needs at least two.
    case singleClass(operation: String, label: Int32)

    public var description: String {
        switch self {
        case let .raggedRows(row, expected, actual):
            return "Matrix: row \(row) has \(actual) values, but the first row has \(expected); all rows must have the same length"
        case let .empty(operation):
            return "\(operation): the input matrix is empty (no rows or no columns)"
        case let .notFinite(operation, row, column):
            return "\(operation): value at row \(row), column \(column) is not finite (NaN or infinity); remove or impute it first"
        case let .negativeValue(operation, row, column, value):
            return "\(operation): value \(value) at row \(row), column \(column) is negative; this method needs nonnegative input (use min-max scaling or drop the column)"
        case let .invalidParameter(operation, name, value, reason):
            return "\(operation): \(name) = \(value) is invalid: \(reason)"
        case let .columnMismatch(operation, expected, actual):
            return "\(operation): the model was fitted on \(expected) features, but the input has \(actual) columns"
        case let .lengthMismatch(operation, expected, actual):
            return "\(operation): expected \(expected) entries, got \(actual); the inputs must have the same length"
        case let .tooLarge(operation, count, limit, suggestion):
            return "\(operation): \(count) points exceed the limit of \(limit) (memory and time grow as n²); \(suggestion)"
        case let .singleClass(operation, label):
            return "\(operation): the training labels hold a single class (\(label)); a classifier needs at least two"
        }
    }
}

extension Matrix {
    /// Throws when the matrix is empty or holds a non-finite value (first one reported).
    /// - Complexity: O(rows × columns), parallel over fixed chunks.
    func validate(_ operation: String) throws {
        guard rows > 0, columns > 0 else { throw LearningError.empty(operation: operation) }
        let total = values.count
        let chunks = Parallel.chunkCount(total: total, minimumPerChunk: 1 << 16)
        var firstBad = [Int](repeating: Int.max, count: chunks)
        firstBad.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                let out = UncheckedSendable(out), v = UncheckedSendable(v)
                Parallel.forEach(chunks) { c in
                    let start = total * c / chunks, end = total * (c + 1) / chunks
                    // Exponent all ones ⇔ NaN or infinity; OR-reduce a flag per block, locate on hit.
                    let bits = UnsafeRawPointer(v.value.baseAddress!).assumingMemoryBound(to: UInt32.self)
                    var i = start
                    while i < end {
                        let blockEnd = min(end, i + 4096)
                        // (exponent bits) + (one exponent step) carries into bit 31 only when all ones.
                        var flag: UInt32 = 0
                        for k in i..<blockEnd { flag |= (bits[k] & 0x7F80_0000) &+ 0x0080_0000 }
                        if flag & 0x8000_0000 != 0 {
                            for k in i..<blockEnd where bits[k] & 0x7F80_0000 == 0x7F80_0000 { out.value[c] = k; return }
                        }
                        i = blockEnd
                    }
                }
            }
        }
        if let index = firstBad.min(), index != Int.max {
            throw LearningError.notFinite(operation: operation, row: index / columns, column: index % columns)
        }
    }
}
