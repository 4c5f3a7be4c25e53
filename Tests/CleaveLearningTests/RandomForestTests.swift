import Testing
import Foundation
import CleaveCore
import CleaveLearning

/// Reads the make_classification fixture (label, f0…f9 per line); see Tests/Fixtures/random-forest/make_forest_fixture.py.
private func classificationFixture() throws -> (rows: [Float], labels: [Int32]) {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/random-forest/random-forest-classification.csv").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var rows: [Float] = []
    var labels: [Int32] = []
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ",")
        labels.append(Int32(parts[0])!)
        rows.append(contentsOf: parts.dropFirst().map { Float($0)! })
    }
    return (rows, labels)
}

/// Two Gaussian blobs per class in `featureCount` dimensions; feature 0 carries the class, the rest is noise.
private func blobs(count: Int, featureCount: Int, seed: UInt64, separation: Double, classes: [Int32] = [1, 2]) -> ([Float], [Int32]) {
    var rng = SeededGenerator(seed: seed)
    var rows: [Float] = []
    var labels: [Int32] = []
    for i in 0..<count {
        let c = classes[i % classes.count]
        labels.append(c)
        for f in 0..<featureCount {
            let center = f == 0 ? separation * Double(i % classes.count) : 0
            rows.append(Float(center + rng.nextGaussian()))
        }
    }
    return (rows, labels)
}

