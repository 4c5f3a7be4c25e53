import CleaveCore

/// An 8-bit sRGB colour.
public struct RGB: Hashable, Sendable, Codable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red; self.green = green; self.blue = blue
    }

    /// Parses "#rrggbb" (or "rrggbb"); nil when malformed.
    public init?(hex: String) {
        var text = Substring(hex)
        if text.hasPrefix("#") { text = text.dropFirst() }
        guard text.count == 6, let value = UInt32(text, radix: 16) else { return nil }
        self.init(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
    }

    /// "#rrggbb".
    public var hex: String {
        func two(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + two(red) + two(green) + two(blue)
    }

    public var description: String { hex }
}

/// Colours for classes and clusters.
public enum Palette {
    /// Twelve well-separated colours (colour-blind friendly first eight: Okabe–Ito order, then extras).
    /// Class or cluster `i` (0-based) gets `categorical[i % count]`.
    public static let categorical: [RGB] = [
        RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 158, 115), RGB(240, 228, 66),
        RGB(0, 114, 178), RGB(213, 94, 0), RGB(204, 121, 167), RGB(140, 140, 140),
        RGB(120, 60, 160), RGB(160, 220, 120), RGB(255, 120, 120), RGB(60, 60, 200),
    ]

    /// The colour for 0-based category `index`.
    public static func colour(forIndex index: Int) -> RGB {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }

    /// Colours for many categories shown side by side (clusters), from Paul Tol's colour-blind-safe
    /// schemes (no greys, which vanish on grey images): chosen greedily so that the smallest CIELAB
    /// difference between any two of the first k, under normal, deuteranopic and protanopic vision
    /// (Viénot 1999), is as large as it gets: 33 for k = 6, 26 for k = 8, 20 for k = 10 (the
    /// Okabe–Ito ``categorical`` colours: 17, 9 and 6 — orange and vermilion merge).
    public static let distinctColours: [RGB] = [
        RGB(0x33, 0x22, 0x88), RGB(0xBB, 0xCC, 0x33), RGB(0x99, 0xDD, 0xFF), RGB(0x11, 0x77, 0x33),
        RGB(0x44, 0x77, 0xAA), RGB(0x44, 0xBB, 0x99), RGB(0x88, 0x22, 0x55), RGB(0xEE, 0xDD, 0x88),
        RGB(0x99, 0x99, 0x33), RGB(0xEE, 0x66, 0x77),
    ]

    /// The colour for 0-based cluster `index` (``distinctColours``, repeating after ten).
    public static func distinct(forIndex index: Int) -> RGB {
        distinctColours[((index % distinctColours.count) + distinctColours.count) % distinctColours.count]
    }

    /// Viridis-like perceptually ordered map, sampled at 9 stops and interpolated: t in [0, 1].
    public static func viridis(_ t: Double) -> RGB {
        let stops: [(Double, Double, Double)] = [
            (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
            (31, 158, 137), (53, 183, 121), (110, 206, 88), (253, 231, 37),
        ]
        let x = min(max(t.isNaN ? 0 : t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        return RGB(UInt8((a.0 + (b.0 - a.0) * f).rounded()), UInt8((a.1 + (b.1 - a.1) * f).rounded()),
                   UInt8((a.2 + (b.2 - a.2) * f).rounded()))
    }
}
