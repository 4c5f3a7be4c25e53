import CleaveCore

/// A random forest classifier (Breiman 2001; CART trees with the Gini criterion), trained and
/// applied entirely in Cleave.
///
/// Training: every tree draws a bootstrap sample (tree i from `SeededGenerator.stream(seed:index: i)`,
/// so the forest is identical for any thread count), then grows greedily, trying
/// ``MaxFeatures`` random candidate features per node. Split points are searched on per-feature
/// quantile bins (at most 256, computed once from the training rows; the LightGBM /
/// scikit-learn `HistGradientBoosting` approach): each node costs one histogram pass per candidate
/// feature instead of a sort, and with scribble-sized training sets (≤ 256 distinct values per
/// feature in most nodes) the splits are the same as exact CART up to where, between two adjacent
/// training values, the threshold sits (here: the midpoint).
///
/// Prediction: probabilities are the mean over trees of the (weighted) class fractions of the leaf
/// reached, as in scikit-learn's `predict_proba`. Nodes of all trees sit in one flat array (12 bytes a
/// node, children in pairs). By default each block of rows is first quantised to one byte per
/// feature — the bin among the forest's own thresholds — and walked on 8-byte nodes, 8 rows at a
/// time, branch-free (``ForestWalk/binned``, `RandomForest+BinnedWalk.swift`; the byte form is
/// built on the first prediction and kept with the forest); the float walk
/// (``ForestWalk/thresholds``) reaches the same leaves and gives bit-identical probabilities.
///
/// A forest is an immutable value; it is `Codable` (node arrays as base64 little-endian blocks).
public struct RandomForest: Sendable, Equatable {
    /// The label values seen in training, ascending; class index c means `classes[c]`.
    public let classes: [Int32]
    /// Number of features (columns) every row must have.
    public let featureCount: Int
    /// The settings the forest was trained with.
    public let configuration: RandomForestConfiguration
    /// Mean decrease in Gini impurity per feature (per tree normalised to sum 1, then averaged and
    /// normalised again — scikit-learn's `feature_importances_`). Sums to 1 unless no tree split.
    public let featureImportances: [Double]
    /// Fraction of training rows classified correctly by the trees that did not see them
    /// (nil without bootstrap or when no row was left out).
    public let outOfBagAccuracy: Double?
    /// How the trees that did not see each training row classify it: the confusion counts and the
    /// mean class probabilities per true class (nil without bootstrap or when no row was left out).
    /// The rates behind the adjusted fraction estimators (``FractionEstimation``).
    public let outOfBagCalibration: OutOfBagCalibration?

    @usableFromInline let nodes: [ForestNode]
    @usableFromInline let values: [Float]
    /// First node of each tree, plus the total node count at the end.
    @usableFromInline let treeStarts: [Int32]
    /// Deepest level of each tree (the bound of the branch-free walk).
    @usableFromInline let treeDepths: [Int32]
    /// The byte form of the walk (``ForestWalk/binned``), built on the first prediction and kept.
    let binnedCache = BinnedForestCache()

    /// Number of classes.
    public var classCount: Int { classes.count }
    /// Number of trees.
    public var treeCount: Int { treeStarts.count - 1 }
    /// Number of nodes over all trees.
    public var nodeCount: Int { nodes.count }
    /// Depth of every tree (root only = 0).
    public var depths: [Int] { treeDepths.map(Int.init) }

    init(classes: [Int32], featureCount: Int, configuration: RandomForestConfiguration, featureImportances: [Double],
         outOfBagAccuracy: Double?, outOfBagCalibration: OutOfBagCalibration? = nil,
         nodes: [ForestNode], values: [Float], treeStarts: [Int32], treeDepths: [Int32]) {
        self.classes = classes
        self.featureCount = featureCount
        self.configuration = configuration
        self.featureImportances = featureImportances
        self.outOfBagAccuracy = outOfBagAccuracy
        self.outOfBagCalibration = outOfBagCalibration
        self.nodes = nodes
        self.values = values
        self.treeStarts = treeStarts
        self.treeDepths = treeDepths
    }

    // MARK: Training

