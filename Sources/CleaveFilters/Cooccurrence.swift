import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one grey-level co-occurrence (GLCM, Haralick) implementation (issue 24). Two front ends call it:
// the per-patch texture of the Locator's patch statistics (`GLCM` in CleaveFeatures, one matrix per
// angle, properties averaged) and the sliding-window texture of the pixel classifier
// (`glcmTexture`, one running matrix summed over the angles). Both share:
//
// 1. ``GreyLevelQuantiser`` — intensities to levels, one clamping rule;
// 2. ``Cooccurrence/offsets(distance:)`` and ``Cooccurrence/anchors(of:offset:)`` — which pixel pairs
//    a rectangle holds — and the kernel that walks them: ``Cooccurrence/unsafeForEachPairRun(_:rowStride:anchors:offset:_:)``
//    (every pair of a rectangle) and ``Cooccurrence/unsafeForEachSlidePair(_:rowStride:anchors:offset:_:)``
//    (the pairs a window loses and gains sliding one column), both handing rows to a ``CooccurrencePairVisitor``;
// 3. ``CooccurrenceSums`` — the exact integer sums of a symmetric count matrix — and
//    ``HaralickProperties/init(_:correlation:)``, the property formulas.

/// Quantisation of intensities to GLCM grey levels 0…`levels − 1`.
///
/// A value maps to `t = (v − low) / span · factor` and then to `⌊t⌋`, clamped to the top level;
/// NaN and everything below `low` go to level 0, +∞ to the top level (never `Int(±∞)`).
/// The two ways of choosing the range keep the arithmetic each front end has always used, so that
/// their outputs stay bit for bit what they were (the two orders round differently exactly on level
/// boundaries, e.g. 8-bit data, 51 levels, value 155):
/// - a fixed range (``init(levels:low:high:)``, the sliding texture): `t = (v − low) / (high − low) · levels`;
/// - a patch's own range (``init(levels:minimum:maximum:)``, the patch statistics):
///   `t = (v − min) · (levels / (max − min))` (span 1; the factor is rounded first).
public struct GreyLevelQuantiser: Sendable, Hashable {
    /// Number of grey levels (≥ 2).
    public let levels: Int
    @usableFromInline let low: Double
    @usableFromInline let span: Double
    @usableFromInline let factor: Double

    /// Levels over a fixed intensity range: `low` → level 0, `high` → the top level. The caller
    /// checks `levels ≥ 2` and finite `low < high` (``TextureOptions`` does when it is made).
    /// - Complexity: O(1).
    @inlinable public init(levels: Int, low: Double, high: Double) {
        self.levels = levels; self.low = low; span = high - low; factor = Double(levels)
    }

    /// Levels over a patch's own `minimum…maximum`; a constant patch (or an empty one, minimum > maximum)
    /// is all level 0.
    /// - Complexity: O(1).
    public init(levels: Int, minimum: Float, maximum: Float) {
        precondition(levels >= 2, "GreyLevelQuantiser needs levels >= 2, got \(levels)")
        self.levels = levels; low = Double(minimum); span = 1
        factor = maximum > minimum ? Double(levels) / (Double(maximum) - Double(minimum)) : 0
    }

    /// The level of one value.
    /// - Complexity: O(1).
    @inlinable @inline(__always) public func level(_ value: Float) -> Int32 {
        let t = (Double(value) - low) / span * factor
        let top = Int32(levels - 1)
        return t > 0 ? (t < Double(top) ? Int32(t) : top) : 0
    }
}

/// Pixel-pair geometry and the pair-walking kernel of the co-occurrence matrix.
public enum Cooccurrence {
    /// A pixel-pair offset: the partner of the pixel at (row, column) is at (row + `row`, column + `column`).
    public typealias Offset = (row: Int, column: Int)

