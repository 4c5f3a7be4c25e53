import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `cleave info FILE…`: what image files hold.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show dimensions, pixel type, compression, spacing, value range and metadata of image files.",
        discussion: """
        Reads TIFF (classic and BigTIFF, ImageJ and OME metadata, FEI/ZEISS SEM pixel sizes), PNG \
        and MRC files, and OME-Zarr images (directories; NGFF 0.4/0.5 on Zarr v2/v3, and plain \
        Zarr arrays: levels, chunks, codec, axes, scale and label images are shown); the format is \
        recognised from the content, not the file name. The value \
        range (min/max) needs all pixels, so large stacks take a moment; --no-range skips it.

        With --json each file gives one JSON object on its own line with at least: path, format, \
        width, height, depth, channels, pages, pixelType (uint8 | uint16 | float32, what Cleave \
        reads), storedType (as stored, e.g. int16), compression, min, max, spacing {x, y, z, unit} \
        (or null) and metadata.

        Examples:
          cleave info tile.tif
          cleave info --json masks/*.tif
          cleave info volume.ome.zarr
        """)

    @Argument(help: "Image files (.tif/.tiff, .png, .mrc, .ome.zarr directories; detected by content).")
    var files: [String]

    @Flag(name: .long, help: "Print one JSON object per file (one per line).")
    var json = false

    @Flag(name: .customLong("no-range"), help: "Skip reading pixels for min/max.")
    var noRange = false

    @OptionGroup var memory: MemoryBudgetOption

    func validate() throws {
        if files.isEmpty { throw ValidationError("Please give at least one image file.") }
    }

    func run() throws {
        memory.apply()
        var failures = 0
        for (i, path) in files.enumerated() {
            do {
                let info = try ImageFile.info(path)
                var range: (min: Double, max: Double)?
                if !noRange {
                    // An image too large for the memory budget still gets its header shown, without the range.
                    do {
                        try MemoryEstimate.check(MemoryEstimate.read([MemoryEstimate.Size(info)]), for: "the value range of \(path) (\(MemoryEstimate.Size(info)))")
                        range = try ImageFile.read(path).minMax()
                    } catch let error as MemoryBudgetError {
                        printError("note: \(error.commandLineMessage); range not shown")
                    }
                }
                if json {
                    print(InfoCommand.jsonObject(path: path, info: info, range: range))
                } else {
                    if i > 0 { print("") }
                    print(InfoCommand.text(path: path, info: info, range: range))
                }
            } catch {
                failures += 1
                if files.count == 1 { throw error }
                printError("\(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    static func text(path: String, info: ImageInfo, range: (min: Double, max: Double)?) -> String {
        var lines = ["\(path)"]
        func add(_ key: String, _ value: String) { lines.append("  " + key.padding(12) + value) }
        add("format", "\(info.format) (\(info.variant), \(info.byteOrder)-endian)")
        var size = "\(info.width) × \(info.height)"
        if info.depth > 1 { size += " × \(info.depth) planes" }
        if info.channels > 1 { size += ", \(info.channels) channels" }
        add("size", size)
        if info.pageCount != info.depth { add("pages", "\(info.pageCount)") }
        add("pixel type", info.storedSampleType == info.pixelType.rawValue ? info.pixelType.rawValue
            : "\(info.pixelType.rawValue) (stored as \(info.storedSampleType))")
        add("colour", info.photometric)
        add("compression", info.compression)
        if let s = info.spacing {
            add("spacing", "\(formatNumber(s.x)) × \(formatNumber(s.y))\(info.depth > 1 ? " × \(formatNumber(s.z))" : "") \(s.unit) (\(info.spacingSource ?? "file"))")
        } else {
            add("spacing", "not recorded")
        }
        if let range { add("range", "\(formatNumber(range.min)) … \(formatNumber(range.max))") }
        for key in info.metadata.keys.sorted() {
            let value = info.metadata[key]!.replacingNewlines()
            add(key, value.count > 200 ? String(value.prefix(200)) + "…" : value)
        }
        return lines.joined(separator: "\n")
    }

    static func jsonObject(path: String, info: ImageInfo, range: (min: Double, max: Double)?) -> String {
        var fields: [(String, String)] = [
            ("path", jsonString(path)),
            ("format", jsonString(info.format.rawValue)),
            ("variant", jsonString(info.variant)),
            ("width", "\(info.width)"),
            ("height", "\(info.height)"),
            ("depth", "\(info.depth)"),
            ("channels", "\(info.channels)"),
            ("pages", "\(info.pageCount)"),
            ("pixelType", jsonString(info.pixelType.rawValue)),
            ("storedType", jsonString(info.storedSampleType)),
            ("compression", jsonString(info.compression)),
            ("byteOrder", jsonString(info.byteOrder)),
            ("photometric", jsonString(info.photometric)),
            ("min", range.map { jsonNumber($0.min) } ?? "null"),
            ("max", range.map { jsonNumber($0.max) } ?? "null"),
        ]
        if let s = info.spacing {
            fields.append(("spacing", "{\"x\": \(jsonNumber(s.x)), \"y\": \(jsonNumber(s.y)), \"z\": \(jsonNumber(s.z)), \"unit\": \(jsonString(s.unit)), \"source\": \(jsonString(info.spacingSource ?? ""))}"))
            fields.append(("unit", jsonString(s.unit)))
        } else {
            fields.append(("spacing", "null"))
        }
        let metadata = info.metadata.keys.sorted().map { "\(jsonString($0)): \(jsonString(info.metadata[$0]!))" }.joined(separator: ", ")
        fields.append(("metadata", "{\(metadata)}"))
        return "{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String { JSONText.quoted(s) }

/// A JSON number (integers without a fraction; non-finite as null).
func jsonNumber(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// A readable number (integers without ".0", others with up to 6 significant digits).
func formatNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    var text = "\(Float(v))"
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}

/// Prints a line to standard error.
func printError(_ message: String) {
    var stream = StandardError()
    print(message, to: &stream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        for byte in string.utf8 { putc(Int32(byte), stderr) }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    func replacingNewlines() -> String { String(map { $0 == "\n" || $0 == "\r" ? " " : $0 }) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
