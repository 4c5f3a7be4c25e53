import Testing
import CleaveCore
import CleaveFormats
import CleaveObjects
import CleaveTestSupport

/// Every class-4 grain of sandstone slice 0150 against scikit-image 0.26 `regionprops`
/// (Tests/Fixtures/objects/make_sandstone_class4_reference.py writes the CSVs).
@Suite struct SandstoneRegionPropsTests {
    static func fixture(_ name: String) -> String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        parts.removeLast(2) // Tests/CleaveObjectsTests/File.swift → repository root
        return parts.joined(separator: "/") + "/Tests/Fixtures/objects/" + name
    }

    /// Rows of a small numeric CSV: header and values.
    static func readCSV(_ path: String) throws -> (header: [String], rows: [[Double]]) {
        guard let file = fopen(path, "r") else { throw CleaveError("cannot open \(path)") }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { text += String(cString: buffer) }
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        return (header, lines.dropFirst().map { $0.split(separator: ",").map { Double($0)! } })
    }

    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"), arguments: [Connectivity.full, .faces])
    func everyGrainMatchesScikitImage(connectivity: Connectivity) throws {
        let classes = try ImageFile.read(TestData.path("sandstone-xrm/labels/Sandstone_Versa0150.tif"))
        let labels = ConnectedComponents.label(classes, class: 4, connectivity: connectivity)
        let table = try ObjectMeasurement.measure(labels)
        let reference = try Self.readCSV(Self.fixture("sandstone_class4_regionprops_c\(connectivity.rawValue).csv"))
        #expect(table.count == reference.rows.count) // 53 (8-connected) / 54 (4-connected) grains
        #expect(table.count == labels.objectCount)
        for (row, values) in reference.rows.enumerated() where row < table.count {
            for (k, name) in reference.header.enumerated() {
                let mine = name == "label" ? Double(table.labels[row]) : try table.column(name)[row]
                // the CSV keeps 10 significant digits
                let tolerance = 1e-9 * max(1, abs(values[k])) * 10
                #expect(abs(mine - values[k]) <= tolerance, "label \(row + 1) \(name): \(mine) vs scikit-image \(values[k])")
            }
        }
    }

    @Test(.enabled(if: TestData.isAvailable, "needs ../shared/data"))
    func poreOutlinesRoundTrip() throws {
        // Class 1 (pores + background): large objects with many holes.
        let classes = try ImageFile.read(TestData.path("sandstone-xrm/labels/Sandstone_Versa0150.tif"))
        let labels = ConnectedComponents.label(classes, class: 1, connectivity: .full)
        let back = Outlines.rasterise(try Outlines.trace(labels), width: labels.shape.width, height: labels.shape.height)
        #expect(back.labels == labels.labels)
        #expect(labels.objectCount == 281) // skimage label(classes == 1, connectivity=2).max()
    }
}

#if canImport(Glibc)
import Glibc
#endif
