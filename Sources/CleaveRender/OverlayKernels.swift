import CleaveCore

// The overlay pictures' hot loops: one pass per pixel from the measured values to RGB, and
// picked-region outlines from run lengths instead of per-pixel neighbour searches.

extension Display {
    /// A float image seen through a contrast `window` as 8-bit grey, with category colours
    /// blended over it and an optional outline drawn on top, in one pass:
    ///
    /// ```
    /// grey  = UInt8(roundingClamping: (value − window.lower) · 255 / (window.upper − window.lower))
    /// pixel = outline ≠ 0 ? outlineColour
    ///       : colours[label] == nil ? (grey, grey, grey)
    ///       : round(grey · (1 − opacity) + colour · opacity)   per channel
    /// ```
    ///
    /// The same bytes as `values.rescaled(to: UInt8.self, from: window)` then
    /// ``overlay(grey:labels:colours:opacities:)`` then painting the outline.
    /// - Parameters:
    ///   - values: a 2D single-channel image.
    ///   - labels: one byte per pixel, indexing `colours` and `opacities` (an index outside leaves the grey).
    ///   - opacities: 0…1 per label.
    ///   - outline: nil, or one byte per pixel, non-zero where `outlineColour` is drawn.
    /// - Returns: a planar 3-channel RGB image with the spacing of `values`.
    /// - Complexity: O(pixels), rows in fixed chunks on all cores (the result does not depend on the thread count).
    public static func overlay(values: Image<Float>, window: ClosedRange<Double>, labels: [UInt8], colours: [RGB?], opacities: [Double],
                               outline: [UInt8]? = nil, outlineColour: RGB = RGB(255, 255, 255)) -> Image<UInt8> {
        OverlayPainter(values: values, window: window, labels: labels, colours: colours, opacities: opacities,
                       outline: outline, outlineColour: outlineColour).image()
    }

