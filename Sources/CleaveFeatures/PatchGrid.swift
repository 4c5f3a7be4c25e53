import CleaveCore

/// How an image is cut into rectangular patches.
///
/// Two layouts:
///
/// - `.grid(rows:columns:)` — exactly `rows × columns` patches covering the **whole** image.
///   Patch boundaries sit at `floor(i · height / rows)` (and the same for columns), so when the
///   size does not divide evenly the patches differ by at most one pixel and no pixel is dropped.
///   A 1000 px tile with a 4×4 grid gives patches of exactly 250 px, as in the study's hand labels.
/// - `.patchSize(n)` — square patches of exactly `n × n` pixels from the top-left corner;
///   the `width mod n` columns on the right and `height mod n` rows at the bottom are not covered
///   (they are reported by ``uncoveredPixels(width:height:)``) so that every patch has the same
///   number of pixels and comparable statistics.
///
/// ```
///  grid 3×3 of a 10×10 image      patchSize 4 of a 10×10 image
///  x: 0..<3 | 3..<6 | 6..<10       x: 0..<4 | 4..<8 | (8,9 uncovered)
/// ```
public enum PatchLayout: Sendable, Hashable, Codable, CustomStringConvertible {
    case grid(rows: Int, columns: Int)
    case patchSize(Int)

    public var description: String {
        switch self {
        case let .grid(rows, columns): return "grid \(rows)x\(columns)"
        case let .patchSize(n): return "patch size \(n)"
        }
    }

    /// Number of patch rows and columns for an image of the given size.
    /// - Throws: ``PatchStatisticError`` when the layout is finer than the image (a patch would be
    ///   smaller than 2×2 pixels) or a count is not positive.
    public func counts(width: Int, height: Int) throws -> (rows: Int, columns: Int) {
        switch self {
        case let .grid(rows, columns):
            guard rows >= 1, columns >= 1 else {
                throw PatchStatisticError(field: "gridRows", value: "\(rows)x\(columns)", reason: "rows and columns must be at least 1")
            }
            guard height / rows >= 2, width / columns >= 2 else {
                throw PatchStatisticError(field: "gridRows", value: "\(rows)x\(columns)", reason: "finer than the \(width)×\(height) image: patches would be smaller than 2×2 pixels")
            }
            return (rows, columns)
        case let .patchSize(n):
            guard n >= 2 else { throw PatchStatisticError(field: "patchSize", value: "\(n)", reason: "patches must be at least 2 pixels wide") }
            guard n <= width, n <= height else {
                throw PatchStatisticError(field: "patchSize", value: "\(n)", reason: "larger than the \(width)×\(height) image")
            }
            return (height / n, width / n)
        }
    }

    /// The patch regions of an image, row-major (patch column fastest).
    public func regions(width: Int, height: Int) throws -> [Region] {
        let (rows, columns) = try counts(width: width, height: height)
        var result: [Region] = []
        result.reserveCapacity(rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                switch self {
                case .grid:
                    let y0 = r * height / rows, y1 = (r + 1) * height / rows
                    let x0 = c * width / columns, x1 = (c + 1) * width / columns
                    result.append(Region(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
                case let .patchSize(n):
                    result.append(Region(x: c * n, y: r * n, width: n, height: n))
                }
            }
        }
        return result
    }

    /// Pixels of a `width × height` image that no patch covers (always 0 for `.grid`).
    public func uncoveredPixels(width: Int, height: Int) -> Int {
        switch self {
        case .grid: return 0
        case let .patchSize(n):
            guard n >= 1 else { return width * height }
            return width * height - (width / n) * n * (height / n) * n
        }
    }
}
