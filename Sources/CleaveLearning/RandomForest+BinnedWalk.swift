import CleaveCore

/// How ``RandomForest`` walks its trees at prediction time. Both walks reach the same leaves and
/// add their class fractions in the same order, so the probabilities are bit-identical.
public enum ForestWalk: Sendable, Equatable, CaseIterable {
    /// The default. Quantise every feature once to the bin of the forest's own thresholds (a byte), then walk
    /// compact 8-byte nodes comparing bytes, 12 rows at a time.
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
///   node (UInt64):  offset: UInt16 (feature × blockRows) | 0     | 255 − bin | child: UInt32
///                   bits 0–15                             16–23   24–31       32–63
/// ```
/// One step is `next = (node + byte << 24) >> 32`: the byte added to 255 − bin carries into the
/// child exactly when byte > bin. Inner nodes have bin ≤ 254 (255 − bin ≥ 1); leaves have 0 there,
/// so no byte carries and a leaf stays put.
struct BinnedForest {
    /// `featureCount × 256` cut points, each feature's sorted thresholds padded with +∞.
    let cuts: [Float]
    /// Per feature the affine map of ``cell(_:origin:scale:)``: (origin, scale).
    let cellMaps: [(origin: Float, scale: Float)]
    /// `featureCount × cellCount`: how many of the feature's thresholds lie in cells below each cell.
    let cellStarts: [UInt8]
    static let cellCount = 4096
    /// Packed nodes (see ``pack(child:offset:bin:)``).
    let nodes: [UInt64]
    /// Rows per block: the block's bytes (`featureCount × blockRows`) stay in L1 while all trees walk it.
    let blockRows: Int

