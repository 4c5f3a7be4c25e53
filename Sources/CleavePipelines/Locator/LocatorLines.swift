import CleaveCore
import CleaveFilters

/// The line check of the automatic pick (and of a saved model's pick): patches outside the
/// picked cluster that hold a thin dark line — a fibre — are added to the pick.
///
/// Why: percentile and moment statistics do not see a faint fibre a few pixels wide; it moves
/// about 1 % of a patch's pixels a little (measured on the asbestos set: the missed fibre
/// patches have a lower tail / median of 0.09–0.12, like film). A Hessian ridge filter does:
/// ``darkRidgeStrength(_:sigma:boundary:)`` at σ = ``sigma``, its ``percentile``-th percentile
/// over the patch's own pixels (the patch, less its least-squares plane, is filtered on its own,
/// reflected at its border, so a neighbour's bar or fibre does not leak in and a tilted patch
/// does not fold into a crease), divided by the patch's median grey value (so exposure and tile
/// gains cancel): the patch's **line strength**.
///
/// Assumption, checked on the data and reported (``LocatorLineCheck``): the largest cluster that
/// is not picked is film, and its line strengths are what film gives (holes, texture, noise).
/// A patch whose line strength lies beyond that cluster's far-out fence (Tukey: upper quartile +
/// ``fenceInterquartileRanges`` × interquartile range) is not film and joins the pick. The
/// clusters and their labels are not changed (scores against hand labels stay those of the
/// clustering); only the picked patches, and so the targets, grow. Dark-group patches never join.
/// Not applied when the film reference is too small (fewer than ``minimumFilmPatches`` patches),
/// when the patches are smaller than ``minimumPatchSide`` pixels (82), for sliding windows, and for
/// user or similarity picks.
public enum LocatorLines {
    /// Scale of the ridge filter in pixels: lines up to ~8 px wide (fibres "a few pixels wide").
    public static let sigma = 3.0
    /// Percentile of the ridge strength over a patch (a line covers well under 1 % of a patch).
    public static let percentile = 99.9
    /// Tukey's far-out fence: upper quartile + 3 interquartile ranges.
    public static let fenceInterquartileRanges = 3.0
    /// Fewest patches in the film cluster for its quartiles to mean something.
    public static let minimumFilmPatches = 8
    /// Smallest patch side (pixels) for the check: at least half of the patch must lie beyond the
    /// filter's reach (4σ) from its border, where the reflection at the border shapes the response
    /// (a dark noise pixel in a corner is mirrored into a 2 × 2 dark spot): (s − 8σ)² ≥ s²/2,
    /// s ≥ 8σ / (1 − 1/√2) = 82 px at σ 3. Measured: with 32-px patches on the synthetic montage
    /// the largest ridge values of film patches sat in their corners and 4 targets fell on bare film.
    public static var minimumPatchSide: Int { Int((8 * sigma / (1 - 1 / 2.0.squareRoot())).rounded(.up)) }

