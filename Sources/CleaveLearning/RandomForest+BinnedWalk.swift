import CleaveCore

/// How ``RandomForest`` walks its trees at prediction time. Both walks reach the same leaves and
/// add their class fractions in the same order, so the probabilities are bit-identical.
public enum ForestWalk: Sendable, Equatable, CaseIterable {
    /// The default. Quantise every feature once to the bin of the forest's own thresholds (a byte,
    /// branch-free), then walk compact 8-byte nodes comparing bytes, 8 rows at a time.
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
///   node (8 bytes):  step: UInt32 = child << 8 | (255 − bin)    offset: UInt32 = feature × blockRows
/// ```
/// `child` counts from the tree's first node. One step is two loads of the node (independent),
/// one load of the byte and `next = (step + byte) >> 8`: the byte added to 255 − bin carries into
/// the child exactly when byte > bin. Inner nodes have bin ≤ 254 (255 − bin ≥ 1); leaves have 0
/// there, so no byte carries and a leaf stays put.
///
/// Quantising: `bin(x)` = the thresholds in cells below x's cell (a table of ``cellCount`` bytes
/// per feature) plus a fixed number of compares with the thresholds from there on — as many as the
/// fullest cell holds (``CellMap/compares``, usually 1 or 2), so the loop has no data-dependent
/// branch. The cell map is either linear in x or linear in x's bits (read as an ordered integer,
/// which spaces cells logarithmically for heavy-tailed features); per feature the one with the
/// fewer compares is used. Cells with more than two thresholds (clusters a few ulps wide) are
/// searched by a fixed-length binary search instead.
struct BinnedForest {
    /// `featureCount × cutPitch` cut points, each feature's sorted thresholds padded with +∞.
    let cuts: [Float]
    /// One cell map per feature.
    let cellMaps: [CellMap]
    /// `featureCount × cellCount`: how many of the feature's thresholds lie in cells below each cell.
    let cellStarts: [UInt8]
    static let cellCount = 4096
    /// Room per feature in ``cuts``: 255 thresholds, then +∞ for the compares that run past them
    /// (start ≤ 255 − compares + 1 … the last compare reads at most index 255 + 255).
    static let cutPitch = 512
    /// Packed nodes (see ``PackedNode``).
    let nodes: [PackedNode]
    /// Rows per block: the block's bytes (`featureCount × blockRows`) stay in L1 while all trees walk it.
    let blockRows: Int