    /// Trains a forest.
    ///
    /// - Parameters:
    ///   - rows: samples, row-major: `rows[s * featureCount + f]`.
    ///   - featureCount: features per row (≥ 1).
    ///   - labels: one label value per row; any Int32 values, each distinct value is a class.
    ///   - configuration: forest settings.
    ///   - progress: reports trees grown.
    /// - Throws: ``LearningError`` when the sizes disagree, there are no rows, or fewer than two classes.
    /// - Complexity: about O(treeCount · n · depth · candidates) for n rows, spread over the threads.
    public static func train(rows: [Float], featureCount: Int, labels: [Int32],
                             configuration: RandomForestConfiguration = RandomForestConfiguration(),
                             progress: Progress = .silent) throws -> RandomForest {
        guard featureCount >= 1 else {
            throw LearningError.invalidParameter(operation: "RandomForest.train", name: "featureCount", value: "\(featureCount)", reason: "must be at least 1")
        }
        guard !labels.isEmpty else { throw LearningError.empty(operation: "RandomForest.train") }
        guard rows.count == labels.count * featureCount else {
            throw LearningError.lengthMismatch(operation: "RandomForest.train", expected: labels.count * featureCount, actual: rows.count)
        }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else {
            throw LearningError.singleClass(operation: "RandomForest.train", label: classes[0])
        }
        var classOf: [Int32: Int32] = [:]
        for (i, c) in classes.enumerated() { classOf[c] = Int32(i) }
        let classIndex = labels.map { classOf[$0]! }
        let n = labels.count
        let K = classes.count

        var classWeight = [Double](repeating: 1, count: K)
        if configuration.classWeighting == .balanced {
            var counts = [Int](repeating: 0, count: K)
            for c in classIndex { counts[Int(c)] += 1 }
            for c in 0..<K { classWeight[c] = Double(n) / (Double(K) * Double(counts[c])) }
        }

        let bins = rows.withUnsafeBufferPointer {
            FeatureBins(rows: $0, sampleCount: n, featureCount: featureCount, maxBins: configuration.maxBins)
        }
        let builder = DecisionTreeBuilder(
            bins: bins, featureCount: featureCount, classIndex: classIndex, classCount: K,
            candidateFeatures: configuration.maxFeatures.resolved(featureCount: featureCount),
            maxDepth: configuration.maxDepth ?? Int.max, minSamplesSplit: configuration.minSamplesSplit,
            minSamplesLeaf: configuration.minSamplesLeaf)

        let treeCount = configuration.treeCount
        var grown = [GrownTree?](repeating: nil, count: treeCount)
        // In-bag flags per tree, one bit per row, for the out-of-bag estimate.
        let words = (n + 63) / 64
        var inBag = [UInt64](repeating: 0, count: treeCount * words)
        let done = Counter()
        grown.withUnsafeMutableBufferPointer { out in
            inBag.withUnsafeMutableBufferPointer { bag in
                Parallel.forEach(treeCount) { t in
                    var rng = SeededGenerator.stream(seed: configuration.seed, index: t)
                    var weights = [Double](repeating: 0, count: n)
                    if configuration.bootstrap {
                        for _ in 0..<n { weights[rng.next(below: n)] += 1 }
                    } else {
                        for s in 0..<n { weights[s] = 1 }
                    }
                    for s in 0..<n where weights[s] > 0 {
                        weights[s] *= classWeight[Int(classIndex[s])]
                        bag[t * words + s >> 6] |= 1 << UInt64(s & 63)
                    }
                    out[t] = builder.grow(weights: weights, rng: &rng)
                    progress.report(done.increment(), treeCount, "Training forest")
                }
            }
        }

        // Flatten into global arrays.
        var nodes: [ForestNode] = []
        var values: [Float] = []
        var starts: [Int32] = [0]
        var depths: [Int32] = []
        var importances = [Double](repeating: 0, count: featureCount)
        var splittingTrees = 0
        for tree in grown {
            let tree = tree!
            let offset = Int32(nodes.count)
            for node in tree.nodes {
                nodes.append(ForestNode(feature: node.feature, threshold: node.threshold, child: node.child + offset))
            }
            values.append(contentsOf: tree.values)
            starts.append(Int32(nodes.count))
            depths.append(Int32(tree.depth))
            let sum = tree.importance.reduce(0, +)
            if sum > 0 {
                splittingTrees += 1
                for f in 0..<featureCount { importances[f] += tree.importance[f] / sum }
            }
        }
        let importanceSum = importances.reduce(0, +)
        if importanceSum > 0 { importances = importances.map { $0 / importanceSum } }

        var forest = RandomForest(classes: classes, featureCount: featureCount, configuration: configuration,
                                  featureImportances: importances, outOfBagAccuracy: nil,
                                  nodes: nodes, values: values, treeStarts: starts, treeDepths: depths)
        if configuration.bootstrap {
            let oob = rows.withUnsafeBufferPointer { forest.outOfBag(rows: $0, classIndex: classIndex, inBag: inBag, words: words) }
            forest = RandomForest(classes: classes, featureCount: featureCount, configuration: configuration,
                                  featureImportances: importances, outOfBagAccuracy: oob?.accuracy, outOfBagCalibration: oob?.calibration,
                                  nodes: nodes, values: values, treeStarts: starts, treeDepths: depths)
        }
        return forest
    }

