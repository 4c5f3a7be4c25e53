import CleaveCore

/// How ``RandomForest`` walks its trees at prediction time. Both walks reach the same leaves and
/// add their class fractions in the same order, so the probabilities are bit-identical.
public enum ForestWalk: Sendable, Equatable {
    /// Quantise every feature once to the bin of the forest's own thresholds (a byte), then walk
    /// compact 8-byte nodes comparing bytes (the default: a block's features fit in L1).
    case binned
    /// Compare the float features with the float thresholds (the reference walk).
    case thresholds
}

/// The forest re-expressed on bins of its own thresholds.
///
/// For feature f let `T_f` be the sorted distinct thresholds of all nodes that split on f (at most
/// 255: trees are grown on ≤ 256 quantile bins, and every threshold is one of their edges). A value
/// x gets the byte `bin(x) = #{t ∈ T_f : t < x}`. Since `T_f` is sorted,
/// `x > T_f[j]  ⇔  bin(x) > j`, so a node "go right when x > T_f[j]" becomes "go right when
/// bin(x) > j" — the same decision for every x (NaN: no comparison holds, bin 0, left, exactly as
/// the float walk). Leaves get j = 255 (no byte exceeds it) and point to themselves.
///
/// ```
///   BinNode (8 bytes):  child: Int32 | offset: UInt16 (feature × blockRows) | bin: UInt8 | pad
/// ```
struct BinnedForest {
    /// `featureCount × 256` cut points, each feature's sorted thresholds padded with +∞.
    let cuts: [Float]
    let nodes: [BinNode]
    /// Rows per block: the block's bytes (`featureCount × blockRows`) stay in L1 while all trees walk it.
    let blockRows: Int

    /// Nil when some feature has more than 255 thresholds or the offsets do not fit 16 bits.
    init?(_ forest: RandomForest) {
        let F = forest.featureCount
        let blockRows = min(512, (65_536 / max(F, 1)) & ~15)
        guard blockRows >= 16 else { return nil }
        var perFeature = [[Float]](repeating: [], count: F)
        for (i, node) in forest.nodes.enumerated() where Int(node.child) != i {
            guard !node.threshold.isNaN else { return nil }
            perFeature[Int(node.feature)].append(node.threshold)
        }
        var cuts = [Float](repeating: .infinity, count: F * 256)
        for f in 0..<F {
            var list = perFeature[f]
            list.sort()
            var unique: [Float] = []
            for t in list where unique.last != t { unique.append(t) }
            guard unique.count <= 255 else { return nil }
            for (j, t) in unique.enumerated() { cuts[f * 256 + j] = t }
            perFeature[f] = unique
        }
        var nodes: [BinNode] = []
        nodes.reserveCapacity(forest.nodes.count)
        for (i, node) in forest.nodes.enumerated() {
            if Int(node.child) == i {
                nodes.append(BinNode(child: node.child, offset: 0, bin: 255))
            } else {
                let f = Int(node.feature)
                let list = perFeature[f]
                var lo = 0, hi = list.count - 1
                while lo < hi { let mid = (lo + hi) >> 1; if list[mid] < node.threshold { lo = mid + 1 } else { hi = mid } }
                nodes.append(BinNode(child: node.child, offset: UInt16(f * blockRows), bin: UInt8(lo)))
            }
        }
        self.cuts = cuts
        self.nodes = nodes
        self.blockRows = blockRows
    }