    /// Line strength of `region` of `image` (see the type's description); 0 when the patch's
    /// median is not positive.
    public static func strength(_ image: Image<Float>, region: Region) -> Double {
        let width = image.width
        var pixels = [Float](repeating: 0, count: region.width * region.height)
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<region.height {
                let source = (region.y + y) * width + region.x
                for x in 0..<region.width { pixels[y * region.width + x] = p[source + x] }
            }
        }
        // The Hessian does not see a plane, but the reflection at the patch border would fold a
        // tilted patch (vignetting, illumination fall-off) into a crease along its edge — a false
        // dark line. So the patch's least-squares plane is removed first (its constant kept).
        let w = region.width, h = region.height
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        var sx = 0.0, sy = 0.0
        for y in 0..<h {
            for x in 0..<w {
                let v = Double(pixels[y * w + x])
                sx += (Double(x) - cx) * v; sy += (Double(y) - cy) * v
            }
        }
        // Σ(x − cx)² over the patch = h · w(w² − 1)/12; likewise for y.
        let bx = w > 1 ? sx / (Double(h) * Double(w) * Double(w * w - 1) / 12) : 0
        let by = h > 1 ? sy / (Double(w) * Double(h) * Double(h * h - 1) / 12) : 0
        var flat = pixels
        for y in 0..<h {
            for x in 0..<w { flat[y * w + x] = Float(Double(pixels[y * w + x]) - bx * (Double(x) - cx) - by * (Double(y) - cy)) }
        }
        let ridge = darkRidgeStrength(Image(shape: Shape(width: w, height: h), pixels: flat), sigma: sigma).pixels
        let median = patchPercentile(pixels, 50)
        guard median > 0 else { return 0 }
        return patchPercentile(ridge, percentile) / median
    }

    /// numpy's linear percentile of `values` (q in 0…100): the value of
    /// ``OrderStatistics/percentile(_:_:)-array`` without reordering `values` and without a
    /// quickselect over the whole patch (whose mispredicted branches dominated the check). The
    /// two order statistics it needs come from the largest values kept in a short sorted list when
    /// they rank among the 16 largest (the ridge's 99.9th percentile), from counts when the values
    /// are integers spanning fewer than 16 384 (the grey values' median), else from
    /// ``OrderStatistics/unsafePercentileByBins(_:_:bins:gather:)``; by selection on a copy when a
    /// value is not finite.
    public static func patchPercentile(_ values: [Float], _ q: Double) -> Double {
        precondition(!values.isEmpty, "LocatorLines.patchPercentile of no values")
        return values.withUnsafeBufferPointer { v -> Double in
            let n = v.count
            // Exponent bits all set: infinity or NaN. Accumulated without a branch (vectorised).
            var special: UInt32 = 0
            for x in v { special |= (x.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
            guard special == 0 else { var copy = values; return OrderStatistics.percentile(&copy, q) }
            let position = q / 100 * Double(n - 1)
            let below = Int(position.rounded(.down))
            let t = position - Double(below)
            let needsNext = !(t == 0 || below + 1 >= n)
            // The order statistics `below` and `below + 1` (0-based ranks), then numpy's interpolation.
            let pair: (Float, Float)
            if n - below <= 16 {
                pair = largestRanks(v, below: below)
            } else if let counted = countedRanks(v, below: below) {
                pair = counted
            } else {
                var bins: [Int32] = [], gather: [Float] = []
                return OrderStatistics.unsafePercentileByBins(v, q, bins: &bins, gather: &gather)
            }
            let a = Double(pair.0)
            guard needsNext else { return a }
            let b = Double(pair.1)
            let difference = b - a
            return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
        }
    }

    /// Ranks `below` and `below + 1` (the latter equal to the former past the end) of `v` when
    /// they lie among the `v.count − below ≤ 16` largest: those values kept sorted in a short
    /// list, a value entering only when it is larger than the list's smallest.
    static func largestRanks(_ v: UnsafeBufferPointer<Float>, below: Int) -> (Float, Float) {
        let m = v.count - below
        var top = [Float](v[0..<m]).sorted()  // ascending; top[0] is the smallest kept
        top.withUnsafeMutableBufferPointer { top in
            for i in m..<v.count where v[i] > top[0] {
                // Drop the smallest, insert v[i] in order.
                var j = 0
                while j + 1 < m && top[j + 1] < v[i] { top[j] = top[j + 1]; j += 1 }
                top[j] = v[i]
            }
        }
        return (top[0], m > 1 ? top[1] : top[0])
    }

    /// Ranks `below` and `below + 1` of `v` from counts of each value, when every value is an
    /// integer and they span fewer than 16 384 (nil otherwise).
    static func countedRanks(_ v: UnsafeBufferPointer<Float>, below: Int) -> (Float, Float)? {
        var lo = v[0], hi = v[0]
        OrderStatistics.unsafeExtrema(v.baseAddress!, count: v.count, lo: &lo, hi: &hi)
        guard Double(hi) - Double(lo) < 16_384, lo == lo.rounded(.towardZero) else { return nil }
        let span = Int(hi - lo) + 1
        var counts = [Int32](repeating: 0, count: span)
        let integral: Bool = counts.withUnsafeMutableBufferPointer { counts in
            var fraction: Float = 0
            for x in v {
                let offset = x - lo  // exact: less than 2¹⁴ apart (Sterbenz for large values)
                fraction += offset - offset.rounded(.towardZero)  // ≥ 0 each: zero only when every value is an integer
                counts[Int(offset)] &+= 1
            }
            return fraction == 0
        }
        guard integral else { return nil }
        var running = 0, value = 0
        while running + Int(counts[value]) <= below { running += Int(counts[value]); value += 1 }
        let first = lo + Float(value)
        // The next rank: the same value while it has more copies, else the next value present.
        if running + Int(counts[value]) > below + 1 || below + 1 >= v.count { return (first, first) }
        value += 1
        while value < span && counts[value] == 0 { value += 1 }
        return (first, value < span ? lo + Float(value) : first)
    }

    /// Runs the check on a clustered grid run and adds the patches beyond the fence to `pickedMask`.
    /// - Parameters:
    ///   - images: the run's images (raw; the line strength is relative to the patch median, so
    ///     tile gains do not matter).
    ///   - labels: per patch, its cluster (`clusterCount` for the dark group).
    ///   - picked: the picked cluster.
    static func check(_ images: [LocatorImage], layout: LocatorLayout, labels: [Int32], clusterCount k: Int, picked: Int,
                      pickedMask: inout [Bool]) -> LocatorLineCheck {
        guard case .patches = layout.sampling else { return .skipped("sliding windows (the check works on grid patches)") }
        let side = layout.grids.flatMap(\.regions).map { min($0.width, $0.height) }.min() ?? 0
        guard side >= minimumPatchSide else {
            return .skipped("patches of \(side) px are smaller than \(minimumPatchSide) px (half of a patch must lie beyond the filter's reach, 4σ = \(Int(4 * sigma)) px, from its border)")
        }
        var sizes = [Int](repeating: 0, count: k)
        for label in labels where Int(label) < k { sizes[Int(label)] += 1 }
        guard let film = (0..<k).filter({ $0 != picked }).max(by: { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 > $1 }) else {
            return .skipped("no cluster besides the picked one to serve as film")
        }
        guard sizes[film] >= minimumFilmPatches else {
            return .skipped("the largest unpicked cluster (\(film)) has \(sizes[film]) patches, fewer than \(minimumFilmPatches)")
        }
        // Candidates: every clustered patch outside the pick (the film cluster among them).
        var candidates: [Int] = []
        for i in labels.indices where Int(labels[i]) < k && !pickedMask[i] { candidates.append(i) }
        var owner = [(image: Int, region: Region)]()
        owner.reserveCapacity(candidates.count)
        for i in candidates {
            let g = layout.grids.lastIndex { $0.firstIndex <= i }!
            owner.append((g, layout.grids[g].regions[i - layout.grids[g].firstIndex]))
        }
        var strengths = [Double](repeating: 0, count: candidates.count)
        strengths.withUnsafeMutableBufferPointer { s in
            let box = UncheckedSendable(s)
            Parallel.forEach(candidates.count) { j in
                box.value[j] = strength(images[owner[j].image].image, region: owner[j].region)
            }
        }
        var filmValues = zip(candidates, strengths).filter { Int(labels[$0.0]) == film }.map { Float($0.1) }
        let q1 = OrderStatistics.percentile(&filmValues, 25), q3 = OrderStatistics.percentile(&filmValues, 75)
        let fence = q3 + fenceInterquartileRanges * (q3 - q1)
        var added = 0
        for (j, i) in candidates.enumerated() where strengths[j] > fence {
            pickedMask[i] = true
            added += 1
        }
        return LocatorLineCheck(applied: true, reason: nil, filmCluster: film, filmPatches: sizes[film],
                                lowerQuartile: q1, upperQuartile: q3, fence: fence, candidates: candidates.count, added: added)
    }
}

/// What the line check (``LocatorLines``) found: the film reference, the fence, the patches added.
public struct LocatorLineCheck: Sendable, Equatable, CustomStringConvertible {
    /// Whether the check ran (else ``reason`` says why not).
    public var applied: Bool
    /// Why the check did not run (nil when it ran).
    public var reason: String?
    /// The cluster taken as film (the largest unpicked one) and its size.
    public var filmCluster: Int?
    /// Patches in the film cluster (its quartiles are taken over these).
    public var filmPatches: Int = 0
    /// Quartiles of the film cluster's line strengths and the fence above which a patch joins the pick.
    public var lowerQuartile: Double = 0
    /// Upper quartile (Q3) of the film cluster's line strengths.
    public var upperQuartile: Double = 0
    /// The fence Q3 + ``LocatorLines/fenceInterquartileRanges`` × (Q3 − Q1): a line strength above it joins the pick.
    public var fence: Double = 0
    /// Patches tested (clustered, not picked) and patches added to the pick.
    public var candidates: Int = 0
    /// Patches added to the pick (line strength above ``fence``).
    public var added: Int = 0

    static func skipped(_ reason: String) -> LocatorLineCheck { LocatorLineCheck(applied: false, reason: reason) }

    /// One line for the printed output: patches added and the fence, or why the check did not run.
    public var description: String {
        guard applied, let film = filmCluster else { return "not applied: " + (reason ?? "off") }
        return "\(added) of \(candidates) unpicked patches added (dark-line strength above the fence "
            + String(format: "%.4g", fence) + " = Q3 + \(Int(LocatorLines.fenceInterquartileRanges)) IQR of film cluster \(film), "
            + "\(filmPatches) patches, Q1 " + String(format: "%.4g", lowerQuartile) + ", Q3 " + String(format: "%.4g", upperQuartile)
            + "; σ \(LocatorLines.sigma) px, \(LocatorLines.percentile)th percentile / patch median)"
    }
}
