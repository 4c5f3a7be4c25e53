import Testing
import CleaveRender

@Suite struct RenderModuleTests {
    @Test func moduleLinks() { #expect(Palette.colour(forIndex: 13) == Palette.categorical[1]) }
}