    /// Same contract as the float walk: `output` (`rowCount × classCount`) gets the mean of the
    /// trees' leaf class fractions, summed tree by tree in tree order, then scaled.
    func probabilities(forest: RandomForest, values: UnsafePointer<Float>, rowCount: Int, rowStride: Int, featureStride: Int,
                       output: UnsafeMutablePointer<Float>) {
        let F = forest.featureCount
        let B = blockRows
        let blocks = (rowCount + B - 1) / B
        let source = UncheckedSendable(values), target = UncheckedSendable(output)
        cuts.withUnsafeBufferPointer { cutBuffer in
        nodes.withUnsafeBufferPointer { nodeBuffer in
        forest.values.withUnsafeBufferPointer { valueBuffer in
        forest.treeStarts.withUnsafeBufferPointer { starts in
        forest.treeDepths.withUnsafeBufferPointer { depths in
            let shared = UncheckedSendable((cutBuffer.baseAddress!, nodeBuffer.baseAddress!, valueBuffer.baseAddress!,
                                            starts.baseAddress!, depths.baseAddress!))
            Parallel.forEachChunk(of: blocks, chunkCount: min(blocks, 256)) { range in
                let (cuts, nodes, leafValues, starts, depths) = shared.value
                let bins = UnsafeMutablePointer<UInt8>.allocate(capacity: F * B)
                defer { bins.deallocate() }
                for block in range {
                    let first = block * B
                    let count = min(B, rowCount - first)
                    let padded = (count + 15) & ~15
                    BinnedForest.quantise(values: source.value + first * rowStride, rowCount: count, paddedCount: padded,
                                          rowStride: rowStride, featureStride: featureStride, featureCount: F,
                                          cuts: cuts, blockRows: B, bins: bins)
                    BinnedForest.walk(nodes: nodes, bins: bins, rowCount: count, paddedCount: padded, trees: forest.treeCount,
                                      starts: starts, depths: depths, values: leafValues, classCount: forest.classCount,
                                      output: target.value + first * forest.classCount)
                }
            }
        }
        }
        }
        }
        }
    }

    /// Kernel: the byte of every (feature, row) of a block, `bins[f * blockRows + row]`; rows
    /// `rowCount..<paddedCount` get 0. Eight rows at a time run a branch-free binary search over
    /// the feature's 256 padded cut points (8 steps, the 8 searches independent).
    static func quantise(values: UnsafePointer<Float>, rowCount: Int, paddedCount: Int, rowStride: Int, featureStride: Int,
                         featureCount: Int, cuts: UnsafePointer<Float>, blockRows: Int, bins: UnsafeMutablePointer<UInt8>) {
        for f in 0..<featureCount {
            let cut = cuts + f * 256
            let column = values + f * featureStride
            let out = bins + f * blockRows
            var r = 0
            while r + 8 <= rowCount {
                var x = SIMD8<Float>()
                if rowStride == 1 {
                    x = UnsafeRawPointer(column + r).loadUnaligned(as: SIMD8<Float>.self)
                } else {
                    for l in 0..<8 { x[l] = column[(r + l) * rowStride] }
                }
                var lo = SIMD8<Int32>(repeating: 0)
                var step: Int32 = 128
                while step > 0 {
                    let probe = lo &+ (step - 1)
                    let t = SIMD8<Float>(cut[Int(probe[0])], cut[Int(probe[1])], cut[Int(probe[2])], cut[Int(probe[3])],
                                         cut[Int(probe[4])], cut[Int(probe[5])], cut[Int(probe[6])], cut[Int(probe[7])])
                    lo &+= SIMD8<Int32>(repeating: 0).replacing(with: step, where: t .< x)
                    step >>= 1
                }
                for l in 0..<8 { out[r + l] = UInt8(truncatingIfNeeded: lo[l]) }
                r += 8
            }
            while r < rowCount {
                let x = column[r * rowStride]
                var lo = 0
                var step = 128
                while step > 0 {
                    if cut[lo + step - 1] < x { lo += step }
                    step >>= 1
                }
                out[r] = UInt8(lo)
                r += 1
            }
            while r < paddedCount { out[r] = 0; r += 1 }
        }
    }

