import Testing
import Foundation
import CleaveCore
import CleaveLearning

@Suite struct ClusteringScoresTests {
    static func labels(_ n: Int, _ a: Int, _ m: Int, _ k: Int) -> [Int] { (0..<n).map { ($0 * a % m) % k } }

    // from sklearn import metrics as M
    // def labels(n, a, m, k): return [(i * a % m) % k for i in range(n)]
    // for t, p in cases:
    //     [M.adjusted_rand_score(t,p), M.adjusted_mutual_info_score(t,p), M.normalized_mutual_info_score(t,p),
    //      M.mutual_info_score(t,p)] + list(M.homogeneity_completeness_v_measure(t,p)); M.cluster.contingency_matrix(t,p)
    static let cases: [(truth: [Int], predicted: [Int], scores: [Double], table: [[Int]])] = [
        (labels(200, 7, 11, 4), labels(200, 5, 13, 3),
         [-0.008108249357849009, -0.008892701803870506, 0.0035928251747043443, 0.004433626960683779,
          0.003226263754627483, 0.0040533595045245405, 0.003592825174704344],
         [[23, 16, 16], [20, 19, 15], [19, 15, 20], [14, 12, 11]]),
        ((0..<100).map { $0 / 25 }, (0..<100).map { $0 % 9 != 0 ? $0 / 25 : ($0 / 25 + 1) % 4 },
         [0.7096, 0.726002447259195, 0.7353195673563183, 1.0193693698471822, 0.7353195673563183, 0.7353195673563183, 0.7353195673563183],
         [[22, 3, 0, 0], [0, 22, 3, 0], [0, 0, 22, 3], [3, 0, 0, 22]]),
        ([0, 0, 1, 1, 2, 2, 2], [5, 5, 5, 7, 7, 9, 9],
         [0.2125, 0.25815114147024687, 0.5636355530993447, 0.6081583698769646, 0.5636355530993447, 0.5636355530993447, 0.5636355530993447],
         [[2, 0, 0], [1, 1, 0], [0, 1, 2]]),
    ]

    static func values(_ s: ClusteringScores) -> [Double] {
        [s.adjustedRandIndex, s.adjustedMutualInformation, s.normalizedMutualInformation, s.mutualInformation,
         s.homogeneity, s.completeness, s.vMeasure]
    }

    @Test(arguments: 0..<3) func matchesScikitLearn(index: Int) {
        let c = Self.cases[index]
        let scores = ClusteringScores(truth: c.truth, predicted: c.predicted)
        #expect(close(Self.values(scores), c.scores, 1e-12), "\(Self.values(scores)) vs \(c.scores)")
        #expect(scores.contingency == c.table)
    }

    @Test(arguments: 0..<3) func invariantToLabelPermutation(index: Int) {
        let c = Self.cases[index]
        let reference = Self.values(ClusteringScores(truth: c.truth, predicted: c.predicted))
        var rng = SeededGenerator(seed: UInt64(index))
        for _ in 0..<5 {
            // Random bijections of both label sets (to arbitrary, even negative, values).
            let t = Array(Set(c.truth)), p = Array(Set(c.predicted))
            let tMap = Dictionary(uniqueKeysWithValues: zip(t, t.map { _ in 0 }.indices.shuffled(using: &rng).map { $0 * 3 - 5 }))
            let pMap = Dictionary(uniqueKeysWithValues: zip(p, p.indices.shuffled(using: &rng).map { 100 - $0 }))
            let permuted = ClusteringScores(truth: c.truth.map { tMap[$0]! }, predicted: c.predicted.map { pMap[$0]! })
            #expect(close(Self.values(permuted), reference, 1e-12))
            // Swapping roles swaps homogeneity and completeness; ARI/AMI/NMI are symmetric.
            let swapped = ClusteringScores(truth: c.predicted, predicted: c.truth)
            #expect(close(swapped.homogeneity, reference[5], 1e-12) && close(swapped.completeness, reference[4], 1e-12))
            #expect(close(swapped.adjustedRandIndex, reference[0], 1e-12) && close(swapped.adjustedMutualInformation, reference[1], 1e-12))
        }
    }

    @Test func edgeCasesAsScikitLearn() {
        // Identical partitions: all 1. One class vs one cluster: all 1. Everything in one cluster: ARI 0, AMI 0, NMI 0.
        let same = ClusteringScores(truth: [0, 0, 1, 1, 2], predicted: [4, 4, 3, 3, 9])
        #expect(Self.values(same).enumerated().allSatisfy { $0.offset == 3 || abs($0.element - 1) < 1e-12 })
        let single = ClusteringScores(truth: [1, 1, 1], predicted: [2, 2, 2])
        #expect(single.adjustedRandIndex == 1 && single.adjustedMutualInformation == 1 && single.normalizedMutualInformation == 1)
        // M.adjusted_rand_score([0,0,1,1],[0,0,0,0]) == 0; AMI == 0; NMI == 0; completeness == 1
        let lumped = ClusteringScores(truth: [0, 0, 1, 1], predicted: [0, 0, 0, 0])
        #expect(lumped.adjustedRandIndex == 0 && lumped.adjustedMutualInformation == 0)
        #expect(lumped.normalizedMutualInformation == 0 && lumped.completeness == 1 && lumped.homogeneity == 0)
    }

    @Test func encodesWithScikitLearnNames() throws {
        let json = String(decoding: try JSONEncoder().encode(ClusteringScores(truth: [0, 1], predicted: [0, 1])), as: UTF8.self)
        for key in ["\"ari\"", "\"ami\"", "\"nmi\"", "\"homogeneity\"", "\"completeness\"", "\"v_measure\""] { #expect(json.contains(key)) }
    }
}
