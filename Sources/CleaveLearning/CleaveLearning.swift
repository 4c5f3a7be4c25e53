import CleaveCore

/// Namespace marker for the CleaveLearning module; see the module's other files for its API.
public enum CleaveLearningModule {
    public static let name = "CleaveLearning"
}
