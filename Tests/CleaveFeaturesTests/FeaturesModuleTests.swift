import Testing
import CleaveFeatures

@Suite struct FeaturesModuleTests {
    @Test func moduleLinks() { #expect(PatchStatistic.study.count == 6) }
}
