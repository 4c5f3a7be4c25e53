import CleaveCore
import CleaveFeatures
import CleaveLearning
import Foundation

/// A saved Locator session: how features were made and scaled, the cluster centres and which
/// cluster was picked. Applying it to new images clusters them starting from these centres, so
/// the picked cluster keeps its identity and no `--pick` is needed; a model with a
/// ``classifier`` (learned from the picks, ``Locator/learnPicks(_:labels:picked:name:progress:)``)
/// classifies the new patches directly instead.
public struct LocatorModel: Sendable, Codable {
    /// Format version of the JSON file. 2: ``normalizeTiles`` and ``filmLevel`` (a Cleave that
    /// ignored them would measure new tiles on another grey scale, so it must refuse the file);
    /// version-1 files still load (no normalisation). 3: the optional ``classifier`` (a Cleave
    /// that ignored it would cluster instead of classifying); version-1 and -2 files load with none.
    public static let formatVersion = 3
    /// Always `cleave-locator-model`; ``load(_:)`` refuses files that say otherwise.
    public var format: String = "cleave-locator-model"
    /// The file's format version (≤ ``formatVersion`` to load).
    public var version: Int = LocatorModel.formatVersion
    /// The Cleave version that wrote the file (for people reading it; not checked).
    public var cleaveVersion: String = CleaveCore.cleaveVersion
    /// How the model's patches or windows were taken (a grid run applying it keeps its own grid).
    public var sampling: LocatorOptions.Sampling
    /// The statistics measured per patch, in the order of the scaler's columns.
    public var features: [PatchStatistic]
    /// Settings of the statistics (gradient σ, GLCM distance and levels) new images are measured with.
    public var statistics: PatchStatisticsOptions
    /// Per-feature scaling fitted on the model's data (after ``tails`` when present).
    public var scaler: FittedScaler
    /// PCA fitted on the scaled features when the run reduced with PCA; nil otherwise (NMF is not replayed).
    public var pca: FittedPCA?
    /// Cluster centres in the scaled (and PCA) space, canonical order.
    public var centroids: Matrix
    /// Index of the picked cluster (row of ``centroids``).
    public var picked: Int
    /// Mean raw feature values of the picked cluster (for people reading the file).
    public var pickedSignature: [String: Double]
    /// Whether dark patches (grid bars, black areas) were set aside before clustering; applying the model does the same.
    public var excludeDark: Bool
    /// Reach of the dark exclusion, in patches (see ``LocatorOptions/darkMargin``).
    public var darkMargin: Int
    /// Whether the features were taken on the flattened image (nil in models saved before the option existed = false).
    public var flattenBackground: Bool?
    /// Tail compression fitted on the model's data (median, IQR per feature), applied before ``scaler``; nil = none.
    public var tails: FittedScaler?
    /// Whether every tile was scaled to ``filmLevel`` by its own film level before the statistics
    /// (``LocatorTileNormalization``); nil in models saved before the option existed = false.
    /// Applying the model scales the new tiles to the same level.
    public var normalizeTiles: Bool?
    /// The film level of the model's data (``FilmLevel``), the grey scale its features refer to.
    public var filmLevel: Double?
    /// The supervised patch classifier learned from the user's picks (nil: cluster from the
    /// centroids, as version-1/2 models do).
    public var classifier: LocatorClassifier?

