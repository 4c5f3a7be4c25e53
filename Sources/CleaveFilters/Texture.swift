import CleaveCore

/// Settings of the windowed grey-level co-occurrence (GLCM, Haralick) texture features.
public struct TextureOptions: Sendable, Hashable, Codable {
    /// Grey levels the intensities are quantised to (2…64).
    public var levels: Int
    /// Intensities mapped to the levels: `low` → level 0, `high` → level `levels − 1`; values
    /// outside are clamped. Must be fixed per data set (not per image), so that features of
    /// different images and tiles mean the same thing; e.g. 0…255 for 8-bit, 0…65535 for 16-bit.
    public var low: Double
    public var high: Double

    public init(levels: Int = 16, low: Double = 0, high: Double = 255) {
        precondition((2...64).contains(levels), "TextureOptions(levels:) needs 2...64, got \(levels)")
        precondition(high > low && low.isFinite && high.isFinite, "TextureOptions needs finite low < high, got \(low)...\(high)")
        self.levels = levels; self.low = low; self.high = high
    }

    /// The quantised level of a value.
    @inlinable public func level(_ value: Float) -> Int {
        let t = (Double(value) - low) / (high - low) * Double(levels)
        if !(t > 0) { return 0 }
        return t < Double(levels - 1) ? Int(t) : levels - 1  // +infinity → the top level, never Int(inf)
    }
}

/// The five GLCM texture measures, in output order.
public enum TextureMeasure: String, Sendable, CaseIterable, Codable {
    case contrast, homogeneity, energy, correlation, entropy
}

/// Windowed GLCM texture: for every pixel, the symmetric co-occurrence matrix of quantised grey
/// levels of pixel pairs one step apart in the four directions 0°, 45°, 90°, 135° (summed) with
/// both pixels inside the `window` centred on it, and from it (P = normalised matrix):
///
/// ```
/// contrast    Σ P(i,j)·(i−j)²            homogeneity  Σ P(i,j) / (1 + (i−j)²)
/// energy      sqrt(Σ P(i,j)²)            entropy      −Σ P(i,j)·ln P(i,j)
/// correlation Σ P(i,j)·(i−μ)(j−μ) / σ²   (1 when σ = 0)
/// ```
///
/// These equal scikit-image's `graycoprops` of `graycomatrix(patch, [1], [0, π/4, π/2, 3π/4],
/// levels, symmetric=True)` summed over the angles. Windows beyond the edge read `boundary`
/// samples. 2D (plane by plane).
///
/// The window slides along each row and the matrix and all five sums are updated with exact
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
    let planeCount = image.depth * image.channels
    let outputs = (0..<5).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: image.pixels.count) }
    defer { for o in outputs { o.deallocate() } }
    let outPointers = outputs.map { UncheckedSendable($0) }
    // Fixed-point c·ln c for c up to the pair count of a window (exact integer sums).
    let maxPairs = 2 * 4 * side * side
    let scale = 1048576.0 // 2^20
    var clnc = [Int64](repeating: 0, count: maxPairs + 2)
    for c in 1..<clnc.count { clnc[c] = Int64((Double(c) * _log(Double(c)) * scale).rounded()) }
    let fill = options.level(boundary.fillValue)
    let offsets = [(1, 0), (1, -1), (0, 1), (1, 1)]

    for planeIndex in 0..<planeCount {
        // Quantised plane with an r-pixel border from the boundary rule.
        var q = [Int32](repeating: 0, count: pw * ph)
        image.pixels.withUnsafeBufferPointer { px in
            let base = planeIndex * w * h
            for py in 0..<ph {
                let sy = boundary.sourceIndex(py - r, count: h)
                for px2 in 0..<pw {
                    let sx = boundary.sourceIndex(px2 - r, count: w)
                    if let sx, let sy { q[py * pw + px2] = Int32(options.level(px[base + sy * w + sx])) } else { q[py * pw + px2] = Int32(fill) }
                }
            }
        }
        q.withUnsafeBufferPointer { qb in
            clnc.withUnsafeBufferPointer { tb in
                let qp = UncheckedSendable(qb.baseAddress!), table = UncheckedSendable(tb.baseAddress!)
                Parallel.forEachChunk(of: h, chunkCount: Parallel.chunkCount(total: h, minimumPerChunk: 8)) { rows in
                    var state = CooccurrenceState(levels: levels, table: table.value)
                    defer { state.deallocate() }
                    for y in rows {
                        state.reset()
                        for x in 0..<w {
                            // Offsets (dx, dy): 0°, 45°, 90°, 135°. A pair is in the window when its
                            // left/top "anchor" end lies in a sub-rectangle of it; sliding right by
                            // one drops anchor column x−1 and adds anchor column x + side − 1 − dx.
                            for (dx, dy) in offsets {
                                let y0 = y + max(0, -dy), y1 = y + side - 1 - max(0, dy)
                                if x == 0 {
                                    for ax in 0..<(side - dx) {
                                        for ay in y0...y1 {
                                            state.update(Int(qp.value[ay * pw + ax]), Int(qp.value[(ay + dy) * pw + ax + dx]), 1)
                                        }
                                    }
                                } else {
                                    let leaving = x - 1, entering = x + side - 1 - dx
                                    for ay in y0...y1 {
                                        state.update(Int(qp.value[ay * pw + leaving]), Int(qp.value[(ay + dy) * pw + leaving + dx]), -1)
                                        state.update(Int(qp.value[ay * pw + entering]), Int(qp.value[(ay + dy) * pw + entering + dx]), 1)
                                    }
                                }
                            }
                            let m = state.measures(scale: scale)
                            let o = planeIndex * w * h + y * w + x
                            for k in 0..<5 { outPointers[k].value[o] = m[k] }
                        }
                    }
                }
            }
        }
    }
    return outputs.map { Image(shape: image.shape, pixels: Array(UnsafeBufferPointer(start: $0, count: image.pixels.count)), spacing: image.spacing) }
}

