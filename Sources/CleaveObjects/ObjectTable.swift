import CleaveCore

/// One row per object, one named numeric column per measurement, plus an optional class name.
///
/// Column names follow scikit-image where it has the measurement (`area`, `perimeter`,
/// `centroid_row`, `bbox_min_row`, …); physical versions carry a unit suffix
/// (`area_um2`, `equivalent_diameter_um`). Rules and clustering address columns by name.
public struct ObjectTable: Sendable {
    /// Object labels (as in the label image), one per row.
    public var labels: [Int32]
    /// Column names in output order.
    public private(set) var columnNames: [String]
    private var columns: [[Double]]
    private var index: [String: Int]
    /// Class name per object (empty string: not classified), or nil when nothing classified them.
    public var classes: [String]?

    /// An empty table for the given labels.
    public init(labels: [Int32]) {
        self.labels = labels
        self.columnNames = []
        self.columns = []
        self.index = [:]
    }

    /// Number of objects.
    public var count: Int { labels.count }

    /// Adds a column or replaces one with the same name. `values.count` must equal ``count``.
    public mutating func setColumn(_ name: String, _ values: [Double]) {
        precondition(values.count == labels.count, "ObjectTable.setColumn(\(name)): \(values.count) values for \(labels.count) objects")
        if let i = index[name] { columns[i] = values; return }
        index[name] = columns.count
        columnNames.append(name)
        columns.append(values)
    }

    /// True when a column of that name exists.
    public func has(_ name: String) -> Bool { index[name] != nil }

    /// The values of a column.
    /// - Throws: ``ObjectsError`` listing the valid names when there is no such column (and saying
    ///   so when a 2D-only measurement is asked of 3D objects).
    public func column(_ name: String) throws -> [Double] {
        guard let i = index[name] else {
            if ObjectMeasurement.twoDimensionalOnly.contains(name) && index["volume"] != nil {
                throw ObjectsError.twoDimensionalMeasurement(name: name, validNames: columnNames)
            }
            throw ObjectsError.unknownMeasurement(name: name, validNames: columnNames)
        }
        return columns[i]
    }

    /// Value of column `name` for object row `row` (nil when there is no such column).
    public func value(_ name: String, row: Int) -> Double? {
        index[name].map { columns[$0][row] }
    }

    /// Keeps the rows where `keep` is true.
    public func filtered(_ keep: [Bool]) -> ObjectTable {
        var out = ObjectTable(labels: zip(labels, keep).filter { $0.1 }.map { $0.0 })
        for (name, values) in zip(columnNames, columns) {
            out.setColumn(name, zip(values, keep).filter { $0.1 }.map { $0.0 })
        }
        out.classes = classes.map { zip($0, keep).filter { $0.1 }.map { $0.0 } }
        return out
    }

    /// Rows × chosen columns as a row-major matrix (for clustering and classifiers).
    /// - Throws: when a name is unknown (message lists the valid names).
    public func matrix(columns names: [String]) throws -> [Double] {
        let chosen = try names.map { try column($0) }
        var out = [Double](repeating: 0, count: count * names.count)
        for r in 0..<count { for (c, values) in chosen.enumerated() { out[r * names.count + c] = values[r] } }
        return out
    }
}
