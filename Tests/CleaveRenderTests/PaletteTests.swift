import CleaveRender
import Foundation
import Testing

/// Cluster colours must stay apart for colour-blind viewers too (issue 22: orange and vermilion
/// could not be told apart at k ≥ 6). Distances are CIELAB ΔE*ab (CIE 1976) of sRGB colours,
/// after simulating deuteranopia and protanopia with Viénot, Brettel & Mollon (1999)'s matrices in
/// linear RGB; the numbers below were computed with numpy in the same way.
@Suite struct PaletteTests {
    static func linear(_ v: UInt8) -> Double {
        let c = Double(v) / 255
        return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
    }

    static func lab(_ rgb: [Double]) -> [Double] {
        let x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047
        let y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
        let z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883
        func f(_ t: Double) -> Double { t > pow(6.0 / 29, 3) ? cbrt(t) : t / (3 * pow(6.0 / 29, 2)) + 4.0 / 29 }
        return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))]
    }

    static let visions: [[[Double]]] = [
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        [[0.29275, 0.70725, 0], [0.29275, 0.70725, 0], [-0.02234, 0.02234, 1]],   // deuteranopia
        [[0.11238, 0.88762, 0], [0.11238, 0.88762, 0], [0.00401, -0.00401, 1]],   // protanopia
    ]

    /// The smallest ΔE between any two of `colours` under any of the three visions.
    static func smallestDifference(_ colours: [RGB]) -> Double {
        var smallest = Double.infinity
        for m in visions {
            let labs = colours.map { c -> [Double] in
                let l = [linear(c.red), linear(c.green), linear(c.blue)]
                return lab((0..<3).map { r in min(max(m[r][0] * l[0] + m[r][1] * l[1] + m[r][2] * l[2], 0), 1) })
            }
            for i in labs.indices { for j in labs.indices where j > i {
                smallest = min(smallest, sqrt(zip(labs[i], labs[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)))
            } }
        }
        return smallest
    }

    @Test func clusterColoursStayApartForColourBlindViewers() {
        // numpy: 33.47, 26.18, 20.05 for the first 6, 8, 10 distinct colours.
        #expect(abs(Self.smallestDifference(Array(Palette.distinctColours.prefix(6))) - 33.47) < 0.05)
        #expect(abs(Self.smallestDifference(Array(Palette.distinctColours.prefix(8))) - 26.18) < 0.05)
        #expect(abs(Self.smallestDifference(Palette.distinctColours) - 20.05) < 0.05)
        // The categorical (Okabe–Ito first) colours the clusters had: 17.2 at k = 6, 9.0 at k = 8.
        #expect(Self.smallestDifference(Array(Palette.categorical.prefix(8))) < 9.1)
        #expect(Palette.distinct(forIndex: 10) == Palette.distinct(forIndex: 0) && Palette.distinct(forIndex: -1) == Palette.distinctColours[9])
    }
}
