import Testing
import Foundation
import CleaveCore
import CleaveLearning

/// Confusion counts by true class (rows) of the example in bench/fractions/reference.py.
private let exampleConfusion = [80, 15, 5, 10, 85, 5, 4, 6, 90]

private func near(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// Sums whose counted shares are exactly `q` over `n` pixels and whose probability sums are `p`.
private func sums(counts: [Int], probabilities: [Double]) -> FractionSums {
    FractionSums(counts: counts, posteriorSums: probabilities)
}

@Suite struct FractionEstimationTests {
    @Test func knownPrevalencesAreRecoveredExactly() throws {
        // Rates M from out-of-bag counts; observed shares q = M π for a known π: acc returns π.
        let calibration = OutOfBagCalibration(classCount: 3, confusion: exampleConfusion,
                                              posteriorSums: [70, 20, 10, 15, 75, 10, 5, 10, 85])
        let pi = [0.6, 0.3, 0.1]
        let hard = calibration.hardRates!, soft = calibration.softRates!
        func apply(_ m: [Double]) -> [Double] { (0..<3).map { p in (0..<3).reduce(0.0) { $0 + m[p * 3 + $1] * pi[$1] } } }
        let n = 1_000_000
        let qHard = apply(hard), qSoft = apply(soft)
        let counts = qHard.map { Int(($0 * Double(n)).rounded()) }
        let observed = sums(counts: counts, probabilities: qSoft.map { $0 * Double(n) })
        let acc = FractionEstimation.estimate(.adjustedClassifyAndCount, sums: observed, calibration: calibration)
        #expect(acc.used == .adjustedClassifyAndCount)
        #expect(near(acc.fractions, pi, 1e-6))  // counts are integers: q is exact to 1e-6
        let pacc = FractionEstimation.estimate(.probabilisticAdjustedClassifyAndCount, sums: observed, calibration: calibration)
        #expect(pacc.used == .probabilisticAdjustedClassifyAndCount)
        #expect(near(pacc.fractions, pi, 1e-12))
        #expect(pacc.clippedMass == 0 && pacc.check.contains("label shift") && pacc.check.contains("no fraction clipped"))
        // Every estimator's values are reported whichever was asked for.
        #expect(near(acc.all[.probabilisticAdjustedClassifyAndCount]!, pi, 1e-12))
        #expect(near(acc.all[.probabilisticClassifyAndCount]!, qSoft, 1e-12))
    }

    @Test func identityRatesGiveClassifyAndCount() throws {
        let identity = OutOfBagCalibration(classCount: 4, confusion: [50, 0, 0, 0, 0, 20, 0, 0, 0, 0, 7, 0, 0, 0, 0, 90],
                                           posteriorSums: [50, 0, 0, 0, 0, 20, 0, 0, 0, 0, 7, 0, 0, 0, 0, 90])
        let observed = sums(counts: [123, 456, 78, 9], probabilities: [100.5, 400.25, 150, 15.25])
        let cc = FractionEstimation.estimate(.classifyAndCount, sums: observed, calibration: identity)
        let acc = FractionEstimation.estimate(.adjustedClassifyAndCount, sums: observed, calibration: identity)
        let pcc = FractionEstimation.estimate(.probabilisticClassifyAndCount, sums: observed, calibration: identity)
        let pacc = FractionEstimation.estimate(.probabilisticAdjustedClassifyAndCount, sums: observed, calibration: identity)
        #expect(acc.fractions == cc.fractions && acc.conditionNumber == 1)
        #expect(pacc.fractions == pcc.fractions)
        #expect(cc.fractions == [123, 456, 78, 9].map { Double($0) / 666 })
    }

    @Test func matchesThePythonReference() throws {
        // Numbers printed by `python3 bench/fractions/reference.py` (numpy.linalg.solve / cond).
        let m = OutOfBagCalibration(classCount: 3, confusion: exampleConfusion, posteriorSums: exampleConfusion.map(Double.init)).hardRates!
        #expect(near(m, [0.8, 0.1, 0.04, 0.15, 0.85, 0.06, 0.05, 0.05, 0.9]))
        let a = FractionEstimation.adjust(observed: [0.5, 0.3, 0.2], rates: m)!
        #expect(near(a.exact, [0.5865546218487394, 0.23697478991596638, 0.17647058823529413]))
        #expect(a.clippedMass == 0 && near(a.fractions, a.exact))
        #expect(abs(FractionEstimation.conditionNumber(m, classCount: 3) - 1.436177070403231) < 1e-9)
        // A shift beyond the rates: the exact solution has a negative share, clipped and renormalised.
        let b = FractionEstimation.adjust(observed: [0.03, 0.12, 0.85], rates: m)!
        #expect(near(b.exact, [-0.019327731092436982, 0.07815126050420168, 0.9411764705882354]))
        #expect(near(b.fractions, [0.0, 0.07666941467436107, 0.9233305853256388]))
        #expect(abs(b.clippedMass - 0.019327731092436982) < 1e-12)
    }

    @Test func illConditionedRatesFallBackAndSaySo() throws {
        // Classes 1 and 2 confused half the time: M is singular in those two columns.
        let confused = OutOfBagCalibration(classCount: 3, confusion: [50, 50, 0, 50, 50, 0, 0, 0, 100],
                                           posteriorSums: [50, 50, 0, 50, 50, 0, 0, 0, 100])
        let observed = sums(counts: [40, 40, 20], probabilities: [40, 40, 20])
        let acc = FractionEstimation.estimate(.adjustedClassifyAndCount, sums: observed, calibration: confused)
        #expect(acc.used == .classifyAndCount && acc.fractions == [0.4, 0.4, 0.2])
        #expect(acc.check.contains("condition number") && acc.check.contains("cc reported instead of acc"))
        #expect(acc.all[.adjustedClassifyAndCount] == nil)
        let none = FractionEstimation.estimate(.probabilisticAdjustedClassifyAndCount, sums: observed, calibration: nil)
        #expect(none.used == .probabilisticClassifyAndCount && none.check.contains("no out-of-bag rates"))
        // A class without out-of-bag rows has no rates.
        let empty = OutOfBagCalibration(classCount: 2, confusion: [10, 0, 0, 0], posteriorSums: [10, 0, 0, 0])
        #expect(empty.hardRates == nil)
        let fallback = FractionEstimation.estimate(.adjustedClassifyAndCount, sums: sums(counts: [3, 1], probabilities: [3, 1]), calibration: empty)
        #expect(fallback.used == .classifyAndCount)
    }

    @Test func intervalsAreSeededAndExactWhereThereIsNoVariation() throws {
        // Identical blocks and no adjustment: every replicate gives the same fractions.
        let block = sums(counts: [30, 10], probabilities: [28, 12])
        let flat = FractionEstimation.intervals(.classifyAndCount, blocks: Array(repeating: block, count: 8), calibration: nil)!
        #expect(flat.lower == [0.75, 0.25] && flat.upper == [0.75, 0.25])
        // Varying blocks with adjustment: seeded (the same twice), brackets the estimate.
        let calibration = OutOfBagCalibration(classCount: 3, confusion: exampleConfusion, posteriorSums: exampleConfusion.map(Double.init))
        var blocks: [FractionSums] = []
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<20 {
            let a = 40 + rng.next(below: 20), b = 25 + rng.next(below: 10)
            blocks.append(sums(counts: [a, b, 100 - a - b], probabilities: [Double(a), Double(b), Double(100 - a - b)]))
        }
        var total = FractionSums(classCount: 3)
        for b in blocks { total.add(b) }
        let point = FractionEstimation.estimate(.adjustedClassifyAndCount, sums: total, calibration: calibration)
        let first = FractionEstimation.intervals(.adjustedClassifyAndCount, blocks: blocks, calibration: calibration)!
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let second = FractionEstimation.intervals(.adjustedClassifyAndCount, blocks: blocks, calibration: calibration)!
        #expect(first.lower == second.lower && first.upper == second.upper)
        for c in 0..<3 { #expect(first.lower[c] <= point.fractions[c] && point.fractions[c] <= first.upper[c] && first.lower[c] < first.upper[c]) }
    }

    @Test func outOfBagCalibrationIsConsistentAndThreadIndependent() throws {
        var rng = SeededGenerator(seed: 5)
        var rows: [Float] = [], labels: [Int32] = []
        for i in 0..<600 {
            let c = Int32(i % 3)
            labels.append(c + 1)
            rows += [Float(Double(c) * 1.5 + rng.nextGaussian()), Float(rng.nextGaussian())]
        }
        var configuration = RandomForestConfiguration()
        configuration.treeCount = 30
        configuration.seed = 2
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let serial = try RandomForest.train(rows: rows, featureCount: 2, labels: labels, configuration: configuration)
        Parallel.threadCount = 4
        let parallel = try RandomForest.train(rows: rows, featureCount: 2, labels: labels, configuration: configuration)
        let calibration = try #require(serial.outOfBagCalibration)
        #expect(parallel.outOfBagCalibration == calibration)
        // Votes per true class add up to the rows voted, and the diagonal is the out-of-bag accuracy.
        let voted = calibration.rows.reduce(0, +)
        #expect(voted > 550 && voted <= 600)
        let diagonal = (0..<3).reduce(0) { $0 + calibration.confusion[$1 * 3 + $1] }
        #expect(abs(Double(diagonal) / Double(voted) - serial.outOfBagAccuracy!) < 1e-15)
        // Probability sums per row sum to the rows (each row's probabilities sum to 1).
        for t in 0..<3 {
            let total = (0..<3).reduce(0.0) { $0 + calibration.posteriorSums[t * 3 + $1] }
            #expect(abs(total - Double(calibration.rows[t])) < 1e-3)
        }
        // The calibration survives the JSON form; a damaged one is an error.
        let data = try JSONEncoder().encode(serial)
        #expect(try JSONDecoder().decode(RandomForest.self, from: data).outOfBagCalibration == calibration)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["outOfBagCalibration"] = ["classCount": 3, "confusion": [1, 2], "posteriorSums": [1.0, 2.0]]
        let damaged = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RandomForest.self, from: damaged) }
    }
}