    /// The offsets of the angles 0, π/4, π/2, 3π/4 at `distance`, as scikit-image's `graycomatrix`:
    /// `(round(sin a · d), round(cos a · d))`.
    /// - Complexity: O(1).
    public static func offsets(distance: Int) -> [Offset] {
        [0.0, Double.pi / 4, Double.pi / 2, 3 * Double.pi / 4].map { a in
            (Int((sin(a) * Double(distance)).rounded(.toNearestOrEven)), Int((cos(a) * Double(distance)).rounded(.toNearestOrEven)))
        }
    }

    /// A rectangle of a row-major level grid (a window, or the anchors of its pairs). Unlike
    /// `Region` it is checked by its users, not on creation, so that the sliding texture can make
    /// several per pixel for free.
    @frozen public struct Rectangle: Sendable, Equatable {
        /// First column and row.
        public var x, y: Int
        /// Extent in columns and rows (≥ 0).
        public var width, height: Int

        /// The rectangle of columns `x..<x + width`, rows `y..<y + height`.
        /// - Complexity: O(1).
        @inlinable @inline(__always) public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }

    /// The anchors of the pairs at `offset` with both pixels inside `window`: the pixels whose partner
    /// is inside too (empty when the window is not larger than the offset).
    /// - Complexity: O(1).
    @inlinable @inline(__always) public static func anchors(of window: Rectangle, offset: Offset) -> Rectangle {
        Rectangle(x: window.x + Swift.max(0, -offset.column), y: window.y + Swift.max(0, -offset.row),
                  width: Swift.max(0, window.width - abs(offset.column)), height: Swift.max(0, window.height - abs(offset.row)))
    }

    /// Walks the pairs (anchor, anchor + `offset`) of every anchor in `anchors` on a row-major grid of
    /// levels: `visitor.visit(from, to, count)` once per anchor row, `from` pointing at `count`
    /// consecutive anchor levels and `to` at their partners' levels.
    ///
    /// The caller guarantees that `anchors` and `anchors` moved by `offset` lie inside the grid
    /// (``anchors(of:offset:)`` of a window inside it does).
    /// - Complexity: O(rows of `anchors`) calls of the visitor.
    @inlinable @inline(__always)
    public static func unsafeForEachPairRun<Visitor: CooccurrencePairVisitor>(_ levels: UnsafePointer<Int32>, rowStride: Int, anchors: Rectangle,
                                                                            offset: Offset, _ visitor: inout Visitor) {
        guard anchors.width > 0 && anchors.height > 0 else { return }
        let partner = offset.row &* rowStride &+ offset.column
        var from = levels + (anchors.y &* rowStride &+ anchors.x), rows = anchors.height
        while rows > 0 {
            visitor.visit(from, from + partner, count: anchors.width)
            from += rowStride; rows &-= 1
        }
    }

    /// The pairs a window loses and gains when it slides one column to the right: for each row of
    /// `anchors` (the new window's anchors), `visitor.slide` with the pair whose anchor is in the
    /// column just left of `anchors` (leaving) and the pair whose anchor is in its last column
    /// (entering). The same geometry as ``unsafeForEachPairRun(_:rowStride:anchors:offset:_:)``
    /// on those two one-column rectangles, in one pass.
    ///
    /// The caller guarantees that both columns and their partners lie inside the grid.
    /// - Complexity: O(rows of `anchors`) calls of the visitor.
    @inlinable @inline(__always)
    public static func unsafeForEachSlidePair<Visitor: CooccurrencePairVisitor>(_ levels: UnsafePointer<Int32>, rowStride: Int, anchors: Rectangle,
                                                                              offset: Offset, _ visitor: inout Visitor) {
        guard anchors.width > 0 else { return }
        let partner = offset.row &* rowStride &+ offset.column
        var leaving = levels + (anchors.y &* rowStride &+ anchors.x &- 1), rows = anchors.height
        let width = anchors.width
        while rows > 0 {
            visitor.unsafeSlide(leaving: leaving, leaving + partner, entering: leaving + width, leaving + width + partner)
            leaving += rowStride; rows &-= 1
        }
    }

