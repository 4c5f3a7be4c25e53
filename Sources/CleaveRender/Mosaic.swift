import CleaveCore

/// Stitching tiles into one overview picture.
public enum Mosaic {
    /// Places equally sized tiles on a `rows × columns` grid (tile (r, c) at `(c · width, r · height)`,
    /// no blending: the microscope's overlap is unknown from file names alone), then shrinks the
    /// result by an integer factor (box average, rounded half up) so that its longer side is at
    /// most `maxSide`. Missing positions stay black. All tiles must have the same shape and channel count.
    /// - Returns: the stitched image and the shrink factor used.
    /// - Complexity: O(pixels of the tiles); output rows in fixed chunks on all cores.
    public static func stitch(_ tiles: [(row: Int, column: Int, image: Image<UInt8>)], rows: Int, columns: Int,
                              maxSide: Int = 4096) -> (image: Image<UInt8>, factor: Int) {
        precondition(!tiles.isEmpty && rows >= 1 && columns >= 1, "Mosaic.stitch needs tiles and a positive grid")
        let first = tiles[0].image.shape
        let w = first.width, h = first.height, channels = first.channels
        let fullWidth = w * columns, fullHeight = h * rows
        let factor = shrinkFactor(width: fullWidth, height: fullHeight, maxSide: maxSide)
        let outWidth = fullWidth / factor, outHeight = fullHeight / factor
        // Zeroed with a concrete fill (Image(shape:)'s generic fill is several times slower).
        let outShape = Shape(width: max(1, outWidth), height: max(1, outHeight), channels: channels)
        var out = Image<UInt8>(shape: outShape, pixels: [UInt8](unsafeUninitializedLargeCount: outShape.count) { $0.initialize(repeating: 0) })
        let outPlane = out.shape.planeSize
        for tile in tiles {
            precondition(tile.image.shape == first, "Mosaic.stitch: tile shape \(tile.image.shape) differs from \(first)")
            precondition(tile.row >= 0 && tile.row < rows && tile.column >= 0 && tile.column < columns,
                         "Mosaic.stitch: tile at (\(tile.row), \(tile.column)) outside \(rows)x\(columns)")
        }
        let plane = first.planeSize, area = factor * factor
        let tileRows = h / factor, tileColumns = w / factor
        out.pixels.withUnsafeMutableBufferPointer { o in
            let o = UncheckedSendable(o.baseAddress!)
            for tile in tiles {
                let x0 = (tile.column * w) / factor, y0 = (tile.row * h) / factor
                let visibleColumns = max(0, min(tileColumns, outWidth - x0))
                guard visibleColumns > 0 else { continue }
                tile.image.pixels.withUnsafeBufferPointer { p in
                    let p = UncheckedSendable(p.baseAddress!)
                    // (channel, output row) pairs in fixed chunks.
                    let jobs = channels * tileRows
                    Parallel.forEachChunk(of: jobs, chunkCount: Parallel.chunkCount(total: jobs * tileColumns * area, minimumPerChunk: 1 << 16)) { range in
                        for job in range {
                            let ch = job / tileRows, oy = job % tileRows
                            let gy = y0 + oy
                            guard gy < outHeight else { continue }
                            let dst = o.value + ch * outPlane + gy * outWidth + x0
                            let src = p.value + ch * plane + oy * factor * w
                            if factor == 1 { dst.update(from: src, count: visibleColumns); continue }
                            for ox in 0..<visibleColumns {
                                var sum = 0
                                for dy in 0..<factor {
                                    let row = src + dy * w + ox * factor
                                    for dx in 0..<factor { sum += Int(row[dx]) }
                                }
                                // round(sum / area), halves up (sums are non-negative).
                                dst[ox] = UInt8((2 * sum + area) / (2 * area))
                            }
                        }
                    }
                }
            }
        }
        return (out, factor)
    }

    /// The integer factor that brings a `width × height` mosaic's longer side to at most `maxSide`.
    public static func shrinkFactor(width: Int, height: Int, maxSide: Int) -> Int {
        max(1, (max(width, height) + maxSide - 1) / maxSide)
    }
}
