import Testing
import CleaveFeatures

@Suite struct FeaturesModuleTests {
    @Test func moduleLinks() { #expect(CleaveFeaturesModule.name == "CleaveFeatures") }
}
