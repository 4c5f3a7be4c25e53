import CleaveCore

/// Background flattening: divides out slow grey-level variations (illumination fall-off towards
/// the tile corners, film thickness) before patch statistics are taken.
///
/// Why: on an unflattened tile the spread of *film* patches (bright centre, dim corners, thicker
/// film) is as large as the contrast of faint particles, so k-means spends its clusters on the
/// illumination and faint blobs land in the film cluster. After flattening, film is ≈ the film
/// level everywhere and every patch statistic measures contrast against the *local* film.
///
/// Method, per image:
/// 1. cut the image into square cells of `cell` pixels (the patch or window side: the scale the
///    user says a particle fits into);
/// 2. per cell, the 75th percentile of its non-black pixels (particles only darken, so an upper
///    percentile follows the film under a particle covering up to a quarter of the cell); cells
///    less than half non-black (grid bars) have no level;
/// 3. per cell, the median of the levels in the (2·radius+1)² cells around it — a particle
///    spanning fewer than half of those cells does not move it; cells without any level nearby
///    take the image's median level;
/// 4. each pixel is multiplied by `reference / B(x, y)` with `B` bilinear between cell centres and
///    `reference` the median cell level over all images, so grey values keep their units (the
///    film level and the dark thresholds still apply) and a flat image stays unchanged.
///
/// Integer input stays integer (rounded, clamped to 0…65535), so the exact counting path of the
/// patch statistics still applies.
enum LocatorBackground {
    /// Neighbourhood radius of the median, in cells (5 × 5 cells).
    static let radius = 2

    /// Cell levels of one image (NaN where a cell has too few non-black pixels), row-major.
    static func cellLevels(_ image: Image<Float>, cell: Int, blackThreshold: Float) -> (levels: [Float], columns: Int, rows: Int) {
        let w = image.width, h = image.height
        let columns = (w + cell - 1) / cell, rows = (h + cell - 1) / cell
        var levels = [Float](repeating: .nan, count: columns * rows)
        // At most ~32 × 32 samples per cell: the percentile of a regular subsample.
        let step = max(1, cell / 32)
        levels.withUnsafeMutableBufferPointer { out in
            let box = UncheckedSendable(out)
            image.pixels.withUnsafeBufferPointer { p in
                let source = UncheckedSendable(p)
                Parallel.forEachChunk(of: rows, chunkCount: Parallel.chunkCount(total: rows, minimumPerChunk: 4)) { range in
                    var values = [Float]()
                    values.reserveCapacity((cell / step + 1) * (cell / step + 1))
                    for r in range {
                        for c in 0..<columns {
                            values.removeAll(keepingCapacity: true)
                            var total = 0
                            var y = r * cell
                            while y < min(h, (r + 1) * cell) {
                                var x = c * cell
                                let row = y * w
                                while x < min(w, (c + 1) * cell) {
                                    let v = source.value[row + x]
                                    total += 1
                                    if v >= blackThreshold { values.append(v) }
                                    x += step
                                }
                                y += step
                            }
                            guard values.count * 2 >= total, !values.isEmpty else { continue }
                            box.value[r * columns + c] = Float(OrderStatistics.percentile(&values, 75))
                        }
                    }
                }
            }
        }
        return (levels, columns, rows)
    }

    /// Median of each cell's neighbourhood (NaN cells ignored); `fallback` where none is valid.
    static func smoothed(_ levels: [Float], columns: Int, rows: Int, fallback: Float) -> [Float] {
        var out = [Float](repeating: fallback, count: levels.count)
        var window: [Float] = []
        for r in 0..<rows {
            for c in 0..<columns {
                window.removeAll(keepingCapacity: true)
                for rr in max(0, r - radius)...min(rows - 1, r + radius) {
                    for cc in max(0, c - radius)...min(columns - 1, c + radius) {
                        let v = levels[rr * columns + cc]
                        if !v.isNaN { window.append(v) }
                    }
                }
                if !window.isEmpty { out[r * columns + c] = Float(OrderStatistics.percentile(&window, 50)) }
            }
        }
        return out
    }

    /// Flattens every image (see the type's description). `cell` is the patch side.
    static func flatten(_ images: [LocatorImage], cell: Int, blackThreshold: Double) -> [LocatorImage] {
        let cellSize = max(8, cell)
        let levels = images.map { cellLevels($0.image, cell: cellSize, blackThreshold: Float(blackThreshold)) }
        var all = levels.flatMap { $0.levels.filter { !$0.isNaN } }
        guard !all.isEmpty else { return images }
        let reference = Float(OrderStatistics.percentile(&all, 50))
        guard reference > 0 else { return images }
        return zip(images, levels).map { input, level in
            let background = smoothed(level.levels, columns: level.columns, rows: level.rows, fallback: reference)
            var output = input
            output.image = divide(input.image, background: background, columns: level.columns, rows: level.rows,
                                  cell: cellSize, reference: reference, integral: input.integral)
            return output
        }
    }

    /// `pixel · reference / B` with `B` bilinear between cell centres (clamped at the borders).
    static func divide(_ image: Image<Float>, background: [Float], columns: Int, rows: Int, cell: Int,
                       reference: Float, integral: Bool) -> Image<Float> {
        let w = image.width, h = image.height
        // Horizontal interpolation weights are the same for every row: precompute them.
        var left = [Int32](repeating: 0, count: w), fraction = [Float](repeating: 0, count: w)
        for x in 0..<w {
            let u = min(max((Float(x) + 0.5) / Float(cell) - 0.5, 0), Float(columns - 1))
            let c0 = min(Int(u), max(0, columns - 2))
            left[x] = Int32(c0); fraction[x] = columns > 1 ? u - Float(c0) : 0
        }
        let inverse = background.map { reference / max($0, 1e-6) }
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { o in
            let box = UncheckedSendable(o)
            image.pixels.withUnsafeBufferPointer { p in
                let source = UncheckedSendable(p)
                Parallel.forEachChunk(of: h, chunkCount: Parallel.chunkCount(total: h, minimumPerChunk: 64)) { range in
                    var rowScale = [Float](repeating: 0, count: columns)
                    for y in range {
                        let v = min(max((Float(y) + 0.5) / Float(cell) - 0.5, 0), Float(rows - 1))
                        let r0 = min(Int(v), max(0, rows - 2)), r1 = min(r0 + 1, rows - 1)
                        let fy = rows > 1 ? v - Float(r0) : 0
                        for c in 0..<columns {
                            rowScale[c] = inverse[r0 * columns + c] * (1 - fy) + inverse[r1 * columns + c] * fy
                        }
                        let row = y * w
                        for x in 0..<w {
                            let c0 = Int(left[x]), c1 = min(c0 + 1, columns - 1), fx = fraction[x]
                            let scale = rowScale[c0] * (1 - fx) + rowScale[c1] * fx
                            var value = source.value[row + x] * scale
                            if integral { value = min(max(value.rounded(), 0), 65535) }
                            box.value[row + x] = value
                        }
                    }
                }
            }
        }
        return out
    }
}