@Suite struct RandomForestTests {
    @Test func separableDataIsLearnedPerfectly() throws {
        let (rows, labels) = blobs(count: 400, featureCount: 4, seed: 1, separation: 20, classes: [3, 7, 9])
        let forest = try RandomForest.train(rows: rows, featureCount: 4, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 20, seed: 5))
        #expect(forest.classes == [3, 7, 9])
        #expect(forest.predictLabels(rows: rows) == labels)
        let (test, testLabels) = blobs(count: 300, featureCount: 4, seed: 2, separation: 20, classes: [3, 7, 9])
        #expect(forest.predictLabels(rows: test) == testLabels)
        // Out-of-bag rows may land in leaves purified by noise-feature splits; nearly all are right.
        #expect(forest.outOfBagAccuracy! > 0.97)
    }

    @Test func probabilitiesSumToOneAndUncertaintyIsConsistent() throws {
        let (rows, labels) = blobs(count: 600, featureCount: 6, seed: 3, separation: 1.5, classes: [1, 2, 3])
        let forest = try RandomForest.train(rows: rows, featureCount: 6, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 30, seed: 1))
        let prediction = forest.predict(rows: rows)
        for r in 0..<labels.count {
            let p = prediction.probabilities[r * 3..<r * 3 + 3]
            #expect(abs(p.reduce(0, +) - 1) < 1e-5)
            let sorted = p.sorted(by: >)
            #expect(abs(prediction.uncertainty[r] - (1 - (sorted[0] - sorted[1]))) < 1e-6)
            #expect(p[p.startIndex + Int(prediction.classIndices[r])] == sorted[0])
        }
        // Noisy classes: some rows are uncertain, none outside [0, 1].
        #expect(prediction.uncertainty.contains { $0 > 0.2 })
        #expect(prediction.uncertainty.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func sameSeedGivesTheSameForestForAnyThreadCount() throws {
        let (rows, labels) = blobs(count: 500, featureCount: 8, seed: 4, separation: 1, classes: [1, 2, 3])
        let config = RandomForestConfiguration(treeCount: 16, seed: 42)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let serial = try RandomForest.train(rows: rows, featureCount: 8, labels: labels, configuration: config)
        let serialProbabilities = serial.probabilities(rows: rows)
        Parallel.threadCount = 2
        let parallel = try RandomForest.train(rows: rows, featureCount: 8, labels: labels, configuration: config)
        #expect(serial == parallel)
        #expect(parallel.probabilities(rows: rows) == serialProbabilities)
        let other = try RandomForest.train(rows: rows, featureCount: 8, labels: labels,
                                           configuration: RandomForestConfiguration(treeCount: 16, seed: 43))
        #expect(other != serial)
    }

    @Test func balancedWeightsFavourTheRareClass() throws {
        // 950 vs 50 rows overlapping in feature 0: unweighted trees lean to the majority, balanced
        // weights give the minority class the same total weight, so it wins many more rows.
        var rng = SeededGenerator(seed: 9)
        var rows: [Float] = []
        var labels: [Int32] = []
        for i in 0..<1000 {
            let rare = i % 20 == 0
            labels.append(rare ? 2 : 1)
            rows.append(Float((rare ? 1.0 : 0.0) + rng.nextGaussian()))
            rows.append(Float(rng.nextGaussian()))
        }
        let depth = RandomForestConfiguration(treeCount: 50, maxDepth: 3, seed: 1)
        var balancedConfig = depth
        balancedConfig.classWeighting = .balanced
        let plain = try RandomForest.train(rows: rows, featureCount: 2, labels: labels, configuration: depth)
        let balanced = try RandomForest.train(rows: rows, featureCount: 2, labels: labels, configuration: balancedConfig)
        let grid: [Float] = stride(from: -2.0, through: 3.0, by: 0.05).flatMap { [Float($0), 0] }
        let plainRare = plain.predictLabels(rows: grid).filter { $0 == 2 }.count
        let balancedRare = balanced.predictLabels(rows: grid).filter { $0 == 2 }.count
        #expect(plainRare < 10)
        #expect(balancedRare > 30)
        // Balanced leaves hold weighted fractions: mean probability of the rare class ≈ 0.5 over the data.
        let p = balanced.probabilities(rows: rows)
        let meanRare = stride(from: 1, to: p.count, by: 2).map { Double(p[$0]) }.reduce(0, +) / 1000
        #expect(meanRare > 0.3 && meanRare < 0.7)
    }

    @Test func importancesFavourTheInformativeFeature() throws {
        let (rows, labels) = blobs(count: 800, featureCount: 5, seed: 6, separation: 2)
        let forest = try RandomForest.train(rows: rows, featureCount: 5, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 50, seed: 2))
        let importances = forest.featureImportances
        #expect(abs(importances.reduce(0, +) - 1) < 1e-9)
        #expect(importances[0] > 0.4)
        for f in 1..<5 { #expect(importances[0] > 3 * importances[f]) }
    }

    @Test func limitsShapeTheTrees() throws {
        // 240 rows: fewer distinct values than bins, so the binned search is exact CART.
        let (rows, labels) = blobs(count: 240, featureCount: 4, seed: 7, separation: 0.5)
        let shallow = try RandomForest.train(rows: rows, featureCount: 4, labels: labels,
                                             configuration: RandomForestConfiguration(treeCount: 10, maxDepth: 3))
        #expect(shallow.depths.allSatisfy { $0 <= 3 })
        #expect(shallow.depths.contains(3))
        let full = try RandomForest.train(rows: rows, featureCount: 4, labels: labels,
                                          configuration: RandomForestConfiguration(treeCount: 10))
        let leafy = try RandomForest.train(rows: rows, featureCount: 4, labels: labels,
                                           configuration: RandomForestConfiguration(treeCount: 10, minSamplesLeaf: 20))
        #expect(leafy.nodeCount * 4 < full.nodeCount)
        // Fully grown trees fit the training rows almost perfectly: scikit-learn
        // RandomForestClassifier(10) on the same kind of data fits 0.967…0.996 (5 seeds), 0.98 mean.
        let fit = zip(full.predictLabels(rows: rows), labels).filter { $0 == $1 }.count
        #expect(fit >= 230)
        let shallowFit = zip(shallow.predictLabels(rows: rows), labels).filter { $0 == $1 }.count
        #expect(shallowFit < fit - 20)
    }

    @Test func accuracyMatchesScikitLearn() throws {
        // scikit-learn RandomForestClassifier(100) on the same split, random_state 0…4:
        // test accuracy 0.858 0.858 0.868 0.870 0.866 (mean 0.864); OOB 0.858 (Tests/Fixtures/random-forest/make_forest_fixture.py).
        let (rows, labels) = try classificationFixture()
        let train = Array(rows[0..<10_000]), trainLabels = Array(labels[0..<1000])
        let test = Array(rows[10_000...]), testLabels = Array(labels[1000...])
        var accuracies: [Double] = []
        for seed in 0..<3 {
            let forest = try RandomForest.train(rows: train, featureCount: 10, labels: trainLabels,
                                                configuration: RandomForestConfiguration(seed: UInt64(seed)))
            let predicted = forest.predictLabels(rows: test)
            accuracies.append(Double(zip(predicted, testLabels).filter { $0 == $1 }.count) / 500)
            #expect(abs(forest.outOfBagAccuracy! - 0.858) < 0.03)
        }
        let mean = accuracies.reduce(0, +) / 3
        #expect(abs(mean - 0.864) < 0.02, "Cleave \(accuracies) vs scikit-learn mean 0.864")
    }

    @Test func codableRoundTripIsExact() throws {
        let (rows, labels) = blobs(count: 300, featureCount: 3, seed: 8, separation: 1, classes: [10, 20, 30])
        let forest = try RandomForest.train(rows: rows, featureCount: 3, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 7, classWeighting: .balanced, seed: 3))
        let data = try JSONEncoder().encode(forest)
        let decoded = try JSONDecoder().decode(RandomForest.self, from: data)
        #expect(decoded == forest)
        #expect(decoded.probabilities(rows: rows) == forest.probabilities(rows: rows))
        // A damaged node array is an error, not a crash.
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["nodeChildren"] = "AAAA"
        let damaged = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RandomForest.self, from: damaged) }
    }

    /// Issue 19 item 7: a tree start beyond the node arrays crashed decoding (index out of range);
    /// every tampered tree start is now a DecodingError naming the field.
    @Test func tamperedTreeStartsAreDecodingErrors() throws {
        let (rows, labels) = blobs(count: 200, featureCount: 3, seed: 4, separation: 1, classes: [1, 2])
        let forest = try RandomForest.train(rows: rows, featureCount: 3, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 3, seed: 1))
        let data = try JSONEncoder().encode(forest)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let nodeCount = object["nodeCount"] as! Int
        func base64(_ words: [Int32]) -> String {
            var bytes: [UInt8] = []
            for w in words { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: UInt32(bitPattern: w) >> (8 * k))) } }
            return Data(bytes).base64EncodedString()
        }
        let variants: [[Int32]] = [
            [0, Int32.max, Int32(nodeCount) - 1, Int32(nodeCount)],       // far beyond the nodes
            [0, Int32(nodeCount) + 5, Int32(nodeCount) - 1, Int32(nodeCount)], // just beyond, then back
            [0, 3, 3, Int32(nodeCount)],                                  // an empty tree
            [0, -7, 5, Int32(nodeCount)],                                 // negative
        ]
        for starts in variants {
            var tampered = object
            tampered["treeStarts"] = base64(starts)
            let damaged = try JSONSerialization.data(withJSONObject: tampered)
            do {
                _ = try JSONDecoder().decode(RandomForest.self, from: damaged)
                Issue.record("tree starts \(starts) were accepted")
            } catch let error as DecodingError {
                guard case .dataCorrupted(let context) = error else { Issue.record("\(error)"); continue }
                #expect(context.codingPath.map(\.stringValue) == ["treeStarts"], "\(starts): \(context)")
            }
        }
    }

    @Test func priorEstimateRecoversShiftedClassFrequencies() throws {
        // Trained on 50/50, applied to data drawn 85/15 from the same class densities: EM on the
        // forest's probabilities should find about 0.85 / 0.15, and re-weighting should predict the
        // rare class less often than the raw forest does.
        var rng = SeededGenerator(seed: 21)
        func draw(_ count: Int, rareEvery: Int) -> ([Float], [Int32]) {
            var rows: [Float] = [], labels: [Int32] = []
            for i in 0..<count {
                let rare = i % rareEvery == 0
                labels.append(rare ? 2 : 1)
                rows.append(Float((rare ? 2.5 : 0) + rng.nextGaussian()))
                rows.append(Float(rng.nextGaussian()))
            }
            return (rows, labels)
        }
        let (train, trainLabels) = draw(2000, rareEvery: 2)
        let forest = try RandomForest.train(rows: train, featureCount: 2, labels: trainLabels,
                                            configuration: RandomForestConfiguration(treeCount: 60, minSamplesLeaf: 5, seed: 4))
        #expect(abs(forest.trainingPrior[0] - 0.5) < 0.02)
        let (test, testLabels) = draw(6000, rareEvery: 7) // 1/7 ≈ 0.143 rare
        let probabilities = forest.probabilities(rows: test)
        let prior = forest.estimatePrior(probabilities: probabilities)
        #expect(abs(prior[1] - 1.0 / 7) < 0.04, "estimated \(prior)")
        var adapted = probabilities
        adapted.withUnsafeMutableBufferPointer {
            RandomForest.unsafeReweight($0, classCount: 2, weights: forest.priorWeights(for: prior))
        }
        let raw = RandomForest.summarise(probabilities: probabilities, classCount: 2).classIndices
        let shifted = RandomForest.summarise(probabilities: adapted, classCount: 2).classIndices
        let truth = testLabels.map { $0 - 1 }
        let rawErrors = zip(raw, truth).filter { $0 != $1 }.count
        let shiftedErrors = zip(shifted, truth).filter { $0 != $1 }.count
        #expect(shifted.filter { $0 == 1 }.count < raw.filter { $0 == 1 }.count)
        #expect(shiftedErrors < rawErrors)
    }

    @Test func badInputIsAnError() {
        #expect(throws: LearningError.singleClass(operation: "RandomForest.train", label: 5)) {
            try RandomForest.train(rows: [1, 2, 3], featureCount: 1, labels: [5, 5, 5])
        }
        #expect(throws: LearningError.lengthMismatch(operation: "RandomForest.train", expected: 4, actual: 3)) {
            try RandomForest.train(rows: [1, 2, 3], featureCount: 2, labels: [1, 2])
        }
        #expect(throws: LearningError.empty(operation: "RandomForest.train")) {
            try RandomForest.train(rows: [], featureCount: 2, labels: [])
        }
    }
}

