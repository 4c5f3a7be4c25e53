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
        let n = values.shape.planeSize, width = values.width, height = values.height
        precondition(values.channels == 1 && values.depth == 1 && labels.count == n && colours.count == opacities.count
                     && (outline?.count ?? n) == n,
                     "Display.overlay(values:window:labels:…): \(labels.count) labels, \(outline?.count ?? n) outline flags for \(values.shape), \(colours.count) colours, \(opacities.count) opacities")
        // tables[256·(3·label + channel) + grey]: labels without a colour map grey to itself.
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
                tables[256 * (3 * l) + g] = rgb.0; tables[256 * (3 * l + 1) + g] = rgb.1; tables[256 * (3 * l + 2) + g] = rgb.2
            }
        }
        let lower = window.lowerBound, span = window.upperBound - window.lowerBound
        let scale = span > 0 ? 255 / span : 0
        let edge = (outlineColour.red, outlineColour.green, outlineColour.blue)
        var out = [UInt8](largeRepeating: 0, count: 3 * n)
        out.withUnsafeMutableBufferPointer { o in
            values.pixels.withUnsafeBufferPointer { v in
                labels.withUnsafeBufferPointer { l in
                    tables.withUnsafeBufferPointer { t in
                        let o = SendablePointer(o.baseAddress!), v = SendablePointer(v.baseAddress!), l = SendablePointer(l.baseAddress!)
                        let t = SendablePointer(t.baseAddress!)
                        let outlineFlags = outline ?? []
                        outlineFlags.withUnsafeBufferPointer { f in
                            let flags = outline == nil ? nil : SendablePointer(f.baseAddress!)
                            Parallel.forEachChunk(of: height, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 1 << 16)) { rows in
                                for i in (rows.lowerBound * width)..<(rows.upperBound * width) {
                                    if let flags, flags.pointer[i] != 0 {
                                        o.pointer[i] = edge.0; o.pointer[n + i] = edge.1; o.pointer[2 * n + i] = edge.2
                                        continue
                                    }
                                    let g = Int(UInt8(roundingClamping: (Double(v.pointer[i]) - lower) * scale))
                                    let base = 768 * Int(l.pointer[i]) + g
                                    o.pointer[i] = t.pointer[base]; o.pointer[n + i] = t.pointer[base + 256]; o.pointer[2 * n + i] = t.pointer[base + 512]
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(shape: Shape(width: width, height: height, channels: 3), pixels: out, spacing: values.spacing)
    }

    /// A float image seen through a contrast `window` as 8-bit grey: the same bytes as
    /// `values.rescaled(to: UInt8.self, from: window)`, rows on all cores.
    public static func grey(values: Image<Float>, window: ClosedRange<Double>) -> Image<UInt8> {
        let n = values.pixels.count
        let lower = window.lowerBound, span = window.upperBound - window.lowerBound
        let scale = span > 0 ? 255 / span : 0
        var out = [UInt8](largeRepeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { o in
            values.pixels.withUnsafeBufferPointer { v in
                let o = SendablePointer(o.baseAddress!), v = SendablePointer(v.baseAddress!)
                Parallel.forEachChunk(of: n, chunkCount: Parallel.chunkCount(total: n, minimumPerChunk: 1 << 16)) { range in
                    for i in range { o.pointer[i] = UInt8(roundingClamping: (Double(v.pointer[i]) - lower) * scale) }
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
        var out = [UInt8](largeRepeating: 0, count: mask.count)
        guard width > 0, height > 0 else { return out }
        out.withUnsafeMutableBufferPointer { o in
            mask.withUnsafeBufferPointer { m in
                let o = SendablePointer(o.baseAddress!), m = SendablePointer(m.baseAddress!)
                let chunks = Parallel.chunkCount(total: height, minimumPerChunk: max(64, 4 * thickness))
                Parallel.forEachChunk(of: height, chunkCount: chunks) { rows in
                    let t = thickness
                    // Rows.
                    for y in rows {
                        let row = m.pointer + y * width, dst = o.pointer + y * width
                        var x = 0
                        while x < width {
                            guard row[x] != 0 else { x += 1; continue }
                            let a = x
                            while x < width && row[x] != 0 { x += 1 }
                            if a > 0 { for i in a..<min(x, a + t) { dst[i] = 1 } }
                            if x < width { for i in max(a, x - t)..<x { dst[i] = 1 } }
                        }
                    }
                    // Columns, downwards: the row of the nearest zero above (or far away).
                    var nearest = [Int](repeating: Int.min / 2, count: width)
                    for y in max(0, rows.lowerBound - t)..<rows.lowerBound {
                        let row = m.pointer + y * width
                        for x in 0..<width where row[x] == 0 { nearest[x] = y }
                    }
                    for y in rows {
                        let row = m.pointer + y * width, dst = o.pointer + y * width
                        for x in 0..<width {
                            if row[x] == 0 { nearest[x] = y } else if y - nearest[x] <= t { dst[x] = 1 }
                        }
                    }
                    // Columns, upwards: the row of the nearest zero below.
                    for x in 0..<width { nearest[x] = Int.max / 2 }
                    for y in stride(from: min(height, rows.upperBound + t) - 1, through: rows.upperBound, by: -1) {
                        let row = m.pointer + y * width
                        for x in 0..<width where row[x] == 0 { nearest[x] = y }
                    }
                    for y in rows.reversed() {
                        let row = m.pointer + y * width, dst = o.pointer + y * width
                        for x in 0..<width {
                            if row[x] == 0 { nearest[x] = y } else if nearest[x] - y <= t { dst[x] = 1 }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// A pointer handed to ``Parallel`` tasks that each touch their own elements.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}
