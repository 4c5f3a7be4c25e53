import CleaveCore

/// Adapting a forest's probabilities to the class frequencies of new data (label shift).
///
/// A forest's probabilities carry the class proportions of its training rows as a prior:
/// p_train(c | x) ∝ p(x | c) · π_train(c). With scribbles those proportions are whatever the user
/// happened to draw (often equal per class), not how common each class is in the image, so small
/// phases are over-predicted. Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs of a
/// classifier to new a priori probabilities") estimate the new prior π from the unlabelled data
/// itself by EM and re-weight:
///
/// ```
/// q_i(c) = p_i(c) · π(c)/π_train(c) / Σ_k p_i(k) · π(k)/π_train(k)      (E step)
/// π(c)   = mean_i q_i(c)                                               (M step)
/// ```
extension RandomForest {
    /// The class prior the forest learned: the mean over trees of the root's (weighted) class
    /// fractions, i.e. the class proportions of the bootstrap samples.
    public var trainingPrior: [Double] {
        var prior = [Double](repeating: 0, count: classCount)
        for t in 0..<treeCount {
            let root = Int(treeStarts[t])
            for c in 0..<classCount { prior[c] += Double(values[root * classCount + c]) }
        }
        let sum = prior.reduce(0, +)
        return prior.map { $0 / sum }
    }

    /// Estimates the class prior of the data behind `probabilities` (row-major, `classCount` per
    /// row) by the EM above, starting from and relative to ``trainingPrior``.
    /// - Returns: the estimated prior (sums to 1).
    /// - Complexity: O(rows · classCount · iterations), at most `maxIterations`.
    public func estimatePrior(probabilities: [Float], maxIterations: Int = 200, tolerance: Double = 1e-7) -> [Double] {
        let K = classCount
        let rows = probabilities.count / K
        let train = trainingPrior
        guard rows > 0 else { return train }
        var prior = train
        var weights = [Double](repeating: 1, count: K)
        var q = [Double](repeating: 0, count: K)
        for _ in 0..<maxIterations {
            for c in 0..<K { weights[c] = train[c] > 0 ? prior[c] / train[c] : 0 }
            var next = [Double](repeating: 0, count: K)
            for r in 0..<rows {
                var sum = 0.0
                for c in 0..<K { q[c] = Double(probabilities[r * K + c]) * weights[c]; sum += q[c] }
                guard sum > 0 else { continue }
                for c in 0..<K { next[c] += q[c] / sum }
            }
            let total = next.reduce(0, +)
            guard total > 0 else { return prior }
            var change = 0.0
            for c in 0..<K {
                next[c] /= total
                change = max(change, abs(next[c] - prior[c]))
            }
            prior = next
            if change < tolerance { break }
        }
        return prior
    }

    /// Per-class factors π(c)/π_train(c) that move probabilities from the training prior to `prior`.
    public func priorWeights(for prior: [Double]) -> [Float] {
        let train = trainingPrior
        return (0..<classCount).map { train[$0] > 0 ? Float(prior[$0] / train[$0]) : 0 }
    }

    /// Re-weights row-major probabilities in place by `weights` and renormalises each row.
    public static func unsafeReweight(_ probabilities: UnsafeMutableBufferPointer<Float>, classCount: Int, weights: [Float]) {
        let rows = probabilities.count / classCount
        for r in 0..<rows {
            var sum: Float = 0
            for c in 0..<classCount {
                let v = probabilities[r * classCount + c] * weights[c]
                probabilities[r * classCount + c] = v
                sum += v
            }
            if sum > 0 {
                let inverse = 1 / sum
                for c in 0..<classCount { probabilities[r * classCount + c] *= inverse }
            }
        }
    }
}
