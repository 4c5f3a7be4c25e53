import Testing
import CleaveLearning

@Suite struct LearningModuleTests {
    @Test func moduleLinks() { #expect(CleaveLearningModule.name == "CleaveLearning") }
}
