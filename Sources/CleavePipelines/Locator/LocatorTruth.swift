import CleaveCore
import Foundation

/// Hand labels of patches, as in `tem-microcrystals/dataset1-graphite-30kx/patch-labels.csv`:
/// columns `image,grid_rows,grid_cols,row,col,class` (row/col 0-based within the tile; the
/// grid columns are optional and checked against the run's layout when present).
public struct LocatorTruth: Sendable {
    /// One labelled patch (one line of the CSV).
    public struct Label: Sendable, Equatable {
        /// The tile's file name (matched with or without its extension).
        public var image: String
        /// Grid rows of the labelling (checked against the run's grid when given).
        public var gridRows: Int?
        /// Grid columns of the labelling (checked against the run's grid when given).
        public var gridColumns: Int?
        /// 0-based patch row within the tile.
        public var row: Int
        /// 0-based patch column within the tile.
        public var column: Int
        /// The class name.
        public var label: String
    }
    /// The CSV file the labels came from (named in errors).
    public var path: String
    /// Labels in file order.
    public var labels: [Label]
    /// Distinct class names, sorted.
    public var classes: [String]

    /// Reads a labels CSV.
    /// - Throws: ``LocatorError`` naming the file and line for missing columns or bad numbers.
    public static func load(_ path: String) throws -> LocatorTruth {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LocatorError.invalidTruth(path: path, line: nil, reason: "cannot read the truth CSV")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let header = lines.first else { throw LocatorError.invalidTruth(path: path, line: nil, reason: "the truth CSV is empty") }
        let columns = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ names: [String]) -> Int? { names.lazy.compactMap { columns.firstIndex(of: $0) }.first }
        guard let imageColumn = column(["image", "tile", "file"]), let rowColumn = column(["row"]),
              let colColumn = column(["col", "column"]), let classColumn = column(["class", "label"]) else {
            throw LocatorError.invalidTruth(path: path, line: nil, reason: "header must name the columns image,row,col,class (got '\(header)')")
        }
        let gridRowsColumn = column(["grid_rows"]), gridColsColumn = column(["grid_cols", "grid_columns"])
        var labels: [Label] = []
        for (number, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= columns.count, let r = Int(fields[rowColumn]), let c = Int(fields[colColumn]) else {
                throw LocatorError.invalidTruth(path: path, line: number + 1, reason: "expected \(columns.count) fields with integer row and col, got '\(line)'")
            }
            labels.append(Label(image: fields[imageColumn], gridRows: gridRowsColumn.flatMap { Int(fields[$0]) },
                                gridColumns: gridColsColumn.flatMap { Int(fields[$0]) }, row: r, column: c, label: fields[classColumn]))
        }
        guard !labels.isEmpty else { throw LocatorError.invalidTruth(path: path, line: nil, reason: "the truth CSV has a header but no labels") }
        return LocatorTruth(path: path, labels: labels, classes: Array(Set(labels.map(\.label))).sorted())
    }

    /// Pairs labels with patches of a run.
    /// - Throws: ``LocatorError`` for an image not among the inputs, a grid that differs from the
    ///   run's, or a patch outside the grid.
    func match(imageNames: [String], layout: LocatorLayout) throws -> [(patch: Int, classIndex: Int)] {
        guard case .patches = layout.sampling else {
            throw LocatorOptionError(field: "truth", value: path, reason: "patch labels need a grid or a patch size (they name patches, not windows)")
        }
        var result: [(Int, Int)] = []
        for label in labels {
            guard let image = imageNames.firstIndex(where: { $0 == label.image || Locator.stem($0) == Locator.stem(label.image) }) else {
                throw LocatorError.invalidTruth(path: path, line: nil, reason: "labels name tile '\(label.image)', which is not among the \(imageNames.count) input images")
            }
            let grid = layout.grids[image]
            if let gr = label.gridRows, let gc = label.gridColumns, gr != grid.rows || gc != grid.columns {
                throw LocatorError.invalidTruth(path: path, line: nil, reason: "labels use a \(gr)x\(gc) grid but the run cuts \(label.image) into \(grid.rows)x\(grid.columns); cut a \(gr)x\(gc) grid")
            }
            guard label.row >= 0, label.row < grid.rows, label.column >= 0, label.column < grid.columns else {
                throw LocatorError.invalidTruth(path: path, line: nil, reason: "label at row \(label.row), col \(label.column) of \(label.image) lies outside the \(grid.rows)x\(grid.columns) grid")
            }
            result.append((grid.firstIndex + label.row * grid.columns + label.column, classes.firstIndex(of: label.label)!))
        }
        return result
    }
}
