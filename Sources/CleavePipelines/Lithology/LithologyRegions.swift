import CleaveCore
import CleaveObjects
import Foundation

/// The region classes of a lithology map, numbered as in the region TIFFs.
public enum LithologyClass: Int32, CaseIterable, Codable, Sendable {
    /// Most of the block is empty space connected to the scan's border (outside the sample).
    case outside = 1
    /// Porosity below the threshold.
    case lowPorosity = 2
    /// Porosity at or above the threshold.
    case highPorosity = 3
    /// Elongated pores (cracks) make up a share of the block.
    case fracture = 4

    /// The class's name in legends and tables (`outside`, `low porosity`, …).
    public var name: String {
        switch self {
        case .outside: return "outside"
        case .lowPorosity: return "low porosity"
        case .highPorosity: return "high porosity"
        case .fracture: return "fracture"
        }
    }
}

/// One block of a high-resolution class map, measured.
public struct LithologyBlockTruth: Sendable, Equatable {
    /// Block row and column in the block grid.
    public var row: Int
    /// Block column in the block grid.
    public var column: Int
    /// Share of the block's sample pixels (outside left out) that are pore; NaN when the block is all outside.
    public var porosity: Double
    /// Share of the block that lies outside the sample.
    public var outsideShare: Double
    /// Share of the block's sample pixels that belong to elongated pores.
    public var fractureShare: Double
}

/// Region classes from a high-resolution class map: where the sample is, how porous each block
/// is, and where the cracks are. The rules are stated in ``LithologyOptions`` and written to the
/// summary, so a reader can check them against the map.
public enum LithologyRegions {
    /// Measures every whole block of `labels` (a class-index map at high resolution).
    ///
    /// - Outside: the blocks that are at least 90 % pore and reach the map's border through such
    ///   blocks (4-neighbours in the block grid) seed it; every pore pixel connected
    ///   (8-neighbours) to a pore pixel of a seed block is outside. With no such block, nothing is.
    /// - Fracture pixels: connected pores (inside) whose second moments give an elongation
    ///   √(λ₁/λ₂) ≥ `options.fractureElongation` and a major axis 4√λ₁ of at least one block side.
    /// - Complexity: O(pixels).
    public static func measure(_ labels: Image<UInt16>, options: LithologyOptions) -> [LithologyBlockTruth] {
        let width = labels.width, height = labels.height, side = options.blockSize
        let rows = height / side, columns = width / side
        guard rows > 0, columns > 0 else { return [] }
        let pore = UInt16(clamping: options.poreClass)
        let isPore = labels.pixels.map { $0 == pore }

        // Seed blocks: ≥ 90 % pore, connected to the grid border through such blocks.
        var poreCount = [Int](repeating: 0, count: rows * columns)
        for y in 0..<(rows * side) {
            let base = y * width, blockRow = y / side
            for x in 0..<(columns * side) where isPore[base + x] { poreCount[blockRow * columns + x / side] += 1 }
        }
        let full = side * side
        let empty = poreCount.map { Double($0) >= 0.9 * Double(full) }
        var seed = [Bool](repeating: false, count: rows * columns)
        var stack: [Int] = []
        for r in 0..<rows { for c in 0..<columns where (r == 0 || c == 0 || r == rows - 1 || c == columns - 1) && empty[r * columns + c] {
            seed[r * columns + c] = true; stack.append(r * columns + c)
        } }
        while let b = stack.popLast() {
            let r = b / columns, c = b % columns
            for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                let nr = r + dr, nc = c + dc
                guard nr >= 0, nr < rows, nc >= 0, nc < columns else { continue }
                let n = nr * columns + nc
                if empty[n] && !seed[n] { seed[n] = true; stack.append(n) }
            }
        }

        let components = ConnectedComponents.label(mask: isPore, shape: labels.shape, connectivity: .full)
        let count = components.objectCount
        var outsideObject = [Bool](repeating: false, count: count + 1)
        for r in 0..<rows { for c in 0..<columns where seed[r * columns + c] {
            for y in (r * side)..<((r + 1) * side) {
                for x in (c * side)..<((c + 1) * side) { outsideObject[Int(components.labels[y * width + x])] = true }
            }
        } }
        outsideObject[0] = false

        // Second moments of every inside pore.
        var n = [Double](repeating: 0, count: count + 1), sx = n, sy = n, sxx = n, syy = n, sxy = n
        for y in 0..<height {
            let base = y * width
            for x in 0..<width {
                let l = Int(components.labels[base + x])
                guard l > 0, !outsideObject[l] else { continue }
                let fx = Double(x), fy = Double(y)
                n[l] += 1; sx[l] += fx; sy[l] += fy; sxx[l] += fx * fx; syy[l] += fy * fy; sxy[l] += fx * fy
            }
        }
        var crack = [Bool](repeating: false, count: count + 1)
        for l in 1...max(1, count) where l <= count && n[l] >= 2 {
            let mx = sx[l] / n[l], my = sy[l] / n[l]
            let a = sxx[l] / n[l] - mx * mx, b = syy[l] / n[l] - my * my, c = sxy[l] / n[l] - mx * my
            let root = ((a - b) * (a - b) / 4 + c * c).squareRoot()
            let major = (a + b) / 2 + root, minor = max((a + b) / 2 - root, 1.0 / 12)  // a one-pixel-wide line has variance 1/12 across
            if (major / minor).squareRoot() >= options.fractureElongation && 4 * major.squareRoot() >= Double(side) { crack[l] = true }
        }

        var result: [LithologyBlockTruth] = []
        result.reserveCapacity(rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                var outside = 0, inside = 0, pores = 0, cracks = 0
                for y in (r * side)..<((r + 1) * side) {
                    let base = y * width
                    for x in (c * side)..<((c + 1) * side) {
                        let l = Int(components.labels[base + x])
                        if l > 0 && outsideObject[l] { outside += 1; continue }
                        inside += 1
                        if l > 0 { pores += 1; if crack[l] { cracks += 1 } }
                    }
                }
                result.append(LithologyBlockTruth(row: r, column: c,
                                                  porosity: inside > 0 ? Double(pores) / Double(inside) : .nan,
                                                  outsideShare: Double(outside) / Double(full),
                                                  fractureShare: inside > 0 ? Double(cracks) / Double(inside) : 0))
            }
        }
        return result
    }

    /// The class of a measured block under `threshold` (porosity) and the options' rules:
    /// outside when at least half the block is outside, then fracture, then high / low porosity.
    public static func classify(_ block: LithologyBlockTruth, threshold: Double, options: LithologyOptions) -> LithologyClass {
        if block.outsideShare >= 0.5 || !block.porosity.isFinite { return .outside }
        if block.fractureShare >= options.fractureShare { return .fracture }
        return block.porosity >= threshold ? .highPorosity : .lowPorosity
    }

    /// The default porosity threshold: the median porosity of the sample blocks (neither outside
    /// nor fracture), so that the two porosity classes split the training data in halves.
    /// Returns nil when there is no such block.
    public static func medianPorosity(_ blocks: [LithologyBlockTruth], options: LithologyOptions) -> Double? {
        let values = blocks.filter { $0.outsideShare < 0.5 && $0.porosity.isFinite && $0.fractureShare < options.fractureShare }
            .map(\.porosity).sorted()
        guard !values.isEmpty else { return nil }
        let m = values.count / 2
        return values.count % 2 == 1 ? values[m] : (values[m - 1] + values[m]) / 2
    }
}
