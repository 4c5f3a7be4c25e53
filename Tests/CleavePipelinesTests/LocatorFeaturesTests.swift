import CleaveCore
import CleavePipelines
import Testing

@Suite struct LocatorFeaturesTests {
    static func tile() throws -> LocatorImage {
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 256, overlap: 0, seed: 5, kind: .gridbars, particlesPerTile: 10))
        return LocatorImage(name: "t.tif", image: set.tiles[0].image.converted(to: Float.self), integral: true)
    }

    @Test(arguments: [LocatorOptions.Sampling.patches(.grid(rows: 8, columns: 8)), .window(size: 17, stride: 8)])
    func cachedFeaturesGiveTheSameResultAsAFullRun(sampling: LocatorOptions.Sampling) throws {
        let image = try Self.tile()
        var options = LocatorOptions(sampling: sampling, clusterCount: 3, seed: 4, excludeDark: true)
        if case .window = sampling { options.features = LocatorOptions.windowFeatures }
        let features = try Locator.features([image], options: options)
        for k in [2, 3, 4] {
            options.clusterCount = k
            let full = try Locator.run([image], options: options)
            let cached = try Locator.run([image], features: features, options: options)
            #expect(cached.labels == full.labels, "k=\(k)")
            #expect(cached.clusterSizes == full.clusterSizes)
            #expect(cached.picked == full.picked && cached.darkGroup == full.darkGroup)
            #expect(cached.heat == full.heat)
            #expect(cached.silhouette == full.silhouette)
        }
    }

    @Test func featuresOfOtherSettingsAreRefused() throws {
        let image = try Self.tile()
        let features = try Locator.features([image], options: LocatorOptions(sampling: .patches(.grid(rows: 4, columns: 4))))
        #expect(features.patchCount == 16)
        #expect(throws: LocatorError.self) {
            try Locator.run([image], features: features, options: LocatorOptions(sampling: .patches(.grid(rows: 8, columns: 8))))
        }
        #expect(LocatorFeatures.key(for: LocatorOptions(clusterCount: 2)) == LocatorFeatures.key(for: LocatorOptions(clusterCount: 5, seed: 9)))
    }
}
