import CleaveCore

/// What a forest says about a set of rows.
public struct ForestPrediction: Sendable, Equatable {
    /// Class probabilities, row-major: `probabilities[row * classCount + c]`; each row sums to 1.
    public var probabilities: [Float]
    /// Most probable class index per row (first on ties).
    public var classIndices: [Int32]
    /// 1 − (p_first − p_second) per row: 0 = certain, 1 = a tie between two classes.
    public var uncertainty: [Float]
}

extension RandomForest {
    /// Rows handled per tree pass: their features stay in L2 while every tree walks them.
    @usableFromInline static let blockRows = 512

    /// Class probabilities for every row (mean of the trees' leaf class fractions).
    ///
    /// - Parameters:
    ///   - rows: row-major features, `rowCount × featureCount` values.
    ///   - output: `rowCount × classCount` values, overwritten.
    ///   - walk: how the trees are walked; both give bit-identical results (see ``ForestWalk``).
    /// - Complexity: O(rows · trees · depth), parallel over row chunks; identical for any thread count.
    public func unsafeProbabilities(rows: UnsafeBufferPointer<Float>, rowCount: Int, into output: UnsafeMutableBufferPointer<Float>,
                                    walk: ForestWalk = .binned) {
        precondition(rows.count >= rowCount * featureCount && output.count >= rowCount * classCount,
                     "RandomForest.probabilities: \(rows.count) values / \(output.count) outputs for \(rowCount) rows × \(featureCount) features, \(classCount) classes")
        probabilities(values: rows, rowCount: rowCount, rowStride: featureCount, featureStride: 1, into: output, walk: walk)
    }

    /// Class probabilities for samples stored feature-major (`values[feature * rowCount + row]`, the
    /// layout of a feature stack), without transposing them first.
    ///
    /// - Parameters:
    ///   - values: `featureCount × rowCount` values.
    ///   - output: `rowCount × classCount` values, overwritten.
    ///   - walk: how the trees are walked; both give bit-identical results (see ``ForestWalk``).
    public func unsafeProbabilities(featureMajor values: UnsafeBufferPointer<Float>, rowCount: Int,
                                    into output: UnsafeMutableBufferPointer<Float>, walk: ForestWalk = .binned) {
        precondition(values.count >= rowCount * featureCount && output.count >= rowCount * classCount,
                     "RandomForest.unsafeProbabilities(featureMajor:): \(values.count) values / \(output.count) outputs for \(rowCount) rows × \(featureCount) features, \(classCount) classes")
        probabilities(values: values, rowCount: rowCount, rowStride: 1, featureStride: rowCount, into: output, walk: walk)
    }

    /// Class probabilities for `rowCount` consecutive samples of a larger feature-major stack:
    /// feature f of sample r is `values[f * featureStride + r]` (e.g. some rows of a feature stack,
    /// `featureStride` = the stack's pixel count, `values` starting at the first wanted pixel).
    public func unsafeProbabilities(featureMajor values: UnsafeBufferPointer<Float>, rowCount: Int, featureStride: Int,
                                    into output: UnsafeMutableBufferPointer<Float>, walk: ForestWalk = .binned) {
        precondition(featureStride >= rowCount && output.count >= rowCount * classCount
                     && (rowCount == 0 || values.count >= (featureCount - 1) * featureStride + rowCount),
                     "RandomForest.unsafeProbabilities(featureMajor:featureStride:): \(values.count) values / \(output.count) outputs for \(rowCount) rows, stride \(featureStride) × \(featureCount) features, \(classCount) classes")
        probabilities(values: values, rowCount: rowCount, rowStride: 1, featureStride: featureStride, into: output, walk: walk)
    }

