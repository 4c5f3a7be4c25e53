import CleaveCore

/// Stitching tiles into one overview picture.
public enum Mosaic {
    /// Places equally sized tiles on a `rows × columns` grid (tile (r, c) at `(c · width, r · height)`,
    /// no blending: the microscope's overlap is unknown from file names alone), then shrinks the
    /// result by an integer factor (box average) so that its longer side is at most `maxSide`.
    /// Missing positions stay black. All tiles must have the same shape and channel count.
    /// - Returns: the stitched image and the shrink factor used.
    public static func stitch(_ tiles: [(row: Int, column: Int, image: Image<UInt8>)], rows: Int, columns: Int,
                              maxSide: Int = 4096) -> (image: Image<UInt8>, factor: Int) {
        precondition(!tiles.isEmpty && rows >= 1 && columns >= 1, "Mosaic.stitch needs tiles and a positive grid")
        let first = tiles[0].image.shape
        let w = first.width, h = first.height, channels = first.channels
        let fullWidth = w * columns, fullHeight = h * rows
        let factor = max(1, (max(fullWidth, fullHeight) + maxSide - 1) / maxSide)
        let outWidth = fullWidth / factor, outHeight = fullHeight / factor
        var out = Image<UInt8>(shape: Shape(width: max(1, outWidth), height: max(1, outHeight), channels: channels))
        let outPlane = out.shape.planeSize
        for tile in tiles {
            precondition(tile.image.shape == first, "Mosaic.stitch: tile shape \(tile.image.shape) differs from \(first)")
            precondition(tile.row >= 0 && tile.row < rows && tile.column >= 0 && tile.column < columns,
                         "Mosaic.stitch: tile at (\(tile.row), \(tile.column)) outside \(rows)x\(columns)")
            let plane = first.planeSize
            let area = Double(factor * factor)
            for ch in 0..<channels {
                for oy in 0..<(h / factor) {
                    let gy = (tile.row * h) / factor + oy
                    guard gy < outHeight else { continue }
                    for ox in 0..<(w / factor) {
                        let gx = (tile.column * w) / factor + ox
                        guard gx < outWidth else { continue }
                        var sum = 0
                        for dy in 0..<factor {
                            let row = ch * plane + (oy * factor + dy) * w + ox * factor
                            for dx in 0..<factor { sum += Int(tile.image.pixels[row + dx]) }
                        }
                        out.pixels[ch * outPlane + gy * outWidth + gx] = UInt8((Double(sum) / area).rounded())
                    }
                }
            }
        }
        return (out, factor)
    }
}
