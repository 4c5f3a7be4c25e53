import CleaveCore
import CleaveLearning
import CleavePipelines
import Testing

/// A window run with more windows than the k-means sample takes the Locator's scaled-on-the-fly
/// path (no scaled table is built). Its labels, centres, heat and silhouette must be those of the
/// plain computation on the scaled table, written out here with CleaveLearning's public API.
@Suite struct LocatorLargeRunTests {
    @Test(arguments: [false, true])
    func scaledOnTheFlyEqualsTheScaledTable(excludeDark: Bool) throws {
        // 448² → 432² = 186 624 windows of 17², more than the 100 000-row k-means sample.
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 448, overlap: 0, seed: 3, kind: .gridbars,
                                                      particlesPerTile: 12))
        let image = LocatorImage(name: "t.tif", image: set.tiles[0].image.converted(to: Float.self), integral: true)
        var options = LocatorOptions(sampling: .window(size: 17, stride: 1), clusterCount: 3, seed: 2, excludeDark: excludeDark)
        options.features = LocatorOptions.windowFeatures
        options.automaticDarkExclusion = false  // the tile has bars: without this, two-step mode would come on by itself
        let result = try Locator.run([image], options: options)
        let k = options.clusterCount
        #expect(result.layout.count == 432 * 432)
        #expect((result.darkGroup != nil) == excludeDark)

        // The clustered rows and their z-scores, materialised.
        let kept = (0..<result.layout.count).filter { result.labels[$0] < Int32(k) }
        #expect(kept.count > 100_000)
        let raw = result.features.selectingRows(kept)
        let space = try Scaler.zScore.fit(raw).transform(raw)
        let fitted = try KMeans(clusterCount: k, seed: options.seed).fitAssign(space)

        // Same partition: the run's labels are the k-means labels renumbered by a permutation.
        var permutation = [Int32](repeating: -1, count: k)
        var consistent = true
        for (j, row) in kept.enumerated() {
            let from = Int(fitted.labels[j]), to = result.labels[row]
            if permutation[from] == -1 { permutation[from] = to } else if permutation[from] != to { consistent = false; break }
        }
        #expect(consistent)
        #expect(Set(permutation).count == k)

        // Centres: the mean scaled row of each cluster (summed in another order: Float-close).
        let local = kept.map { result.labels[$0] }
        for c in 0..<k {
            let members = local.indices.filter { local[$0] == Int32(c) }
            for j in 0..<space.columns {
                let mean = members.reduce(0.0) { $0 + Double(space[$1, j]) } / Double(members.count)
                #expect(abs(Double(result.model.centroids[c, j]) - mean) <= 1e-5 * max(1, abs(mean)), "centre \(c), feature \(j)")
            }
        }

        // Heat: closeness to the picked centre against the nearest other one.
        let centers = result.model.centroids
        for (j, row) in kept.enumerated() where j % 97 == 0 {
            var pick = 0.0, other = Double.infinity
            for c in 0..<k {
                var s = 0.0
                for f in 0..<space.columns { let d = Double(space[j, f]) - Double(centers[c, f]); s += d * d }
                if c == result.picked { pick = s.squareRoot() } else { other = min(other, s.squareRoot()) }
            }
            #expect(abs(Double(result.heat[row]) - other / max(pick + other, 1e-30)) <= 1e-4, "row \(row)")
        }

        // Silhouette: CleaveLearning's, on the same 5 000 sampled rows, exactly.
        let expected = try silhouette(space, labels: local, sampleSize: 5_000, seed: options.seed)
        #expect(result.silhouette == expected)
    }

    /// The default window command on a barred tile (two-step mode on by itself: bar mask, film-only
    /// moments, dark windows flagged by the moments kernel, clustering with the dark rows skipped)
    /// gives the same result bit for bit with 1, 2, 3 and 8 threads: features, labels, heat, picked
    /// windows, centres, silhouette, bar edge and targets.
    @Test func barredWindowRunIsIdenticalForAnyThreadCount() throws {
        let set = try SyntheticTileSet.generate(.init(rows: 1, columns: 1, tileSize: 448, overlap: 0, seed: 5, kind: .gridbars,
                                                      particlesPerTile: 12))
        let image = LocatorImage(name: "t.tif", image: set.tiles[0].image.converted(to: Float.self), integral: true)
        var options = LocatorOptions(sampling: .window(size: 17, stride: 1), clusterCount: 3, seed: 0)
        options.features = LocatorOptions.windowFeatures
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var results: [LocatorResult] = []
        for threads in [1, 2, 3, 8] {
            Parallel.threadCount = threads
            results.append(try Locator.run([image], options: options))
        }
        let first = results[0]
        #expect(first.darkGroup != nil, "the tile's bars should switch two-step mode on")
        #expect(first.layout.count > 100_000, "more windows than the k-means sample: the large-run path")
        for (result, threads) in zip(results.dropFirst(), [2, 3, 8]) {
            #expect(result.features.values.map(\.bitPattern) == first.features.values.map(\.bitPattern), "\(threads) threads: features")
            #expect(result.labels == first.labels, "\(threads) threads: labels")
            #expect(result.heat.map(\.bitPattern) == first.heat.map(\.bitPattern), "\(threads) threads: heat")
            #expect(result.pickedMask == first.pickedMask, "\(threads) threads: picked")
            #expect(result.model.centroids.values.map(\.bitPattern) == first.model.centroids.values.map(\.bitPattern))
            #expect(result.silhouette == first.silhouette && result.barEdgePixels == first.barEdgePixels)
            #expect(result.targets == first.targets, "\(threads) threads: targets")
        }
    }
}
