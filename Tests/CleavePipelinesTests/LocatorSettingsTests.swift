import CleaveCore
import CleaveFeatures
import CleaveLearning
import Foundation
import Testing
import CleavePipelines

/// The one settings type the command line and the workbench share: defaults, ranges, syntax and
/// errors that name fields.
@Suite struct LocatorSettingsTests {
    private func options(_ json: String) throws -> LocatorOptions {
        try JSONDecoder().decode(LocatorSettings.self, from: Data(json.utf8)).options()
    }

    private func error(_ json: String) -> LocatorOptionError? {
        do { _ = try options(json); return nil } catch let error as LocatorOptionError { return error } catch { return nil }
    }

    @Test func emptySettingsAreTheDefaultOptions() throws {
        let built = try LocatorSettings().options()
        #expect(built == LocatorOptions())
        #expect(built.sampling == .patches(.grid(rows: LocatorSettings.Defaults.gridRows, columns: LocatorSettings.Defaults.gridColumns)))
        #expect(built.clusterCount == LocatorSettings.Defaults.clusterCount)
        #expect(built.automaticDarkExclusion && !built.excludeDark)
        #expect(built.statistics == PatchStatisticsOptions())
    }

    @Test func everyFieldReachesTheOptions() throws {
        let o = try options(#"""
            {"gridRows": 4, "gridColumns": 6, "features": ["mean", "std"], "scaler": "robust", "reduce": "pca:0.9",
             "algorithm": "agglomerative", "linkage": "average", "metric": "cosine", "clusterCount": 5, "seed": 7,
             "excludeDark": true, "darkMargin": 2, "pick": 1, "similarTo": "a:b.tif:2:3", "similarityThreshold": 0.5,
             "kRange": "2-6", "gradientSigma": 1.5, "glcmDistance": 2, "glcmLevels": 16, "flatten": true,
             "compressTails": true, "normalizeTiles": false, "lineCheck": false}
            """#)
        #expect(o.sampling == .patches(.grid(rows: 4, columns: 6)))
        #expect(o.features == [.mean, .std] && o.scaler == .robust && o.reduction == .pcaFraction(0.9))
        #expect(o.method == .agglomerative && o.linkage == .average && o.metric == .cosine)
        #expect(o.clusterCount == 5 && o.seed == 7 && o.excludeDark && !o.automaticDarkExclusion && o.darkMargin == 2 && o.pick == 1)
        #expect(o.similarTo == .init(image: "a:b.tif", row: 2, column: 3) && o.similarityThreshold == 0.5 && o.kRange == 2...6)
        #expect(o.statistics == PatchStatisticsOptions(gradientSigma: 1.5, glcmDistance: 2, glcmLevels: 16))
        #expect(o.flattenBackground && o.compressTails && !o.normalizeTiles && !o.lineCheck)
        // excludeDark false is a decision too: no automatic two-step mode.
        let off = try options(#"{"excludeDark": false}"#)
        #expect(!off.excludeDark && !off.automaticDarkExclusion)
    }

    @Test func windowModeComesFromTheFieldsGiven() throws {
        let o = try options(#"{"windowSize": 15, "windowStride": 4}"#)
        #expect(o.sampling == .window(size: 15, stride: 4) && o.features == LocatorOptions.windowFeatures)
        let d = try options(#"{"mode": "window"}"#)
        #expect(d.sampling == .window(size: LocatorSettings.Defaults.windowSize, stride: LocatorSettings.Defaults.windowStride))
        #expect(try options(#"{"patchSize": 32}"#).sampling == .patches(.patchSize(32)))
        #expect(try options(#"{"reduce": "nmf:3"}"#).reduction == .nmf(3))
        #expect(try options(#"{"reduce": "pca:3"}"#).reduction == .pca(3))
    }

    @Test func errorsNameTheFieldAndTheValue() {
        let cases: [(String, String, String?)] = [
            (#"{"clusterCount": 0}"#, "clusterCount", "0"),
            (#"{"clusterCount": 65}"#, "clusterCount", "65"),
            (#"{"gridRows": 0}"#, "gridRows", "0"),
            (#"{"gridColumns": 513}"#, "gridColumns", "513"),
            (#"{"patchSize": 2}"#, "patchSize", "2"),
            (#"{"patchSize": 16, "gridRows": 4}"#, "patchSize", "16"),
            (#"{"windowSize": 8}"#, "windowSize", "8"),
            (#"{"windowSize": 9, "windowStride": 0}"#, "windowStride", "0"),
            (#"{"windowSize": 9, "gridRows": 3}"#, "mode", "window"),
            (#"{"mode": "hexagon"}"#, "mode", "hexagon"),
            (#"{"features": ["mean", "bogus"]}"#, "features", "mean,bogus"),
            (#"{"features": []}"#, "features", "0"),
            (#"{"windowSize": 9, "features": ["glcm_contrast"]}"#, "features", "glcm_contrast"),
            (#"{"scaler": "magic"}"#, "scaler", "magic"),
            (#"{"reduce": "pca"}"#, "reduce", "pca"),
            (#"{"reduce": "pca:1.5"}"#, "reduce", "pca:1.5"),
            (#"{"reduce": "nmf:0"}"#, "reduce", "nmf:0"),
            (#"{"algorithm": "dbscan"}"#, "algorithm", "dbscan"),
            (#"{"windowSize": 9, "algorithm": "agglomerative"}"#, "algorithm", "agglomerative"),
            (#"{"algorithm": "agglomerative", "metric": "cosine"}"#, "linkage", "ward"),
            (#"{"linkage": "median"}"#, "linkage", "median"),
            (#"{"metric": "chebyshev"}"#, "metric", "chebyshev"),
            (#"{"darkMargin": -1}"#, "darkMargin", "-1"),
            (#"{"pick": -2}"#, "pick", "-2"),
            (#"{"similarTo": "tile.tif:3"}"#, "similarTo", "tile.tif:3"),
            (#"{"similarityThreshold": 2}"#, "similarityThreshold", "2.0"),
            (#"{"kRange": "1-4"}"#, "kRange", "1-4"),
            (#"{"kRange": "5-3"}"#, "kRange", "5-3"),
            (#"{"kRange": "2-99"}"#, "kRange", "2-99"),
            (#"{"gradientSigma": 0}"#, "gradientSigma", "0.0"),
            (#"{"glcmDistance": 0}"#, "glcmDistance", "0"),
            (#"{"glcmLevels": 300}"#, "glcmLevels", "300"),
        ]
        for (json, field, value) in cases {
            let found = error(json)
            #expect(found?.field == field, "\(json): \(String(describing: found))")
            #expect(found?.value == value, "\(json): \(String(describing: found))")
            #expect(found.map { !$0.description.contains("--") && !$0.description.contains("\n") } == true, "\(json)")
        }
    }

    /// Errors found while running name fields as well (they reach web users as job errors).
    @Test func runErrorsNameFieldsNotFlags() throws {
        let pixels = (0..<(32 * 32)).map { Float(1000 + ($0 * 7919) % 97) }
        let input = LocatorImage(name: "a.tif", image: Image(shape: Shape(width: 32, height: 32), pixels: pixels), integral: true)
        var settings = LocatorSettings()
        settings.gridRows = 2; settings.gridColumns = 2; settings.clusterCount = 9; settings.excludeDark = false
        do {
            _ = try Locator.run([input], options: try settings.options())
            Issue.record("9 clusters of 4 patches ran")
        } catch let error as LocatorOptionError {
            #expect(error.field == "clusterCount" && error.value == "9" && error.reason.contains("4 patches"), "\(error)")
        }
        settings.clusterCount = 2; settings.pick = 5
        do {
            _ = try Locator.run([input], options: try settings.options())
            Issue.record("pick 5 of 2 clusters ran")
        } catch let error as LocatorOptionError {
            #expect(error.field == "pick" && error.value == "5", "\(error)")
        }
    }
}
