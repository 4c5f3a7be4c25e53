import CleaveCore
import CleaveFormats
import CleaveObjects
import CleaveRender

/// GeoJSON for QuPath and GIS tools: one Feature per object, coordinates in pixels
/// (x = column, y = row, origin at the image's top-left corner), properties `label`,
/// `objectType` ("detection"), `classification` {name, color} when classified, and
/// `measurements` {name: value} (non-finite values left out, as JSON has no NaN).
public enum ObjectsGeoJSON {
    /// A FeatureCollection of `outlines`, with the measurements of their rows in `table` and, for a
    /// `class` column, the colour `classColours[class]` (as `[r, g, b]`, 0…255).
    /// - Complexity: O(outline points + objects × columns).
    public static func encode(_ outlines: [ObjectOutline], table: ObjectTable, classColours: [String: RGB]) -> String {
        var rowOf: [Int32: Int] = [:]
        for (row, label) in table.labels.enumerated() { rowOf[label] = row }
        let columns = table.columnNames.map { ($0, (try? table.column($0)) ?? []) }
        var out = "{\"type\":\"FeatureCollection\",\"features\":[\n"
        for (k, outline) in outlines.enumerated() {
            if k > 0 { out += ",\n" }
            out += "{\"type\":\"Feature\",\"geometry\":"
            func ring(_ points: [(x: Int, y: Int)]) -> String {
                "[" + points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]"
            }
            func polygon(_ p: ObjectOutline.Polygon) -> String {
                "[" + ([ring(p.exterior)] + p.holes.map(ring)).joined(separator: ",") + "]"
            }
            if outline.polygons.count == 1 {
                out += "{\"type\":\"Polygon\",\"coordinates\":\(polygon(outline.polygons[0]))}"
            } else {
                out += "{\"type\":\"MultiPolygon\",\"coordinates\":[" + outline.polygons.map(polygon).joined(separator: ",") + "]}"
            }
            out += ",\"properties\":{\"objectType\":\"detection\",\"label\":\(outline.label)"
            if let row = rowOf[outline.label] {
                if let classes = table.classes, !classes[row].isEmpty {
                    let name = classes[row]
                    let c = classColours[name] ?? RGB(200, 200, 200)
                    out += ",\"classification\":{\"name\":\(jsonString(name)),\"color\":[\(c.red),\(c.green),\(c.blue)]}"
                }
                out += ",\"measurements\":{"
                var first = true
                for (name, values) in columns where values[row].isFinite {
                    out += (first ? "" : ",") + "\(jsonString(name)):\(ObjectTable.format(values[row]))"
                    first = false
                }
                out += "}"
            }
            out += "}}"
        }
        out += "\n]}\n"
        return out
    }

    static func jsonString(_ text: String) -> String { JSONText.quoted(text) }
}
