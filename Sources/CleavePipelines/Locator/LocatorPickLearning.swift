import CleaveCore
import CleaveLearning

/// A supervised patch classifier learned from the clusters of a run as the user picked them
/// (issue 18 item 4, "learn from picks"): a random forest on the scaled patch statistics whose
/// classes are the run's clusters. Stored in a ``LocatorModel`` (format version 3); applying the
/// model to a new grid then classifies every patch directly — no re-clustering — and the picked
/// clusters' summed probability is the heat. The model's centroids remain the fallback
/// (``LocatorModel/withoutClassifier``, and models without a classifier).
///
/// ```
/// run ─▶ labels (clusters, dark group) + pick ─▶ Locator.learnPicks ─▶ LocatorModel.classifier
/// new grid ─▶ statistics ─▶ model's tails + scaler ─▶ forest ─▶ argmax = cluster, P(picked) = heat
/// ```
///
/// Why a forest on top of the centroids: the centroid route warm-starts k-means on the new grid,
/// so it always splits the new grid into k clusters — a grid without particles still gets a
/// "particle" cluster — while the forest keeps the boundaries the user accepted.
public struct LocatorClassifier: Sendable, Codable, Equatable {
    /// What the forest's rows are: the patch statistics after the model's tail compression (if
    /// any) and scaler, before PCA — one column per ``LocatorModel/features`` entry.
    public static let space = "scaled statistics"
    /// The forest; its classes are cluster numbers (0…k−1 of the model's centroids).
    public var forest: RandomForest
    /// The picked clusters (forest classes); a patch is picked when its most probable class is one of them.
    public var picked: [Int32]
    /// The name the user gave the picked clusters (nil = none).
    public var pickedName: String?
    /// Rows the forest was trained on (non-dark patches of the training run, at most
    /// ``Locator/pickTrainingRowLimit``).
    public var trainingPatches: Int
    /// Training rows per cluster number (0…k−1).
    public var trainingClusterSizes: [Int]

    /// A classifier as ``Locator/learnPicks(_:labels:picked:name:progress:)`` builds it; a loaded model checks its consistency.
    public init(forest: RandomForest, picked: [Int32], pickedName: String?, trainingPatches: Int, trainingClusterSizes: [Int]) {
        self.forest = forest; self.picked = picked; self.pickedName = pickedName
        self.trainingPatches = trainingPatches; self.trainingClusterSizes = trainingClusterSizes
    }

    /// The first field that disagrees with a model of `features` statistic columns and
    /// `clusterCount` clusters picked at `modelPicked` (nil for a consistent classifier).
    func inconsistency(features: Int, clusterCount: Int, modelPicked: Int) -> String? {
        guard forest.featureCount == features else {
            return "classifier.forest.featureCount: \(forest.featureCount) features, the model has \(features)"
        }
        guard forest.classes.allSatisfy({ (0..<Int32(clusterCount)).contains($0) }) else {
            return "classifier.forest.classes: \(forest.classes) are not all clusters 0…\(clusterCount - 1)"
        }
        guard !picked.isEmpty, picked.allSatisfy({ forest.classes.contains($0) }), picked.contains(Int32(modelPicked)) else {
            return "classifier.picked: \(picked) must be classes of the forest (\(forest.classes)) and hold the model's pick \(modelPicked)"
        }
        guard trainingClusterSizes.count == clusterCount, trainingClusterSizes.allSatisfy({ $0 >= 0 }),
              trainingPatches >= 2, trainingClusterSizes.reduce(0, +) == trainingPatches else {
            return "classifier.trainingClusterSizes: \(trainingClusterSizes) for \(trainingPatches) training patches and \(clusterCount) clusters"
        }
        if let pickedName, pickedName.count > 100 { return "classifier.pickedName: \(pickedName.count) characters (at most 100)" }
        return nil
    }

    /// Cluster per row (the most probable class; the first on ties) and the picked clusters'
    /// summed probability per row.
    func classify(_ scaled: Matrix) -> (labels: [Int32], pickedProbability: [Float]) {
        let K = forest.classCount
        let p = forest.probabilities(rows: scaled.values)
        let pickedIndex = forest.classes.indices.filter { picked.contains(forest.classes[$0]) }
        var labels = [Int32](repeating: 0, count: scaled.rows)
        var probability = [Float](repeating: 0, count: scaled.rows)
        for r in 0..<scaled.rows {
            var best = 0
            for c in 1..<K where p[r * K + c] > p[r * K + best] { best = c }
            labels[r] = forest.classes[best]
            var sum: Float = 0
            for c in pickedIndex { sum += p[r * K + c] }
            probability[r] = min(1, sum)
        }
        return (labels, probability)
    }
}

