import CleaveCore
import CleaveFilters

/// The grey values of one patch as sorted distinct values with counts.
///
/// Every order statistic, moment, histogram and threshold fraction of the patch can be computed
/// from this compact form. Integer-valued data (8/16-bit images) builds it with a counting pass
/// over the patch's min…max range (O(pixels + range)); other data sorts a copy (O(n log n)).
struct ValueCounts {
    var values: [Double] = []
    var counts: [Int] = []
    /// Running total of counts: cumulative[i] = counts[0] + … + counts[i].
    var cumulative: [Int] = []
    var total = 0

    mutating func reset() { values.removeAll(keepingCapacity: true); counts.removeAll(keepingCapacity: true); cumulative.removeAll(keepingCapacity: true); total = 0 }

    var minimum: Double { values.first! }
    var maximum: Double { values.last! }

    /// The k-th smallest value (0-based).
    func orderStatistic(_ k: Int) -> Double {
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > k { hi = mid } else { lo = mid + 1 }
        }
        return values[lo]
    }

    /// numpy.percentile(a, q) with the default linear method.
    func percentile(_ q: Double) -> Double {
        let position = q / 100 * Double(total - 1)
        let below = Int(position.rounded(.down))
        let t = position - Double(below)
        let a = orderStatistic(below)
        if t == 0 || below + 1 >= total { return a }
        let b = orderStatistic(below + 1)
        // numpy's _lerp: a + (b-a)·t, computed from the nearer end for t ≥ 0.5.
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }
}

/// Scratch buffers one worker reuses across patches.
struct PatchScratch {
    var counts = ValueCounts()
    var histogram: [Int32] = []
    var sortBuffer: [Float] = []
    var modeBins = [Int](repeating: 0, count: 1024)
    var glcm = CooccurrenceScratch()
    var selectBins: [Int32] = []
    var gather: [Float] = []
}

enum PatchKernel {
    /// Fills `scratch.counts` with the patch's values. `integral` promises that every sample is an
    /// integer in 0…65535 (true for 8- and 16-bit sources).
    static func collect(_ pixels: UnsafeBufferPointer<Float>, width: Int, region: Region, integral: Bool,
                        into scratch: inout PatchScratch) {
        scratch.counts.reset()
        let n = region.width * region.height
        scratch.counts.total = n
        if integral {
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for y in region.y..<(region.y + region.height) {
                OrderStatistics.unsafeExtrema(pixels.baseAddress! + y * width + region.x, count: region.width, lo: &lo, hi: &hi)
            }
            let offset = Int(lo)
            let size = Int(hi) - offset + 1
            if scratch.histogram.count < size { scratch.histogram = [Int32](repeating: 0, count: size) }
            scratch.histogram.withUnsafeMutableBufferPointer { h in
                for i in 0..<size { h[i] = 0 }
                for y in region.y..<(region.y + region.height) {
                    let row = y * width + region.x
                    for x in 0..<region.width { h[Int(pixels[row + x]) &- offset] &+= 1 }
                }
                var running = 0
                for i in 0..<size where h[i] != 0 {
                    running += Int(h[i])
                    scratch.counts.values.append(Double(i + offset))
                    scratch.counts.counts.append(Int(h[i]))
                    scratch.counts.cumulative.append(running)
                }
            }
        } else {
            scratch.sortBuffer.removeAll(keepingCapacity: true)
            for y in region.y..<(region.y + region.height) {
                let row = y * width + region.x
                for x in 0..<region.width { scratch.sortBuffer.append(pixels[row + x]) }
            }
            scratch.sortBuffer.sort()
            var running = 0
            var i = 0
            let sorted = scratch.sortBuffer
            while i < sorted.count {
                var j = i + 1
                while j < sorted.count && sorted[j] == sorted[i] { j += 1 }
                running += j - i
                scratch.counts.values.append(Double(sorted[i]))
                scratch.counts.counts.append(j - i)
                scratch.counts.cumulative.append(running)
                i = j
            }
        }
    }

    /// Mean and central moments m2, m3, m4 (population, two-pass).
    static func moments(_ c: ValueCounts) -> (mean: Double, m2: Double, m3: Double, m4: Double) {
        let n = Double(c.total)
        var sum = 0.0
        for i in c.values.indices { sum += c.values[i] * Double(c.counts[i]) }
        let mean = sum / n
        var s2 = 0.0, s3 = 0.0, s4 = 0.0
        for i in c.values.indices {
            let d = c.values[i] - mean
            let d2 = d * d
            let w = Double(c.counts[i])
            s2 += w * d2; s3 += w * d2 * d; s4 += w * d2 * d2
        }
        return (mean, s2 / n, s3 / n, s4 / n)
    }

    /// Centre of the fullest of 1024 numpy.histogram bins over min…max (first on ties).
    static func mode(_ c: ValueCounts, bins: inout [Int]) -> Double {
        let lo = c.minimum, hi = c.maximum
        if lo == hi { return lo }
        let span = hi - lo
        // NaN or ±infinity among the values: no histogram (and no Int(NaN) below); NaN marks it.
        guard span.isFinite else { return .nan }
        let binCount = 1024
        for i in 0..<binCount { bins[i] = 0 }
        let step = span / Double(binCount)
        @inline(__always) func edge(_ i: Int) -> Double { i == binCount ? hi : Double(i) * step + lo }
        for i in c.values.indices {
            let v = c.values[i]
            guard v.isFinite else { return .nan }
            // numpy.histogram's uniform-bin path: f = (v - lo) / span * bins, then fix-ups against the edges.
            var index = Int((v - lo) / span * Double(binCount))
            if index == binCount { index -= 1 }
            if v < edge(index) { index -= 1 }
            if index != binCount - 1 && v >= edge(index + 1) { index += 1 }
            bins[index] += c.counts[i]
        }
        var best = 0
        for i in 1..<binCount where bins[i] > bins[best] { best = i }
        return (edge(best) + edge(best + 1)) / 2
    }
}