    private func probabilities(values: UnsafeBufferPointer<Float>, rowCount: Int, rowStride: Int, featureStride: Int,
                               into output: UnsafeMutableBufferPointer<Float>, walk: ForestWalk) {
        guard rowCount > 0 else { return }
        if walk == .binned, let binned = binnedCache.forest(self) {
            binned.probabilities(forest: self, values: values.baseAddress!, rowCount: rowCount, rowStride: rowStride,
                                 featureStride: featureStride, output: output.baseAddress!)
            return
        }
        // Nodes with the feature turned into an element offset for this layout, so the inner loop
        // does one load per lane instead of a multiply and a load.
        var scaled = [ScaledNode]()
        scaled.reserveCapacity(nodes.count)
        for node in nodes {
            scaled.append(ScaledNode(offset: Int(node.feature) &* featureStride, threshold: node.threshold, child: node.child))
        }
        let blocks = (rowCount + RandomForest.blockRows - 1) / RandomForest.blockRows
        // Each chunk reads its own rows and writes its own rows of `output`.
        let rowsBase = UncheckedSendable(values.baseAddress!)
        let outBase = UncheckedSendable(output.baseAddress!)
        scaled.withUnsafeBufferPointer { scaledNodes in
            let nodePointer = UncheckedSendable(scaledNodes.baseAddress!)
            Parallel.forEachChunk(of: blocks, chunkCount: min(blocks, 256)) { range in
                for block in range {
                    let first = block * RandomForest.blockRows
                    let count = min(RandomForest.blockRows, rowCount - first)
                    predictBlock(nodes: nodePointer.value, rows: rowsBase.value + first * rowStride, rowCount: count,
                                 rowStride: rowStride, output: outBase.value + first * classCount)
                }
            }
        }
    }

    /// Class probabilities for row-major `rows` (`rows.count` must be a multiple of ``featureCount``).
    public func probabilities(rows: [Float], walk: ForestWalk = .binned) -> [Float] {
        precondition(rows.count % featureCount == 0,
                     "RandomForest.probabilities(rows:): \(rows.count) values is not a multiple of \(featureCount) features")
        let rowCount = rows.count / featureCount
        var out = [Float](repeating: 0, count: rowCount * classCount)
        rows.withUnsafeBufferPointer { r in
            out.withUnsafeMutableBufferPointer { o in unsafeProbabilities(rows: r, rowCount: rowCount, into: o, walk: walk) }
        }
        return out
    }

    /// Probabilities, most probable class and uncertainty for row-major `rows`.
    public func predict(rows: [Float]) -> ForestPrediction {
        let probabilities = probabilities(rows: rows)
        let (indices, uncertainty) = RandomForest.summarise(probabilities: probabilities, classCount: classCount)
        return ForestPrediction(probabilities: probabilities, classIndices: indices, uncertainty: uncertainty)
    }

    /// The predicted label values (``classes``) for row-major `rows`.
    public func predictLabels(rows: [Float]) -> [Int32] {
        predict(rows: rows).classIndices.map { classes[Int($0)] }
    }

    /// Most probable class (first on ties) and uncertainty `1 − (p_first − p_second)` per row.
    public static func summarise(probabilities: [Float], classCount: Int) -> (classIndices: [Int32], uncertainty: [Float]) {
        let rowCount = probabilities.count / max(1, classCount)
        var indices = [Int32](repeating: 0, count: rowCount)
        var uncertainty = [Float](repeating: 0, count: rowCount)
        for r in 0..<rowCount {
            var first = -Float.infinity, second = -Float.infinity, best = 0
            for c in 0..<classCount {
                let p = probabilities[r * classCount + c]
                if p > first { second = first; first = p; best = c } else if p > second { second = p }
            }
            indices[r] = Int32(best)
            uncertainty[r] = classCount > 1 ? 1 - (first - second) : 0
        }
        return (indices, uncertainty)
    }