/// The running co-occurrence matrix of one window and its exact integer sums.
struct CooccurrenceState {
    let levels: Int
    let table: UnsafePointer<Int64>
    let counts: UnsafeMutablePointer<Int32>
    let byDistance: UnsafeMutablePointer<Int64>
    var total: Int64 = 0, sumSquares: Int64 = 0, sumCLnC: Int64 = 0
    var sumI: Int64 = 0, sumII: Int64 = 0, sumIJ: Int64 = 0

    init(levels: Int, table: UnsafePointer<Int64>) {
        self.levels = levels
        self.table = table
        counts = .allocate(capacity: levels * levels)
        byDistance = .allocate(capacity: levels)
        reset()
    }

    func deallocate() { counts.deallocate(); byDistance.deallocate() }

    mutating func reset() {
        counts.initialize(repeating: 0, count: levels * levels)
        byDistance.initialize(repeating: 0, count: levels)
        total = 0; sumSquares = 0; sumCLnC = 0; sumI = 0; sumII = 0; sumIJ = 0
    }

    /// Adds (delta 1) or removes (−1) the pair (a, b) in both orders (symmetric matrix).
    @inline(__always) mutating func update(_ a: Int, _ b: Int, _ delta: Int) {
        add(a, b, delta)
        add(b, a, delta)
    }

    @inline(__always) private mutating func add(_ i: Int, _ j: Int, _ delta: Int) {
        let index = i * levels + j
        let c = Int(counts[index])
        let n = c + delta
        counts[index] = Int32(n)
        sumSquares += Int64(n * n - c * c)
        sumCLnC += table[n] - table[c]
        let d = Int64(delta)
        total += d
        byDistance[abs(i - j)] += d
        sumI += d * Int64(i)
        sumII += d * Int64(i * i)
        sumIJ += d * Int64(i * j)
    }

    /// contrast, homogeneity, energy, correlation, entropy of the normalised matrix.
    @inline(__always) func measures(scale: Double) -> SIMD8<Float> {
        let n = Double(total)
        var contrast = 0.0, homogeneity = 0.0
        for d in 0..<levels {
            let c = Double(byDistance[d])
            contrast += c * Double(d * d)
            homogeneity += c / Double(1 + d * d)
        }
        let energy = (Double(sumSquares) / (n * n)).squareRoot()
        // −Σ (c/n)·ln(c/n) = ln n − (Σ c·ln c) / n
        let entropy = _log(n) - Double(sumCLnC) / scale / n
        let mean = Double(sumI) / n
        let variance = Double(sumII) / n - mean * mean
        let covariance = Double(sumIJ) / n - mean * mean
        let correlation = variance < 1e-12 ? 1 : covariance / variance
        return SIMD8(Float(contrast / n), Float(homogeneity / n), Float(energy), Float(correlation), Float(max(0, entropy)), 0, 0, 0)
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