    /// Reads a model file.
    /// - Throws: ``ModelFileError`` when the file is missing, not JSON, or not a Locator model of a known version.
    public static func load(_ path: String) throws -> LocatorModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw PipelineFileError.cannotRead(path: path, what: "the model file") }
        struct Header: Decodable { var format: String?; var version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw ModelFileError.damaged(path: path, reason: "\(data.count) bytes of incomplete or invalid JSON; a truncated copy?")
        }
        guard header.format == "cleave-locator-model" else {
            throw ModelFileError.wrongKind(path: path, expected: "Locator model", found: "format \(header.format ?? "missing")")
        }
        guard let v = header.version, v <= formatVersion else {
            throw ModelFileError.unsupportedVersion(path: path, kind: "Locator model", found: header.version.map(String.init) ?? "missing", supported: formatVersion)
        }
        let model: LocatorModel
        do { model = try JSONDecoder().decode(LocatorModel.self, from: data) } catch {
            throw ModelFileError.damaged(path: path, kind: "Locator model", reason: "\(describe(error))")
        }
        if let problem = model.inconsistency() { throw ModelFileError.damaged(path: path, kind: "Locator model", reason: "\(problem)") }
        return model
    }

    /// A decoding error as "field.path: why" (the JSON field that failed, not Swift's dump).
    static func describe(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error as? DecodingError {
        case .dataCorrupted(let c)?: return "\(path(c.codingPath).isEmpty ? "file" : path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c)?: return "\(path(c.codingPath + [key])): missing"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?: return "\(path(c.codingPath)): \(c.debugDescription)"
        default: return String(describing: error)
        }
    }

    /// The first field whose sizes or indices disagree with the rest (nil for a consistent model):
    /// decoding checks types only, so a hand-edited file could otherwise index out of range later.
    func inconsistency() -> String? {
        func scalerProblem(_ s: FittedScaler, _ name: String) -> String? {
            guard s.columns >= 1, s.scale.count == s.columns else { return "\(name): \(s.center.count) centres for \(s.scale.count) scales" }
            guard s.center.allSatisfy(\.isFinite), s.scale.allSatisfy({ $0 != 0 && $0.isFinite }) else {
                return "\(name): centres and scales must be finite, scales nonzero"
            }
            return nil
        }
        if let problem = scalerProblem(scaler, "scaler") { return problem }
        if let tails {
            if let problem = scalerProblem(tails, "tails") { return problem }
            guard tails.columns == scaler.columns else { return "tails: \(tails.columns) columns, scaler \(scaler.columns)" }
        }
        var spaceColumns = scaler.columns
        if let pca {
            guard pca.mean.count == scaler.columns, pca.componentCount >= 1,
                  pca.components.allSatisfy({ $0.count == pca.mean.count }),
                  pca.explainedVariance.count == pca.componentCount else {
                return "pca: \(pca.componentCount) components of \(pca.components.map(\.count)) values and \(pca.explainedVariance.count) variances for a mean of \(pca.mean.count) (scaler \(scaler.columns))"
            }
            guard pca.mean.allSatisfy(\.isFinite), pca.components.allSatisfy({ $0.allSatisfy(\.isFinite) }),
                  pca.explainedVariance.allSatisfy({ $0.isFinite && (!pca.whiten || $0 > 0) }) else {
                return "pca: values must be finite (and variances positive when whitening)"
            }
            spaceColumns = pca.componentCount
        }
        let c = centroids
        guard c.rows >= 1, c.columns == spaceColumns, c.values.count == c.rows * c.columns else {
            return "centroids: \(c.values.count) values for \(c.rows)×\(c.columns), expected \(spaceColumns) columns"
        }
        guard c.values.allSatisfy(\.isFinite) else { return "centroids: values must be finite" }
        guard (0..<c.rows).contains(picked) else { return "picked: cluster \(picked) of \(c.rows) (0…\(c.rows - 1))" }
        let st = statistics
        guard st.gradientSigma > 0, st.gradientSigma.isFinite, st.glcmDistance >= 1, (2...256).contains(st.glcmLevels) else {
            return "statistics: gradientSigma \(st.gradientSigma), glcmDistance \(st.glcmDistance), glcmLevels \(st.glcmLevels) out of range"
        }
        guard darkMargin >= 0 else { return "darkMargin: \(darkMargin) is negative" }
        if let filmLevel, !filmLevel.isFinite { return "filmLevel: \(filmLevel) is not finite" }
        if let classifier {
            return classifier.inconsistency(features: scaler.columns, clusterCount: c.rows, modelPicked: picked)
        }
        return nil
    }

    /// A model from a finished run; ``Locator`` builds it (``LocatorResult/model``), ``load(_:)`` checks a file's consistency.
    public init(sampling: LocatorOptions.Sampling, features: [PatchStatistic], statistics: PatchStatisticsOptions,
                scaler: FittedScaler, pca: FittedPCA?, centroids: Matrix, picked: Int, pickedSignature: [String: Double],
                excludeDark: Bool, darkMargin: Int, flattenBackground: Bool?, tails: FittedScaler?,
                normalizeTiles: Bool? = nil, filmLevel: Double? = nil, classifier: LocatorClassifier? = nil) {
        self.sampling = sampling; self.features = features; self.statistics = statistics; self.scaler = scaler
        self.pca = pca; self.centroids = centroids; self.picked = picked; self.pickedSignature = pickedSignature
        self.excludeDark = excludeDark; self.darkMargin = darkMargin; self.flattenBackground = flattenBackground
        self.tails = tails; self.normalizeTiles = normalizeTiles; self.filmLevel = filmLevel
        self.classifier = classifier
    }

    /// Writes the model as JSON.
    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFile.write(data, to: path)
    }
}
