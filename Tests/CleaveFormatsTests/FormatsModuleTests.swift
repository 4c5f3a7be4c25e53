import Testing
import CleaveFormats

@Suite struct FormatsModuleTests {
    @Test func moduleLinks() { #expect(CleaveFormatsModule.name == "CleaveFormats") }
}
