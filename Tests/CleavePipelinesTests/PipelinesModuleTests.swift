import Testing
import CleavePipelines

@Suite struct PipelinesModuleTests {
    @Test func moduleLinks() { #expect(CleavePipelinesModule.name == "CleavePipelines") }
}
