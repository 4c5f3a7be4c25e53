import CleaveCore

/// One node in a forest's flat node array (12 bytes).
///
/// Internal node: go to `child` when `x[feature] ≤ threshold`, else to `child + 1` (children are
/// allocated in pairs). Leaf: `child` is the node itself and `threshold` is +∞, so the branch-free
/// step `next = child + (x > threshold ? 1 : 0)` stays put — prediction needs no leaf test inside
/// its inner loop.
@usableFromInline
struct ForestNode: Hashable, Sendable {
    @usableFromInline var feature: Int32
    @usableFromInline var threshold: Float
    @usableFromInline var child: Int32

    @inlinable init(feature: Int32, threshold: Float, child: Int32) {
        self.feature = feature; self.threshold = threshold; self.child = child
    }
}

/// A tree as grown, with tree-local node indices.
struct GrownTree {
    var nodes: [ForestNode]
    /// Class fractions (weighted) per node: `values[node * classCount + c]`.
    var values: [Float]
    var depth: Int
    /// Weighted impurity decrease per feature (not yet normalised).
    var importance: [Double]
}

/// Grows one CART tree (Gini criterion) on binned features.
///
/// Split search: for each candidate feature a weighted class histogram over its bins is built from
/// the node's samples and scanned left to right — O(samples + bins) per feature instead of the
/// O(samples · log samples) sort of exact CART. Small nodes (≤ 24 samples) sort their few bin codes
/// instead, so deep nodes do not pay for 256 empty bins.
struct DecisionTreeBuilder {
    let bins: FeatureBins
    let featureCount: Int
    let classIndex: [Int32]
    let classCount: Int
    let candidateFeatures: Int
    let maxDepth: Int
    let minSamplesSplit: Int
    let minSamplesLeaf: Int