    /// Counts the symmetric co-occurrence matrix `S` (levels × levels, written to `matrix`) of the
    /// pairs `anchors`/`offset` walk: every pair (i, j) counts once at `[i, j]` and once at `[j, i]`.
    /// `tables` is scratch for 4 · levels² counts (four interleaved tables, by anchor column mod 4,
    /// so that runs of equal neighbouring pairs do not wait on each other's increments).
    /// - Returns: the number of entries the matrix sums to (2 × pairs).
    /// - Complexity: O(anchors + levels²).
    public static func unsafeCountSymmetric(_ levels: UnsafePointer<Int32>, rowStride: Int, anchors: Rectangle, offset: Offset,
                                            levelCount: Int, tables t: UnsafeMutablePointer<Int32>,
                                            into matrix: UnsafeMutablePointer<Int32>) -> Int {
        let cells = levelCount * levelCount, L = levelCount
        t.update(repeating: 0, count: 4 * cells)
        var counter = InterleavedPairCounter(tables: t, cells: cells, levels: L)
        unsafeForEachPairRun(levels, rowStride: rowStride, anchors: anchors, offset: offset, &counter)
        // S[i, j] = F[i, j] + F[j, i], F the sum of the four tables (summed into the first, in place).
        for ij in 0..<cells { t[ij] = t[ij] &+ t[cells + ij] &+ t[2 * cells + ij] &+ t[3 * cells + ij] }
        for i in 0..<L {
            for j in 0..<L { matrix[i * L + j] = t[i * L + j] &+ t[j * L + i] }
        }
        return 2 * anchors.width * anchors.height
    }

    /// Per-patch texture: for each of the four ``offsets(distance:)`` the symmetric matrix of the
    /// patch's pairs, its ``HaralickProperties`` (exact correlation), averaged over the angles —
    /// scikit-image's `graycoprops(graycomatrix(q, [d], angles, levels, symmetric=True, normed=True)).mean()`
    /// of the patch quantised over its own min…max.
    ///
    /// `pixels` is a row-major image `width` wide; `region` (x, y, width, height) must lie inside it.
    /// - Complexity: O(pixels of the region · 4 + levels² · 4).
    public static func unsafePatchProperties(_ pixels: UnsafeBufferPointer<Float>, width: Int, region: Region, distance: Int,
                                             levels: Int, scratch: inout CooccurrenceScratch) -> HaralickProperties {
        let w = region.width, h = region.height
        precondition(w > 0 && h > 0 && distance >= 1 && levels >= 2 && region.x >= 0 && region.y >= 0
                     && region.x + w <= width && (region.y + h) * width <= pixels.count,
                     "Cooccurrence.unsafePatchProperties: region \(region) outside \(width)-wide \(pixels.count) pixels, distance \(distance), levels \(levels)")
        if scratch.levels.count < w * h { scratch.levels = [Int32](repeating: 0, count: w * h) }
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for y in 0..<h {
            OrderStatistics.unsafeExtrema(pixels.baseAddress! + (region.y + y) * width + region.x, count: w, lo: &lo, hi: &hi)
        }
        let quantiser = GreyLevelQuantiser(levels: levels, minimum: lo, maximum: hi)
        scratch.levels.withUnsafeMutableBufferPointer { out in
            for y in 0..<h {
                let row = pixels.baseAddress! + (region.y + y) * width + region.x, target = out.baseAddress! + y * w
                for x in 0..<w { target[x] = quantiser.level(row[x]) }
            }
        }
        let cells = levels * levels
        if scratch.matrix.count < cells { scratch.matrix = [Int32](repeating: 0, count: cells) }
        if scratch.tables.count < 4 * cells { scratch.tables = [Int32](repeating: 0, count: 4 * cells) }
        var result = HaralickProperties(contrast: 0, homogeneity: 0, energy: 0, correlation: 0, entropy: 0)
        let patch = Rectangle(x: 0, y: 0, width: w, height: h)
        for offset in offsets(distance: distance) {
            let angle = scratch.levels.withUnsafeBufferPointer { q in
                scratch.tables.withUnsafeMutableBufferPointer { tables in
                    scratch.matrix.withUnsafeMutableBufferPointer { m in
                        let total = unsafeCountSymmetric(q.baseAddress!, rowStride: w, anchors: anchors(of: patch, offset: offset),
                                                         offset: offset, levelCount: levels, tables: tables.baseAddress!, into: m.baseAddress!)
                        return withUnsafeTemporaryAllocation(of: Int.self, capacity: levels) { byDistance in
                            HaralickProperties(CooccurrenceSums(unsafeSymmetricCounts: m.baseAddress!, levels: levels, total: total,
                                                                byDistance: byDistance.baseAddress!),
                                               correlation: .exactIntegers)
                        }
                    }
                }
            }
            result.contrast += angle.contrast / 4
            result.homogeneity += angle.homogeneity / 4
            result.energy += angle.energy / 4
            result.correlation += angle.correlation / 4
            result.entropy += angle.entropy / 4
        }
        return result
    }

