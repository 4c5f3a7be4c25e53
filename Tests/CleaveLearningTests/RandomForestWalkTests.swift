import Testing
import Foundation
import CleaveCore
import CleaveLearning

/// The prediction kernels against the plainest possible walk, written here from the forest's own
/// file form (the node arrays of `RandomForest+Codable.swift`): one row at a time, one tree at a
/// time, `child + (x > threshold ? 1 : 0)` until a node points to itself, the leaves' class
/// fractions added in tree order, then scaled by 1 / trees. Every kernel, layout and thread count
/// must give exactly these Float bits.
@Suite struct RandomForestWalkTests {
    /// The node arrays decoded from the forest's JSON (little-endian base64 words).
    struct PlainForest {
        var starts: [Int32], features: [Int32], thresholds: [Float], children: [Int32], values: [Float]
        var classCount: Int

        init(_ forest: RandomForest) throws {
            let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(forest)) as! [String: Any]
            func words(_ key: String) -> [UInt32] {
                let data = Data(base64Encoded: json[key] as! String)!
                let bytes = [UInt8](data)
                var out: [UInt32] = []
                for i in stride(from: 0, to: bytes.count, by: 4) {
                    var word: UInt32 = 0
                    for k in 0..<4 { word |= UInt32(bytes[i + k]) << UInt32(8 * k) }
                    out.append(word)
                }
                return out
            }
            starts = words("treeStarts").map { Int32(bitPattern: $0) }
            features = words("nodeFeatures").map { Int32(bitPattern: $0) }
            thresholds = words("nodeThresholds").map { Float(bitPattern: $0) }
            children = words("nodeChildren").map { Int32(bitPattern: $0) }
            values = words("nodeValues").map { Float(bitPattern: $0) }
            classCount = forest.classCount
        }

