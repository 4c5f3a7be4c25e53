import Testing
import CleaveObjects

@Suite struct ObjectsModuleTests {
    @Test func moduleLinks() { #expect(CleaveObjectsModule.name == "CleaveObjects") }
}
