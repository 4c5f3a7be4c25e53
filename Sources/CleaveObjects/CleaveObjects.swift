import CleaveCore

/// Namespace marker for the CleaveObjects module; see the module's other files for its API.
public enum CleaveObjectsModule {
    public static let name = "CleaveObjects"
}
