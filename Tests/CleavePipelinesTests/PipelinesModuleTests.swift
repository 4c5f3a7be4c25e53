import Testing
import CleavePipelines

@Suite struct PipelinesModuleTests {
    @Test func moduleLinks() { #expect(SyntheticTileSet.Kind.allCases.count == 2) }
}
