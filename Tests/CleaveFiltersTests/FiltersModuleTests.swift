import Testing
import CleaveFilters

@Suite struct FiltersModuleTests {
    @Test func moduleLinks() { #expect(CleaveFiltersModule.name == "CleaveFilters") }
}