extension LocatorModel {
    /// This model with its centroids only: the unsupervised route (k-means warm-started from the
    /// saved centres), as before version 3.
    public var withoutClassifier: LocatorModel {
        var model = self
        model.classifier = nil
        return model
    }
}

extension Locator {
    /// Most rows a pick classifier is trained on: larger runs (sliding windows) use every n-th
    /// non-dark row, so training stays within seconds.
    public static let pickTrainingRowLimit = 20_000

    /// The forest settings of a pick classifier: scikit-learn's `RandomForestClassifier` defaults
    /// (100 trees, √F features per split, bootstrap, fully grown trees), the run's seed.
    public static func pickForestConfiguration(seed: UInt64) -> RandomForestConfiguration {
        RandomForestConfiguration(treeCount: 100, seed: seed)
    }

    /// The model of `result` with a classifier learned from its clusters as picked (see
    /// ``LocatorClassifier``): the CLI's `--save-model` and the workbench's Pick call this.
    /// - Parameters:
    ///   - labels: per patch, the cluster after the user's merges (default: the run's labels);
    ///     values ≥ the cluster count (the dark group) are not trained on.
    ///   - picked: the picked clusters (default: the run's pick).
    ///   - name: what the user called the picked clusters.
    /// - Throws: ``LocatorOptionError`` naming the field when the run cannot teach a classifier (a
    ///   similarity run, fewer than two clusters with patches, a pick without patches).
    /// - Complexity: one random forest of 100 trees on at most ``pickTrainingRowLimit`` patches:
    ///   about O(trees × rows log rows × √features).
    public static func learnPicks(_ result: LocatorResult, labels overriding: [Int32]? = nil, picked overridingPick: [Int]? = nil,
                                  name: String? = nil, progress: CleaveCore.Progress = .silent) throws -> LocatorModel {
        var model = result.model
        let k = result.clusterCount
        guard result.pickedBy != "similarity" else {
            throw LocatorOptionError(field: "picked", value: nil, reason: "a similarity run has no picked cluster to learn from; pick a cluster instead")
        }
        let labels = overriding ?? result.labels
        guard labels.count == result.layout.count else {
            throw LocatorOptionError(field: "labels", value: nil, reason: "\(labels.count) labels for \(result.layout.count) patches")
        }
        let picked = overridingPick ?? [result.picked]
        guard !picked.isEmpty, picked.allSatisfy({ (0..<k).contains($0) }) else {
            throw LocatorOptionError(field: "picked", value: "\(picked)", reason: "clusters are not all among 0…\(k - 1)")
        }
        // Training rows: every non-dark patch, or every n-th of a large run.
        var rows: [Int] = []
        for i in 0..<labels.count where labels[i] >= 0 && Int(labels[i]) < k { rows.append(i) }
        if rows.count > pickTrainingRowLimit {
            let step = (rows.count + pickTrainingRowLimit - 1) / pickTrainingRowLimit
            rows = stride(from: 0, to: rows.count, by: step).map { rows[$0] }
        }
        let trainingLabels = rows.map { labels[$0] }
        var sizes = [Int](repeating: 0, count: k)
        for l in trainingLabels { sizes[Int(l)] += 1 }
        for p in picked where sizes[p] == 0 {
            throw LocatorOptionError(field: "picked", value: "\(p)", reason: "cluster has no patches to learn from")
        }
        guard sizes.filter({ $0 > 0 }).count >= 2 else {
            throw LocatorOptionError(field: "picked", value: nil, reason: "the patches fall in one cluster; a classifier needs at least two clusters with patches")
        }
        let scaled = try scaledStatistics(result.features.selectingRows(rows), model: model)
        let forest = try RandomForest.train(scaled, labels: trainingLabels,
                                            configuration: pickForestConfiguration(seed: result.options.seed), progress: progress)
        model.classifier = LocatorClassifier(forest: forest, picked: picked.sorted().map(Int32.init), pickedName: name,
                                             trainingPatches: rows.count, trainingClusterSizes: sizes)
        model.picked = picked.min()!
        return model
    }

    /// Raw statistics in the space a model's classifier reads: its tail compression, then its scaler.
    static func scaledStatistics(_ raw: Matrix, model: LocatorModel) throws -> Matrix {
        let compressed = model.tails.map { LocatorTails.apply(raw, $0) } ?? raw
        return try model.scaler.transform(compressed)
    }
}