        func probabilities(rows: [Float], featureCount: Int) -> [Float] {
            let rowCount = rows.count / featureCount, trees = starts.count - 1
            var out = [Float](repeating: 0, count: rowCount * classCount)
            for r in 0..<rowCount {
                for t in 0..<trees {
                    var node = Int(starts[t])
                    while true {
                        let x = rows[r * featureCount + Int(features[node])]
                        let next = Int(children[node]) + (x > thresholds[node] ? 1 : 0)
                        if next == node { break }
                        node = next
                    }
                    for c in 0..<classCount { out[r * classCount + c] += values[node * classCount + c] }
                }
                for c in 0..<classCount { out[r * classCount + c] *= 1 / Float(trees) }
            }
            return out
        }
    }

    /// Random training data with class-dependent means, values rounded to a coarse grid (so many
    /// probes sit exactly on thresholds' neighbours), plus probes: training rows, jittered rows,
    /// ±∞, NaN, huge values.
    static func data(featureCount: Int, classes: Int, rows: Int, seed: UInt64) -> (train: [Float], labels: [Int32], probe: [Float]) {
        var rng = SeededGenerator(seed: seed)
        var train: [Float] = [], labels: [Int32] = []
        for i in 0..<rows {
            let c = i % classes
            labels.append(Int32(c * 3 + 1))
            for f in 0..<featureCount {
                let shift = f % 3 == 0 ? Double(c) * 0.8 : 0
                train.append(Float(((shift + rng.nextGaussian()) * 8).rounded() / 8))
            }
        }
        var probe = train
        for _ in 0..<(rows + 37) {
            for _ in 0..<featureCount { probe.append(train[rng.next(below: train.count)] + Float(rng.nextGaussian()) * 0.05) }
        }
        for special: Float in [.infinity, -.infinity, .nan, 1e30, -1e30, 0] {
            for f in 0..<featureCount { probe.append(f % 2 == 0 ? special : train[rng.next(below: train.count)]) }
        }
        return (train, labels, probe)
    }

    @Test(arguments: [
        (featureCount: 1, classes: 2, rows: 300, trees: 7, maxDepth: nil as Int?),
        (featureCount: 5, classes: 3, rows: 900, trees: 20, maxDepth: nil),
        (featureCount: 49, classes: 4, rows: 1500, trees: 13, maxDepth: nil),
        (featureCount: 49, classes: 2, rows: 700, trees: 9, maxDepth: 4),
        (featureCount: 300, classes: 5, rows: 500, trees: 6, maxDepth: nil),
        // Many features: the byte walk's blocks shrink to one group of lanes.
        (featureCount: 2100, classes: 2, rows: 160, trees: 3, maxDepth: nil),
    ])
    func everyWalkEqualsThePlainWalk(_ setting: (featureCount: Int, classes: Int, rows: Int, trees: Int, maxDepth: Int?)) throws {
        let F = setting.featureCount
        let (train, labels, probe) = Self.data(featureCount: F, classes: setting.classes, rows: setting.rows, seed: UInt64(F * 31 + setting.trees))
        let forest = try RandomForest.train(rows: train, featureCount: F, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: setting.trees, maxDepth: setting.maxDepth, seed: 3))
        try Self.expectEveryWalkEqualsThePlainWalk(forest, probe: probe)
    }

    /// Every walk, layout (row-major, feature-major, strided feature-major) and thread count gives
    /// the plain walk's Float bits.
    static func expectEveryWalkEqualsThePlainWalk(_ forest: RandomForest, probe: [Float],
                                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let F = forest.featureCount
        let expected = try PlainForest(forest).probabilities(rows: probe, featureCount: F)
        let rowCount = probe.count / F, K = forest.classCount
        var featureMajor = [Float](repeating: 0, count: probe.count)
        for r in 0..<rowCount { for f in 0..<F { featureMajor[f * rowCount + r] = probe[r * F + f] } }
        // The same rows inside a wider stack (features `stride` apart, starting at `lead`).
        let lead = 5, stride = rowCount + 11
        var wide = [Float](repeating: .nan, count: F * stride + lead)
        for r in 0..<rowCount { for f in 0..<F { wide[lead + f * stride + r] = probe[r * F + f] } }

        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [1, 2, 3, 8] {
            Parallel.threadCount = threads
            for walk in ForestWalk.allCases {
                #expect(forest.probabilities(rows: probe, walk: walk) == expected, "row-major, \(walk), \(threads) threads", sourceLocation: sourceLocation)
                var a = [Float](repeating: -1, count: rowCount * K)
                featureMajor.withUnsafeBufferPointer { v in
                    a.withUnsafeMutableBufferPointer { forest.unsafeProbabilities(featureMajor: v, rowCount: rowCount, into: $0, walk: walk) }
                }
                #expect(a == expected, "feature-major, \(walk), \(threads) threads", sourceLocation: sourceLocation)
                var b = [Float](repeating: -1, count: rowCount * K)
                wide.withUnsafeBufferPointer { v in
                    b.withUnsafeMutableBufferPointer {
                        forest.unsafeProbabilities(featureMajor: UnsafeBufferPointer(rebasing: v[lead...]), rowCount: rowCount,
                                             featureStride: stride, into: $0, walk: walk)
                    }
                }
                #expect(b == expected, "strided feature-major, \(walk), \(threads) threads", sourceLocation: sourceLocation)
            }
        }
    }

    /// Feature columns whose thresholds a uniform cell map would crowd into one cell: a cluster a
    /// few ulps wide beside far outliers, values spread over many binades (the float-bits cell map),
    /// both at once (many compares per value), a constant column and a two-valued one.
    static func awkwardData(classes: Int, rows: Int, seed: UInt64) -> (train: [Float], labels: [Int32]) {
        var rng = SeededGenerator(seed: seed)
        var train: [Float] = [], labels: [Int32] = []
        for i in 0..<rows {
            let c = i % classes
            labels.append(Int32(c))
            let g = Float(rng.nextGaussian()) + Float(c) * 0.7
            let ulps = Int(rng.next(below: 40)) + c * 7
            var cluster: Float = 1
            for _ in 0..<ulps { cluster = cluster.nextUp }
            train.append(rng.next(below: 20) == 0 ? Float(c) * 1e6 - 3e6 : cluster)      // cluster + outliers
            train.append((g < 0 ? -1 : 1) * Float(exp(Double(abs(g)) * 9)) * 1e-12)       // many binades
            train.append(rng.next(below: 10) == 0 ? (g < 0 ? -1e30 : 1e30) : cluster + g * 1e-6) // both
            train.append(5)                                                                 // constant
            train.append(c % 2 == 0 ? -0.0 : (rng.next(below: 3) == 0 ? 0 : 1))           // ±0 and 1
            train.append(g)
        }
        return (train, labels)
    }

    /// Probes on every threshold, one ulp either side, ±0, ±∞, NaN and huge values, for each
    /// feature in turn (the other features from a training row).
    static func thresholdProbes(_ forest: RandomForest, train: [Float]) throws -> [Float] {
        let plain = try PlainForest(forest)
        let F = forest.featureCount
        var probe: [Float] = []
        var rowIndex = 0
        func row(_ f: Int, _ x: Float) {
            let base = (rowIndex % (train.count / F)) * F
            rowIndex += 1
            for g in 0..<F { probe.append(g == f ? x : train[base + g]) }
        }
        for (i, t) in plain.thresholds.enumerated() where Int(plain.children[i]) != i {
            let f = Int(plain.features[i])
            for x in [t, t.nextUp, t.nextDown] { row(f, x) }
        }
        for f in 0..<F {
            for x: Float in [0, -0.0, .infinity, -.infinity, .nan, -Float.nan, 3e38, -3e38, .leastNonzeroMagnitude, -.leastNonzeroMagnitude] {
                row(f, x)
            }
        }
        return probe + train
    }

    @Test(arguments: [
        (classes: 2, rows: 600, trees: 9, maxDepth: nil as Int?),
        (classes: 17, rows: 1700, trees: 5, maxDepth: nil),       // many classes
        (classes: 3, rows: 900, trees: 1, maxDepth: nil),         // one tree
        (classes: 4, rows: 800, trees: 6, maxDepth: 2),
    ])
    func awkwardThresholdsAndProbesEqualThePlainWalk(_ setting: (classes: Int, rows: Int, trees: Int, maxDepth: Int?)) throws {
        let (train, labels) = Self.awkwardData(classes: setting.classes, rows: setting.rows, seed: UInt64(setting.classes * 7 + setting.trees))
        let forest = try RandomForest.train(rows: train, featureCount: 6, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: setting.trees, maxDepth: setting.maxDepth, seed: 5))
        try Self.expectEveryWalkEqualsThePlainWalk(forest, probe: try Self.thresholdProbes(forest, train: train))
    }

    /// Trees that never split (every feature constant): the root is the leaf, depth 0.
    @Test func depthZeroTreesEqualThePlainWalk() throws {
        let train = [Float](repeating: 2, count: 3 * 40)
        let labels = (0..<40).map { Int32($0 % 3 == 0 ? 1 : 2) }
        let forest = try RandomForest.train(rows: train, featureCount: 3, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 4, seed: 1))
        #expect(forest.depths == [0, 0, 0, 0])
        var probe: [Float] = []
        for x: Float in [2, 1, 3, .nan, .infinity, -.infinity, -0.0] { probe += [x, 2, x] }
        try Self.expectEveryWalkEqualsThePlainWalk(forest, probe: probe)
    }
}
