import CleaveCore
import CleaveFormats
import Foundation

/// One input image of the Locator with its place in the mosaic.
public struct LocatorImage: Sendable {
    /// File name without folder (what patch tables and truth CSVs refer to).
    public var name: String
    /// The path the image was read from, as given (empty when the image did not come from a file); used in warnings.
    public var path: String
    /// 0-based mosaic position, or nil when the layout is unknown.
    public var mosaicRow: Int?
    /// 0-based mosaic column, or nil when the layout is unknown.
    public var mosaicColumn: Int?
    /// The samples as Float (exact for 8/16-bit files).
    public var image: Image<Float>
    /// True for 8/16-bit sources (enables exact counting statistics).
    public var integral: Bool
    /// Physical pixel size from the file, or nil when it does not say.
    public var spacing: Spacing? { image.spacing }

    /// An input image; `integral` must be true only when every sample is a whole number in 0…65535.
    public init(name: String, path: String = "", mosaicRow: Int? = nil, mosaicColumn: Int? = nil,
                image: Image<Float>, integral: Bool) {
        self.name = name; self.path = path; self.mosaicRow = mosaicRow; self.mosaicColumn = mosaicColumn
        self.image = image; self.integral = integral
    }
}

/// Finding, reading and arranging the Locator's input images.
public enum LocatorInput {
    /// File extensions the Locator reads from folders.
    public static let imageExtensions: Set<String> = ["tif", "tiff", "png", "mrc", "st", "map"]