    /// Nil when some feature has more than 255 thresholds, a threshold is NaN, or a tree has 2²⁴ nodes or more.
    init?(_ forest: RandomForest) {
        let F = forest.featureCount
        // Bytes are feature-major, a multiple of the lane count per feature.
        let blockRows = max(BinnedForest.lanes, min(52, 20_480 / max(F, 1) / BinnedForest.lanes) * BinnedForest.lanes)
        for t in 0..<forest.treeCount where forest.treeStarts[t + 1] - forest.treeStarts[t] >= 1 << 24 { return nil }
        var perFeature = [[Float]](repeating: [], count: F)
        for (i, node) in forest.nodes.enumerated() where Int(node.child) != i {
            guard !node.threshold.isNaN else { return nil }
            perFeature[Int(node.feature)].append(node.threshold)
        }
        var cuts = [Float](repeating: .infinity, count: F * BinnedForest.cutPitch)
        for f in 0..<F {
            var list = perFeature[f]
            list.sort()
            var unique: [Float] = []
            for t in list where unique.last != t { unique.append(t) }
            guard unique.count <= 255 else { return nil }
            for (j, t) in unique.enumerated() { cuts[f * BinnedForest.cutPitch + j] = t }
            perFeature[f] = unique
        }
        var nodes: [PackedNode] = []
        nodes.reserveCapacity(forest.nodes.count)
        for t in 0..<forest.treeCount {
            let root = Int(forest.treeStarts[t])
            for i in root..<Int(forest.treeStarts[t + 1]) {
                let node = forest.nodes[i]
                let child = UInt32(Int(node.child) - root)
                if Int(node.child) == i {
                    nodes.append(PackedNode(step: child << 8, offset: 0))
                } else {
                    let f = Int(node.feature)
                    let list = perFeature[f]
                    var lo = 0, hi = list.count - 1
                    while lo < hi { let mid = (lo + hi) >> 1; if list[mid] < node.threshold { lo = mid + 1 } else { hi = mid } }
                    nodes.append(PackedNode(step: child << 8 | UInt32(255 - lo), offset: UInt32(f * blockRows)))
                }
            }
        }
        var maps: [CellMap] = []
        var starts = [UInt8](repeating: 0, count: F * BinnedForest.cellCount)
        for f in 0..<F {
            let list = perFeature[f]
            // Both maps; keep the one whose fullest cell holds fewer thresholds (ties: linear).
            let linear = CellMap(linearOver: list), bits = CellMap(bitsOver: list)
            let map = bits.compares < linear.compares ? bits : linear
            maps.append(map)
            // starts[c] = #{j : cell(T_j) < c}
            var j = 0
            for c in 0..<BinnedForest.cellCount {
                while j < list.count && map.cell(list[j]) < c { j += 1 }
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
        maps.withUnsafeBufferPointer { mapBuffer in
            let shared = UncheckedSendable((cutBuffer.baseAddress!, nodeBuffer.baseAddress!, valueBuffer.baseAddress!,
                                            starts.baseAddress!, depths.baseAddress!, startBuffer.baseAddress!, mapBuffer.baseAddress!))
            Parallel.forEachChunk(of: blocks, chunkCount: min(blocks, 256)) { range in
                let (cuts, nodes, leafValues, starts, depths, cellStarts, maps) = shared.value
                let bins = UnsafeMutablePointer<UInt8>.allocate(capacity: F * B)
                defer { bins.deallocate() }
                for block in range {
                    let first = block * B
                    let count = min(B, rowCount - first)
                    let padded = (count + BinnedForest.lanes - 1) / BinnedForest.lanes * BinnedForest.lanes
                    BinnedForest.quantise(values: source.value + first * rowStride, rowCount: count, paddedCount: padded,
                                          rowStride: rowStride, featureStride: featureStride, featureCount: F,
                                          cuts: cuts, cellMaps: maps, cellStarts: cellStarts,
                                          featurePitch: B, bins: bins)
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
    }

    /// Kernel: the byte of every (feature, row) of a block, `bins[f * featurePitch + row]`; rows
    /// `rowCount..<paddedCount` get 0. `bin(x)` = the thresholds in cells below x's cell (a table)
    /// plus `compares` branch-free compares with the thresholds from there on (see ``CellMap``).
    static func quantise(values: UnsafePointer<Float>, rowCount: Int, paddedCount: Int, rowStride: Int, featureStride: Int,
                         featureCount: Int, cuts: UnsafePointer<Float>, cellMaps: UnsafePointer<CellMap>,
                         cellStarts: UnsafePointer<UInt8>, featurePitch: Int, bins: UnsafeMutablePointer<UInt8>) {
        for f in 0..<featureCount {
            let cut = cuts + f * cutPitch
            let column = values + f * featureStride
            let out = bins + f * featurePitch
            let table = cellStarts + f * cellCount
            let map = cellMaps[f]
            switch map.kind {
            case .linear:
                let origin = map.origin, scale = map.scale
                quantiseColumn(column, rowCount: rowCount, rowStride: rowStride, cut: cut, table: table, compares: map.compares,
                               out: out) { CellMap.linearCell($0, origin: origin, scale: scale) }
            case .bits:
                let origin = map.keyOrigin, shift = map.shift
                quantiseColumn(column, rowCount: rowCount, rowStride: rowStride, cut: cut, table: table, compares: map.compares,
                               out: out) { CellMap.bitsCell($0, keyOrigin: origin, shift: shift) }
            }
            var r = rowCount
            while r < paddedCount { out[r] = 0; r &+= 1 }
        }
    }

    @inline(__always)
    static func quantiseColumn(_ column: UnsafePointer<Float>, rowCount: Int, rowStride: Int, cut: UnsafePointer<Float>,
                               table: UnsafePointer<UInt8>, compares: Int, out: UnsafeMutablePointer<UInt8>,
                               cell: (Float) -> Int) {
        // cut[start + k] < x counts the thresholds of x's cell below x; past them come thresholds of
        // higher cells (all > x) or +∞, which count 0 (as does every compare with NaN).
        @inline(__always) func below(_ t: Float, _ x: Float) -> Int { t < x ? 1 : 0 }
        switch compares {
        case 0:
            for r in 0..<rowCount { out[r] = table[cell(column[r &* rowStride])] }
        case 1:
            for r in 0..<rowCount {
                let x = column[r &* rowStride]
                let b = Int(table[cell(x)])
                out[r] = UInt8(truncatingIfNeeded: b &+ below(cut[b], x))
            }
        case 2:
            for r in 0..<rowCount {
                let x = column[r &* rowStride]
                let b = Int(table[cell(x)])
                out[r] = UInt8(truncatingIfNeeded: b &+ below(cut[b], x) &+ below(cut[b &+ 1], x))
            }
        default:
            // A fixed-length binary search over the `compares` cut points from b: they are sorted, so
            // `t < x` holds for a prefix; [base, base + length] always holds its end.
            for r in 0..<rowCount {
                let x = column[r &* rowStride]
                var base = Int(table[cell(x)]), length = compares
                while length > 1 {
                    let half = length >> 1
                    base &+= below(cut[base &+ half &- 1], x) &* half
                    length &-= half
                }
                out[r] = UInt8(truncatingIfNeeded: base &+ below(cut[base], x))
            }
        }
    }

    /// Kernel: every tree over one block of bytes, ``lanes`` rows at a time (independent walks, so
    /// their dependent loads overlap); leaf class fractions are added to `output` tree by tree.
    static func walk(nodes: UnsafePointer<PackedNode>, bins: UnsafePointer<UInt8>, rowCount: Int, paddedCount: Int, trees: Int,
                     starts: UnsafePointer<Int32>, depths: UnsafePointer<Int32>, values: UnsafePointer<Float>, classCount K: Int,
                     output: UnsafeMutablePointer<Float>) {
        output.initialize(repeating: 0, count: rowCount * K)
        for t in 0..<trees {
            let root = Int(starts[t])
            let steps = Int(depths[t])
            var first = 0
            while first < paddedCount {
                walkLanes(nodes: nodes + root, group: bins + first, steps: steps, values: values + root &* K, classCount: K,
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

    /// One tree (`nodes`, `values` start at its root) down ``lanes`` rows of bytes.
    @inline(__always)
    static func walkLanes(nodes: UnsafePointer<PackedNode>, group: UnsafePointer<UInt8>, steps: Int,
                          values: UnsafePointer<Float>, classCount K: Int, output: UnsafeMutablePointer<Float>, lanes: Int) {
        // `inner` ORs the steps reached: when their low bytes are 0 in all of them, every lane stands on a leaf.
        @inline(__always) func advance(_ index: inout Int, _ inner: inout UInt32, _ lane: Int) {
            let step = nodes[index].step
            let byte = UInt32(group[Int(truncatingIfNeeded: nodes[index].offset) &+ lane])
            inner |= step
            index = Int(truncatingIfNeeded: (step &+ byte) &>> 8)
        }
        var c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0
        var step = 0
        while step < steps {
            var inner: UInt32 = 0
            advance(&c0, &inner, 0); advance(&c1, &inner, 1); advance(&c2, &inner, 2); advance(&c3, &inner, 3)
            advance(&c4, &inner, 4); advance(&c5, &inner, 5); advance(&c6, &inner, 6); advance(&c7, &inner, 7)
            if inner & 0xFF == 0 { break }
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

/// A node of ``BinnedForest``: `step = child << 8 | (255 − bin)` (child counted from the tree's
/// first node; leaves: their own index, bin 255), `offset` = feature × blockRows.
struct PackedNode {
    var step: UInt32
    var offset: UInt32
}

/// How a feature's values are mapped to ``BinnedForest/cellCount`` cells: monotone in x (so a
/// threshold in a lower cell is below x, one in a higher cell above it), NaN → cell 0.
struct CellMap {
    enum Kind { case linear, bits }
    var kind: Kind
    /// Linear: cell = (x − origin) · scale, truncated and clamped.
    var origin: Float = 0, scale: Float = 0
    /// Bits: cell = (key(x) − keyOrigin) >> shift, clamped; key = the float's bits as an ordered integer.
    var keyOrigin: Int = 0, shift: Int = 0
    /// Thresholds in the fullest cell: the compares every value needs.
    var compares: Int = 0

    init(linearOver list: [Float]) {
        kind = .linear
        guard let first = list.first, let last = list.last else { return }
        let width = last - first
        let scale = width > 0 && width.isFinite ? Float(BinnedForest.cellCount - 1) / width : 0
        origin = first
        self.scale = scale.isFinite ? scale : 0
        compares = fullestCell(list)
    }

    init(bitsOver list: [Float]) {
        kind = .bits
        guard let first = list.first, let last = list.last else { return }
        keyOrigin = CellMap.key(first)
        let span = CellMap.key(last) - keyOrigin
        while span >> shift >= BinnedForest.cellCount { shift += 1 }
        compares = fullestCell(list)
    }

    private func fullestCell(_ list: [Float]) -> Int {
        var fullest = 0, run = 0, previous = -1
        for t in list {
            let c = cell(t)
            run = c == previous ? run + 1 : 1
            previous = c
            fullest = max(fullest, run)
        }
        return fullest
    }

    func cell(_ x: Float) -> Int {
        switch kind {
        case .linear: return CellMap.linearCell(x, origin: origin, scale: scale)
        case .bits: return CellMap.bitsCell(x, keyOrigin: keyOrigin, shift: shift)
        }
    }

    @inline(__always)
    static func linearCell(_ x: Float, origin: Float, scale: Float) -> Int {
        let t = (x - origin) * scale
        guard t >= 0 else { return 0 } // also NaN
        return t < Float(BinnedForest.cellCount - 1) ? Int(t) : BinnedForest.cellCount - 1
    }

    /// The bits of x as an integer that orders like x (−0 and +0 alike; NaN below −∞).
    @inline(__always)
    static func key(_ x: Float) -> Int {
        let y = x.isNaN ? -Float.infinity : x + 0 // x + 0 turns −0 into +0
        let bits = Int32(bitPattern: y.bitPattern)
        return Int(bits ^ ((bits >> 31) & 0x7FFF_FFFF))
    }

    @inline(__always)
    static func bitsCell(_ x: Float, keyOrigin: Int, shift: Int) -> Int {
        let c = (key(x) &- keyOrigin) >> shift
        return c < 0 ? 0 : (c < BinnedForest.cellCount ? c : BinnedForest.cellCount - 1)
    }
}

/// A forest's ``BinnedForest``, built once (on the first binned prediction; a forest is immutable)
/// and shared by every copy of the forest value. Derived data: it takes no part in equality.
final class BinnedForestCache: @unchecked Sendable, Equatable {
    private var lock = pthread_mutex_t()
    /// nil: not built yet; .some(nil): the forest has no byte form.
    private var built: BinnedForest?? = nil

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    func forest(_ forest: RandomForest) -> BinnedForest? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let built { return built }
        let binned = BinnedForest(forest)
        built = .some(binned)
        return binned
    }

    static func == (lhs: BinnedForestCache, rhs: BinnedForestCache) -> Bool { true }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
