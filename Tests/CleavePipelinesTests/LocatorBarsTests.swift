import Testing
import CleaveCore
import CleavePipelines

@Suite struct LocatorBarsTests {
    /// A 60×40 field of film (1000) with a black bar (50) over columns 0..<12, then `ramp`
    /// columns rising linearly from 600 towards the film.
    static func field(ramp: Int) -> Image<Float> {
        var image = Image<Float>(width: 60, height: 40, repeating: 1000)
        for y in 0..<40 {
            for x in 0..<12 { image[x, y] = 50 }
            for k in 0..<ramp { image[12 + k, y] = 600 + 400 * Float(k) / Float(ramp) }
        }
        return image
    }

    @Test func chessboardDistanceMatchesBruteForce() {
        let width = 23, height = 17
        var bar = [Bool](repeating: false, count: width * height)
        for i in [0, 40, 41, 200, 390] { bar[i] = true }
        let d = LocatorBars.distance(to: bar, width: width, height: height, cap: 9)
        for y in 0..<height {
            for x in 0..<width {
                var best = 9
                for i in bar.indices where bar[i] { best = min(best, max(abs(i % width - x), abs(i / width - y))) }
                #expect(Int(d[y * width + x]) == best, "(\(x), \(y))")
            }
        }
    }

    @Test func edgeIsTheRingsBetweenBlackAndFilm() {
        // Sharp bar: nothing to add. Ramp of 3 columns at 600, 733, 867: the first two are more
        // than 15 % below the film (1000), the third is within it.
        for (ramp, expected) in [(0, 0), (3, 2), (1, 1)] {
            let image = Self.field(ramp: ramp)
            let grown = LocatorBars.maskWithEdge(image, threshold: 500, minimumFraction: 0.04)
            #expect(grown.edge == expected, "ramp \(ramp)")
            // The grown mask is exactly the bar plus `expected` columns.
            for y in 0..<40 { for x in 0..<60 { #expect(grown.mask[y * 60 + x] == (x < 12 + expected)) } }
        }
    }

    @Test func aDarkParticleInTheFilmIsNotBar() {
        var image = Self.field(ramp: 0)
        for y in 18..<22 { for x in 40..<44 { image[x, y] = 40 } }  // small black dot, not touching the border
        let grown = LocatorBars.maskWithEdge(image, threshold: 500, minimumFraction: 0.04)
        #expect(!grown.mask[20 * 60 + 41])
        #expect(grown.edge == 0)
    }
}
