#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// External clustering scores: how well cluster labels agree with reference (hand) labels.
///
/// Every score follows scikit-learn's `sklearn.metrics` definition exactly (natural logarithms;
/// NMI and AMI with the arithmetic-mean normaliser, scikit-learn's default; AMI with the exact
/// expected mutual information under the hypergeometric model). The scores do not depend on the
/// label values, only on the partition: renaming clusters or classes leaves them unchanged.
///
/// The contingency table has one row per reference class and one column per cluster, both in
/// ascending label order:
/// ```
///               cluster 0  cluster 1 …
///   class A        n_A0       n_A1
///   class B        n_B0       n_B1
/// ```
public struct ClusteringScores: Codable, Equatable, Sendable {
    /// Reference labels present, ascending (contingency rows).
    public let classes: [Int]
    /// Cluster labels present, ascending (contingency columns).
    public let clusters: [Int]
    /// `contingency[i][j]`: samples of class `classes[i]` in cluster `clusters[j]`.
    public let contingency: [[Int]]
    /// Adjusted Rand index (`adjusted_rand_score`), 1 = identical partitions, ~0 = chance.
    public let adjustedRandIndex: Double
    /// Adjusted mutual information (`adjusted_mutual_info_score`, arithmetic).
    public let adjustedMutualInformation: Double
    /// Normalized mutual information (`normalized_mutual_info_score`, arithmetic).
    public let normalizedMutualInformation: Double
    /// Mutual information in nats (`mutual_info_score`).
    public let mutualInformation: Double
    /// Each cluster holds one class only (`homogeneity_score`).
    public let homogeneity: Double
    /// Each class lies in one cluster (`completeness_score`).
    public let completeness: Double
    /// Harmonic mean of homogeneity and completeness (`v_measure_score`, β = 1).
    public let vMeasure: Double

    enum CodingKeys: String, CodingKey {
        case classes, clusters, contingency
        case adjustedRandIndex = "ari", adjustedMutualInformation = "ami", normalizedMutualInformation = "nmi"
        case mutualInformation = "mutual_information", homogeneity, completeness, vMeasure = "v_measure"
    }

