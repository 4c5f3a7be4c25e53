import CleaveCore
import CleaveFormats
import CleaveRender
import Foundation

/// The files of one mapped image.
public enum LithologyOutputs {
    /// Colours of the region classes (colour-blind safe: Okabe–Ito).
    public static func colour(_ value: Int32) -> RGB? {
        switch LithologyClass(rawValue: value) {
        case .outside: return nil
        case .lowPorosity: return RGB(0, 114, 178)
        case .highPorosity: return RGB(230, 159, 0)
        case .fracture: return RGB(204, 121, 167)
        case nil: return nil
        }
    }

    /// Class value per low-resolution pixel (0 = not in a whole block).
    public static func pixelMap(_ map: LithologyMap, width: Int, height: Int) -> Image<UInt8> {
        var pixels = [UInt8](repeating: 0, count: width * height)
        for r in 0..<map.blockRows {
            for c in 0..<map.blockColumns {
                let value = UInt8(clamping: map.classes[r * map.blockColumns + c])
                let x0 = map.originX + c * map.blockSide, y0 = map.originY + r * map.blockSide
                for y in y0..<min(height, y0 + map.blockSide) {
                    for x in x0..<min(width, x0 + map.blockSide) { pixels[y * width + x] = value }
                }
            }
        }
        return Image(shape: Shape(width: width, height: height), pixels: pixels)
    }

    /// Writes `<stem>-regions.tif` (class per pixel), `<stem>-regions.png` (classes over the grey
    /// image, targets as numbered squares, a legend) and `<stem>-blocks.csv` (one row per block:
    /// position, class, the baseline's class, grey mean, forest probabilities) into `directory`.
    /// Every file is written whole or not at all.
    public static func write(_ map: LithologyMap, image: Image<Float>, targets: [LithologyTarget], stem: String, directory: String) throws {
        let path = { (name: String) in (directory as NSString).appendingPathComponent(stem + name) }
        let regions = pixelMap(map, width: image.width, height: image.height)
        try AtomicFile.write(Data(try TIFFWriter.encode(regions)), to: path("-regions.tif"))

        let grey = Display.grey(image)
        var picture = Display.overlay(grey: grey, labels: regions.pixels.map(Int32.init), colours: { colour($0) }, opacity: 0.45)
        let present = Set(map.classes)
        let entries = LithologyClass.allCases.filter { present.contains($0.rawValue) && colour($0.rawValue) != nil }
            .map { (colour: colour($0.rawValue)!, label: $0.name) }
        if !entries.isEmpty {
            Canvas.legend(&picture, title: "regions", entries: entries, scale: Canvas.legendScale(width: image.width, height: image.height))
        }
        let side = map.blockSide
        for t in targets {
            let x = map.originX + t.blockColumn * side - side, y = map.originY + t.blockRow * side - side
            Canvas.stroke(&picture, x: max(0, x), y: max(0, y), width: 3 * side, height: 3 * side, colour: RGB(255, 255, 255), thickness: max(1, side / 8))
            _ = Canvas.text(&picture, "\(t.rank)", x: max(0, x) + 3, y: max(0, y) + 3, colour: RGB(255, 255, 255), scale: max(1, side / 8))
        }
        try AtomicFile.write(Data(try PNGWriter.encode(picture)), to: path("-regions.png"))

        var csv = "block_row,block_column,x,y,width,height,class,name,baseline_class,grey_mean"
        csv += map.classValues.map { ",p_\(LithologyClass(rawValue: $0)?.name.replacingOccurrences(of: " ", with: "_") ?? String($0))" }.joined() + "\n"
        let k = map.classValues.count
        for r in 0..<map.blockRows {
            for c in 0..<map.blockColumns {
                let i = r * map.blockColumns + c
                var line = "\(r),\(c),\(map.originX + c * side),\(map.originY + r * side),\(side),\(side),\(map.classes[i]),"
                line += (LithologyClass(rawValue: map.classes[i])?.name ?? "?") + ",\(map.baseline[i]),"
                line += String(format: "%.4f", map.means[i])
                for j in 0..<k { line += String(format: ",%.4f", map.probabilities[i * k + j]) }
                csv += line + "\n"
            }
        }
        try AtomicFile.write(csv, to: path("-blocks.csv"))
    }

    /// Writes the suggested high-resolution targets of every image as one CSV (low-resolution pixel centres).
    public static func writeTargets(_ targets: [(image: String, targets: [LithologyTarget])], to path: String) throws {
        var csv = "image,rank,x,y,block_row,block_column,classes_around,entropy_bits\n"
        for (image, list) in targets {
            for t in list {
                csv += "\(CSVText.field(image)),\(t.rank),\(String(format: "%.1f", t.x)),\(String(format: "%.1f", t.y)),\(t.blockRow),\(t.blockColumn),\(t.classesAround),\(String(format: "%.4f", t.entropy))\n"
            }
        }
        try AtomicFile.write(csv, to: path)
    }
}