    /// Nil when some feature has more than 255 thresholds or the offsets do not fit 16 bits.
    init?(_ forest: RandomForest) {
        let F = forest.featureCount
        // Bytes are feature-major. Block rows: a multiple of the lane count, with every offset
        // (feature × blockRows) below 2¹⁶.
        let blockRows = min(52 * BinnedForest.lanes, (65_535 / max(F, 1)) / BinnedForest.lanes * BinnedForest.lanes)
        guard blockRows >= 4 * BinnedForest.lanes else { return nil }
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
        var nodes: [UInt64] = []
        nodes.reserveCapacity(forest.nodes.count)
        for (i, node) in forest.nodes.enumerated() {
            if Int(node.child) == i {
                nodes.append(BinnedForest.pack(child: node.child, offset: 0, bin: 255))
            } else {
                let f = Int(node.feature)
                let list = perFeature[f]
                var lo = 0, hi = list.count - 1
                while lo < hi { let mid = (lo + hi) >> 1; if list[mid] < node.threshold { lo = mid + 1 } else { hi = mid } }
                nodes.append(BinnedForest.pack(child: node.child, offset: UInt16(f * blockRows), bin: UInt8(lo)))
            }
        }
        var maps: [(origin: Float, scale: Float)] = []
        var starts = [UInt8](repeating: 0, count: F * BinnedForest.cellCount)
        for f in 0..<F {
            let list = perFeature[f]
            guard let first = list.first, let last = list.last else { maps.append((0, 0)); continue }
            let width = last - first
            let scale = width > 0 && width.isFinite ? Float(BinnedForest.cellCount - 1) / width : 0
            let map = (origin: first, scale: scale.isFinite ? scale : 0)
            maps.append(map)
            // starts[c] = #{j : cell(T_j) < c}
            var j = 0
            for c in 0..<BinnedForest.cellCount {
                while j < list.count && BinnedForest.cell(list[j], origin: map.origin, scale: map.scale) < c { j += 1 }
                starts[f * BinnedForest.cellCount + c] = UInt8(j)
            }
        }
        self.cellMaps = maps
        self.cellStarts = starts
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
        let maps = cellMaps
        cellStarts.withUnsafeBufferPointer { startBuffer in
        cuts.withUnsafeBufferPointer { cutBuffer in
        nodes.withUnsafeBufferPointer { nodeBuffer in
        forest.values.withUnsafeBufferPointer { valueBuffer in
        forest.treeStarts.withUnsafeBufferPointer { starts in
        forest.treeDepths.withUnsafeBufferPointer { depths in
            let shared = UncheckedSendable((cutBuffer.baseAddress!, nodeBuffer.baseAddress!, valueBuffer.baseAddress!,
                                            starts.baseAddress!, depths.baseAddress!, startBuffer.baseAddress!))
            Parallel.forEachChunk(of: blocks, chunkCount: min(blocks, 256)) { range in
                let (cuts, nodes, leafValues, starts, depths, cellStarts) = shared.value
                let bins = UnsafeMutablePointer<UInt8>.allocate(capacity: F * B)
                defer { bins.deallocate() }
                for block in range {
                    let first = block * B
                    let count = min(B, rowCount - first)
                    let padded = (count + BinnedForest.lanes - 1) / BinnedForest.lanes * BinnedForest.lanes
                    BinnedForest.quantise(values: source.value + first * rowStride, rowCount: count, paddedCount: padded,
                                          rowStride: rowStride, featureStride: featureStride, featureCount: F,
                                          cuts: cuts, cellMaps: maps, cellStarts: cellStarts,
                                          featurePitch: B, rowPitch: 1, bins: bins)
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
    }

    /// The cell of x in a feature's table: `(x − origin) · scale` truncated and clamped to
    /// 0…cellCount−1 (NaN → 0). Monotone in x, so a threshold in a lower cell is below x and one in
    /// a higher cell is above it: only thresholds in x's own cell need comparing.
    @inline(__always)
    static func cell(_ x: Float, origin: Float, scale: Float) -> Int {
        let t = (x - origin) * scale
        guard t >= 0 else { return 0 }
        return t < Float(cellCount - 1) ? Int(t) : cellCount - 1
    }

    /// Kernel: the byte of every (feature, row) of a block, `bins[f * featurePitch + row * rowPitch]`; rows
    /// `rowCount..<paddedCount` get 0. `bin(x)` = the thresholds in cells below x's cell (a table)
    /// plus those in its own cell below x (a short scan, usually none).
    static func quantise(values: UnsafePointer<Float>, rowCount: Int, paddedCount: Int, rowStride: Int, featureStride: Int,
                         featureCount: Int, cuts: UnsafePointer<Float>, cellMaps: [(origin: Float, scale: Float)],
                         cellStarts: UnsafePointer<UInt8>, featurePitch: Int, rowPitch: Int, bins: UnsafeMutablePointer<UInt8>) {
        for f in 0..<featureCount {
            let cut = cuts + f * 256
            let column = values + f * featureStride
            let out = bins + f * featurePitch
            let table = cellStarts + f * cellCount
            let (origin, scale) = cellMaps[f]
            var r = 0
            while r < rowCount {
                let x = column[r &* rowStride]
                var b = Int(table[cell(x, origin: origin, scale: scale)])
                while cut[b] < x { b &+= 1 } // cut[255] = +∞ stops it (NaN: no comparison holds)
                out[r &* rowPitch] = UInt8(truncatingIfNeeded: b)
                r &+= 1
            }
            while r < paddedCount { out[r &* rowPitch] = 0; r &+= 1 }
        }
    }

    /// Kernel: every tree over one block of bytes, ``lanes`` rows at a time (independent walks, so
    /// their dependent loads overlap); leaf class fractions are added to `output` tree by tree.
    static func walk(nodes: UnsafePointer<UInt64>, bins: UnsafePointer<UInt8>, rowCount: Int, paddedCount: Int, trees: Int,
                     starts: UnsafePointer<Int32>, depths: UnsafePointer<Int32>, values: UnsafePointer<Float>, classCount K: Int,
                     output: UnsafeMutablePointer<Float>) {
        output.initialize(repeating: 0, count: rowCount * K)
        for t in 0..<trees {
            let root = Int(starts[t])
            let steps = Int(depths[t])
            var first = 0
            while first < paddedCount {
                walkLanes(nodes: nodes, group: bins + first, root: root, steps: steps, values: values, classCount: K,
                          output: output + first &* K, lanes: min(lanes, rowCount - first))
                first &+= lanes
            }
        }
        let scale = 1 / Float(trees)
        for i in 0..<rowCount * K { output[i] *= scale }
    }

    /// Lanes walked together: enough independent dependent-load chains in flight, few enough that
    /// every lane's node index stays in a register (x86-64 has 16).
    static let lanes = 8

    @inline(__always)
    static func walkLanes(nodes: UnsafePointer<UInt64>, group: UnsafePointer<UInt8>, root: Int, steps: Int,
                          values: UnsafePointer<Float>, classCount K: Int, output: UnsafeMutablePointer<Float>, lanes: Int) {
        // One 8-byte load per node and lane (see the layout above). `inner` ORs the nodes reached:
        // when bits 24–31 are 0 in all of them, every lane stands on a leaf.
        @inline(__always) func advance(_ index: inout Int, _ inner: inout UInt64, _ lane: Int) {
            let node = nodes[index]
            inner |= node
            let byte = UInt64(group[Int(truncatingIfNeeded: node & 0xFFFF) &+ lane])
            index = Int(truncatingIfNeeded: (node &+ byte &<< 24) &>> 32)
        }
        var c0 = root, c1 = root, c2 = root, c3 = root, c4 = root, c5 = root, c6 = root, c7 = root
        var step = 0
        while step < steps {
            var inner: UInt64 = 0
            advance(&c0, &inner, 0); advance(&c1, &inner, 1); advance(&c2, &inner, 2); advance(&c3, &inner, 3)
            advance(&c4, &inner, 4); advance(&c5, &inner, 5); advance(&c6, &inner, 6); advance(&c7, &inner, 7)
            if inner & 0xFF00_0000 == 0 { break }
            step &+= 1
        }
        @inline(__always) func add(_ leaf: Int, _ lane: Int) {
            guard lane < lanes else { return }
            let v = values + leaf &* K
            let o = output + lane &* K
            for c in 0..<K { o[c] += v[c] }
        }
        add(c0, 0); add(c1, 1); add(c2, 2); add(c3, 3); add(c4, 4); add(c5, 5); add(c6, 6); add(c7, 7)
    }
}

extension BinnedForest {
    /// A node in 8 bytes: `offset` (feature × blockRows) in bits 0–15, `255 − bin` in 24–31,
    /// `child` in 32–63. Step: `next = (node + bytes[offset + lane] << 24) >> 32`, which is
    /// `child + (byte > bin ? 1 : 0)`.
    static func pack(child: Int32, offset: UInt16, bin: UInt8) -> UInt64 {
        UInt64(offset) | UInt64(255 - bin) << 24 | UInt64(UInt32(bitPattern: child)) << 32
    }
}
