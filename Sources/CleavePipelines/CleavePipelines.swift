import CleaveCore

/// Namespace marker for the CleavePipelines module; see the module's other files for its API.
public enum CleavePipelinesModule {
    public static let name = "CleavePipelines"
}
