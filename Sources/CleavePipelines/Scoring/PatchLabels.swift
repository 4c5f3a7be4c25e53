import CleaveCore
import CleaveLearning
import Foundation

/// Identifies one grid patch: the image's file name (no folders), grid row and grid column.
public struct PatchKey: Hashable, Sendable, CustomStringConvertible {
    /// Image file name without folders.
    public let image: String
    /// Grid row (0 = top).
    public let row: Int
    /// Grid column (0 = left).
    public let column: Int

    /// - Parameter image: a file name or path; only the last path component is kept, so tables
    ///   written with different folders still match.
    public init(image: String, row: Int, column: Int) {
        self.image = (image as NSString).lastPathComponent
        self.row = row
        self.column = column
    }

    /// `image row R col C`, as messages name a patch.
    public var description: String { "\(image) row \(row) col \(column)" }
}

/// Hand labels of grid patches, from a CSV with columns `image,grid_rows,grid_cols,row,col,class`
/// (as `tem-microcrystals/*/patch-labels.csv`; `grid_rows`/`grid_cols` are optional).
public struct PatchLabels: Sendable {
    /// Where the labels came from (for messages).
    public let path: String
    /// The class name of each labelled patch.
    public let classes: [PatchKey: String]
    /// Grid size per image, when the file gives it.
    public let grids: [String: (rows: Int, columns: Int)]
    /// CSV line of each patch (for messages).
    let lines: [PatchKey: Int]

    /// Reads a patch-label CSV.
    /// - Throws: ``ScoringError`` for an unreadable file, missing columns, non-integer rows/cols,
    ///   a row/col outside its grid, or a patch listed twice.
    public init(path: String) throws {
        try self.init(table: try CSVTable(path: path))
    }

    /// Parses patch labels from CSV text (`path` is used in messages).
    public init(csv text: String, path: String = "<labels>") throws {
        try self.init(table: try CSVTable(text: text, path: path))
    }

    init(table: CSVTable) throws {
        path = table.path
        let image = try table.column("image"), row = try table.column("row"), col = try table.column("col")
        let cls = try table.column("class")
        let gridRows = table.header.firstIndex(of: "grid_rows"), gridCols = table.header.firstIndex(of: "grid_cols")
        var classes = [PatchKey: String](), lines = [PatchKey: Int](), grids = [String: (rows: Int, columns: Int)]()
        for (line, fields) in table.rows {
            let key = PatchKey(image: fields[image], row: try table.integer(fields, row, line: line, name: "row"),
                               column: try table.integer(fields, col, line: line, name: "col"))
            if let gridRows, let gridCols {
                let rows = try table.integer(fields, gridRows, line: line, name: "grid_rows")
                let columns = try table.integer(fields, gridCols, line: line, name: "grid_cols")
                guard key.row >= 0, key.row < rows, key.column >= 0, key.column < columns else {
                    throw ScoringError.badRow(path: table.path, line: line, reason: "row \(key.row) col \(key.column) lies outside the \(rows)x\(columns) grid")
                }
                grids[key.image] = (rows, columns)
            }
            guard classes[key] == nil else {
                throw ScoringError.duplicatePatch(path: table.path, line: line, image: key.image, row: key.row, column: key.column)
            }
            classes[key] = fields[cls]
            lines[key] = line
        }
        self.classes = classes
        self.lines = lines
        self.grids = grids
    }

