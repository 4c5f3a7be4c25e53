import Foundation
import Testing
import CleaveCore
import CleaveFormats
import CleaveObjects
import CleavePipelines
import CleaveTestSupport

/// Synthetic scenes for the pipeline tests.
enum ObjectScenes {
    /// Discs of the given radii on a row, value 255 on 0 (UInt8).
    static func discs(radii: [Double], width: Int = 400, height: Int = 120) -> Image<UInt8> {
        var image = Image<UInt8>(width: width, height: height)
        var x = 0.0
        for r in radii {
            x += r + 4
            for yy in 0..<height { for xx in 0..<width {
                let dx = Double(xx) - x, dy = Double(yy) - Double(height / 2)
                if dx * dx + dy * dy <= r * r { image[xx, yy] = 255 }
            }}
            x += r + 4
        }
        return image
    }
}

@Suite struct ObjectsPipelineTests {
    /// Even-odd rasterisation of GeoJSON polygons (independent of Outlines.rasterise).
    static func rasterise(geojson path: String, width: Int, height: Int) throws -> [Int32] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var labels = [Int32](repeating: 0, count: width * height)
        for feature in root["features"] as! [[String: Any]] {
            let label = Int32((feature["properties"] as! [String: Any])["label"] as! Int)
            let geometry = feature["geometry"] as! [String: Any]
            let polygons: [[[[Double]]]]
            if geometry["type"] as! String == "Polygon" {
                polygons = [geometry["coordinates"] as! [[[Double]]]]
            } else {
                polygons = geometry["coordinates"] as! [[[[Double]]]]
            }
            for polygon in polygons {
                let xs = polygon[0].map { Int($0[0]) }, ys = polygon[0].map { Int($0[1]) }
                for row in max(0, ys.min()!)..<min(height, ys.max()!) { for column in max(0, xs.min()!)..<min(width, xs.max()!) {
                    let px = Double(column) + 0.5, py = Double(row) + 0.5
                    var inside = false
                    for ring in polygon {
                        for i in 0..<(ring.count - 1) {
                            let a = ring[i], b = ring[i + 1]
                            if (a[1] > py) != (b[1] > py) && px < a[0] + (py - a[1]) / (b[1] - a[1]) * (b[0] - a[0]) { inside.toggle() }
                        }
                    }
                    if inside { labels[row * width + column] = label }
                }}
            }
        }
        return labels
    }

    static func readCSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], Array(lines.dropFirst()))
    }

    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func sandstoneOutputsRoundTrip() throws {
        let classes = try ImageFile.read(TestData.path("sandstone-xrm/labels/Sandstone_Versa0150.tif"))
        var options = ObjectsOptions()
        options.foreground = .classValue(4)
        let result = try ObjectsPipeline.run(classes, options: options)
        let dir = TestData.scratchDirectory("objects-sandstone")
        try ObjectsReport.write(result, background: nil, to: dir)
        // GeoJSON polygons drawn back equal the label image written beside them.
        let written = try LabelImage(values: try ImageFile.read(dir + "/labels.tif").converted(to: Float.self))
        #expect(written.labels == result.labels.labels)
        let drawn = try Self.rasterise(geojson: dir + "/objects.geojson", width: 996, height: 1024)
        #expect(drawn == result.labels.labels)
        // The CSV carries the contract columns with skimage's values (label 1 from the fixture).
        let csv = try Self.readCSV(dir + "/objects.csv")
        #expect(csv.rows.count == 53)
        for name in ["label", "area", "perimeter", "centroid_row", "centroid_col", "eccentricity", "solidity",
                     "equivalent_diameter", "bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"] {
            #expect(csv.header.contains(name), "objects.csv lacks \(name)")
        }
        let first = Dictionary(uniqueKeysWithValues: zip(csv.header, csv.rows[0]))
        // scikit-image: label 1 → area 118, perimeter 50.38477631, bbox (106, 556, 121, 569)
        #expect(first["area"] == "118" && first["bbox_min_row"] == "106" && first["bbox_max_col"] == "569")
        #expect(abs(Double(first["perimeter"]!)! - 50.38477631) < 1e-8)
        let summary = try Self.readCSV(dir + "/summary.csv")
        #expect(summary.rows[0][0] == "all" && summary.rows[0][1] == "53" && summary.rows[0][2] == "12963")
    }

    @Test func emptyMaskWritesEmptyOutputs() throws {
        let image = AnyImage.uint8(Image(width: 30, height: 20))
        let result = try ObjectsPipeline.run(image, options: ObjectsOptions())
        #expect(result.table.count == 0)
        let dir = TestData.scratchDirectory("objects-empty")
        try ObjectsReport.write(result, background: nil, to: dir)
        let csv = try Self.readCSV(dir + "/objects.csv")
        #expect(csv.rows.isEmpty && csv.header.first == "label")
        let geojson = try String(contentsOfFile: dir + "/objects.geojson", encoding: .utf8)
        #expect(geojson.contains("\"features\":[\n\n]"))
    }

    @Test func oneObjectFillingTheImage() throws {
        let image = AnyImage.uint8(Image(width: 30, height: 20, repeating: 1))
        let result = try ObjectsPipeline.run(image, options: ObjectsOptions())
        #expect(result.table.count == 1)
        #expect(try result.table.column("area")[0] == 600)
        #expect(try result.table.column("touches_border")[0] == 1)
        let dir = TestData.scratchDirectory("objects-full")
        try ObjectsReport.write(result, background: nil, to: dir)
        #expect(try Self.rasterise(geojson: dir + "/objects.geojson", width: 30, height: 20) == [Int32](repeating: 1, count: 600))
    }

    @Test func rulesClustersAndClassifierAgreeOnSizes() throws {
        // Three small (r = 4) and three large (r = 14) discs, alternating along a row; the large
        // ones start on higher rows, so raster order numbers them 1–3 and the small ones 4–6.
        let image = AnyImage.uint8(ObjectScenes.discs(radii: [4, 14, 4, 14, 4, 14]))
        var options = ObjectsOptions()
        options.rules = try ClassificationRules("area > 200 -> large; else -> small")
        options.clustering = try ObjectClustering(clusterCount: 2, columns: ["area", "perimeter"])
        let result = try ObjectsPipeline.run(image, options: options)
        #expect(try result.table.column("area").map { $0 > 200 } == [true, true, true, false, false, false])
        #expect(result.table.classes == ["large", "large", "large", "small", "small", "small"])
        #expect(try result.table.column("cluster") == [1, 1, 1, 2, 2, 2])
        // Classifier trained on two labelled objects of each size classifies the rest.
        var trained = ObjectsOptions()
        trained.classifier = ObjectClassifierTraining(
            examples: try ObjectClassifierTraining.parseExamples("label,class\n1,large\n2,large\n4,small\n5,small\n", path: "labels.csv"),
            treeCount: 50, seed: 1)
        let classified = try ObjectsPipeline.run(image, options: trained)
        #expect(classified.table.classes == ["large", "large", "large", "small", "small", "small"])
    }

    @Test func badInputGivesOneLineErrors() throws {
        let image = AnyImage.uint8(ObjectScenes.discs(radii: [5, 6]))
        var options = ObjectsOptions()
        options.rules = try ClassificationRules("diameter > 3 -> big")
        do {
            _ = try ObjectsPipeline.run(image, options: options)
            Issue.record("expected an unknown-measurement error")
        } catch let error as ObjectsError {
            #expect(error.description.contains("unknown measurement 'diameter'") && error.description.contains("equivalent_diameter"))
            #expect(!error.description.contains("\n"))
        }
        // A grey float image needs --threshold.
        let grey = AnyImage.float32(Image(shape: Shape(width: 4, height: 4), pixels: (0..<16).map { Float($0) * 0.37 }))
        #expect(throws: ObjectsPipelineError.self) { try ObjectsPipeline.run(grey, options: ObjectsOptions()) }
        // 2D-only rules on a volume.
        let volume = AnyImage.uint8(Image(shape: Shape(width: 5, height: 5, depth: 3), repeating: 1))
        var volumeOptions = ObjectsOptions()
        volumeOptions.rules = try ClassificationRules("perimeter > 3 -> big")
        do {
            _ = try ObjectsPipeline.run(volume, options: volumeOptions)
            Issue.record("expected a 2D-only error")
        } catch let error as ObjectsError {
            #expect(error.description.contains("2D only"))
        }
        // Classifier labels that do not exist.
        var badTraining = ObjectsOptions()
        badTraining.classifier = ObjectClassifierTraining(examples: [(1, "a"), (9, "b")])
        #expect(throws: ObjectsPipelineError.self) { try ObjectsPipeline.run(image, options: badTraining) }
        #expect(throws: ObjectsPipelineError.self) { try ObjectClassifierTraining.parseExamples("1;a\n", path: "x.csv") }
    }

    @Test func volumeRunsWithoutOutlines() throws {
        var pixels = [UInt8](repeating: 0, count: 10 * 10 * 6)
        for z in 1..<5 { for y in 2..<6 { for x in 2..<7 { pixels[(z * 10 + y) * 10 + x] = 1 } } }
        let volume = AnyImage.uint8(Image(shape: Shape(width: 10, height: 10, depth: 6), pixels: pixels))
        let result = try ObjectsPipeline.run(volume, options: ObjectsOptions())
        #expect(try result.table.column("volume") == [80])
        let dir = TestData.scratchDirectory("objects-volume")
        let files = try ObjectsReport.write(result, background: nil, to: dir)
        #expect(!files.contains { $0.hasSuffix("objects.geojson") })
        #expect(files.contains { $0.hasSuffix("objects.csv") })
    }

    @Test func splitSeparatesTouchingDiscs() throws {
        var image = Image<UInt8>(width: 80, height: 50)
        for y in 0..<50 { for x in 0..<80 {
            let a = (Double(x) - 25) * (Double(x) - 25) + (Double(y) - 25) * (Double(y) - 25)
            let b = (Double(x) - 49) * (Double(x) - 49) + (Double(y) - 25) * (Double(y) - 25)
            if a <= 196 || b <= 196 { image[x, y] = 1 }
        }}
        var options = ObjectsOptions()
        #expect(try ObjectsPipeline.run(.uint8(image), options: options).table.count == 1)
        options.splitHeight = 1
        let split = try ObjectsPipeline.run(.uint8(image), options: options)
        #expect(split.table.count == 2)
        let areas = try split.table.column("area")
        #expect(abs(areas[0] - areas[1]) <= 30) // symmetric scene: two near-equal halves
    }
}