@Suite struct RandomForestBinnedWalkTests {
    /// The byte walk (features quantised to the forest's own thresholds) must reach the same leaves
    /// as the float walk: bit-identical probabilities on rows that hit thresholds exactly, lie
    /// between and beyond them, are ±∞ or NaN, in both layouts and with a ragged last block.
    @Test func binnedWalkEqualsThresholdWalk() throws {
        let (rows, labels) = try classificationFixture()
        let forest = try RandomForest.train(rows: rows, featureCount: 10, labels: labels,
                                            configuration: RandomForestConfiguration(treeCount: 25, seed: 7))
        var probe = rows
        var rng = SeededGenerator(seed: 11)
        // Rows made of the training values themselves (some equal a threshold's neighbours), jittered
        // copies, extremes and NaN.
        for _ in 0..<700 {
            for _ in 0..<10 { probe.append(rows[rng.next(below: rows.count)] + Float(rng.nextGaussian()) * 0.01) }
        }
        for special: Float in [.infinity, -.infinity, .nan, 0, 1e30, -1e30] {
            for _ in 0..<3 { for f in 0..<10 { probe.append(f % 3 == 0 ? special : rows[rng.next(below: rows.count)]) } }
        }
        let rowCount = probe.count / 10
        let binned = forest.probabilities(rows: probe, walk: .binned)
        let float = forest.probabilities(rows: probe, walk: .thresholds)
        #expect(binned == float)
        #expect(rowCount % 16 != 0)
        // Feature-major layout (a feature stack).
        var featureMajor = [Float](repeating: 0, count: probe.count)
        for r in 0..<rowCount { for f in 0..<10 { featureMajor[f * rowCount + r] = probe[r * 10 + f] } }
        for walk in ForestWalk.allCases {
            var a = [Float](repeating: -1, count: rowCount * forest.classCount)
            featureMajor.withUnsafeBufferPointer { v in
                a.withUnsafeMutableBufferPointer { forest.unsafeProbabilities(featureMajor: v, rowCount: rowCount, into: $0, walk: walk) }
            }
            #expect(a == float, "\(walk)")
        }
    }
}
