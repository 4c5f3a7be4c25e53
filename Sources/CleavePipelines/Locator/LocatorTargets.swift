import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connected regions of picked patches → ranked targets.
enum LocatorTargets {
    /// Grows a flag grid by `radius` cells (Chebyshev distance), separably.
    static func dilate(_ flags: [Bool], rows: Int, columns: Int, radius: Int) -> [Bool] {
        guard radius > 0 else { return flags }
        var horizontal = [Bool](largeRepeating: false, count: flags.count)
        for r in 0..<rows {
            var last = Int.min / 2  // column of the last set flag seen
            var nextSet = [Int](repeating: Int.max / 2, count: columns)
            var upcoming = Int.max / 2
            for c in stride(from: columns - 1, through: 0, by: -1) {
                if flags[r * columns + c] { upcoming = c }
                nextSet[c] = upcoming
            }
            for c in 0..<columns {
                if flags[r * columns + c] { last = c }
                horizontal[r * columns + c] = c - last <= radius || nextSet[c] - c <= radius
            }
        }
        var out = [Bool](largeRepeating: false, count: flags.count)
        for c in 0..<columns {
            var last = Int.min / 2
            var nextSet = [Int](repeating: Int.max / 2, count: rows)
            var upcoming = Int.max / 2
            for r in stride(from: rows - 1, through: 0, by: -1) {
                if horizontal[r * columns + c] { upcoming = r }
                nextSet[r] = upcoming
            }
            for r in 0..<rows {
                if horizontal[r * columns + c] { last = r }
                out[r * columns + c] = r - last <= radius || nextSet[r] - r <= radius
            }
        }
        return out
    }

    /// 8-connected regions of picked patches per image, ranked by score (mean heat) × √patches,
    /// so a large confident region comes before a single borderline patch.
    static func find(pickedMask: [Bool], heat: [Float], layout: LocatorLayout, images: [LocatorImage]) -> [LocatorTarget] {
        var targets: [LocatorTarget] = []
        for (imageIndex, grid) in layout.grids.enumerated() {
            // Picked cells not yet reached, as bytes (a Bool is one byte, 0 or 1): the scan for the
            // next region's first cell skips runs of unpicked cells with memchr, and a cell is
            // cleared when reached, so no separate visited table is zeroed and read. Regions are
            // found in the same row-major order as a cell-by-cell scan.
            var remaining = Array(pickedMask[grid.firstIndex..<(grid.firstIndex + grid.count)])
            let spacing = images[imageIndex].spacing
            remaining.withUnsafeMutableBufferPointer { flags in
                guard let base = flags.baseAddress.map({ UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }) else { return }
                var position = 0
                while position < grid.count, let hit = memchr(base + position, 1, grid.count - position) {
                    let start = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    position = start + 1
                    var stack = [start]
                    base[start] = 0
                    var weight = 0.0, sx = 0.0, sy = 0.0, area = 0, patches = 0, heatSum = 0.0
                    while let cell = stack.popLast() {
                        let r = cell / grid.columns, c = cell % grid.columns
                        let h = Double(heat[grid.firstIndex + cell])
                        let owned = layout.ownedRegion(image: imageIndex, row: r, column: c)
                        let w = max(h, 1e-6)
                        sx += w * (Double(owned.x) + Double(owned.width) / 2)
                        sy += w * (Double(owned.y) + Double(owned.height) / 2)
                        weight += w; area += owned.width * owned.height; patches += 1; heatSum += h
                        for dr in -1...1 {
                            for dc in -1...1 where dr != 0 || dc != 0 {
                                let nr = r + dr, nc = c + dc
                                guard nr >= 0, nr < grid.rows, nc >= 0, nc < grid.columns else { continue }
                                let next = nr * grid.columns + nc
                                if base[next] != 0 { base[next] = 0; stack.append(next) }
                            }
                        }
                    }
                    let x = sx / weight, y = sy / weight
                    targets.append(LocatorTarget(rank: 0, image: images[imageIndex].name, x: x, y: y,
                                                 physicalX: spacing.map { x * $0.x }, physicalY: spacing.map { y * $0.y },
                                                 unit: spacing?.unit, areaPixels: area,
                                                 area: spacing.map { Double(area) * $0.x * $0.y }, patchCount: patches,
                                                 score: heatSum / Double(patches)))
                }
            }
        }
        targets.sort { a, b in
            let ka = a.score * Double(a.patchCount).squareRoot(), kb = b.score * Double(b.patchCount).squareRoot()
            if ka != kb { return ka > kb }
            return (a.image, a.y, a.x) < (b.image, b.y, b.x)
        }
        for i in targets.indices { targets[i].rank = i + 1 }
        return targets
    }
}
