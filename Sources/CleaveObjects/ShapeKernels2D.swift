import CleaveCore

/// Per-object sums of a 2D label image, gathered in one parallel pass.
///
/// Everything is an exact integer (pixel counts, coordinate moments, perimeter pixel classes),
/// so the totals do not depend on how the image was split between threads.
struct ShapeSums2D {
    /// Values per label, `stride` each: see the `Field` offsets.
    var values: [Int64]
    static let stride = 14
    enum Field {
        static let count = 0, sumRow = 1, sumColumn = 2, sumRowRow = 3, sumColumnColumn = 4, sumRowColumn = 5
        static let minRow = 6, minColumn = 7, maxRow = 8, maxColumn = 9
        /// Border pixels whose scikit-image perimeter weight is 1, √2 and (1 + √2) / 2.
        static let perimeterStraight = 10, perimeterDiagonal = 11, perimeterCorner = 12
        static let touchesBorder = 13
    }

    @inline(__always) func get(_ label: Int, _ field: Int) -> Int64 { values[label * Self.stride + field] }
}

enum ShapeKernels2D {
    /// Perimeter weight class of scikit-image's code `1 + 2·(4-neighbour border pixels) +
    /// 10·(diagonal border pixels)`: 1 → weight 1, 2 → √2, 3 → (1 + √2) / 2, 0 → nothing.
    static let perimeterClass: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 50)
        for code in [5, 7, 15, 17, 25, 27] { table[code] = 1 }
        for code in [21, 33] { table[code] = 2 }
        for code in [13, 23] { table[code] = 3 }
        return table
    }()

    /// Pixels of an object with a 4-neighbour outside it (or the image edge): the pixels
    /// `binary_erosion(object, cross, border_value=0)` removes.
    static func borderMap(_ labels: UnsafeBufferPointer<Int32>, width: Int, height: Int) -> [UInt8] {
        var border = [UInt8](repeating: 0, count: width * height)
        border.withUnsafeMutableBufferPointer { b in
            let out = UncheckedSendable(b)
            Parallel.forEachChunk(of: height, chunkCount: Parallel.chunkCount(total: height, minimumPerChunk: 16)) { rows in
                for y in rows {
                    let row = y * width
                    for x in 0..<width {
                        let i = row + x
                        let l = labels[i]
                        if l == 0 { continue }
                        let edge = x == 0 || x == width - 1 || y == 0 || y == height - 1
                        if edge || labels[i - 1] != l || labels[i + 1] != l || labels[i - width] != l || labels[i + width] != l {
                            out.value[i] = 1
                        }
                    }
                }
            }
        }
        return border
    }

    static func sums(_ labels: UnsafeBufferPointer<Int32>, border: [UInt8], width: Int, height: Int, objectCount: Int) -> ShapeSums2D {
        let stride = ShapeSums2D.stride
        typealias F = ShapeSums2D.Field
        // A fixed number of chunks (from the size only) with private accumulators, then merged.
        // (fewer chunks when labels are many compared with pixels, to bound the memory)
        let chunkCount = max(1, min(8, height / 64, width * height / max(1, (objectCount + 1) * 16)))
        var partials = [[Int64]](repeating: [], count: chunkCount)
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            let partialBox = UncheckedSendable(partialBuffer)
            border.withUnsafeBufferPointer { b in
                Parallel.forEach(chunkCount) { c in
                    let rows = (height * c / chunkCount)..<(height * (c + 1) / chunkCount)
                    var acc = [Int64](repeating: 0, count: (objectCount + 1) * stride)
                    for l in 0...objectCount {
                        acc[l * stride + F.minRow] = .max; acc[l * stride + F.minColumn] = .max
                        acc[l * stride + F.maxRow] = -1; acc[l * stride + F.maxColumn] = -1
                    }
                    acc.withUnsafeMutableBufferPointer { a in
                        accumulateRows(labels, b, a, width: width, height: height, rows: rows)
                    }
                    partialBox.value[c] = acc
                }
            }
        }
        var total = partials[0]
        for c in 1..<chunkCount {
            let part = partials[c]
            for l in 1..<(objectCount + 1) {
                let base = l * stride
                for f in [F.count, F.sumRow, F.sumColumn, F.sumRowRow, F.sumColumnColumn, F.sumRowColumn,
                          F.perimeterStraight, F.perimeterDiagonal, F.perimeterCorner] {
                    total[base + f] += part[base + f]
                }
                total[base + F.minRow] = min(total[base + F.minRow], part[base + F.minRow])
                total[base + F.minColumn] = min(total[base + F.minColumn], part[base + F.minColumn])
                total[base + F.maxRow] = max(total[base + F.maxRow], part[base + F.maxRow])
                total[base + F.maxColumn] = max(total[base + F.maxColumn], part[base + F.maxColumn])
                total[base + F.touchesBorder] = max(total[base + F.touchesBorder], part[base + F.touchesBorder])
            }
        }
        return ShapeSums2D(values: total)
    }

    /// Moments by runs of equal label along a row (closed-form sums of x and x²); perimeter codes
    /// per border pixel.
    static func accumulateRows(_ labels: UnsafeBufferPointer<Int32>, _ border: UnsafeBufferPointer<UInt8>,
                               _ acc: UnsafeMutableBufferPointer<Int64>, width: Int, height: Int, rows: Range<Int>) {
        let stride = ShapeSums2D.stride
        typealias F = ShapeSums2D.Field
        @inline(__always) func sumTo(_ n: Int64) -> Int64 { n * (n + 1) / 2 }
        @inline(__always) func sumSquaresTo(_ n: Int64) -> Int64 { n * (n + 1) * (2 * n + 1) / 6 }
        perimeterClass.withUnsafeBufferPointer { weightClass in
            for y in rows {
                let row = y * width
                let r = Int64(y)
                var x = 0
                while x < width {
                    let l = labels[row + x]
                    if l == 0 { x += 1; continue }
                    let start = x
                    while x < width && labels[row + x] == l { x += 1 }
                    let end = x - 1 // inclusive
                    let base = Int(l) * stride
                    let length = Int64(end - start + 1)
                    let sx = sumTo(Int64(end)) - sumTo(Int64(start) - 1)
                    let sxx = sumSquaresTo(Int64(end)) - (start > 0 ? sumSquaresTo(Int64(start) - 1) : 0)
                    acc[base + F.count] += length
                    acc[base + F.sumRow] += r * length
                    acc[base + F.sumColumn] += sx
                    acc[base + F.sumRowRow] += r * r * length
                    acc[base + F.sumColumnColumn] += sxx
                    acc[base + F.sumRowColumn] += r * sx
                    if r < acc[base + F.minRow] { acc[base + F.minRow] = r }
                    if r > acc[base + F.maxRow] { acc[base + F.maxRow] = r }
                    if Int64(start) < acc[base + F.minColumn] { acc[base + F.minColumn] = Int64(start) }
                    if Int64(end) > acc[base + F.maxColumn] { acc[base + F.maxColumn] = Int64(end) }
                    if y == 0 || y == height - 1 || start == 0 || end == width - 1 { acc[base + F.touchesBorder] = 1 }
                    // Perimeter: only border pixels carry a code.
                    for px in start...end {
                        let i = row + px
                        if border[i] == 0 { continue }
                        var code = 1
                        // 4-neighbours
                        if px > 0 && labels[i - 1] == l && border[i - 1] != 0 { code += 2 }
                        if px + 1 < width && labels[i + 1] == l && border[i + 1] != 0 { code += 2 }
                        if y > 0 && labels[i - width] == l && border[i - width] != 0 { code += 2 }
                        if y + 1 < height && labels[i + width] == l && border[i + width] != 0 { code += 2 }
                        // diagonals
                        if y > 0 {
                            if px > 0 && labels[i - width - 1] == l && border[i - width - 1] != 0 { code += 10 }
                            if px + 1 < width && labels[i - width + 1] == l && border[i - width + 1] != 0 { code += 10 }
                        }
                        if y + 1 < height {
                            if px > 0 && labels[i + width - 1] == l && border[i + width - 1] != 0 { code += 10 }
                            if px + 1 < width && labels[i + width + 1] == l && border[i + width + 1] != 0 { code += 10 }
                        }
                        switch weightClass[code] {
                        case 1: acc[base + F.perimeterStraight] += 1
                        case 2: acc[base + F.perimeterDiagonal] += 1
                        case 3: acc[base + F.perimeterCorner] += 1
                        default: break
                        }
                    }
                }
            }
        }
    }

    /// For every object, the first and last column of each of its rows (from its bounding box
    /// top): `extents[offset[l] + (row - minRow)]`; rows without pixels keep (Int32.max, -1).
    static func rowExtents(_ labels: UnsafeBufferPointer<Int32>, width: Int, height: Int, sums: ShapeSums2D,
                           objectCount: Int) -> (offsets: [Int], first: [Int32], last: [Int32]) {
        typealias F = ShapeSums2D.Field
        var offsets = [Int](repeating: 0, count: objectCount + 2)
        for l in stride(from: 1, through: objectCount, by: 1) {
            let rows = sums.get(l, F.count) > 0 ? Int(sums.get(l, F.maxRow) - sums.get(l, F.minRow) + 1) : 0
            offsets[l + 1] = offsets[l] + rows
        }
        let size = offsets[objectCount + 1]
        var first = [Int32](repeating: .max, count: size)
        var last = [Int32](repeating: -1, count: size)
        var minRows = [Int](repeating: 0, count: objectCount + 1)
        for l in stride(from: 1, through: objectCount, by: 1) { minRows[l] = Int(sums.get(l, F.minRow)) }
        first.withUnsafeMutableBufferPointer { f in
            last.withUnsafeMutableBufferPointer { la in
                let fb = UncheckedSendable(f), lb = UncheckedSendable(la)
                // Each (object, row) entry belongs to one row, hence to one chunk.
                Parallel.forEachChunk(of: height, chunkCount: Parallel.chunkCount(total: height, minimumPerChunk: 32)) { rows in
                    for y in rows {
                        let row = y * width
                        var x = 0
                        while x < width {
                            let l = labels[row + x]
                            if l == 0 { x += 1; continue }
                            let start = x
                            while x < width && labels[row + x] == l { x += 1 }
                            let index = offsets[Int(l)] + y - minRows[Int(l)]
                            if Int32(start) < fb.value[index] { fb.value[index] = Int32(start) }
                            if Int32(x - 1) > lb.value[index] { lb.value[index] = Int32(x - 1) }
                        }
                    }
                }
            }
        }
        return (offsets, first, last)
    }
}