    /// Expands folders (their image files, sorted by name) and keeps files as given.
    /// - Throws: ``LocatorError`` when a path does not exist or a folder holds no images.
    public static func expand(_ paths: [String]) throws -> [String] {
        guard !paths.isEmpty else { throw LocatorError.noImages(reason: "no input; give image files or a folder") }
        var result: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LocatorError.unusableInput(source: path, reason: "no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try fm.contentsOfDirectory(atPath: path).sorted()
                let images = names.filter { name in
                    guard let dot = name.lastIndex(of: ".") else { return false }
                    return imageExtensions.contains(name[name.index(after: dot)...].lowercased()) && !name.hasPrefix(".")
                }
                guard !images.isEmpty else {
                    throw LocatorError.unusableInput(source: path, reason: "folder holds no images (looked for .\(imageExtensions.sorted().joined(separator: ", .")))")
                }
                result += images.map { (path.hasSuffix("/") ? path : path + "/") + $0 }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// The samples as Float, with specialised loops (the generic conversion is much slower).
    static func floatImage(_ any: AnyImage) -> Image<Float> {
        switch any {
        case .uint8(let i): return Image(shape: i.shape, pixels: converted(i.pixels), spacing: i.spacing)
        case .uint16(let i): return Image(shape: i.shape, pixels: converted(i.pixels), spacing: i.spacing)
        case .float32(let i): return i
        }
    }

    /// Integer samples as Float (exact), in fixed chunks on all cores.
    static func converted<T: BinaryInteger & Sendable>(_ values: [T]) -> [Float] {
        [Float](unsafeUninitializedLargeCount: values.count) { out in
            values.withUnsafeBufferPointer { v in
                let v = UncheckedSendable(v), out = UncheckedSendable(out)
                Parallel.forEachChunk(of: v.value.count, chunkCount: Parallel.chunkCount(total: v.value.count, minimumPerChunk: 1 << 18)) { range in
                    for i in range { out.value[i] = Float(v.value[i]) }
                }
            }
        }
    }

    /// The 1-based (row, column) in names like `Tile_001-002…`, as 0-based, or nil.
    public static func mosaicPosition(fromName name: String) -> (row: Int, column: Int)? {
        guard let range = name.range(of: "Tile_", options: [.caseInsensitive]) else { return nil }
        let rest = name[range.upperBound...]
        let digitsA = rest.prefix { $0.isNumber }
        guard !digitsA.isEmpty else { return nil }
        let afterA = rest.dropFirst(digitsA.count)
        guard afterA.first == "-" || afterA.first == "_" else { return nil }
        let digitsB = afterA.dropFirst().prefix { $0.isNumber }
        guard !digitsB.isEmpty, let r = Int(digitsA), let c = Int(digitsB), r >= 1, c >= 1 else { return nil }
        return (r - 1, c - 1)
    }

    /// Reads the images and assigns mosaic positions: from `Tile_ROW-COL` names when every file
    /// has one, otherwise from `mosaic` (row-major in the given order), otherwise none.
    /// - Parameter warning: when given, images whose size differs from the most common one (the
    ///   first image's on a tie) are skipped and reported through it, one line each, instead of
    ///   failing the run.
    /// - Throws: ``LocatorError`` for unreadable files, images of different sizes (without
    ///   `warning`), non-2D data, duplicate tile positions or a `mosaic` that does not fit the file count.
    public static func load(_ paths: [String], mosaic: (rows: Int, columns: Int)? = nil,
                            progress: CleaveCore.Progress = .silent, warning: ((String) -> Void)? = nil) throws -> [LocatorImage] {
        let files = try expand(paths)
        progress.report(0, files.count, "reading")
        // Files are read side by side; each lands in its own slot, and errors are reported for
        // the first failing file in the given order.
        nonisolated(unsafe) var slots = [Result<LocatorImage, any Error>?](repeating: nil, count: files.count)
        slots.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            Parallel.forEach(files.count) { i in
                let path = files[i]
                slots.value[i] = Result {
                    let any: AnyImage
                    do { any = try ImageFile.read(path) } catch {
                        throw LocatorError.unusableInput(source: path, reason: "cannot read image: \(error)")
                    }
                    if let pixel = any.firstNonFinitePixel() {
                        throw ImageFileError.notFinite(path: path, pixel: pixel)
                    }
                    let shape = any.shape
                    guard shape.depth == 1, shape.channels == 1 else {
                        throw LocatorError.unusableInput(source: path, reason: "the Locator needs 2D greyscale images, got \(shape)")
                    }
                    let name = String(path.split(separator: "/").last ?? Substring(path))
                    return LocatorImage(name: name, path: path, image: floatImage(any), integral: any.pixelType != .float32)
                }
            }
        }
        var images: [LocatorImage] = []
        for slot in slots { images.append(try slot!.get()) }
        var skippedShape: (Shape) -> Bool = { _ in false }  // removed once the mosaic positions are set
        var counts: [Shape: Int] = [:]
        for image in images { counts[image.image.shape, default: 0] += 1 }
        if counts.count > 1 {
            // The most common size (the earliest on a tie) is the run's tile size.
            let most = counts.values.max()!
            let common = images.first { counts[$0.image.shape]! == most }!.image.shape
            guard let warning else {
                let first = images[0], other = images.first { $0.image.shape != first.image.shape }!
                throw LocatorError.unusableInput(source: other.path, reason: "image is \(other.image.shape) but \(first.name) is \(first.image.shape); all tiles of one run must have the same size")
            }
            for image in images where image.image.shape != common {
                warning("\(image.path): image is \(image.image.shape) but \(counts[common]!) of the \(images.count) tiles are \(common); skipped (all tiles of one run must have the same size)")
            }
            skippedShape = { $0 != common }
        }
        progress.report(files.count, files.count, "reading")
        if let mosaic {
            guard mosaic.rows >= 1, mosaic.columns >= 1, mosaic.rows * mosaic.columns >= images.count else {
                throw LocatorOptionError(field: "mosaic", value: "\(mosaic.rows)x\(mosaic.columns)", reason: "room for \(max(0, mosaic.rows * mosaic.columns)) tiles but \(images.count) images were given")
            }
            for i in images.indices { images[i].mosaicRow = i / mosaic.columns; images[i].mosaicColumn = i % mosaic.columns }
        } else {
            let positions = images.map { mosaicPosition(fromName: $0.name) }
            if positions.allSatisfy({ $0 != nil }) {
                var seen: [String: String] = [:]
                for (i, p) in positions.enumerated() {
                    let key = "\(p!.row),\(p!.column)"
                    if let other = seen[key] {
                        throw LocatorError.unusableInput(source: images[i].name, reason: "same tile position (row \(p!.row + 1), column \(p!.column + 1)) as \(other); give a mosaic layout or fewer files")
                    }
                    seen[key] = images[i].name
                    images[i].mosaicRow = p!.row; images[i].mosaicColumn = p!.column
                }
            } else if images.count > 1 {
                // Unknown layout: one row in the given order.
                for i in images.indices { images[i].mosaicRow = 0; images[i].mosaicColumn = i }
            } else {
                images[0].mosaicRow = 0; images[0].mosaicColumn = 0
            }
        }
        images.removeAll { skippedShape($0.image.shape) }
        return images
    }
}