    /// Each row's vote among the trees that did not draw it: the accuracy of those votes and the
    /// calibration (confusion counts, probability sums per true class). Rows are voted in parallel
    /// into per-row slots and summed in row order, so the result is the same for any thread count.
    private func outOfBag(rows: UnsafeBufferPointer<Float>, classIndex: [Int32], inBag: [UInt64], words: Int)
        -> (accuracy: Double, calibration: OutOfBagCalibration)? {
        let n = classIndex.count
        let K = classCount
        let chunkCount = Parallel.chunkCount(total: n, minimumPerChunk: 256)
        // Per row: the mean probability over its out-of-bag trees (all −1 when every tree drew it).
        var probabilities = [Float](repeating: -1, count: n * K)
        probabilities.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(chunkCount) { chunk in
                let lo = n * chunk / chunkCount, hi = n * (chunk + 1) / chunkCount
                var sums = [Float](repeating: 0, count: K)
                for s in lo..<hi {
                    for c in 0..<K { sums[c] = 0 }
                    var trees = 0
                    for t in 0..<treeCount where inBag[t * words + s >> 6] & (1 << UInt64(s & 63)) == 0 {
                        let leaf = Int(leafIndex(tree: t, row: rows.baseAddress! + s * featureCount))
                        for c in 0..<K { sums[c] += values[leaf * K + c] }
                        trees += 1
                    }
                    guard trees > 0 else { continue }
                    for c in 0..<K { out[s * K + c] = sums[c] / Float(trees) }
                }
            }
        }
        var confusion = [Int](repeating: 0, count: K * K)
        var posteriorSums = [Double](repeating: 0, count: K * K)
        var correct = 0, voted = 0
        for s in 0..<n where probabilities[s * K] >= 0 {
            let row = Array(probabilities[(s * K)..<((s + 1) * K)])
            let truth = Int(classIndex[s]), vote = RandomForest.argmax(row)
            voted += 1
            if vote == truth { correct += 1 }
            confusion[truth * K + vote] += 1
            for c in 0..<K { posteriorSums[truth * K + c] += Double(row[c]) }
        }
        guard voted > 0 else { return nil }
        return (Double(correct) / Double(voted), OutOfBagCalibration(classCount: K, confusion: confusion, posteriorSums: posteriorSums))
    }

    /// The leaf one row reaches in one tree (a plain walk; the batch kernel is in
    /// `RandomForest+Prediction.swift`).
    func leafIndex(tree: Int, row: UnsafePointer<Float>) -> Int32 {
        var node = treeStarts[tree]
        while true {
            let n = nodes[Int(node)]
            let next = n.child + (row[Int(n.feature)] > n.threshold ? 1 : 0)
            if next == node { return node }
            node = next
        }
    }

    /// Index of the largest value (first on ties).
    @inlinable static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }
}

/// A thread-safe counter for progress reports.
final class Counter: @unchecked Sendable {
    private var value = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }
    func increment() -> Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        value += 1
        return value
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
