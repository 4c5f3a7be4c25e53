import CleaveCore
import CleaveFormats
import CleaveObjects
import CleaveRender
import Foundation

/// Writes the outputs of ``ObjectsPipeline`` into a directory:
///
/// | file | content |
/// |---|---|
/// | `objects.csv` | one row per object (``ObjectTable/csv()``) |
/// | `objects.geojson` | outlines with label, class and measurements (2D only) |
/// | `labels.tif` | the object label image (UInt16, or Float above 65 535 objects) |
/// | `overlay.png` | objects coloured by class (else cluster, else label) over the grey image (2D; plane 0 of a volume) |
/// | `size_histogram.csv`, `size_histogram.png` | counts of equivalent diameters in equal-width bins |
/// | `summary.csv` | per class: objects, pixels, fraction of the image and of all object pixels |
///
/// Zero objects is not an error: every file is written (empty table, empty FeatureCollection).
public enum ObjectsReport {
    /// Per-class totals.
    public struct ClassSummary: Sendable, Equatable {
        /// `all`, a class name (`unclassified` for objects without one) or `cluster N`.
        public var className: String
        /// Objects in the group.
        public var count: Int
        /// Pixels (voxels in 3D) of the group's objects: the sum of their `area` or `volume`.
        public var pixels: Double
        /// ``pixels`` as a share of all pixels of the image, 0…1.
        public var imageFraction: Double
        /// ``pixels`` as a share of all object pixels, 0…1 (0 without objects).
        public var objectFraction: Double
    }

    /// Writes every output; returns the paths written.
    /// - Parameters:
    ///   - background: grey picture for the overlay (the intensity image, else the input image).
    ///   - histogramBins: bins of the size histogram (≥ 1).
    /// - Throws: ``PipelineFileError`` when the directory cannot be created or a file cannot be written.
    @discardableResult
    public static func write(_ result: ObjectsResult, background: AnyImage?, to directory: String,
                             histogramBins: Int = 20) throws -> [String] {
        let table = result.table
        let colours = classColours(table)
        var texts: [(name: String, text: String)] = []
        if result.labels.is2D {
            let outlines = try Outlines.trace(result.labels)
            texts.append(("objects.geojson", ObjectsGeoJSON.encode(outlines, table: table, classColours: colours)))
        }
        let pictures: [(name: String, image: AnyImage)] = [
            ("labels.tif", result.labels.image()),
            ("overlay.png", .uint8(overlay(result, background: background, colours: colours))),
        ]
        return try commit(table: table, imagePixels: result.labels.shape.count, texts: texts, pictures: pictures,
                          to: directory, histogramBins: histogramBins)
    }

    /// Writes the outputs of a block-wise run (``BlockObjects``; its labels are in
    /// `labels.ome.zarr`): `objects.csv`, `overlay.png` (plane 0, when given), `size_histogram.csv/.png`, `summary.csv`.
    @discardableResult
    public static func write(table: ObjectTable, voxelCount: Int, overlay: Image<UInt8>?, to directory: String,
                             histogramBins: Int = 20) throws -> [String] {
        try commit(table: table, imagePixels: voxelCount, texts: [], pictures: overlay.map { [("overlay.png", .uint8($0))] } ?? [],
                   to: directory, histogramBins: histogramBins)
    }

