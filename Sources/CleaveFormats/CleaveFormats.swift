import CleaveCore

/// Namespace marker for the CleaveFormats module; see the module's other files for its API.
public enum CleaveFormatsModule {
    public static let name = "CleaveFormats"
}
