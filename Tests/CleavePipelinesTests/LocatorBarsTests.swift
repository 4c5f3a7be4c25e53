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

    /// The run-based bar mask, the vectorised chamfer distance and the ring medians give exactly
    /// what the flood fill, the pixel-by-pixel chamfer passes and the per-ring arrays they replaced
    /// gave (the references below, the code before 2026-12-07): random fields with blotches that
    /// touch the border or not, diagonal-only contacts (not 4-connected), NaN pixels, regions just
    /// above and below the size limit, widths around the 16- and 32-pixel vector steps.
    @Test func fastBarsEqualTheFloodFillAndChamferPasses() {
        var random = SeededGenerator(seed: 7)
        var checked = 0
        for (width, height) in [(1, 9), (5, 1), (31, 7), (33, 40), (64, 64), (97, 61), (130, 45)] {
            for trial in 0..<6 {
                var pixels = [Float](repeating: 1000, count: width * height)
                for i in pixels.indices where random.next(below: 100) < 3 { pixels[i] = 900 + Float(random.next(below: 300)) }
                // Blotches of black: rectangles, some at the border, and a diagonal staircase.
                for _ in 0..<(1 + random.next(below: 5)) {
                    let w = 1 + random.next(below: max(1, width / 2)), h = 1 + random.next(below: max(1, height / 2))
                    let x0 = random.next(below: width), y0 = random.next(below: height)
                    for y in y0..<min(height, y0 + h) { for x in x0..<min(width, x0 + w) { pixels[y * width + x] = Float(random.next(below: 400)) } }
                }
                for k in 0..<min(width, height) where trial % 2 == 0 { pixels[k * width + k] = 10 }
                if trial == 3 { for i in pixels.indices where random.next(below: 50) == 0 { pixels[i] = .nan } }
                let image = Image(shape: Shape(width: width, height: height), pixels: pixels)
                for fraction in [0.0, 0.01, 0.04, 0.2] {
                    let reference = Self.floodFillMask(image, threshold: 500, minimumFraction: fraction)
                    #expect(LocatorBars.mask(image, threshold: 500, minimumFraction: fraction) == reference,
                            "\(width)×\(height) trial \(trial) fraction \(fraction)")
                    for cap in [3, 33] {
                        let fast = LocatorBars.distance(to: reference, width: width, height: height, cap: cap)
                        #expect(fast == Self.chamferReference(reference, width: width, height: height, cap: cap), "\(width)×\(height) cap \(cap)")
                    }
                    if reference.contains(true) && width >= 40 && height >= 40 {
                        let d = LocatorBars.distance(to: reference, width: width, height: height, cap: 9)
                        #expect(LocatorBars.edgeWidth(image, distance: d, reach: 8, tolerance: 0.15)
                                == Self.edgeWidthReference(image, distance: d, reach: 8, tolerance: 0.15))
                    }
                    // The grown mask (the distances flagged ≤ edge 32 bytes a step, in place) is
                    // the bar plus every pixel within the measured edge.
                    let grown = LocatorBars.maskWithEdge(image, threshold: 500, minimumFraction: fraction)
                    if let edge = grown.edge {
                        let d = LocatorBars.distance(to: reference, width: width, height: height, cap: 33)
                        #expect(grown.mask == d.map { Int($0) <= edge }, "\(width)×\(height) trial \(trial) grown mask")
                    } else {
                        #expect(!grown.mask.contains(true) && !reference.contains(true))
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == 7 * 6 * 4)
    }

    /// The bar mask as a flood fill from every border pixel below the threshold (the code before 2026-12-07).
    static func floodFillMask(_ image: Image<Float>, threshold: Float, minimumFraction: Double) -> [Bool] {
        let width = image.width, height = image.height, count = width * height, p = image.pixels
        var bar = [Bool](repeating: false, count: count), visited = [Bool](repeating: false, count: count)
        var seeds: [Int] = []
        for x in 0..<width { seeds.append(x); seeds.append((height - 1) * width + x) }
        for y in 0..<height { seeds.append(y * width); seeds.append(y * width + width - 1) }
        for start in seeds {
            guard !visited[start], p[start] < threshold else { continue }
            visited[start] = true
            var stack = [start], members: [Int] = []
            while let i = stack.popLast() {
                members.append(i)
                let x = i % width
                for (ok, j) in [(x > 0, i - 1), (x < width - 1, i + 1), (i >= width, i - width), (i < count - width, i + width)]
                    where ok && !visited[j] && p[j] < threshold { visited[j] = true; stack.append(j) }
            }
            if Double(members.count) >= minimumFraction * Double(count) { for m in members { bar[m] = true } }
        }
        return bar
    }

    /// The chessboard distance by the pixel-by-pixel chamfer passes (the code before 2026-12-07).
    static func chamferReference(_ bar: [Bool], width: Int, height: Int, cap: Int) -> [UInt8] {
        var d = bar.map { $0 ? UInt8(0) : UInt8(cap) }
        func relax(_ i: Int, _ j: Int) { if d[j] &+ 1 < d[i] { d[i] = d[j] &+ 1 } }
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                if x > 0 { relax(i, i - 1) }
                if y > 0 { relax(i, i - width); if x > 0 { relax(i, i - width - 1) }; if x < width - 1 { relax(i, i - width + 1) } }
            }
        }
        for y in stride(from: height - 1, through: 0, by: -1) {
            for x in stride(from: width - 1, through: 0, by: -1) {
                let i = y * width + x
                if x < width - 1 { relax(i, i + 1) }
                if y < height - 1 { relax(i, i + width); if x < width - 1 { relax(i, i + width + 1) }; if x > 0 { relax(i, i + width - 1) } }
            }
        }
        return d
    }

    /// The edge width with one array per ring (the code before 2026-12-07).
    static func edgeWidthReference(_ image: Image<Float>, distance: [UInt8], reach: Int, tolerance: Double) -> Int {
        var rings = [[Float]](repeating: [], count: reach + 1)
        for i in 0..<distance.count {
            let d = Int(distance[i])
            if d >= 1 && d <= reach { rings[d].append(image.pixels[i]) }
        }
        func median(_ values: inout [Float]) -> Double? { values.isEmpty ? nil : OrderStatistics.percentile(&values, 50) }
        var far = Array(rings[(reach - 3)...reach].joined())
        guard let film = median(&far), film > 0 else { return 0 }
        for d in 1...(reach - 4) {
            guard let m = median(&rings[d]) else { return d - 1 }
            if abs(m - film) <= tolerance * film { return d - 1 }
        }
        return reach - 4
    }
}