    /// `ln v`, from a table for small counts (most cells of a patch's matrix).
    @inline(__always) static func naturalLog(_ v: Int) -> Double {
        v < logTable.count ? logTable[v] : log(Double(v))
    }

    static let logTable: [Double] = (0..<4096).map { $0 == 0 ? 0 : log(Double($0)) }
}

/// What ``Cooccurrence/unsafeForEachPairRun(_:rowStride:anchors:offset:_:)`` hands each row of pairs to.
public protocol CooccurrencePairVisitor {
    /// One row of pairs: `count` anchor levels from `from`, their partners' levels from `to`.
    /// - Complexity: O(`count`) for the visitors here.
    mutating func visit(_ from: UnsafePointer<Int32>, _ to: UnsafePointer<Int32>, count: Int)
    /// One row of a one-column slide: the leaving pair (`leaving` → `leavingTo`) and the entering
    /// pair (`entering` → `enteringTo`). The default visits them as two runs of one.
    /// - Complexity: O(1) for the visitors here.
    mutating func unsafeSlide(leaving: UnsafePointer<Int32>, _ leavingTo: UnsafePointer<Int32>,
                        entering: UnsafePointer<Int32>, _ enteringTo: UnsafePointer<Int32>)
}

extension CooccurrencePairVisitor {
    /// Visits the leaving pair, then the entering pair, as runs of one.
    /// - Complexity: two `visit` calls.
    @inlinable @inline(__always) public mutating func unsafeSlide(leaving: UnsafePointer<Int32>, _ leavingTo: UnsafePointer<Int32>,
                                                            entering: UnsafePointer<Int32>, _ enteringTo: UnsafePointer<Int32>) {
        visit(leaving, leavingTo, count: 1)
        visit(entering, enteringTo, count: 1)
    }
}

/// Counts pairs (i, j) into four interleaved levels × levels tables, by anchor column mod 4.
struct InterleavedPairCounter: CooccurrencePairVisitor {
    let t: UnsafeMutablePointer<Int32>, t1: UnsafeMutablePointer<Int32>, t2: UnsafeMutablePointer<Int32>, t3: UnsafeMutablePointer<Int32>
    let levels: Int

    init(tables: UnsafeMutablePointer<Int32>, cells: Int, levels: Int) {
        t = tables; t1 = tables + cells; t2 = tables + 2 * cells; t3 = tables + 3 * cells
        self.levels = levels
    }

    @inline(__always) mutating func visit(_ from: UnsafePointer<Int32>, _ to: UnsafePointer<Int32>, count: Int) {
        let L = levels
        var from = from, to = to, remaining = count
        while remaining >= 4 {
            t[Int(from[0]) &* L &+ Int(to[0])] &+= 1
            t1[Int(from[1]) &* L &+ Int(to[1])] &+= 1
            t2[Int(from[2]) &* L &+ Int(to[2])] &+= 1
            t3[Int(from[3]) &* L &+ Int(to[3])] &+= 1
            from += 4; to += 4; remaining &-= 4
        }
        while remaining > 0 { t[Int(from[0]) &* L &+ Int(to[0])] &+= 1; from += 1; to += 1; remaining &-= 1 }
    }
}

