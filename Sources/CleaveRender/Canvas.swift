import CleaveCore

/// Drawing on 3-channel 8-bit RGB images (planar, as ``Display/overlay(grey:labels:colours:opacity:)`` returns).
public enum Canvas {
    /// Fills a rectangle (clipped to the image) with a colour blended at `opacity` (1 = opaque).
    public static func fill(_ image: inout Image<UInt8>, x: Int, y: Int, width: Int, height: Int, colour: RGB, opacity: Double = 1) {
        precondition(image.channels == 3, "Canvas.fill needs an RGB image, got \(image.shape)")
        let plane = image.shape.planeSize, w = image.width
        let x0 = max(0, x), x1 = min(image.width, x + width), y0 = max(0, y), y1 = min(image.height, y + height)
        guard x0 < x1, y0 < y1 else { return }
        let a = min(max(opacity, 0), 1)
        let c = [Double(colour.red), Double(colour.green), Double(colour.blue)]
        // Large areas (the legend panel of a 4096² picture is ~10⁶ pixels a channel): per channel
        // the 256 possible results of the blend (the same expression), one lookup per pixel.
        // Small ones (glyph pixels) blend each pixel.
        let table = (x1 - x0) * (y1 - y0) >= 256
        var blend = [UInt8](repeating: 0, count: table ? 256 : 0)
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            for ch in 0..<3 {
                if table {
                    for v in 0..<256 { blend[v] = UInt8((Double(v) * (1 - a) + c[ch] * a).rounded()) }
                }
                blend.withUnsafeBufferPointer { blend in
                    for py in y0..<y1 {
                        let row = pixels.baseAddress! + ch * plane + py * w
                        if table {
                            for px in x0..<x1 { row[px] = blend[Int(row[px])] }
                        } else {
                            for px in x0..<x1 { row[px] = UInt8((Double(row[px]) * (1 - a) + c[ch] * a).rounded()) }
                        }
                    }
                }
            }
        }
    }

    /// Draws a rectangle outline `thickness` pixels wide.
    public static func stroke(_ image: inout Image<UInt8>, x: Int, y: Int, width: Int, height: Int, colour: RGB, thickness: Int = 1) {
        fill(&image, x: x, y: y, width: width, height: thickness, colour: colour)
        fill(&image, x: x, y: y + height - thickness, width: width, height: thickness, colour: colour)
        fill(&image, x: x, y: y, width: thickness, height: height, colour: colour)
        fill(&image, x: x + width - thickness, y: y, width: thickness, height: height, colour: colour)
    }

    /// Draws text with the built-in 5×7 font, each font pixel a `scale × scale` block; (x, y) is
    /// the top-left corner. Returns the drawn width.
    @discardableResult
    public static func text(_ image: inout Image<UInt8>, _ text: String, x: Int, y: Int, colour: RGB, scale: Int = 1) -> Int {
        var cursor = x
        for ch in text {
            let rows = BitmapFont.rows(for: ch)
            for (r, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - col)) != 0 {
                    fill(&image, x: cursor + col * scale, y: y + r * scale, width: scale, height: scale, colour: colour)
                }
            }
            cursor += BitmapFont.advance * scale
        }
        return cursor - x
    }

    /// A legend box: a title line, then one swatch + label per entry, on a dark translucent panel
    /// in the top-left corner (or at `x`, `y`). The font scale follows the image size so that the
    /// legend stays legible on large mosaics.
    public static func legend(_ image: inout Image<UInt8>, title: String?, entries: [(colour: RGB, label: String)],
                              x: Int = 8, y: Int = 8, scale: Int? = nil) {
        let s = scale ?? legendScale(width: image.width, height: image.height)
        let line = (BitmapFont.glyphHeight + 4) * s
        let swatch = BitmapFont.glyphHeight * s
        let (panelWidth, panelHeight) = legendSize(title: title, entries: entries, scale: s)
        fill(&image, x: x, y: y, width: panelWidth, height: panelHeight, colour: RGB(20, 20, 20), opacity: 0.75)
        var cy = y + 4 * s
        if let title {
            text(&image, title, x: x + 4 * s, y: cy, colour: RGB(255, 255, 255), scale: s)
            cy += line
        }
        for entry in entries {
            fill(&image, x: x + 4 * s, y: cy, width: swatch, height: swatch, colour: entry.colour)
            stroke(&image, x: x + 4 * s, y: cy, width: swatch, height: swatch, colour: RGB(255, 255, 255), thickness: max(1, s / 2))
            text(&image, entry.label, x: x + 8 * s + swatch, y: cy, colour: RGB(255, 255, 255), scale: s)
            cy += line
        }
    }

    /// The legend's font scale on a `width × height` picture: one font pixel per 400 px of the shorter side.
    public static func legendScale(width: Int, height: Int) -> Int { max(1, min(width, height) / 400) }

    /// The legend panel's size in pixels; ``legend(_:title:entries:x:y:scale:)`` draws nothing outside it.
    public static func legendSize(title: String?, entries: [(colour: RGB, label: String)], scale s: Int) -> (width: Int, height: Int) {
        let line = (BitmapFont.glyphHeight + 4) * s
        let swatch = BitmapFont.glyphHeight * s
        let textWidth = max(title.map { BitmapFont.width(of: $0, scale: s) } ?? 0,
                            entries.map { BitmapFont.width(of: $0.label, scale: s) + swatch + 4 * s }.max() ?? 0)
        return (textWidth + 8 * s, line * (entries.count + (title == nil ? 0 : 1)) + 6 * s)
    }
}