    /// Kernel: all trees over one block of rows. Each tree walks the rows 16 at a time; every step
    /// moves all 16 one level down without branches (leaves point to themselves), and a group stops
    /// when no row moved. The 16 walks are independent, so their loads overlap.
    func predictBlock(nodes: UnsafePointer<ScaledNode>, rows: UnsafePointer<Float>, rowCount: Int, rowStride: Int,
                              output: UnsafeMutablePointer<Float>) {
        let K = classCount
        output.initialize(repeating: 0, count: rowCount * K)
        values.withUnsafeBufferPointer { valueBuffer in
        treeStarts.withUnsafeBufferPointer { starts in
        treeDepths.withUnsafeBufferPointer { depths in
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 16) { current in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { laneRows in
            let values = valueBuffer.baseAddress!
            for t in 0..<treeCount {
                let root = starts[t]
                let steps = Int(depths[t])
                var first = 0
                if rowStride == 1 {
                    // Feature-major input: lane l of a group reads `group[offset + l]`, so eight walks
                    // live in registers with no per-lane pointer.
                    while first + 8 <= rowCount {
                        RandomForest.walkEight(nodes: nodes, group: rows + first, root: root, steps: steps,
                                               values: values, classCount: K, output: output + first &* K)
                        first &+= 8
                    }
                }
                while first < rowCount {
                    let lanes = min(16, rowCount - first)
                    for l in 0..<lanes {
                        current[l] = root
                        laneRows[l] = rows + (first &+ l) &* rowStride
                    }
                    var step = 0
                    while step < steps {
                        var moved: Int32 = 0
                        for l in 0..<lanes {
                            let index = current[l]
                            let node = nodes[Int(index)]
                            let x = laneRows[l][node.offset]
                            let next = node.child &+ (x > node.threshold ? 1 : 0)
                            moved |= next ^ index
                            current[l] = next
                        }
                        if moved == 0 { break }
                        step &+= 1
                    }
                    for l in 0..<lanes {
                        let v = values + Int(current[l]) &* K
                        let o = output + (first &+ l) &* K
                        for c in 0..<K { o[c] += v[c] }
                    }
                    first &+= 16
                }
            }
            let scale = 1 / Float(treeCount)
            for i in 0..<rowCount * K { output[i] *= scale }
        }
        }
        }
        }
        }
    }
}

extension RandomForest {
    /// Eight independent walks down one tree, for feature-major rows `group[0..<8]`; adds the
    /// leaves' class fractions to `output` (row-major, `classCount` per row).
    @inline(__always)
    static func walkEight(nodes: UnsafePointer<ScaledNode>, group: UnsafePointer<Float>, root: Int32, steps: Int,
                          values: UnsafePointer<Float>, classCount K: Int, output: UnsafeMutablePointer<Float>) {
        @inline(__always) func advance(_ index: Int32, _ lane: Int) -> Int32 {
            let node = nodes[Int(index)]
            return node.child &+ (group[node.offset &+ lane] > node.threshold ? 1 : 0)
        }
        var c0 = root, c1 = root, c2 = root, c3 = root, c4 = root, c5 = root, c6 = root, c7 = root
        var step = 0
        while step < steps {
            let n0 = advance(c0, 0), n1 = advance(c1, 1), n2 = advance(c2, 2), n3 = advance(c3, 3)
            let n4 = advance(c4, 4), n5 = advance(c5, 5), n6 = advance(c6, 6), n7 = advance(c7, 7)
            let moved = (n0 ^ c0) | (n1 ^ c1) | (n2 ^ c2) | (n3 ^ c3) | (n4 ^ c4) | (n5 ^ c5) | (n6 ^ c6) | (n7 ^ c7)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3; c4 = n4; c5 = n5; c6 = n6; c7 = n7
            if moved == 0 { break }
            step &+= 1
        }
        @inline(__always) func add(_ leaf: Int32, _ lane: Int) {
            let v = values + Int(leaf) &* K
            let o = output + lane &* K
            for c in 0..<K { o[c] += v[c] }
        }
        add(c0, 0); add(c1, 1); add(c2, 2); add(c3, 3); add(c4, 4); add(c5, 5); add(c6, 6); add(c7, 7)
    }
}

/// A node with its feature as an element offset for one input layout (16 bytes).
@usableFromInline
struct ScaledNode {
    var offset: Int
    var threshold: Float
    var child: Int32
}