    /// Writes the table's files and the given ones. Everything is computed first, then written
    /// under temporary names and renamed into place only when every file is complete: an error
    /// leaves the previous set (or nothing), never half of a new one.
    static func commit(table: ObjectTable, imagePixels: Int, texts extraTexts: [(name: String, text: String)],
                       pictures extraPictures: [(name: String, image: AnyImage)], to directory: String, histogramBins: Int) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineFileError.cannotCreateFolder(path: directory, field: "out", reason: error.localizedDescription)
        }
        var texts: [(name: String, text: String)] = [("objects.csv", table.csv())] + extraTexts
        let (sizeName, bins) = sizeHistogram(table, binCount: histogramBins)
        var histogramCSV = "bin_start,bin_end,count\n"
        for b in bins { histogramCSV += "\(ObjectTable.format(b.start)),\(ObjectTable.format(b.end)),\(b.count)\n" }
        texts.append(("size_histogram.csv", "# \(sizeName)\n" + histogramCSV))
        var summaryCSV = "class,count,pixels,image_fraction,object_fraction\n"
        for s in summary(table: table, imagePixels: imagePixels) {
            summaryCSV += "\(CSVText.field(s.className)),\(s.count),\(ObjectTable.format(s.pixels)),\(s.imageFraction),\(s.objectFraction)\n"
        }
        texts.append(("summary.csv", summaryCSV))
        let pictures = extraPictures + [("size_histogram.png", AnyImage.uint8(barChart(bins.map(\.count))))]
        var finished: [(temporary: String, path: String)] = []
        do {
            for (name, text) in texts {
                let path = directory + "/" + name, temporary = AtomicFile.temporaryPath(for: path)
                try AtomicFile.writeTemporary(Data(text.utf8), to: temporary, for: path)
                finished.append((temporary, path))
            }
            for (name, image) in pictures {
                let path = directory + "/" + name
                let temporary = AtomicFile.temporaryPath(for: path) + "." + (name as NSString).pathExtension
                try ImageFile.write(image, to: temporary)
                finished.append((temporary, path))
            }
        } catch {
            for file in finished { unlink(file.temporary) }
            throw error
        }
        for file in finished { try AtomicFile.commit(file.temporary, to: file.path) }
        let order = ["objects.csv", "objects.geojson", "labels.tif", "overlay.png", "size_histogram.csv", "size_histogram.png", "summary.csv"]
        return order.map { directory + "/" + $0 }.filter { path in finished.contains { $0.path == path } }
    }

    /// Class name → colour, in order of first appearance (categorical palette).
    public static func classColours(_ table: ObjectTable) -> [String: RGB] {
        var colours: [String: RGB] = [:]
        for name in table.classes ?? [] where !name.isEmpty && colours[name] == nil {
            colours[name] = Palette.colour(forIndex: colours.count)
        }
        return colours
    }

    /// Totals per class (`all` first; then classes, or clusters as `cluster N`).
    public static func summary(_ result: ObjectsResult) -> [ClassSummary] {
        summary(table: result.table, imagePixels: result.labels.shape.count)
    }

    /// Totals per class of a table over an image of `imagePixels` pixels.
    public static func summary(table: ObjectTable, imagePixels pixelCount: Int) -> [ClassSummary] {
        let sizes = (try? table.column(table.has("area") ? "area" : "volume")) ?? []
        let imagePixels = Double(pixelCount)
        let total = sizes.reduce(0, +)
        var groups: [(String, [Int])] = [("all", Array(0..<table.count))]
        var keys: [String] = []
        if let classes = table.classes { keys = classes.map { $0.isEmpty ? "unclassified" : $0 } }
        else if let clusters = try? table.column("cluster") { keys = clusters.map { "cluster \(Int($0))" } }
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for (row, key) in keys.enumerated() {
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(row)
        }
        for key in order { groups.append((key, members[key]!)) }
        return groups.map { name, rows in
            let pixels = rows.reduce(0.0) { $0 + sizes[$1] }
            return ClassSummary(className: name, count: rows.count, pixels: pixels, imageFraction: pixels / imagePixels,
                                objectFraction: total > 0 ? pixels / total : 0)
        }
    }

    /// Equal-width bins of the equivalent diameter (physical when calibrated) from 0 to the largest.
    public static func sizeHistogram(_ table: ObjectTable, binCount: Int) -> (measurement: String, bins: [(start: Double, end: Double, count: Int)]) {
        let name = table.columnNames.first { $0.hasPrefix("equivalent_diameter_") } ?? "equivalent_diameter"
        let values = (try? table.column(name)) ?? []
        let bins = max(1, binCount)
        let top = max(values.max() ?? 1, 1e-12)
        let width = top / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        for v in values where v.isFinite { counts[min(bins - 1, Int(v / width))] += 1 }
        return (name, (0..<bins).map { (Double($0) * width, Double($0 + 1) * width, counts[$0]) })
    }

    /// A bar chart (white background, dark axes, bars in the first palette colour), 640 × 360 RGB.
    public static func barChart(_ counts: [Int], width: Int = 640, height: Int = 360) -> Image<UInt8> {
        var image = Image<UInt8>(shape: Shape(width: width, height: height, channels: 3), repeating: 255)
        func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: RGB) {
            for y in max(0, y0)..<min(height, y1) { for x in max(0, x0)..<min(width, x1) {
                image[x, y, 0, 0] = c.red; image[x, y, 0, 1] = c.green; image[x, y, 0, 2] = c.blue
            }}
        }
        let left = 40, right = width - 20, top = 20, bottom = height - 40
        let axis = RGB(40, 40, 40)
        fill(left - 2, top, left, bottom + 2, axis)
        fill(left - 2, bottom, right, bottom + 2, axis)
        let largest = max(1, counts.max() ?? 1)
        let slot = Double(right - left) / Double(max(1, counts.count))
        for (k, count) in counts.enumerated() {
            let x0 = left + Int(Double(k) * slot) + 1, x1 = left + Int(Double(k + 1) * slot) - 1
            let h = Int((Double(count) / Double(largest) * Double(bottom - top)).rounded())
            fill(x0, bottom - h, max(x0 + 1, x1), bottom, Palette.colour(forIndex: 4))
            fill(x0 + (x1 - x0) / 2, bottom + 2, x0 + (x1 - x0) / 2 + 1, bottom + 7, axis) // tick
        }
        // horizontal grid ticks at quarters of the largest count
        for q in 1...4 { fill(left - 7, bottom - (bottom - top) * q / 4, left - 2, bottom - (bottom - top) * q / 4 + 1, axis) }
        return image
    }

    /// Objects coloured by class / cluster / label over a grey picture (plane 0).
    public static func overlay(_ result: ObjectsResult, background: AnyImage?, colours: [String: RGB]) -> Image<UInt8> {
        let labels = result.labels
        return overlay(table: result.table, plane: Array(labels.labels[0..<labels.shape.planeSize]), width: labels.shape.width,
                       height: labels.shape.height, objectCount: labels.objectCount, background: background, colours: colours)
    }

    /// Objects of one plane of labels coloured by class / cluster / label over a grey picture
    /// (its plane 0; without one, objects are grey on black).
    public static func overlay(table: ObjectTable, plane: [Int32], width: Int, height: Int, objectCount: Int,
                               background: AnyImage?, colours: [String: RGB]) -> Image<UInt8> {
        let grey: Image<UInt8>
        if let background, background.shape.width == width, background.shape.height == height {
            grey = Display.grey(background)
        } else {
            grey = Image(shape: Shape(width: width, height: height), pixels: plane.map { $0 == 0 ? 0 : 160 })
        }
        var colourOf = [RGB?](repeating: nil, count: objectCount + 1)
        let clusters = try? table.column("cluster")
        for (row, label) in table.labels.enumerated() {
            if let classes = table.classes {
                colourOf[Int(label)] = classes[row].isEmpty ? RGB(160, 160, 160) : colours[classes[row]]
            } else if let clusters {
                colourOf[Int(label)] = Palette.colour(forIndex: Int(clusters[row]) - 1)
            } else {
                colourOf[Int(label)] = Palette.colour(forIndex: Int(label) - 1)
            }
        }
        return Display.overlay(grey: grey, labels: plane, colours: { $0 == 0 ? nil : colourOf[Int($0)] }, opacity: 0.5)
    }
}