@Suite struct ObjectsPipelineVolumeTests {
    @Test func clusteringOnA2DMeasureOfAVolumeIsExplained() throws {
        var pixels = [UInt8](repeating: 0, count: 12 * 12 * 4)
        for z in 0..<2 { for y in 1..<4 { for x in 1..<4 { pixels[(z * 12 + y) * 12 + x] = 1 } } }
        for z in 1..<4 { for y in 6..<11 { for x in 6..<11 { pixels[(z * 12 + y) * 12 + x] = 1 } } }
        let volume = AnyImage.uint8(Image(shape: Shape(width: 12, height: 12, depth: 4), pixels: pixels))
        var options = ObjectsOptions()
        options.clustering = try ObjectClustering(clusterCount: 2, columns: ["perimeter"])
        do {
            _ = try ObjectsPipeline.run(volume, options: options)
            Issue.record("expected a 2D-only error")
        } catch let error as ObjectsError {
            #expect(error.description.contains("'perimeter' is 2D only"))
        }
        options.clustering = try ObjectClustering(clusterCount: 2, columns: ["volume", "surface_area"])
        let result = try ObjectsPipeline.run(volume, options: options)
        #expect(try result.table.column("volume") == [18, 75])
        #expect(try result.table.column("cluster") == [1, 2])
    }
}

@Suite struct ObjectsGeoJSONTests {
    @Test func featuresCarryLabelClassAndMeasurements() throws {
        let image = AnyImage.uint8(ObjectScenes.discs(radii: [4, 14]))
        var options = ObjectsOptions()
        options.rules = try ClassificationRules("area > 200 -> large; else -> small")
        let result = try ObjectsPipeline.run(image, options: options)
        let dir = TestData.scratchDirectory("objects-geojson")
        try ObjectsReport.write(result, background: nil, to: dir)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/objects.geojson"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let features = root["features"] as! [[String: Any]]
        #expect(features.count == 2)
        let properties = features[0]["properties"] as! [String: Any]
        #expect(properties["label"] as? Int == 1)
        #expect((properties["classification"] as! [String: Any])["name"] as? String == "large")
        let measurements = properties["measurements"] as! [String: Any]
        #expect(measurements["area"] as? Double == (try result.table.column("area")[0]))
        #expect(measurements["circularity"] != nil)
        // summary: fractions per class
        let summary = try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8).split(separator: "\n")
        #expect(summary[1].hasPrefix("all,2,") && summary[2].hasPrefix("large,1,") && summary[3].hasPrefix("small,1,"))
    }
}
