import Testing
import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveTestSupport

/// Golden values: dataset1 tile Tile_001-002, 4×4 grid of 250 px patches, computed with
///
/// ```python
/// import numpy as np, tifffile
/// from scipy import stats, ndimage
/// from skimage.feature import graycomatrix, graycoprops
/// im = tifffile.imread('Tile_001-002-000_0-000.tif')
/// g = ndimage.gaussian_gradient_magnitude(im.astype(np.float64), 2.0)
/// p = im[r*250:(r+1)*250, c*250:(c+1)*250]; a = p.astype(np.float64).ravel()
/// h, e = np.histogram(p, bins=1024); i = np.argmax(h); mode = (e[i] + e[i+1]) / 2
/// q = np.percentile(p, [1, 5, 25, 50, 75, 95, 99])
/// lo, hi = float(p.min()), float(p.max())
/// qz = np.minimum(((p.astype(np.float64) - lo) * (32 / (hi - lo))).astype(int), 31).astype(np.uint8)
/// G = graycomatrix(qz, [1], [0, np.pi/4, np.pi/2, 3*np.pi/4], levels=32, symmetric=True, normed=True)
/// gp = g[r*250:(r+1)*250, c*250:(c+1)*250].ravel()
/// mean=a.mean(), std=a.std(), relstd=std/mean, skewness=stats.skew(a), kurtosis=stats.kurtosis(a),
/// darkfraction=(a < 7000).mean(), gradmean=gp.mean(), gradstd=gp.std(), gradp95=np.percentile(gp, 95),
/// glcm_*=graycoprops(G, prop).mean()  # contrast, homogeneity, energy, correlation, entropy
/// ```
@Suite struct PatchStatisticsTests {
    static let particlePatch: [String: Double] = [
        "mean": 8984.87616, "std": 1922.4257791508244, "relstd": 0.21396241249371037, "skewness": 0.19897777989243698,
        "kurtosis": 1.8633969159067556, "mode": 9381.88720703125, "min": 3079, "max": 20086, "range": 17007,
        "median": 9292, "p1": 4558, "p5": 5487, "p25": 8012, "p75": 9833, "p95": 12065, "p99": 14620.010000000002,
        "iqr": 1821, "lowtail": 4734, "uptail": 5328.010000000002, "darkfraction": 0.1668,
        "gradmean": 265.6765550988835, "gradstd": 307.29912215439225, "gradp95": 913.9258560028239,
        "glcm_contrast": 4.379559410332084, "glcm_homogeneity": 0.5440960634812755, "glcm_energy": 0.1862775893546087,
        "glcm_correlation": 0.8339866261966136, "glcm_entropy": 4.356783597123526,
    ]
    static let filmPatch: [String: Double] = [
        "mean": 8614.563184, "std": 162.11517582195117, "relstd": 0.01881873431760892, "skewness": -0.39330791880741583,
        "kurtosis": 15.900876197519548, "mode": 8604.82861328125, "min": 3493, "max": 9358, "range": 5865,
        "median": 8611, "p1": 8253, "p5": 8357, "p25": 8504, "p75": 8721, "p95": 8885, "p99": 9001,
        "iqr": 217, "lowtail": 358, "uptail": 390, "darkfraction": 1.6e-05,
        "gradmean": 12.636862036945823, "gradstd": 7.244480486459839, "gradp95": 25.54357649934736,
        "glcm_contrast": 1.218409122433509, "glcm_homogeneity": 0.6411401745703421, "glcm_energy": 0.31679363235505015,
        "glcm_correlation": 0.2875937939991964, "glcm_entropy": 2.6230166909344614,
    ]

    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"), arguments: [(1, 0), (3, 3)])
    func everyStatisticMatchesNumpyScipySkimage(row: Int, column: Int) throws {
        let image = try ImageFile.read(TestData.path("tem-microcrystals/dataset1-graphite-30kx/Tile_001-002-000_0-000.tif")).floatImage()
        let regions = try PatchLayout.grid(rows: 4, columns: 4).regions(width: image.width, height: image.height)
        #expect(regions[row * 4 + column] == Region(x: column * 250, y: row * 250, width: 250, height: 250))
        let options = PatchStatisticsOptions(darkThreshold: 7000, gradientSigma: 2, glcmDistance: 1, glcmLevels: 32)
        let table = PatchStatistics.compute(image, regions: [regions[row * 4 + column]], statistics: PatchStatistic.all, options: options)
        let golden = row == 1 ? Self.particlePatch : Self.filmPatch
        for (i, statistic) in PatchStatistic.all.enumerated() {
            let expected = golden[statistic.rawValue]!
            // Exact counting statistics agree to 1e-9 relative; the gradient is computed in Float (1e-4).
            let tolerance = statistic.needsGradient ? 1e-4 : 1e-9
            #expect(abs(table[i] - expected) <= tolerance * max(1, abs(expected)), "\(statistic): \(table[i]) vs \(expected)")
        }
        // The sorting path (float data) gives the same numbers as the counting path.
        let sorted = PatchStatistics.compute(image, regions: [regions[row * 4 + column]], statistics: PatchStatistic.intensity,
                                             options: options, integral: false)
        let counted = PatchStatistics.compute(image, regions: [regions[row * 4 + column]], statistics: PatchStatistic.intensity,
                                              options: options, integral: true)
        for i in sorted.indices { #expect(abs(sorted[i] - counted[i]) <= 1e-9 * max(1, abs(counted[i]))) }
    }

    @Test func constantPatchHasDefinedValues() {
        let values = [Float](repeating: 1234, count: 64)
        let t = PatchStatistics.compute(values: values, width: 8, height: 8, statistics: PatchStatistic.all,
                                        options: PatchStatisticsOptions(darkThreshold: 2000))
        let byName = Dictionary(uniqueKeysWithValues: zip(PatchStatistic.all.map(\.rawValue), t))
        #expect(byName["mean"] == 1234 && byName["std"] == 0 && byName["skewness"] == 0 && byName["kurtosis"] == 0)
        #expect(byName["mode"] == 1234 && byName["range"] == 0 && byName["iqr"] == 0 && byName["darkfraction"] == 1)
        #expect(byName["glcm_contrast"] == 0 && byName["glcm_energy"] == 1 && byName["glcm_correlation"] == 1 && abs(byName["glcm_entropy"]!) < 1e-12)
        let zero = PatchStatistics.compute(values: [Float](repeating: 0, count: 16), width: 4, height: 4, statistics: [.relstd])
        #expect(zero == [0])
    }

    /// ```python
    /// a = np.array([[0,0,1,1],[0,0,1,1],[0,2,2,2],[2,2,3,3]], np.uint8)
    /// G = graycomatrix(a, [2], [0, np.pi/4, np.pi/2, 3*np.pi/4], levels=4, symmetric=True, normed=True)
    /// [graycoprops(G, p).mean() for p in ['contrast','homogeneity','energy','correlation','entropy']]
    /// ```
    @Test func glcmMatchesSkimageAtDistanceTwo() {
        let values: [Float] = [0, 0, 1, 1, 0, 0, 1, 1, 0, 2, 2, 2, 2, 2, 3, 3]
        let p = GLCM.properties(values: values, width: 4, height: 4, distance: 2, levels: 4)
        #expect(abs(p.contrast - 1.5555555555555556) < 1e-12)
        #expect(abs(p.homogeneity - 0.5472222222222223) < 1e-12)
        #expect(abs(p.energy - 0.38413478080000707) < 1e-12)
        #expect(abs(p.correlation - 0.2539329685362517) < 1e-12)
        #expect(abs(p.entropy - 2.001549398436379) < 1e-12)
    }

    @Test func gridCoversEveryPixelAndPatchSizeReportsRemainder() throws {
        let regions = try PatchLayout.grid(rows: 3, columns: 3).regions(width: 10, height: 10)
        #expect(regions.map(\.width) == [3, 3, 4, 3, 3, 4, 3, 3, 4])
        #expect(regions.reduce(0) { $0 + $1.pixelCount } == 100)
        let fixed = try PatchLayout.patchSize(4).regions(width: 10, height: 9)
        #expect(fixed.count == 4 && fixed.last == Region(x: 4, y: 4, width: 4, height: 4))
        #expect(PatchLayout.patchSize(4).uncoveredPixels(width: 10, height: 9) == 90 - 64)
        #expect(throws: PatchStatisticError.self) { try PatchLayout.grid(rows: 6, columns: 2).regions(width: 10, height: 10) }
        #expect(throws: PatchStatisticError.self) { try PatchStatistic.parseList("mean,sharpness") }
        #expect(try PatchStatistic.parseList("study") == [.std, .relstd, .mean, .skewness, .kurtosis, .mode])
    }
}

/// Issue 19 item 1: the mode's histogram turned +inf into `Int(NaN)` and trapped (locate with
/// `--features study` on a float image with one +inf pixel). Every statistic of such a patch is
/// computed without trapping; the mode is NaN, which the Locator's finiteness check reports.
@Suite struct PatchStatisticsNonFiniteTests {
    @Test func everyStatisticOfAPatchWithInfinityIsComputed() {
        for bad in [Float.infinity, -.infinity, .nan] {
            var image = Image<Float>(shape: Shape(width: 32, height: 32), pixels: (0..<1024).map { Float($0 % 37) })
            image[5, 7] = bad
            let regions = [Region(x: 0, y: 0, width: 16, height: 16), Region(x: 16, y: 16, width: 16, height: 16)]
            let table = PatchStatistics.compute(image, regions: regions, statistics: PatchStatistic.all, options: PatchStatisticsOptions())
            let mode = PatchStatistic.all.firstIndex(of: .mode)!
            #expect(table[mode].isNaN, "\(bad): mode \(table[mode])")
            #expect(table[PatchStatistic.all.count + mode].isFinite, "the clean patch keeps its mode")
        }
    }
}

extension PatchStatisticsNonFiniteTests {
    /// GLCM quantisation turned (inf − lo) · 0 = NaN into `Int32(NaN)`: every GLCM statistic of a
    /// patch with a non-finite sample is computed (values unspecified), a clean patch unchanged.
    @Test func glcmOfAPatchWithInfinityDoesNotTrap() {
        let clean = Image<Float>(shape: Shape(width: 32, height: 32), pixels: (0..<1024).map { Float(($0 * 7) % 41) })
        let region = [Region(x: 0, y: 0, width: 16, height: 16)]
        let glcm = PatchStatistic.all.filter { $0.rawValue.hasPrefix("glcm_") }
        let reference = PatchStatistics.compute(clean, regions: region, statistics: glcm, options: PatchStatisticsOptions())
        for bad in [Float.infinity, -.infinity, .nan] {
            var image = clean
            image[5, 7] = bad
            _ = PatchStatistics.compute(image, regions: region, statistics: glcm, options: PatchStatisticsOptions())
            var far = clean
            far[25, 25] = bad
            #expect(PatchStatistics.compute(far, regions: region, statistics: glcm, options: PatchStatisticsOptions()) == reference)
        }
    }
}