    /// Scores `predicted` cluster labels against `truth` labels (one per sample, same order).
    /// - Precondition: equal lengths (the Pipelines layer checks user input and throws first).
    /// - Complexity: O(n + classes × clusters × min(n, …)) — the expected MI term sums over
    ///   feasible cell counts, fast for the tens of clusters seen in practice.
    public init(truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count,
                     "ClusteringScores: truth has \(truth.count) labels, predicted \(predicted.count)")
        let classes = Array(Set(truth)).sorted()
        let clusters = Array(Set(predicted)).sorted()
        var classIndex = [Int: Int](), clusterIndex = [Int: Int]()
        for (i, c) in classes.enumerated() { classIndex[c] = i }
        for (j, c) in clusters.enumerated() { clusterIndex[c] = j }
        var table = [[Int]](repeating: [Int](repeating: 0, count: clusters.count), count: classes.count)
        for (t, p) in zip(truth, predicted) { table[classIndex[t]!][clusterIndex[p]!] += 1 }
        self.init(classes: classes, clusters: clusters, contingency: table)
    }

    /// Scores from a ready contingency table (rows = classes, columns = clusters).
    public init(classes: [Int], clusters: [Int], contingency table: [[Int]]) {
        self.classes = classes
        self.clusters = clusters
        contingency = table
        let n = table.reduce(0) { $0 + $1.reduce(0, +) }
        let a = table.map { $0.reduce(0, +) }
        let b = (0..<clusters.count).map { j in table.reduce(0) { $0 + $1[j] } }

        adjustedRandIndex = ClusteringScores.ari(table: table, a: a, b: b, n: n)
        let mi = ClusteringScores.mutualInformation(table: table, a: a, b: b, n: n)
        mutualInformation = mi
        let hTrue = ClusteringScores.entropy(a), hPred = ClusteringScores.entropy(b)

        // homogeneity_completeness_v_measure
        if n == 0 {
            homogeneity = 1; completeness = 1; vMeasure = 1
        } else {
            let h = hTrue != 0 ? mi / hTrue : 1
            let c = hPred != 0 ? mi / hPred : 1
            homogeneity = h; completeness = c
            vMeasure = h + c == 0 ? 0 : 2 * h * c / (h + c)
        }

        let trivial = (classes.count == 1 && clusters.count == 1) || (classes.isEmpty && clusters.isEmpty)
        // normalized_mutual_info_score (arithmetic)
        if trivial { normalizedMutualInformation = 1 }
        else if mi == 0 { normalizedMutualInformation = 0 }
        else { normalizedMutualInformation = mi / ((hTrue + hPred) / 2) }

        // adjusted_mutual_info_score (arithmetic)
        if trivial {
            adjustedMutualInformation = 1
        } else {
            let emi = ClusteringScores.expectedMutualInformation(a: a, b: b, n: n)
            var denominator = (hTrue + hPred) / 2 - emi
            denominator = denominator < 0 ? min(denominator, -Double.ulpOfOne) : max(denominator, Double.ulpOfOne)
            adjustedMutualInformation = (mi - emi) / denominator
        }
    }

    /// `adjusted_rand_score` via the pair-confusion matrix.
    static func ari(table: [[Int]], a: [Int], b: [Int], n: Int) -> Double {
        var sumSquares = 0.0
        for row in table { for v in row { sumSquares += Double(v) * Double(v) } }
        var rowDot = 0.0, columnDot = 0.0
        for (i, row) in table.enumerated() {
            for (j, v) in row.enumerated() {
                rowDot += Double(v) * Double(b[j])
                columnDot += Double(v) * Double(a[i])
            }
        }
        let nn = Double(n)
        let tp = sumSquares - nn
        let fp = rowDot - sumSquares
        let fn = columnDot - sumSquares
        let tn = nn * nn - fp - fn - sumSquares
        if fn == 0 && fp == 0 { return 1 }
        return 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    }

    /// `mutual_info_score` from the contingency table (tiny terms zeroed and the sum clipped at 0,
    /// as scikit-learn does).
    static func mutualInformation(table: [[Int]], a: [Int], b: [Int], n: Int) -> Double {
        guard a.count > 1, b.count > 1 else { return 0 }
        let total = Double(n)
        let logTotal = log(total)
        let logSums = log(Double(a.reduce(0, +))) + log(Double(b.reduce(0, +)))
        var mi = 0.0
        for (i, row) in table.enumerated() {
            for (j, v) in row.enumerated() where v > 0 {
                let nm = Double(v) / total
                let term = nm * (log(Double(v)) - logTotal) + nm * (-log(Double(a[i]) * Double(b[j])) + logSums)
                if abs(term) >= Double.ulpOfOne { mi += term }
            }
        }
        return max(mi, 0)
    }

    /// Entropy in nats of a partition given its group sizes (`sklearn.metrics.cluster.entropy`).
    static func entropy(_ counts: [Int]) -> Double {
        let nonzero = counts.filter { $0 > 0 }
        if nonzero.isEmpty { return 1 }
        if nonzero.count == 1 { return 0 }
        let total = Double(nonzero.reduce(0, +))
        let logTotal = log(total)
        var h = 0.0
        for c in nonzero { h -= Double(c) / total * (log(Double(c)) - logTotal) }
        return h
    }

    /// Exact expected mutual information of two random partitions with group sizes `a` and `b`
    /// (Vinh, Epps & Bailey 2009), computed as scikit-learn's `expected_mutual_information`.
    static func expectedMutualInformation(a: [Int], b: [Int], n: Int) -> Double {
        guard a.count > 1, b.count > 1 else { return 0 }
        let nn = Double(n)
        let logN = log(nn)
        let lgN1 = logGamma(nn + 1)
        var emi = 0.0
        for ai in a {
            let da = Double(ai)
            let logA = log(da), glnA = logGamma(da + 1), glnNA = logGamma(nn - da + 1)
            for bj in b {
                let db = Double(bj)
                let logB = log(db), glnB = logGamma(db + 1), glnNB = logGamma(nn - db + 1)
                let start = max(1, ai - n + bj), end = min(ai, bj)
                guard start <= end else { continue }
                for nij in start...end {
                    let dn = Double(nij)
                    let term1 = dn / nn
                    let term2 = logN + log(dn) - logA - logB
                    let fixed: Double = glnA + glnB + glnNA + glnNB - (logGamma(dn + 1) + lgN1)
                    let varying: Double = logGamma(da - dn + 1) + logGamma(db - dn + 1) + logGamma(nn - da - db + dn + 1)
                    let gln = fixed - varying
                    emi += term1 * term2 * exp(gln)
                }
            }
        }
        return emi
    }
}

@inline(__always) func logGamma(_ x: Double) -> Double {
    let value: Double = lgamma(x)
    return value
}
