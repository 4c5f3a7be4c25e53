import Testing
import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveTestSupport

@Suite struct SlidingWindowTests {
    /// ```python
    /// im = tifffile.imread('Tile_001-002-000_0-000.tif').astype(np.float64)
    /// crop = im[200:300, 300:420]; w = crop[y:y+31, x:x+31].ravel()
    /// w.mean(), w.std(), stats.skew(w), stats.kurtosis(w)
    /// ```
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func windowMomentsMatchScipyOnRealData() throws {
        let image = try ImageFile.read(TestData.path("tem-microcrystals/dataset1-graphite-30kx/Tile_001-002-000_0-000.tif")).floatImage()
        let crop = image.cropped(to: Region(x: 300, y: 200, width: 120, height: 100))
        let m = try SlidingWindow.moments(crop, window: 31, stride: 1)
        #expect(m.columns == 90 && m.rows == 70)
        let golden: [(Int, Int, [Double])] = [
            (0, 0, [9031.952133194589, 336.61956621707793, 0.07989009365149562, 0.1011709238937164]),
            (10, 47, [9012.5691987513, 326.49830988256866, 0.013681981568617463, 0.0511331681644438]),
            (69, 89, [9029.501560874089, 319.4625465935305, -0.15087459243346532, 0.5964879534641279]),
        ]
        for (y, x, expected) in golden {
            for k in 0..<4 {
                let v = Double(m.values[(y * m.columns + x) * 4 + k])
                #expect(abs(v - expected[k]) <= 1e-5 * max(1, abs(expected[k])), "(\(y),\(x)) moment \(k): \(v) vs \(expected[k])")
            }
        }
        // Stride 3 picks the same windows.
        let strided = try SlidingWindow.moments(crop, window: 31, stride: 3)
        #expect(strided.columns == 30 && strided.rows == 24)
        for k in 0..<4 {
            #expect(strided.values[(5 * strided.columns + 7) * 4 + k] == m.values[(15 * m.columns + 21) * 4 + k]
                    || abs(Double(strided.values[(5 * strided.columns + 7) * 4 + k] - m.values[(15 * m.columns + 21) * 4 + k])) < 1e-3)
        }
    }

    @Test func agreesWithPatchStatisticsAndHandlesConstantWindows() throws {
        var random = SeededGenerator(seed: 5)
        var pixels = (0..<(64 * 48)).map { _ in Float(1000 + random.next(below: 500)) }
        for y in 0..<10 { for x in 0..<10 { pixels[y * 64 + x] = 700 } }  // a constant corner
        let image = Image(shape: Shape(width: 64, height: 48), pixels: pixels)
        let m = try SlidingWindow.moments(image, window: 9, stride: 2, statistics: [.mean, .std, .relstd, .skewness, .kurtosis])
        #expect(m.columns == 28 && m.rows == 20)
        #expect(Array(m.values[0..<5]) == [700, 0, 0, 0, 0])
        for (row, column) in [(3, 4), (19, 27), (10, 0)] {
            let region = m.region(column: column, row: row)
            let reference = PatchStatistics.compute(image, regions: [region], statistics: [.mean, .std, .relstd, .skewness, .kurtosis])
            for k in 0..<5 {
                let v = Double(m.values[(row * m.columns + column) * 5 + k])
                #expect(abs(v - reference[k]) <= 1e-4 * max(1, abs(reference[k])))
            }
        }
        #expect(throws: PatchStatisticError.self) { try SlidingWindow.moments(image, window: 8) }
        #expect(throws: PatchStatisticError.self) { try SlidingWindow.moments(image, window: 9, statistics: [.median]) }
    }

    /// Film-only windows: with every pixel included they are the plain moments; with a "bar"
    /// left out they are the statistics of the included pixels alone, and the included fraction
    /// is reported per window.
    @Test func maskedMomentsMeasureOnlyTheIncludedPixels() throws {
        var random = SeededGenerator(seed: 9)
        let width = 48, height = 40
        var pixels = (0..<(width * height)).map { _ in Float(1000 + random.next(below: 400)) }
        var include = [Bool](repeating: true, count: width * height)
        for y in 0..<height { for x in 0..<12 { pixels[y * width + x] = 20; include[y * width + x] = false } }  // a black bar
        let image = Image(shape: Shape(width: width, height: height), pixels: pixels)
        let statistics: [PatchStatistic] = [.mean, .std, .relstd, .skewness, .kurtosis]
        let plain = try SlidingWindow.moments(image, window: 9, stride: 3, statistics: statistics)
        let all = try SlidingWindow.maskedMoments(image, include: [Bool](repeating: true, count: width * height), window: 9, stride: 3,
                                                  statistics: statistics)
        #expect(all.features.columns == plain.columns && all.features.rows == plain.rows)
        #expect(all.included.allSatisfy { $0 == 1 })
        for i in plain.values.indices {
            #expect(abs(Double(all.features.values[i] - plain.values[i])) <= 1e-4 * max(1, abs(Double(plain.values[i]))))
        }
        let masked = try SlidingWindow.maskedMoments(image, include: include, window: 9, stride: 3, statistics: statistics)
        for (row, column) in [(0, 0), (2, 2), (5, 3), (10, 13)] {
            let region = masked.features.region(column: column, row: row)
            var film: [Float] = []
            for y in region.y..<(region.y + region.height) {
                for x in region.x..<(region.x + region.width) where include[y * width + x] { film.append(pixels[y * width + x]) }
            }
            let index = row * masked.features.columns + column
            #expect(masked.included[index] == Float(Double(film.count) / 81))
            if film.isEmpty {
                #expect(masked.features.values[(index * 5)..<(index * 5 + 5)].allSatisfy { $0 == 0 })
                continue
            }
            let reference = PatchStatistics.compute(Image(shape: Shape(width: film.count, height: 1), pixels: film),
                                                    regions: [Region(x: 0, y: 0, width: film.count, height: 1)], statistics: statistics)
            for k in 0..<5 {
                let v = Double(masked.features.values[index * 5 + k])
                #expect(abs(v - reference[k]) <= 1e-4 * max(1, abs(reference[k])), "(\(row),\(column)) statistic \(k): \(v) vs \(reference[k])")
            }
        }
    }

    /// The vectorised masked kernel gives exactly (bit for bit) the values of the plain scalar
    /// formulation it replaced (`scalarMaskedMoments` below, the kernel before 2026-12-07), for
    /// both mask polarities, strides below, at and above the window, windows with no included
    /// pixel, constant windows and widths that are not a multiple of four.
    @Test func maskedKernelEqualsTheScalarFormulationBitForBit() throws {
        var random = SeededGenerator(seed: 21)
        let width = 71, height = 53
        var pixels = (0..<(width * height)).map { _ in Float(3000 + random.next(below: 2500)) }
        var bar = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            for x in 0..<width where abs(x - y) < 7 || x < 3 { bar[y * width + x] = true; pixels[y * width + x] = Float(random.next(below: 90)) }
        }
        for y in 40..<53 { for x in 50..<71 where !bar[y * width + x] { pixels[y * width + x] = 4100 } }  // a constant block
        let image = Image(shape: Shape(width: width, height: height), pixels: pixels)
        let include = bar.map { !$0 }
        for statistics in [[PatchStatistic.mean, .std, .skewness, .kurtosis], [.kurtosis, .relstd, .mean, .std, .skewness], [.relstd]] {
            for (window, stride) in [(9, 1), (9, 3), (5, 5), (7, 11), (31, 2)] {
                let reference = Self.scalarMaskedMoments(pixels, width: width, height: height, include: include, window: window,
                                                         stride: stride, statistics: statistics)
                let a = try SlidingWindow.maskedMoments(image, include: include, window: window, stride: stride, statistics: statistics)
                let b = try SlidingWindow.maskedMoments(image, exclude: bar, window: window, stride: stride, statistics: statistics)
                #expect(a.features.values.map(\.bitPattern) == reference.values.map(\.bitPattern), "window \(window) stride \(stride) \(statistics)")
                #expect(a.included.map(\.bitPattern) == reference.included.map(\.bitPattern))
                #expect(b.features.values.map(\.bitPattern) == reference.values.map(\.bitPattern))
                #expect(b.included.map(\.bitPattern) == reference.included.map(\.bitPattern))
                // The flags variant: the same statistics, and 1 − fraction > limit per window.
                for limit: Float in [0.5, 0.25] {
                    let c = try SlidingWindow.maskedMoments(image, exclude: bar, window: window, stride: stride, statistics: statistics,
                                                            flaggingExcludedFractionAbove: limit)
                    #expect(c.features.values.map(\.bitPattern) == reference.values.map(\.bitPattern))
                    #expect(c.mostlyExcluded == reference.included.map { 1 - $0 > limit }, "window \(window) stride \(stride) limit \(limit)")
                }
            }
        }
        #expect(throws: PatchStatisticError.self) { try SlidingWindow.maskedMoments(image, exclude: [true], window: 9, statistics: [.mean]) }
    }

    /// The shift of the running sums, summed in chunks on all cores when the pixels are integers
    /// (exact in any order), is the pixel-order Double sum's rounded mean bit for bit: 16-bit
    /// data with and without a mask, fractional values, values beyond 2²⁴ and a mean that lands
    /// on a half (the pixel-order fallback decides those), a mask that leaves nothing.
    @Test func shiftIsThePixelOrderSumsRoundedMean() {
        func reference(_ p: [Float], _ exclude: [Bool]?) -> Double {
            var s = 0.0, n = 0
            for i in p.indices where !(exclude?[i] ?? false) { s += Double(p[i]); n += 1 }
            return n > 0 ? (s / Double(n)).rounded() : 0
        }
        var random = SeededGenerator(seed: 5)
        let n = 1 << 20 + 13  // several chunks, a ragged end
        let integral = (0..<n).map { _ in Float(random.next(below: 65_536)) }
        let bar = (0..<n).map { i in (i / 70_000) % 3 == 1 || random.next(below: 50) == 0 }
        let fractional = integral.map { $0 * 0.37 + 0.125 }
        var large = integral; large[n / 2] = 3e7  // beyond 2²⁴: the pixel-order sum decides
        var half = [Float](repeating: 2, count: n); for i in stride(from: 0, to: n, by: 2) { half[i] = 3 }  // mean 2.5 (n odd: just below)
        for pixels in [integral, fractional, large, half, [Float](repeating: 7, count: 5)] {
            for exclude in [nil, pixels.count == n ? bar : [true, false, true, true, false]] {
                #expect(SlidingWindow.shift(pixels, excluding: exclude).bitPattern == reference(pixels, exclude).bitPattern)
            }
        }
        #expect(SlidingWindow.shift(integral, excluding: [Bool](repeating: true, count: n)) == 0)
    }

    /// The masked moments as plain scalar loops: per image column the sums of w·dᵏ (w = ±1 on
    /// included pixels, 0 elsewhere; d = value − the included pixels' rounded mean), slid down
    /// and then across; then the moments in Double.
    static func scalarMaskedMoments(_ p: [Float], width: Int, height: Int, include: [Bool], window: Int, stride: Int,
                                    statistics: [PatchStatistic]) -> (values: [Float], included: [Float]) {
        var s = 0.0, count = 0
        for i in p.indices where include[i] { s += Double(p[i]); count += 1 }
        let shift = count > 0 ? (s / Double(count)).rounded() : 0
        let outColumns = (width - window) / stride + 1, outRows = (height - window) / stride + 1
        var values = [Float](repeating: 0, count: outColumns * outRows * statistics.count)
        var included = [Float](repeating: 0, count: outColumns * outRows)
        let n = Double(window * window)
        // Column sums slide down (rows leaving subtracted, then rows entering added) and window
        // sums across (columns leaving, then entering), as the kernel before did (one band: the
        // test images have fewer than 128 output rows).
        var columns = [[Double]](repeating: [0, 0, 0, 0, 0], count: width)
        func add(row y: Int, sign: Double) {
            for x in 0..<width {
                let w = sign * Double(include[y * width + x] ? 1 : 0), d = Double(p[y * width + x]) - shift, d2 = d * d
                columns[x][0] += w; columns[x][1] += w * d; columns[x][2] += w * d2; columns[x][3] += w * d2 * d; columns[x][4] += w * d2 * d2
            }
        }
        for y in 0..<window { add(row: y, sign: 1) }
        for row in 0..<outRows {
            if row > 0 {
                let previousTop = (row - 1) * stride, top = row * stride
                if stride >= window {
                    columns = [[Double]](repeating: [0, 0, 0, 0, 0], count: width)
                    for y in top..<(top + window) { add(row: y, sign: 1) }
                } else {
                    for y in previousTop..<top { add(row: y, sign: -1) }
                    for y in (previousTop + window)..<(top + window) { add(row: y, sign: 1) }
                }
            }
            var sum = [0.0, 0, 0, 0, 0]
            for x in 0..<window { for k in 0..<5 { sum[k] += columns[x][k] } }
            for column in 0..<outColumns {
                if column > 0 {
                    let previous = (column - 1) * stride, next = column * stride
                    if stride >= window {
                        sum = [0.0, 0, 0, 0, 0]
                        for x in next..<(next + window) { for k in 0..<5 { sum[k] += columns[x][k] } }
                    } else {
                        for x in previous..<next { for k in 0..<5 { sum[k] -= columns[x][k] } }
                        for x in (previous + window)..<(next + window) { for k in 0..<5 { sum[k] += columns[x][k] } }
                    }
                }
                let index = row * outColumns + column
                included[index] = Float(sum[0] / n)
                guard sum[0] > 0.5 else { continue }
                let c = sum[0], mu = sum[1] / c, r2 = sum[2] / c, r3 = sum[3] / c, r4 = sum[4] / c
                let mu2 = mu * mu, m2raw = r2 - mu2, constant = m2raw <= 1e-12 * r2, m2 = constant ? 1 : m2raw
                let m3 = r3 - 3 * mu * r2 + 2 * mu2 * mu
                let m4 = r4 - 4 * mu * r3 + 6 * mu2 * r2 - 3 * mu2 * mu2
                let std = constant ? 0 : m2.squareRoot(), mean = mu + shift
                for (k, statistic) in statistics.enumerated() {
                    let v: Float
                    switch statistic {
                    case .mean: v = Float(mean)
                    case .std: v = Float(std)
                    case .relstd: v = mean == 0 ? 0 : Float(std / mean)
                    case .skewness: v = constant ? 0 : Float(m3 / (m2 * std))
                    default: v = constant ? 0 : Float(m4 / (m2 * m2) - 3)
                    }
                    values[index * statistics.count + k] = v
                }
            }
        }
        return (values, included)
    }
}