/// Working memory of ``Cooccurrence/unsafePatchProperties(_:width:region:distance:levels:scratch:)``,
/// reused across the patches one worker computes.
public struct CooccurrenceScratch: Sendable {
    var levels: [Int32] = []
    var tables: [Int32] = []
    var matrix: [Int32] = []

    /// Empty buffers; they grow to the largest patch and level count they meet.
    /// - Complexity: O(1).
    public init() {}
}

/// The sums of a symmetric co-occurrence count matrix `S` (levels × levels) from which every
/// ``HaralickProperties`` value follows. All but `sumCLnC` are exact integers. An unsafe kernel
/// type: `byDistance` is memory its owner keeps alive.
public struct CooccurrenceSums {
    /// Number of grey levels (the matrix side).
    public let levels: Int
    /// `N = Σ S`.
    public var total = 0
    /// `Σ S²`.
    public var squares = 0
    /// `Σ S·i`, `Σ S·i²`, `Σ S·i·j` (the matrix is symmetric, so the column sums are the same).
    public var moment1 = 0, moment2 = 0, cross = 0
    /// `Σ S·ln S` (0 for empty cells).
    public var sumCLnC = 0.0
    /// `byDistance[d] = Σ_{|i−j|=d} S` for d in 0..<levels; the caller owns the memory.
    public let byDistance: UnsafeMutablePointer<Int>

    /// Sums kept by their owner (all zero here, `byDistance` zeroed).
    /// - Complexity: O(levels).
    public init(levels: Int, byDistance: UnsafeMutablePointer<Int>) {
        self.levels = levels
        self.byDistance = byDistance
        byDistance.initialize(repeating: 0, count: levels)
    }

    /// The sums of the matrix `s` (row-major, levels × levels, symmetric) whose entries add up to
    /// `total`; `Σ S·ln S` from a log table, in row-major order.
    /// - Complexity: O(levels²).
    public init(unsafeSymmetricCounts s: UnsafePointer<Int32>, levels: Int, total: Int, byDistance: UnsafeMutablePointer<Int>) {
        self.init(levels: levels, byDistance: byDistance)
        self.total = total
        var sLogS = 0.0
        for i in 0..<levels {
            let row = s + i * levels
            var rowSum = 0, rowCross = 0
            for j in 0..<levels {
                let v = Int(row[j])
                squares &+= v &* v
                rowSum &+= v
                rowCross &+= v &* j
                byDistance[abs(i - j)] &+= v
                if v > 1 { sLogS += Double(v) * Cooccurrence.naturalLog(v) }
            }
            moment1 &+= rowSum &* i
            moment2 &+= rowSum &* i &* i
            cross &+= rowCross &* i
        }
        sumCLnC = sLogS
    }

    /// Records that the count at `[i, j]` went from `old` to `new` = `old + delta` (`delta` ±1);
    /// `sumCLnC` is the caller's (the sliding texture keeps it in fixed point so that running sums
    /// stay exact).
    /// - Complexity: O(1).
    @inlinable @inline(__always) public mutating func update(_ i: Int, _ j: Int, old: Int, new: Int, delta: Int) {
        squares += new * new - old * old
        total += delta
        byDistance[abs(i - j)] += delta
        moment1 += delta * i
        moment2 += delta * (i * i)
        cross += delta * (i * j)
    }
}

