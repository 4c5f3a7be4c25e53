import CleaveCore

/// Settings of the windowed grey-level co-occurrence (GLCM, Haralick) texture features.
public struct TextureOptions: Sendable, Hashable, Codable {
    /// Grey levels the intensities are quantised to (2…64).
    public var levels: Int
    /// Intensities mapped to the levels: `low` → level 0, `high` → level `levels − 1`; values
    /// outside are clamped. Must be fixed per data set (not per image), so that features of
    /// different images and tiles mean the same thing; e.g. 0…255 for 8-bit, 0…65535 for 16-bit.
    public var low: Double
    /// The intensity mapped to the top level (see `low`).
    public var high: Double

    /// Settings with `levels` grey levels over `low…high` (finite, low < high).
    /// - Complexity: O(1).
    public init(levels: Int = 16, low: Double = 0, high: Double = 255) {
        precondition((2...64).contains(levels), "TextureOptions(levels:) needs 2...64, got \(levels)")
        precondition(high > low && low.isFinite && high.isFinite, "TextureOptions needs finite low < high, got \(low)...\(high)")
        self.levels = levels; self.low = low; self.high = high
    }

    /// The quantiser of these settings (`(v − low) / (high − low) · levels`, see ``GreyLevelQuantiser``).
    /// - Complexity: O(1).
    @inlinable public var quantiser: GreyLevelQuantiser { GreyLevelQuantiser(levels: levels, low: low, high: high) }

    /// The quantised level of a value (NaN and values below `low` → 0, +infinity → the top level).
    /// - Complexity: O(1).
    @inlinable public func level(_ value: Float) -> Int { Int(quantiser.level(value)) }
}

/// The five GLCM texture measures, in output order.
public enum TextureMeasure: String, Sendable, CaseIterable, Codable {
    case contrast, homogeneity, energy, correlation, entropy
}

/// Windowed GLCM texture: for every pixel, the symmetric co-occurrence matrix of quantised grey
/// levels of pixel pairs one step apart in the four directions 0°, 45°, 90°, 135° (summed) with
/// both pixels inside the `window` centred on it, and from it the ``HaralickProperties``
/// (correlation in ``HaralickProperties/CorrelationArithmetic/doubleMeans``, entropy clamped at 0).
///
/// These equal scikit-image's `graycoprops` of `graycomatrix(patch, [1], [0, π/4, π/2, 3π/4],
/// levels, symmetric=True)` summed over the angles. Windows beyond the edge read `boundary`
/// samples. 2D (plane by plane). The quantiser, pair geometry, pair-walking kernel and property
/// formulas are the ones of the per-patch texture (Cooccurrence.swift).
///
/// The window slides along each row and the matrix and all its sums are updated with exact
/// integer arithmetic (entropy via a fixed-point `c·ln c` table), so every pixel's values depend
/// only on its window: tiles equal the whole image bit for bit.
/// - Returns: 5 images in ``TextureMeasure`` order.
/// - Complexity: O(pixels × window side × 16) updates, parallel over rows.
public func glcmTexture(_ image: Image<Float>, window side: Int, options: TextureOptions = TextureOptions(),
                        boundary: Boundary = .reflect) -> [Image<Float>] {
    precondition(side >= 3 && side % 2 == 1, "glcmTexture(window:) needs an odd side >= 3, got \(side)")
    let w = image.width, h = image.height
    let r = side / 2
    let pw = w + 2 * r, ph = h + 2 * r
    let levels = options.levels
    let quantiser = options.quantiser
    let planeCount = image.depth * image.channels
    let outputs = (0..<5).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: image.pixels.count) }
    defer { for o in outputs { o.deallocate() } }
    let outPointers = outputs.map { UncheckedSendable($0) }
    // Fixed-point c·ln c for c up to the pair count of a window (exact integer sums).
    let maxPairs = 2 * 4 * side * side
    let scale = 1048576.0 // 2^20
    var clnc = [Int64](repeating: 0, count: maxPairs + 2)
    for c in 1..<clnc.count { clnc[c] = Int64((Double(c) * _cooccurrenceLog(Double(c)) * scale).rounded()) }
    let fill = quantiser.level(boundary.fillValue)
    let offsets = Cooccurrence.offsets(distance: 1)

    for planeIndex in 0..<planeCount {
        // Quantised plane with an r-pixel border from the boundary rule.
        var q = [Int32](repeating: 0, count: pw * ph)
        image.pixels.withUnsafeBufferPointer { px in
            let base = planeIndex * w * h
            for py in 0..<ph {
                let sy = boundary.sourceIndex(py - r, count: h)
                for px2 in 0..<pw {
                    let sx = boundary.sourceIndex(px2 - r, count: w)
                    if let sx, let sy { q[py * pw + px2] = quantiser.level(px[base + sy * w + sx]) } else { q[py * pw + px2] = fill }
                }
            }
        }
        q.withUnsafeBufferPointer { qb in
            clnc.withUnsafeBufferPointer { tb in
                let qp = UncheckedSendable(qb.baseAddress!), table = UncheckedSendable(tb.baseAddress!)
                Parallel.forEachChunk(of: h, chunkCount: Parallel.chunkCount(total: h, minimumPerChunk: 8)) { rows in
                    var state = SlidingCooccurrence(levels: levels, table: table.value)
                    defer { state.deallocate() }
                    for y in rows {
                        state.reset()
                        for x in 0..<w {
                            // The window of output (x, y) is padded columns x…x+side−1, rows y…y+side−1.
                            // Sliding right by one drops the anchor column left of the new window's
                            // anchors and adds its last anchor column.
                            let window = Cooccurrence.Rectangle(x: x, y: y, width: side, height: side)
                            for offset in offsets {
                                let anchors = Cooccurrence.anchors(of: window, offset: offset)
                                if x == 0 {
                                    state.add(qp.value, rowStride: pw, anchors: anchors, offset: offset, delta: 1)
                                } else {
                                    Cooccurrence.unsafeForEachSlidePair(qp.value, rowStride: pw, anchors: anchors, offset: offset, &state)
                                }
                            }
                            let p = state.properties(scale: scale)
                            let o = planeIndex * w * h + y * w + x
                            outPointers[0].value[o] = Float(p.contrast)
                            outPointers[1].value[o] = Float(p.homogeneity)
                            outPointers[2].value[o] = Float(p.energy)
                            outPointers[3].value[o] = Float(p.correlation)
                            outPointers[4].value[o] = Float(max(0, p.entropy))
                        }
                    }
                }
            }
        }
    }
    return outputs.map { Image(shape: image.shape, pixels: Array(UnsafeBufferPointer(start: $0, count: image.pixels.count)), spacing: image.spacing) }
}