    /// Kernel: every tree over one block of bytes, 16 rows at a time (16 independent walks, so
    /// their dependent loads overlap); leaf class fractions are added to `output` tree by tree.
    static func walk(nodes: UnsafePointer<BinNode>, bins: UnsafePointer<UInt8>, rowCount: Int, paddedCount: Int, trees: Int,
                     starts: UnsafePointer<Int32>, depths: UnsafePointer<Int32>, values: UnsafePointer<Float>, classCount K: Int,
                     output: UnsafeMutablePointer<Float>) {
        output.initialize(repeating: 0, count: rowCount * K)
        for t in 0..<trees {
            let root = starts[t]
            let steps = Int(depths[t])
            var first = 0
            while first < paddedCount {
                walkSixteen(nodes: nodes, group: bins + first, root: root, steps: steps, values: values, classCount: K,
                            output: output + first &* K, lanes: min(16, rowCount - first))
                first &+= 16
            }
        }
        let scale = 1 / Float(trees)
        for i in 0..<rowCount * K { output[i] *= scale }
    }

    @inline(__always)
    static func walkSixteen(nodes: UnsafePointer<BinNode>, group: UnsafePointer<UInt8>, root: Int32, steps: Int,
                            values: UnsafePointer<Float>, classCount K: Int, output: UnsafeMutablePointer<Float>, lanes: Int) {
        @inline(__always) func advance(_ index: Int32, _ lane: Int) -> Int32 {
            let node = nodes[Int(index)]
            return node.child &+ (group[Int(node.offset) &+ lane] > node.bin ? 1 : 0)
        }
        var c0 = root, c1 = root, c2 = root, c3 = root, c4 = root, c5 = root, c6 = root, c7 = root, c8 = root, c9 = root, c10 = root, c11 = root, c12 = root, c13 = root, c14 = root, c15 = root
        var step = 0
        while step < steps {
            let n0 = advance(c0, 0), n1 = advance(c1, 1), n2 = advance(c2, 2), n3 = advance(c3, 3)
            let n4 = advance(c4, 4), n5 = advance(c5, 5), n6 = advance(c6, 6), n7 = advance(c7, 7)
            let n8 = advance(c8, 8), n9 = advance(c9, 9), n10 = advance(c10, 10), n11 = advance(c11, 11)
            let n12 = advance(c12, 12), n13 = advance(c13, 13), n14 = advance(c14, 14), n15 = advance(c15, 15)
            let moved = (n0 ^ c0) | (n1 ^ c1) | (n2 ^ c2) | (n3 ^ c3) | (n4 ^ c4) | (n5 ^ c5) | (n6 ^ c6) | (n7 ^ c7) | (n8 ^ c8) | (n9 ^ c9) | (n10 ^ c10) | (n11 ^ c11) | (n12 ^ c12) | (n13 ^ c13) | (n14 ^ c14) | (n15 ^ c15)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3; c4 = n4; c5 = n5; c6 = n6; c7 = n7; c8 = n8; c9 = n9; c10 = n10; c11 = n11; c12 = n12; c13 = n13; c14 = n14; c15 = n15
            if moved == 0 { break }
            step &+= 1
        }
        @inline(__always) func add(_ leaf: Int32, _ lane: Int) {
            guard lane < lanes else { return }
            let v = values + Int(leaf) &* K
            let o = output + lane &* K
            for c in 0..<K { o[c] += v[c] }
        }
        add(c0, 0); add(c1, 1); add(c2, 2); add(c3, 3); add(c4, 4); add(c5, 5); add(c6, 6); add(c7, 7); add(c8, 8); add(c9, 9); add(c10, 10); add(c11, 11); add(c12, 12); add(c13, 13); add(c14, 14); add(c15, 15)
    }
}

/// A node of ``BinnedForest`` (8 bytes): go to `child + (byte > bin ? 1 : 0)`, where `byte` is
/// the row's bin of the node's feature, read at `offset` in the block.
struct BinNode {
    var child: Int32
    var offset: UInt16
    var bin: UInt8
}
