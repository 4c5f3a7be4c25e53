import CleaveCore

/// Namespace marker for the CleaveFilters module; see the module's other files for its API.
public enum CleaveFiltersModule {
    public static let name = "CleaveFilters"
}
