import CleaveCore
import CleaveFeatures
import CleaveLearning
import Foundation

/// A saved Locator session: how features were made and scaled, the cluster centres and which
/// cluster was picked. Applying it to new images clusters them starting from these centres, so
/// the picked cluster keeps its identity and no `--pick` is needed.
public struct LocatorModel: Sendable, Codable {
    /// Format version of the JSON file. 2: ``normalizeTiles`` and ``filmLevel`` (a Cleave that
    /// ignored them would measure new tiles on another grey scale, so it must refuse the file);
    /// version-1 files still load (no normalisation).
    public static let formatVersion = 2
    public var format: String = "cleave-locator-model"
    public var version: Int = LocatorModel.formatVersion
    public var cleaveVersion: String = CleaveCore.cleaveVersion
    public var sampling: LocatorOptions.Sampling
    public var features: [PatchStatistic]
    public var statistics: PatchStatisticsOptions
    public var scaler: FittedScaler
    public var pca: FittedPCA?
    /// Cluster centres in the scaled (and PCA) space, canonical order.
    public var centroids: Matrix
    public var picked: Int
    /// Mean raw feature values of the picked cluster (for people reading the file).
    public var pickedSignature: [String: Double]
    public var excludeDark: Bool
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

    /// Reads a model file.
    /// - Throws: ``CleaveError`` when the file is missing, not JSON, or not a Locator model of a known version.
    public static func load(_ path: String) throws -> LocatorModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw CleaveError("\(path): cannot read model file") }
        struct Header: Decodable { var format: String?; var version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw CleaveError("\(path): not a JSON model file")
        }
        guard header.format == "cleave-locator-model" else {
            throw CleaveError("\(path): not a Locator model (format \(header.format ?? "missing")); was it saved by another command?")
        }
        guard let v = header.version, v <= formatVersion else {
            throw CleaveError("\(path): model format version \(header.version.map(String.init) ?? "missing") is newer than this Cleave understands (\(formatVersion))")
        }
        do { return try JSONDecoder().decode(LocatorModel.self, from: data) } catch {
            throw CleaveError("\(path): damaged Locator model: \(error)")
        }
    }

    public init(sampling: LocatorOptions.Sampling, features: [PatchStatistic], statistics: PatchStatisticsOptions,
                scaler: FittedScaler, pca: FittedPCA?, centroids: Matrix, picked: Int, pickedSignature: [String: Double],
                excludeDark: Bool, darkMargin: Int, flattenBackground: Bool?, tails: FittedScaler?,
                normalizeTiles: Bool? = nil, filmLevel: Double? = nil) {
        self.sampling = sampling; self.features = features; self.statistics = statistics; self.scaler = scaler
        self.pca = pca; self.centroids = centroids; self.picked = picked; self.pickedSignature = pickedSignature
        self.excludeDark = excludeDark; self.darkMargin = darkMargin; self.flattenBackground = flattenBackground
        self.tails = tails; self.normalizeTiles = normalizeTiles; self.filmLevel = filmLevel
    }

    /// Writes the model as JSON.
    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFile.write(data, to: path)
    }
}