    /// Grows a tree on the samples with positive `weights` (bootstrap count × class weight).
    func grow(weights: [Double], rng: inout SeededGenerator) -> GrownTree {
        let n = bins.sampleCount
        let K = classCount
        var indices: [Int32] = []
        indices.reserveCapacity(n)
        for s in 0..<n where weights[s] > 0 { indices.append(Int32(s)) }

        var nodes: [ForestNode] = [ForestNode(feature: 0, threshold: .infinity, child: 0)]
        var values = [Float](repeating: 0, count: K)
        var importance = [Double](repeating: 0, count: featureCount)
        var maxDepthSeen = 0
        var order = Array(0..<featureCount)
        var hist = [Double](repeating: 0, count: 256 * K)
        var counts = [Int32](repeating: 0, count: 256)
        var totals = [Double](repeating: 0, count: K)
        var leftTotals = [Double](repeating: 0, count: K)
        var bestLeft = [Double](repeating: 0, count: K)
        var small: [(bin: UInt8, sample: Int32)] = []
        small.reserveCapacity(32)

        struct Pending { var node: Int; var start: Int; var end: Int; var depth: Int }
        var stack: [Pending] = [Pending(node: 0, start: 0, end: indices.count, depth: 0)]
        let rootWeight = indices.reduce(0.0) { $0 + weights[Int($1)] }

        bins.codes.withUnsafeBufferPointer { codes in
        classIndex.withUnsafeBufferPointer { labels in
        weights.withUnsafeBufferPointer { w in
        while let item = stack.popLast() {
            let node = item.node, start = item.start, end = item.end
            let count = end - start
            for c in 0..<K { totals[c] = 0 }
            for i in start..<end {
                let s = Int(indices[i])
                totals[Int(labels[s])] += w[s]
            }
            var total = 0.0
            for c in 0..<K { total += totals[c] }
            var sumSquares = 0.0
            for c in 0..<K {
                values[node * K + c] = total > 0 ? Float(totals[c] / total) : 0
                sumSquares += totals[c] * totals[c]
            }
            let impurity = total > 0 ? 1 - sumSquares / (total * total) : 0
            maxDepthSeen = max(maxDepthSeen, item.depth)
            nodes[node] = ForestNode(feature: 0, threshold: .infinity, child: Int32(node)) // leaf unless split below
            if count < minSamplesSplit || count < 2 * minSamplesLeaf || item.depth >= maxDepth || impurity <= 1e-12 {
                continue
            }

            // Best split: maximise ΣL²/W_L + ΣR²/W_R (equivalent to minimising weighted Gini).
            let parentProxy = sumSquares / total
            var bestProxy = parentProxy + 1e-12 * total
            var bestFeature = -1
            var bestBin = 0
            var visited = 0
            var next = 0
            while next < featureCount && visited < candidateFeatures {
                let pick = next + rng.next(below: featureCount - next)
                order.swapAt(next, pick)
                let f = order[next]
                next += 1
                let base = f * n
                if count <= 24 {
                    small.removeAll(keepingCapacity: true)
                    for i in start..<end {
                        let s = indices[i]
                        small.append((codes[base + Int(s)], s))
                    }
                    // insertion sort by bin (stable, tiny)
                    if small.count > 1 {
                        for a in 1..<small.count {
                            let item = small[a]
                            var b = a - 1
                            while b >= 0 && small[b].bin > item.bin { small[b + 1] = small[b]; b -= 1 }
                            small[b + 1] = item
                        }
                    }
                    if small[0].bin == small[small.count - 1].bin { continue }
                    visited += 1
                    for c in 0..<K { leftTotals[c] = 0 }
                    var leftWeight = 0.0
                    var a = 0
                    while a < small.count - 1 {
                        let bin = small[a].bin
                        while a < small.count && small[a].bin == bin {
                            let s = Int(small[a].sample)
                            leftTotals[Int(labels[s])] += w[s]
                            leftWeight += w[s]
                            a += 1
                        }
                        if a >= small.count { break }
                        if a < minSamplesLeaf { continue }
                        if count - a < minSamplesLeaf { break }
                        guard let proxy = splitScore(left: leftTotals, totals: totals, leftWeight: leftWeight, total: total) else { continue }
                        if proxy > bestProxy {
                            bestProxy = proxy; bestFeature = f; bestBin = Int(bin)
                            for c in 0..<K { bestLeft[c] = leftTotals[c] }
                        }
                    }
                    continue
                }
                var lo = 255, hi = 0
                hist.withUnsafeMutableBufferPointer { h in
                counts.withUnsafeMutableBufferPointer { cnt in
                    for i in start..<end {
                        let s = Int(indices[i])
                        let b = Int(codes[base + s])
                        h[b * K + Int(labels[s])] += w[s]
                        cnt[b] += 1
                        if b < lo { lo = b }
                        if b > hi { hi = b }
                    }
                    if lo == hi {
                        for c in 0..<K { h[lo * K + c] = 0 }
                        cnt[lo] = 0
                        return
                    }
                    visited += 1
                    for c in 0..<K { leftTotals[c] = 0 }
                    var leftWeight = 0.0
                    var leftCount = 0
                    for b in lo..<hi {
                        let nb = Int(cnt[b])
                        if nb == 0 { continue }
                        leftCount += nb
                        for c in 0..<K {
                            leftTotals[c] += h[b * K + c]
                            leftWeight += h[b * K + c]
                        }
                        if leftCount < minSamplesLeaf { continue }
                        if count - leftCount < minSamplesLeaf { break }
                        guard let proxy = splitScore(left: leftTotals, totals: totals, leftWeight: leftWeight, total: total) else { continue }
                        if proxy > bestProxy {
                            bestProxy = proxy; bestFeature = f; bestBin = b
                            for c in 0..<K { bestLeft[c] = leftTotals[c] }
                        }
                    }
                    for b in lo...hi {
                        cnt[b] = 0
                        for c in 0..<K { h[b * K + c] = 0 }
                    }
                }
                }
            }
            guard bestFeature >= 0 else { continue }

            // Partition the node's samples: bin ≤ bestBin to the left.
            let base = bestFeature * n
            var i = start, j = end - 1
            while i <= j {
                if Int(codes[base + Int(indices[i])]) <= bestBin { i += 1 } else { indices.swapAt(i, j); j -= 1 }
            }
            let mid = i
            if mid == start || mid == end { continue } // cannot happen with a valid split; stay a leaf

            var leftWeight = 0.0
            for c in 0..<K { leftWeight += bestLeft[c] }
            let rightWeight = total - leftWeight
            let (l2, r2) = childSquares(left: bestLeft, totals: totals)
            let leftImpurity = 1 - l2 / (leftWeight * leftWeight)
            let rightImpurity = 1 - r2 / (rightWeight * rightWeight)
            importance[bestFeature] += (total * impurity - leftWeight * leftImpurity - rightWeight * rightImpurity) / rootWeight

            let child = nodes.count
            nodes[node] = ForestNode(feature: Int32(bestFeature), threshold: bins.edges[bestFeature][bestBin], child: Int32(child))
            nodes.append(ForestNode(feature: 0, threshold: .infinity, child: Int32(child)))
            nodes.append(ForestNode(feature: 0, threshold: .infinity, child: Int32(child + 1)))
            values.append(contentsOf: repeatElement(0, count: 2 * K))
            stack.append(Pending(node: child + 1, start: mid, end: end, depth: item.depth + 1))
            stack.append(Pending(node: child, start: start, end: mid, depth: item.depth + 1))
        }
        }
        }
        }
        return GrownTree(nodes: nodes, values: values, depth: maxDepthSeen, importance: importance)
    }
    /// Σ_c L_c² and Σ_c R_c² for a split whose left child holds the weighted class totals `left`
    /// (the right child holds `totals − left`).
    @inline(__always)
    func childSquares(left: [Double], totals: [Double]) -> (left: Double, right: Double) {
        var l2 = 0.0, r2 = 0.0
        for c in 0..<classCount {
            let l = left[c], r = totals[c] - l
            l2 += l * l; r2 += r * r
        }
        return (l2, r2)
    }

    /// The Gini split score ΣL²/W_L + ΣR²/W_R: maximising it minimises the children's weighted
    /// Gini impurity (W·(1 − Σp²) = W − Σc²/W, and W_L + W_R is fixed). Nil when a side is empty.
    @inline(__always)
    func splitScore(left: [Double], totals: [Double], leftWeight: Double, total: Double) -> Double? {
        let rightWeight = total - leftWeight
        guard leftWeight > 0 && rightWeight > 0 else { return nil }
        let (l2, r2) = childSquares(left: left, totals: totals)
        return l2 / leftWeight + r2 / rightWeight
    }
}