    /// A float image seen through a contrast `window` as 8-bit grey: the same bytes as
    /// `values.rescaled(to: UInt8.self, from: window)`, rows on all cores.
    public static func grey(values: Image<Float>, window: ClosedRange<Double>) -> Image<UInt8> {
        let n = values.pixels.count
        let lower = window.lowerBound, span = window.upperBound - window.lowerBound
        let scale = span > 0 ? 255 / span : 0
        var out = [UInt8](unsafeUninitializedLargeCount: n) { _ in }
        out.withUnsafeMutableBufferPointer { o in
            values.pixels.withUnsafeBufferPointer { v in
                let o = UncheckedSendable(o.baseAddress!), v = UncheckedSendable(v.baseAddress!)
                Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 1 << 16)) { range in
                    for i in range { o.value[i] = UInt8(roundingClamping: (Double(v.value[i]) - lower) * scale) }
                }
            }
        }
        return Image(shape: values.shape, pixels: out, spacing: values.spacing)
    }

    /// The inner border of the non-zero region of a `width × height` mask, `thickness` pixels
    /// wide: 1 where the mask is non-zero and an in-image pixel with mask 0 lies at most
    /// `thickness` pixels away along the row or the column, 0 elsewhere.
    ///
    /// Rows: each non-zero run `[a, b)` marks `[a, a + thickness)` when `a > 0` and
    /// `[b − thickness, b)` when `b < width`. Columns: each band of rows tracks, per column, the
    /// nearest zero above (and, in a second pass, below), starting `thickness` rows outside the band.
    /// - Complexity: O(pixels + width · thickness · bands), bands of rows on all cores.
    public static func outline(of mask: [UInt8], width: Int, height: Int, thickness: Int) -> [UInt8] {
        precondition(mask.count == width * height && thickness >= 1,
                     "Display.outline(of:width:height:thickness:): \(mask.count) mask bytes for \(width)×\(height), thickness \(thickness)")
        // Each chunk clears its own rows first (no separate zero fill).
        var out = [UInt8](unsafeUninitializedLargeCount: mask.count) { _ in }
        guard width > 0, height > 0 else { return out }
        out.withUnsafeMutableBufferPointer { o in
            mask.withUnsafeBufferPointer { m in
                let o = UncheckedSendable(o.baseAddress!), m = UncheckedSendable(m.baseAddress!)
                let chunks = Parallel.chunkCount(total: height, minimumPerChunk: max(64, 4 * thickness))
                Parallel.forEachChunk(of: height, chunkCount: chunks) { rows in
                    let t = thickness
                    for i in (rows.lowerBound * width)..<(rows.upperBound * width) { o.value[i] = 0 }
                    // Rows: runs of set pixels, zero and set stretches skipped eight bytes at a time.
                    @inline(__always) func word(_ p: UnsafePointer<UInt8>) -> UInt64 { UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }
                    @inline(__always) func hasZeroByte(_ v: UInt64) -> Bool {
                        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 != 0
                    }
                    for y in rows {
                        let row = m.value + y * width, dst = o.value + y * width
                        var x = 0
                        while x < width {
                            while x + 8 <= width && word(row + x) == 0 { x += 8 }
                            guard x < width else { break }
                            guard row[x] != 0 else { x += 1; continue }
                            let a = x
                            while x + 8 <= width && !hasZeroByte(word(row + x)) { x += 8 }
                            while x < width && row[x] != 0 { x += 1 }
                            if a > 0 { for i in a..<min(x, a + t) { dst[i] = 1 } }
                            if x < width { for i in max(a, x - t)..<x { dst[i] = 1 } }
                        }
                    }
                    // Columns: per column the row of the nearest zero above (then below); a row
                    // without set pixels moves every column's nearest zero at once (`allZero`).
                    // The per-column step has no branches (selects), so it runs as vector code.
                    let nearest = UnsafeMutablePointer<Int32>.allocate(capacity: width)
                    defer { nearest.deallocate() }
                    func hasSet(_ row: UnsafePointer<UInt8>) -> Bool {
                        var any: UInt8 = 0
                        for x in 0..<width { any |= row[x] }
                        return any != 0
                    }
                    // Rows are far below 2³⁰: the sentinels ±2³⁰ keep every difference within Int32.
                    let far = Int32(1 << 30), reach = Int32(t)
                    nearest.initialize(repeating: -far, count: width)
                    var allZero = -far
                    for y in max(0, rows.lowerBound - t)..<rows.upperBound {
                        let row = m.value + y * width, dst = o.value + y * width, yy = Int32(y)
                        guard hasSet(row) else { allZero = yy; continue }
                        let zeroAbove = allZero
                        if y >= rows.lowerBound {
                            for x in 0..<width {
                                let set = row[x] != 0
                                let n = set ? nearest[x] : yy
                                nearest[x] = n
                                dst[x] = set && yy &- Swift.max(n, zeroAbove) <= reach ? 1 : dst[x]
                            }
                        } else {
                            for x in 0..<width { nearest[x] = row[x] != 0 ? nearest[x] : yy }
                        }
                    }
                    nearest.update(repeating: far, count: width)
                    allZero = far
                    for y in stride(from: min(height, rows.upperBound + t) - 1, through: rows.lowerBound, by: -1) {
                        let row = m.value + y * width, dst = o.value + y * width, yy = Int32(y)
                        guard hasSet(row) else { allZero = yy; continue }
                        let zeroBelow = allZero
                        if y < rows.upperBound {
                            for x in 0..<width {
                                let set = row[x] != 0
                                let n = set ? nearest[x] : yy
                                nearest[x] = n
                                dst[x] = set && Swift.min(n, zeroBelow) &- yy <= reach ? 1 : dst[x]
                            }
                        } else {
                            for x in 0..<width { nearest[x] = row[x] != 0 ? nearest[x] : yy }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The Locator-style overlay of ``Display/overlay(values:window:labels:colours:opacities:outline:outlineColour:)``
/// pixel by pixel or row by row (interleaved RGB), so that a picture can be written without
/// holding it (``fill(row:into:)`` may run on several threads at once).
public struct OverlayPainter: @unchecked Sendable {
    /// tables[768 · label + 256 · channel + grey]: labels without a colour map grey to itself.
    let tables: [UInt8]
    let values: Image<Float>
    let labels: [UInt8]
    let outline: [UInt8]?
    let lower: Double, scale: Double
    let edge: (UInt8, UInt8, UInt8)
    /// grey of every integer value 0…65535 (8/16-bit data seen as Float), for large pictures:
    /// a lookup instead of a Double multiply and rounding per pixel; the same bytes.
    let greyTable: [UInt8]
    /// packed[256 · label + grey] = the pixel's R | G << 8 | B << 16 (``tables`` for rows: one
    /// load and one four-byte store per pixel).
    let packed: [UInt32]

    /// The overlay of `values` through `window` (see ``Display/overlay(values:window:labels:colours:opacities:outline:outlineColour:)``).
    public init(values: Image<Float>, window: ClosedRange<Double>, labels: [UInt8], colours: [RGB?], opacities: [Double],
                outline: [UInt8]? = nil, outlineColour: RGB = RGB(255, 255, 255)) {
        let n = values.shape.planeSize
        precondition(values.channels == 1 && values.depth == 1 && labels.count == n && colours.count == opacities.count
                     && (outline?.count ?? n) == n,
                     "OverlayPainter: \(labels.count) labels, \(outline?.count ?? n) outline flags for \(values.shape), \(colours.count) colours, \(opacities.count) opacities")
        var tables = [UInt8](repeating: 0, count: 256 * 3 * 256)
        for l in 0..<256 {
            for g in 0..<256 {
                var rgb = (UInt8(g), UInt8(g), UInt8(g))
                if l < colours.count, let c = colours[l] {
                    let a = min(max(opacities[l], 0), 1)
                    rgb = (UInt8((Double(g) * (1 - a) + Double(c.red) * a).rounded()),
                           UInt8((Double(g) * (1 - a) + Double(c.green) * a).rounded()),
                           UInt8((Double(g) * (1 - a) + Double(c.blue) * a).rounded()))
                }
                tables[768 * l + g] = rgb.0; tables[768 * l + 256 + g] = rgb.1; tables[768 * l + 512 + g] = rgb.2
            }
        }
        self.tables = tables
        packed = (0..<(256 * 256)).map { i in
            let l = i >> 8, g = i & 255
            return UInt32(tables[768 * l + g]) | UInt32(tables[768 * l + 256 + g]) << 8 | UInt32(tables[768 * l + 512 + g]) << 16
        }
        self.values = values; self.labels = labels; self.outline = outline
        let span = window.upperBound - window.lowerBound
        lower = window.lowerBound; scale = span > 0 ? 255 / span : 0
        edge = (outlineColour.red, outlineColour.green, outlineColour.blue)
        let (lower, scale) = (lower, scale)
        greyTable = n >= 1 << 18 ? (0..<65_536).map { UInt8(roundingClamping: (Double($0) - lower) * scale) } : []
    }

    public var width: Int { values.width }
    public var height: Int { values.height }

    /// The whole picture, planar RGB with the spacing of the values; rows in fixed chunks on all cores.
    public func image() -> Image<UInt8> {
        let n = values.shape.planeSize, width = values.width
        // Every byte is written below (no zero fill first).
        var out = [UInt8](unsafeUninitializedLargeCount: 3 * n) { _ in }
        out.withUnsafeMutableBufferPointer { o in
            let o = UncheckedSendable(o.baseAddress!)
            Parallel.forEachChunk(of: values.height, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 1 << 16)) { rows in
                withPointers { p in
                    for i in (rows.lowerBound * width)..<(rows.upperBound * width) {
                        let (r, g, b) = p.pixel(i)
                        o.value[i] = r; o.value[n + i] = g; o.value[2 * n + i] = b
                    }
                }
            }
        }
        return Image(shape: Shape(width: width, height: values.height, channels: 3), pixels: out, spacing: values.spacing)
    }

    /// Row `row` as interleaved RGB into `destination` (`3 × width` bytes).
    public func unsafeFill(row: Int, into destination: UnsafeMutablePointer<UInt8>) {
        let width = values.width
        withPointers { p in
            packed.withUnsafeBufferPointer { packed in
                let packed = packed.baseAddress!, first = row * width
                let d = UnsafeMutableRawPointer(destination)
                let edge = UInt32(p.edge.0) | UInt32(p.edge.1) << 8 | UInt32(p.edge.2) << 16
                // Four bytes per pixel stored at 3-byte steps: the fourth lands on the next
                // pixel's first byte, which that pixel's store overwrites; the last pixel is
                // written byte by byte (nothing past the row is touched).
                @inline(__always) func one(_ x: Int) {
                    let i = first + x
                    let rgb = p.outline.map { $0[i] != 0 } ?? false ? edge : packed[Int(p.labels[i]) << 8 | p.grey(i)]
                    d.storeBytes(of: rgb.littleEndian, toByteOffset: 3 * x, as: UInt32.self)
                }
                var x = 0
                if let greyTable = p.greyTable, let outline = p.outline {
                    // Eight pixels a step while all eight values are integers 0…65535 (8/16-bit data):
                    // the grey table's index from the float's bits (v + 2²³ holds v in its low
                    // mantissa bits), no conversion checks per pixel; the same bytes as `one`.
                    let values = p.values + first, labels = p.labels + first, outline = outline + first
                    while x + 8 <= width - 1 {
                        let v = UnsafeRawPointer(values + x).loadUnaligned(as: SIMD8<Float>.self)
                        guard all((v .>= 0) .& (v .< 65_536) .& (v.rounded(.towardZero) .== v)) else {
                            for k in x..<(x + 8) { one(k) }
                            x += 8
                            continue
                        }
                        let index = unsafeBitCast(v + 8_388_608, to: SIMD8<UInt32>.self) & 0xFFFF
                        for k in 0..<8 {
                            let rgb = outline[x + k] != 0 ? edge : packed[Int(labels[x + k]) << 8 | Int(greyTable[Int(index[k])])]
                            d.storeBytes(of: rgb.littleEndian, toByteOffset: 3 * (x + k), as: UInt32.self)
                        }
                        x += 8
                    }
                }
                while x < width - 1 { one(x); x += 1 }
                let (r, g, b) = p.pixel(first + width - 1)
                destination[3 * width - 3] = r; destination[3 * width - 2] = g; destination[3 * width - 1] = b
            }
        }
    }

    struct Pointers {
        let tables: UnsafePointer<UInt8>, values: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, outline: UnsafePointer<UInt8>?
        let lower: Double, scale: Double, edge: (UInt8, UInt8, UInt8)
        let greyTable: UnsafePointer<UInt8>?

        /// grey = window(value); outline → edge colour; else tables[label][grey].
        @inline(__always) func pixel(_ i: Int) -> (UInt8, UInt8, UInt8) {
            if let outline, outline[i] != 0 { return edge }
            let base = 768 * Int(labels[i]) + grey(i)
            return (tables[base], tables[base + 256], tables[base + 512])
        }

        /// grey = window(value), from the table for integers 0…65535.
        @inline(__always) func grey(_ i: Int) -> Int {
            let v = values[i]
            if let greyTable, v >= 0, v < 65_536, Float(Int(v)) == v { return Int(greyTable[Int(v)]) }
            return Int(UInt8(roundingClamping: (Double(v) - lower) * scale))
        }
    }

    func withPointers<R>(_ body: (Pointers) -> R) -> R {
        tables.withUnsafeBufferPointer { t in
            values.pixels.withUnsafeBufferPointer { v in
                labels.withUnsafeBufferPointer { l in
                    let flags = outline ?? []
                    return flags.withUnsafeBufferPointer { f in
                        greyTable.withUnsafeBufferPointer { grey in
                            body(Pointers(tables: t.baseAddress!, values: v.baseAddress!, labels: l.baseAddress!,
                                          outline: outline == nil ? nil : f.baseAddress!, lower: lower, scale: scale, edge: edge,
                                          greyTable: grey.isEmpty ? nil : grey.baseAddress!))
                        }
                    }
                }
            }
        }
    }
}

