import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines
import CleaveTestSupport

/// The film level from the film's own population (``FilmLevel``) and per-tile normalisation.
@Suite struct LocatorFilmLevelTests {
    /// Black (bars) at 500 ± 30 and film at 10 000 ± 400 grey values, `blackShare` of the sample black.
    static func sample(blackShare: Double, seed: UInt64, count: Int = 200_000) -> (all: [Float], film: [Float]) {
        var random = SeededGenerator(seed: seed)
        var all: [Float] = [], film: [Float] = []
        for _ in 0..<count {
            if random.nextDouble() < blackShare {
                all.append(Float((500 + 30 * random.nextGaussian()).rounded()))
            } else {
                let v = Float((10_000 + 400 * random.nextGaussian()).rounded())
                all.append(v); film.append(v)
            }
        }
        return (all, film)
    }

    /// Whatever the bars cover (10–80 %), the level is the median of the film's own pixels; the
    /// median of all pixels (the old level) lands in the bars beyond 50 % (at 50 % it is a coin toss).
    @Test(arguments: [0.1, 0.3, 0.5, 0.8])
    func brightPopulationIsTheFilmWhateverTheBarCoverage(blackShare: Double) {
        var (all, film) = Self.sample(blackShare: blackShare, seed: 7)
        let level = FilmLevel.measure(sample: all)
        let filmMedian = Double(OrderStatistics.select(&film, film.count / 2))
        #expect(level.bimodal && level.method == .brightPopulation)
        #expect(level.level == filmMedian, "\(level)")
        #expect(abs(level.darkShare - blackShare) < 0.01)
        #expect(level.separation > 0.95)
        #expect(level.description.contains("bright population"))
        var copy = all
        let oldLevel = Double(OrderStatistics.select(&copy, copy.count / 2))
        #expect(level.median == oldLevel)
        if blackShare > 0.5 { #expect(oldLevel < 1_000) }  // the old film level was a bar level
        // 8/16-bit images take the counting path: the same result without sorting.
        let image = LocatorImage(name: "s.tif", image: Image(shape: Shape(width: 500, height: 400), pixels: all), integral: true)
        #expect(FilmLevel.measure([image]) == level)
    }

    /// One normal population: Otsu's split explains 2/π ≈ 0.64 of the variance and its darker
    /// half is not black, so the median stays the level and the output says why.
    @Test func onePopulationFallsBackToTheMedian() {
        var random = SeededGenerator(seed: 3)
        var values = (0..<200_000).map { _ in Float((9_000 + 300 * random.nextGaussian()).rounded()) }
        let level = FilmLevel.measure(sample: values)
        let median = Double(OrderStatistics.select(&values, values.count / 2))
        #expect(!level.bimodal && level.method == .median && level.level == median)
        #expect(abs(level.separation - 2 / Double.pi) < 0.02, "\(level.separation)")
        #expect(level.description.contains("no black population"))
    }

    /// Two clear populations, but the darker is not black (film beside bright holes, crystals):
    /// no bars, so the median of all pixels stays the film level.
    @Test func aDarkerPopulationThatIsNotBlackIsNotBars() {
        var random = SeededGenerator(seed: 4)
        var values = (0..<200_000).map { i in Float(((i % 3 == 0 ? 8_000 : 10_000) + 150 * random.nextGaussian()).rounded()) }
        let level = FilmLevel.measure(sample: values)
        #expect(level.separation >= FilmLevel.minimumSeparation && !level.bimodal && level.method == .median)
        #expect(level.level == Double(OrderStatistics.select(&values, values.count / 2)))
        #expect(level.description.contains("no black population"))
    }

    /// Reference values: `bench/locator/film_reference.py` (numpy, the same subsample, 4096-bin
    /// Otsu, rank-n/2 medians) on the three real sets:
    /// dataset1 8866 median (η 0.531); dataset2 11688 bright population (split 6219.9, η 0.977,
    /// 33.1 % dark; the old median 10855); asbestos 3150 median (η 0.569).
    /// Per tile of dataset2: 10360 (bimodal), 11670, 11680, 11631, 756 (all black: no film),
    /// 11687, 11838, 11827 (bimodal).
    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func realSetsMatchTheReference() throws {
        let d1 = FilmLevel.measure(try LocatorInput.load([TestData.path(LocatorRealDataTests.dataset1)]))
        #expect(d1.level == 8866 && d1.method == .median && abs(d1.separation - 0.531) < 0.002)
        let images = try LocatorInput.load([TestData.path(LocatorRealDataTests.dataset2)])
        let d2 = FilmLevel.measure(images)
        #expect(d2.level == 11688 && d2.bimodal && d2.median == 10855)
        #expect(abs(d2.threshold - 6219.93) < 0.1 && abs(d2.separation - 0.977) < 0.002 && abs(d2.darkShare - 0.331) < 0.001)
        let asbestos = FilmLevel.measure(try LocatorInput.load([TestData.path("tem-microcrystals/asbestos-fibres-holey-film")]))
        #expect(asbestos.level == 3150 && asbestos.method == .median)
        let tiles = LocatorTileNormalization.measure(images, reference: d2.level)
        #expect(tiles.levels.map(\.level) == [10360, 11670, 11680, 11631, 756, 11687, 11838, 11827])
        #expect(tiles.levels.map(\.bimodal) == [true, false, false, false, false, true, true, true])
        #expect(tiles.tilesWithoutFilm == [4] && tiles.gains[4] == 1)
        #expect(abs(tiles.gains[0] - 11688.0 / 10360) < 1e-12)
    }

    /// A saved model carries the normalisation and its film level, and applying it scales new tiles
    /// to that level; a version-1 model (before the fields existed) still loads and applies without.
    @Test func modelsCarryTheTileNormalization() throws {
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 2, tileSize: 256, seed: 5, kind: .film, exposureSpread: 0.3))
        let images = set.locatorImages()
        let fitted = try Locator.run(images, options: LocatorOptions(sampling: .patches(.grid(rows: 4, columns: 4)), clusterCount: 2))
        #expect(fitted.model.version == 3 && fitted.model.classifier == nil && fitted.model.normalizeTiles == true && fitted.model.filmLevel == fitted.filmLevel)
        let folder = TestData.scratchDirectory("locator-model-versions")
        try fitted.model.save(folder + "/new.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/new.json"))) as? [String: Any])
        json["version"] = 1
        json.removeValue(forKey: "normalizeTiles"); json.removeValue(forKey: "filmLevel")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/old.json"))
        let old = try LocatorModel.load(folder + "/old.json")
        #expect(old.normalizeTiles == nil && old.filmLevel == nil)
        #expect(try Locator.run(images, options: LocatorOptions(), model: old).tileNormalization == nil)
        let applied = try Locator.run(images, options: LocatorOptions(), model: try LocatorModel.load(folder + "/new.json"))
        #expect(applied.tileNormalization?.reference == fitted.filmLevel && applied.filmLevel == fitted.filmLevel)
        json["version"] = 4
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/future.json"))
        #expect(throws: ModelFileError.unsupportedVersion(path: folder + "/future.json", kind: "Locator model", found: "4", supported: 3)) { try LocatorModel.load(folder + "/future.json") }
    }

    /// Tiles named from row 3, column 2 are laid out from the mosaic's first row and column.
    @Test func mosaicStartsAtTheFirstTilePresent() throws {
        var images: [LocatorImage] = []
        for (r, c) in [(2, 1), (2, 2), (3, 1), (3, 2)] {
            var random = SeededGenerator(seed: UInt64(10 * r + c))
            let pixels = (0..<(64 * 64)).map { _ in Float((1000 + 50 * random.nextGaussian()).rounded()) }
            images.append(LocatorImage(name: "Tile_00\(r + 1)-00\(c + 1).tif", mosaicRow: r, mosaicColumn: c,
                                       image: Image(shape: Shape(width: 64, height: 64), pixels: pixels), integral: true))
        }
        let result = try Locator.run(images, options: LocatorOptions(sampling: .patches(.grid(rows: 2, columns: 2)), clusterCount: 2))
        let folder = TestData.scratchDirectory("locator-mosaic-offset")
        try LocatorOutput.write(result, images: images, to: folder)
        let mosaic = try ImageFile.read(folder + "/mosaic_overlay.png")
        #expect(mosaic.shape.width == 128 && mosaic.shape.height == 128, "\(mosaic.shape)")
    }
}