/// Haralick texture properties of a normalised symmetric co-occurrence matrix `P = S / N`:
///
/// ```
/// contrast    Σ P(i,j)·(i−j)²            homogeneity  Σ P(i,j) / (1 + (i−j)²)
/// energy      sqrt(Σ P(i,j)²)            entropy      −Σ P(i,j)·ln P(i,j)  (natural log)
/// correlation Σ P(i,j)·(i−μ)(j−μ) / σ²   (1 when σ = 0)
/// ```
///
/// as scikit-image's `graycoprops` (and `−Σ P ln P` for entropy). Contrast and homogeneity come
/// from the diagonal totals, energy from `Σ S²`, entropy as `ln N − Σ S·ln S / N`, so only the final
/// divisions round.
public struct HaralickProperties: Sendable, Equatable {
    /// The five properties, in the order contrast, homogeneity, energy, correlation, entropy.
    public var contrast, homogeneity, energy, correlation, entropy: Double

    /// The properties given directly.
    /// - Complexity: O(1).
    public init(contrast: Double, homogeneity: Double, energy: Double, correlation: Double, entropy: Double) {
        self.contrast = contrast; self.homogeneity = homogeneity; self.energy = energy
        self.correlation = correlation; self.entropy = entropy
    }

    /// How the correlation's variance and covariance are formed.
    public enum CorrelationArithmetic: Sendable {
        /// `(N·Σ S·i·j − (Σ S·i)²) / (N·Σ S·i² − (Σ S·i)²)` from exact integers (Double only when
        /// 64 bits would overflow); 1 when the variance is exactly 0. The per-patch texture.
        case exactIntegers
        /// `μ = Σ S·i / N`, `σ² = Σ S·i² / N − μ²`, `cov = Σ S·i·j / N − μ²` in Double; 1 when
        /// `σ² < 1e-12`. The sliding texture, whose Float outputs (and the models trained on them)
        /// were made this way; the two forms differ in the last bits only.
        case doubleMeans
    }

    /// The properties of the matrix `sums` describes; an empty matrix (no pairs: a patch not larger
    /// than the distance) gives contrast 0, homogeneity 0, energy 0, correlation 1, entropy 0.
    /// - Complexity: O(levels).
    @inlinable public init(_ sums: CooccurrenceSums, correlation arithmetic: CorrelationArithmetic) {
        guard sums.total > 0 else { self.init(contrast: 0, homogeneity: 0, energy: 0, correlation: 1, entropy: 0); return }
        // Σ diagonal·d² is an integer below 2⁵³, so its Double sum is exact in any order.
        var contrast = 0.0, homogeneity = 0.0
        for d in 0..<sums.levels {
            let c = Double(sums.byDistance[d])
            contrast += c * Double(d * d)
            homogeneity += c / Double(1 + d * d)
        }
        let n = Double(sums.total)
        let correlation: Double
        switch arithmetic {
        case .exactIntegers:
            // N²·var = N·Σ S·i² − (Σ S·i)² and N²·cov = N·Σ S·i·j − (Σ S·i)², both exact integers.
            func difference(_ a: Int, _ b: Int) -> Double {
                let (ab, o1) = a.multipliedReportingOverflow(by: b), (mm, o2) = sums.moment1.multipliedReportingOverflow(by: sums.moment1)
                return o1 || o2 ? Double(a) * Double(b) - Double(sums.moment1) * Double(sums.moment1) : Double(ab - mm)
            }
            let varianceTimesN2 = difference(sums.total, sums.moment2)
            correlation = varianceTimesN2 == 0 ? 1 : difference(sums.total, sums.cross) / varianceTimesN2
        case .doubleMeans:
            let mean = Double(sums.moment1) / n
            let variance = Double(sums.moment2) / n - mean * mean
            let covariance = Double(sums.cross) / n - mean * mean
            correlation = variance < 1e-12 ? 1 : covariance / variance
        }
        self.init(contrast: contrast / n, homogeneity: homogeneity / n,
                  energy: (Double(sums.squares) / (n * n)).squareRoot(), correlation: correlation,
                  entropy: _cooccurrenceLog(n) - sums.sumCLnC / n)
    }
}

/// Natural logarithm (the C library's, as scikit-image's numpy uses).
@usableFromInline func _cooccurrenceLog(_ x: Double) -> Double { log(x) }
