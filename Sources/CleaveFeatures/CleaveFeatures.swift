import CleaveCore

/// Namespace marker for the CleaveFeatures module; see the module's other files for its API.
public enum CleaveFeaturesModule {
    public static let name = "CleaveFeatures"
}
