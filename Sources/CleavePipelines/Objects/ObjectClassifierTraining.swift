import CleaveCore
import CleaveLearning
import CleaveObjects

/// An object classifier trained from a few user-labelled objects: a random forest on measurements.
public struct ObjectClassifierTraining: Sendable {
    /// Measurements used when none are named: the shape descriptors that exist for the objects,
    /// plus `mean_intensity`, `std_intensity` and `zoning_index` when measured.
    public static let defaultColumns = [
        "area", "volume", "perimeter", "surface_area", "eccentricity", "solidity", "equivalent_diameter",
        "major_axis_length", "minor_axis_length", "circularity", "sphericity", "feret_diameter_max",
        "feret_diameter_min", "mean_intensity", "std_intensity", "zoning_index",
    ]
    /// (object label, class name) pairs.
    public let examples: [(label: Int32, className: String)]
    /// Measurement names; empty → ``defaultColumns`` present in the table.
    public let columns: [String]
    /// Trees of the random forest (default 200).
    public let treeCount: Int
    /// Seed of the forest.
    public let seed: UInt64

    /// A training set of labelled objects; labels and columns are checked against the table by ``classify(_:)``.
    public init(examples: [(label: Int32, className: String)], columns: [String] = [], treeCount: Int = 200, seed: UInt64 = 0) {
        self.examples = examples
        self.columns = columns
        self.treeCount = treeCount
        self.seed = seed
    }

    /// Reads `label,class` lines (a header line is allowed; `#` comments).
    /// - Throws: ``ObjectsPipelineError`` naming the line that is not `integer,name`.
    public static func parseExamples(_ text: String, path: String) throws -> [(label: Int32, className: String)] {
        var out: [(Int32, String)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let parts = line.split(separator: ",").map { $0.trimmingSpaces }
            if parts.isEmpty || parts.allSatisfy({ $0.isEmpty }) { continue }
            if number == 0 && Int32(parts[0]) == nil { continue } // header
            guard parts.count >= 2, let label = Int32(parts[0]), label > 0, !parts[1].isEmpty else {
                throw ObjectsPipelineError.invalidTrainingFile(path: path, line: number + 1, reason: "expected 'label,class' (e.g. '17,phenocryst'), got '\(line)'")
            }
            out.append((label, parts[1]))
        }
        guard !out.isEmpty else { throw ObjectsPipelineError.invalidTrainingFile(path: path, line: nil, reason: "no 'label,class' lines") }
        return out
    }

    /// Trains on the labelled objects and classifies all of them.
    /// - Throws: for labels not among the objects, fewer than two classes, or unusable columns.
    public func classify(_ table: ObjectTable) throws -> (classes: [String], outOfBagAccuracy: Double?) {
        let names = columns.isEmpty ? Self.defaultColumns.filter { table.has($0) } : columns
        for name in names { _ = try table.column(name) }
        var rowOf: [Int32: Int] = [:]
        for (row, label) in table.labels.enumerated() { rowOf[label] = row }
        let classNames = examples.map(\.className).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        guard classNames.count >= 2 else {
            throw ObjectsPipelineError.cannotTrain(reason: "all labelled objects are '\(classNames.first ?? "")'; label objects of at least two classes")
        }
        let all = try table.matrix(columns: names).map { $0.isFinite ? Float($0) : -1 } // NaN (e.g. no core) → sentinel
        var rows: [Float] = [], targets: [Int32] = []
        for example in examples {
            guard let row = rowOf[example.label] else {
                throw ObjectsPipelineError.cannotTrain(reason: "object \(example.label) does not exist (labels run 1…\(table.labels.last ?? 0))")
            }
            rows.append(contentsOf: all[(row * names.count)..<((row + 1) * names.count)])
            targets.append(Int32(classNames.firstIndex(of: example.className)!))
        }
        let forest = try RandomForest.train(rows: rows, featureCount: names.count, labels: targets,
                                            configuration: RandomForestConfiguration(treeCount: treeCount, seed: seed))
        let predicted = forest.predictLabels(rows: all)
        return (predicted.map { classNames[Int($0)] }, forest.outOfBagAccuracy)
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