/// The running symmetric co-occurrence matrix of one sliding window, its exact ``CooccurrenceSums``
/// and the fixed-point `Σ c·ln c` (scaled by the table's factor).
struct SlidingCooccurrence: CooccurrencePairVisitor {
    let levels: Int
    let table: UnsafePointer<Int64>
    let counts: UnsafeMutablePointer<Int32>
    var sums: CooccurrenceSums
    var fixedCLnC: Int64 = 0
    /// +1 while pairs are added, −1 while they are removed.
    var delta = 1

    init(levels: Int, table: UnsafePointer<Int64>) {
        self.levels = levels
        self.table = table
        counts = .allocate(capacity: levels * levels)
        counts.initialize(repeating: 0, count: levels * levels)
        sums = CooccurrenceSums(levels: levels, byDistance: .allocate(capacity: levels))
    }

    func deallocate() { counts.deallocate(); sums.byDistance.deallocate() }

    mutating func reset() {
        counts.update(repeating: 0, count: levels * levels)
        sums = CooccurrenceSums(levels: levels, byDistance: sums.byDistance)
        fixedCLnC = 0
    }

    /// Adds (`delta` 1) or removes (−1) the pairs of `anchors` at `offset`, each in both orders.
    @inline(__always) mutating func add(_ levels: UnsafePointer<Int32>, rowStride: Int, anchors: Cooccurrence.Rectangle,
                                        offset: Cooccurrence.Offset, delta: Int) {
        self.delta = delta
        Cooccurrence.unsafeForEachPairRun(levels, rowStride: rowStride, anchors: anchors, offset: offset, &self)
    }

    @inline(__always) mutating func visit(_ from: UnsafePointer<Int32>, _ to: UnsafePointer<Int32>, count: Int) {
        var k = 0
        while k < count {
            let a = Int(from[k]), b = Int(to[k])
            tally(a, b, delta)
            tally(b, a, delta)
            k &+= 1
        }
    }

    /// One row of a slide: the leaving pair out, the entering pair in (each in both orders).
    @inline(__always) mutating func unsafeSlide(leaving: UnsafePointer<Int32>, _ leavingTo: UnsafePointer<Int32>,
                                          entering: UnsafePointer<Int32>, _ enteringTo: UnsafePointer<Int32>) {
        let a = Int(leaving.pointee), b = Int(leavingTo.pointee), c = Int(entering.pointee), d = Int(enteringTo.pointee)
        tally(a, b, -1)
        tally(b, a, -1)
        tally(c, d, 1)
        tally(d, c, 1)
    }

    @inline(__always) private mutating func tally(_ i: Int, _ j: Int, _ delta: Int) {
        let index = i * levels + j
        let c = Int(counts[index])
        let n = c + delta
        counts[index] = Int32(n)
        fixedCLnC += table[n] - table[c]
        sums.update(i, j, old: c, new: n, delta: delta)
    }

    /// The properties of the current window.
    @inline(__always) mutating func properties(scale: Double) -> HaralickProperties {
        sums.sumCLnC = Double(fixedCLnC) / scale
        return HaralickProperties(sums, correlation: .doubleMeans)
    }
}
