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
}
