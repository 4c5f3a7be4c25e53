import Testing
import Foundation
import CleaveCore
import CleaveFeatures
import CleavePipelines

@Suite struct LocatorSyntheticTests {
    @Test func explore() throws {
        guard let spec = ProcessInfo.processInfo.environment["CLEAVE_EXPLORE"] else { return }
        let parts = spec.split(separator: ";").map(String.init)
        let seeds = parts[0].split(separator: ",").compactMap { UInt64($0) }
        for seed in seeds {
            let set = try SyntheticTileSet.generate(.init(seed: seed))
            var options = LocatorOptions()
            options.excludeDark = true
            if parts.count > 1 && parts[1].hasPrefix("window") {
                options.sampling = .window(size: 31, stride: 8); options.features = LocatorOptions.windowFeatures
            }
            if parts.count > 2 { options.clusterCount = Int(parts[2])! }
            let result = try Locator.run(set.locatorImages(), options: options)
            print("seed \(seed): \(set.score(result)) sizes \(result.clusterSizes) scores \(result.particleScores)")
        }
    }
}