    /// Scores cluster assignments against these labels.
    ///
    /// Every labelled patch must appear in `clusters` (a labelled tile or patch the clustering
    /// does not know means the two tables describe different images or grids — an error, not a
    /// silent partial score). Patches without a label are left out and counted.
    /// - Parameters:
    ///   - clusters: cluster of each patch.
    ///   - source: where `clusters` came from (for messages).
    /// - Throws: ``ScoringError/unknownTile(path:line:image:row:column:reason:)``.
    public func score(_ clusters: [PatchKey: Int], source: String = "the patch table") throws -> PatchScoreReport {
        let images = Set(clusters.keys.map(\.image))
        var truth: [Int] = [], predicted: [Int] = []
        let names = Array(Set(classes.values)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        for key in classes.keys.sorted(by: { lines[$0]! < lines[$1]! }) {
            guard let cluster = clusters[key] else {
                let reason = images.contains(key.image)
                    ? "but \(source) has no such patch (different grid?)"
                    : "but \(source) has no image named \(key.image)"
                throw ScoringError.unknownTile(path: path, line: lines[key]!, image: key.image, row: key.row, column: key.column, reason: reason)
            }
            truth.append(index[classes[key]!]!)
            predicted.append(cluster)
        }
        let scores = ClusteringScores(truth: truth, predicted: predicted)
        return PatchScoreReport(scores: scores, classNames: scores.classes.map { names[$0] },
                                matchedPatches: truth.count, unlabelledPatches: clusters.count - truth.count)
    }
}

/// Clustering scores of patch clusters against hand labels, with the class names of the
/// contingency rows.
public struct PatchScoreReport: Sendable, Equatable {
    /// The scores (contingency rows are class indices into `classNames`).
    public let scores: ClusteringScores
    /// Class name of each contingency row (`scores.classes` are indices into the sorted names).
    public let classNames: [String]
    /// Labelled patches that were scored.
    public let matchedPatches: Int
    /// Patches in the clustering without a label (not scored).
    public let unlabelledPatches: Int

    /// A plain-text report: the six scores, then the contingency table.
    public func text() -> String {
        let s = scores
        var out = """
        patches scored      \(matchedPatches)\(unlabelledPatches > 0 ? "  (\(unlabelledPatches) unlabelled patches ignored)" : "")
        ARI                 \(format(s.adjustedRandIndex))
        AMI                 \(format(s.adjustedMutualInformation))
        NMI                 \(format(s.normalizedMutualInformation))
        homogeneity         \(format(s.homogeneity))
        completeness        \(format(s.completeness))
        V-measure           \(format(s.vMeasure))

        contingency (rows: true class, columns: cluster)

        """
        let width = max(8, (classNames.map(\.count).max() ?? 0) + 2)
        out += "class".padding(toLength: width, withPad: " ", startingAt: 0)
        for c in s.clusters { out += String(repeating: " ", count: max(1, 8 - "\(c)".count)) + "\(c)" }
        out += "\n"
        for (i, name) in classNames.enumerated() {
            out += name.padding(toLength: width, withPad: " ", startingAt: 0)
            for v in s.contingency[i] { out += String(repeating: " ", count: max(1, 8 - "\(v)".count)) + "\(v)" }
            out += "\n"
        }
        return out
    }

    /// JSON object with `ari, ami, nmi, homogeneity, completeness, v_measure`, `contingency`
    /// (rows = `classes` names, columns = `clusters`), and counts.
    public func json() throws -> String {
        let s = scores
        let object: [String: Any] = [
            "ari": s.adjustedRandIndex, "ami": s.adjustedMutualInformation, "nmi": s.normalizedMutualInformation,
            "homogeneity": s.homogeneity, "completeness": s.completeness, "v_measure": s.vMeasure,
            "classes": classNames, "clusters": s.clusters, "contingency": s.contingency,
            "matched_patches": matchedPatches, "unlabelled_patches": unlabelledPatches,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

func format(_ value: Double) -> String { String(format: "%.6f", value) }

/// Reads the Locator's patch table (`image,row,col,…,cluster,…`) into a cluster per patch.
/// - Throws: ``ScoringError`` for a missing file or column, bad numbers or duplicate patches.
public func readPatchClusters(path: String) throws -> [PatchKey: Int] {
    let table = try CSVTable(path: path)
    let image = try table.column("image"), row = try table.column("row"), col = try table.column("col")
    let cluster = try table.column("cluster")
    var out = [PatchKey: Int]()
    for (line, fields) in table.rows {
        let key = PatchKey(image: fields[image], row: try table.integer(fields, row, line: line, name: "row"),
                           column: try table.integer(fields, col, line: line, name: "col"))
        guard out[key] == nil else {
            throw ScoringError.duplicatePatch(path: path, line: line, image: key.image, row: key.row, column: key.column)
        }
        out[key] = try table.integer(fields, cluster, line: line, name: "cluster")
    }
    return out
}
