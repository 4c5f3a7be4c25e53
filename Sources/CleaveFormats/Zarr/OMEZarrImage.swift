import CleaveCore
import Foundation

/// One axis of an OME-Zarr image (NGFF `axes`).
public struct OMEZarrAxis: Sendable, Equatable {
    /// "t", "c", "z", "y" or "x".
    public var name: String
    /// "time", "channel" or "space".
    public var type: String
    /// A UDUNITS-2 unit name ("micrometer", "nanometer"…), when given.
    public var unit: String?

    public init(name: String, type: String, unit: String? = nil) {
        self.name = name; self.type = type; self.unit = unit
    }
}

/// An OME-Zarr image (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) or a plain Zarr array, opened for
/// reading: its multiscale levels, axes, physical scale and label images.
///
/// Axes are mapped onto Cleave's image model (channel, plane, row, column): `c` becomes the
/// channels, `z` the planes, `y`/`x` rows and columns; a `t` axis must have one time point.
/// Reads decode only the chunks a region touches, so a block (with its halo) of a volume far
/// larger than memory is read in memory proportional to the block.
///
/// ```swift
/// let volume = try OMEZarrImage.open("fib.ome.zarr")
/// let block = try volume.read(region: Region(x: 0, y: 0, z: 32, width: 512, height: 512, depth: 64))
/// let truth = try volume.labels("truth").read()
/// ```
public final class OMEZarrImage: @unchecked Sendable {
    /// The group (or array) directory.
    public let path: String
    /// "0.4" or "0.5"; nil for a plain Zarr array without NGFF metadata.
    public let ngffVersion: String?
    /// 2 or 3.
    public var zarrFormat: Int { levels[0].metadata.zarrFormat }
    public let axes: [OMEZarrAxis]
    /// The resolution levels, full resolution first.
    public let levels: [ZarrArray]
    /// The `scale` of every level, one value per axis.
    public let scales: [[Double]]
    /// The multiscale's `name`, when given.
    public let name: String?
    /// Names listed in the image's `labels` group.
    public let labelNames: [String]
    /// The downsampling method recorded in the multiscale (`type`), when given.
    public let downsampling: String?
    let roles: AxisRoles

    struct AxisRoles: Equatable {
        var t: Int?, c: Int?, z: Int?
        var y: Int, x: Int
    }

    init(path: String, ngffVersion: String?, axes: [OMEZarrAxis], levels: [ZarrArray], scales: [[Double]],
         name: String?, labelNames: [String], downsampling: String?) throws {
        self.path = path; self.ngffVersion = ngffVersion; self.axes = axes; self.levels = levels
        self.scales = scales; self.name = name; self.labelNames = labelNames; self.downsampling = downsampling
        roles = try OMEZarrImage.roles(axes, path: path)
        for (i, level) in levels.enumerated() where level.metadata.shape.count != axes.count {
            throw ZarrError.badMetadata(path: level.path, field: "shape", reason: "\(level.metadata.shape.count) dimensions, the multiscale has \(axes.count) axes (level \(i))")
        }
        let shape = levels[0].metadata.shape
        if let t = roles.t, shape[t] > 1 {
            throw ZarrError.unsupported(path: path, what: "a time series (\(shape[t]) time points)", reason: "Cleave reads one time point; extract it first")
        }
        if shape.contains(0) {
            throw ZarrError.invalidRequest(path: path, reason: "the image is empty (shape \(shape))")
        }
    }

    // MARK: Opening

    /// Opens an OME-Zarr image group, or a plain Zarr array (axes then inferred from the number
    /// of dimensions: y x, z y x, c z y x).
    /// - Throws: ``ZarrError`` naming the metadata file and field.
    public static func open(_ path: String) throws -> OMEZarrImage {
        let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if let v3 = try ZarrStore.readFile(path + "/zarr.json", limit: 64 << 20) {
            let json = JSONReader(path: path + "/zarr.json")
            let object = try json.object(v3, document: "zarr.json")
            if (object["node_type"] as? String) == "array" { return try plainArray(path) }
            let attributes = object["attributes"] as? [String: Any] ?? [:]
            guard let ome = attributes["ome"] as? [String: Any] else {
                throw ZarrError.badMetadata(path: path + "/zarr.json", field: "attributes.ome", reason: "missing: a Zarr group but not an OME-Zarr image")
            }
            let version = (ome["version"] as? String) ?? "0.5"
            return try parse(ome, version: version, path: path, metadataPath: path + "/zarr.json")
        }
        if let attributes = try ZarrStore.readFile(path + "/.zattrs", limit: 64 << 20) {
            let json = JSONReader(path: path + "/.zattrs")
            let object = try json.object(attributes, document: ".zattrs")
            if object["multiscales"] != nil {
                let first = (object["multiscales"] as? [Any])?.first as? [String: Any]
                return try parse(object, version: (first?["version"] as? String) ?? "0.4", path: path, metadataPath: path + "/.zattrs")
            }
        }
        if FileManager.default.fileExists(atPath: path + "/.zarray") { return try plainArray(path) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError.cannotOpen(path: path, reason: "no such file or directory")
        }
        throw ZarrError.badMetadata(path: path, field: ".zattrs / zarr.json", reason: "no multiscales: not an OME-Zarr image or Zarr array")
    }

    private static func plainArray(_ path: String) throws -> OMEZarrImage {
        let array = try ZarrArray.open(path)
        let n = array.metadata.shape.count
        let names: [String]
        if let given = array.metadata.dimensionNames, given.count == n, Set(given).count == n,
           given.allSatisfy({ ["t", "c", "z", "y", "x"].contains($0) }) {
            names = given
        } else {
            switch n {
            case 2: names = ["y", "x"]
            case 3: names = ["z", "y", "x"]
            case 4: names = ["c", "z", "y", "x"]
            case 5: names = ["t", "c", "z", "y", "x"]
            default:
                throw ZarrError.unsupported(path: path, what: "a \(n)-dimensional array", reason: "Cleave reads 2 to 5 dimensions (t, c, z, y, x)")
            }
        }
        let axes = names.map { OMEZarrAxis(name: $0, type: $0 == "c" ? "channel" : $0 == "t" ? "time" : "space") }
        return try OMEZarrImage(path: path, ngffVersion: nil, axes: axes, levels: [array], scales: [Array(repeating: 1, count: n)],
                                name: nil, labelNames: [], downsampling: nil)
    }

    private static func parse(_ attributes: [String: Any], version: String, path: String, metadataPath: String) throws -> OMEZarrImage {
        let json = JSONReader(path: metadataPath)
        let list = try json.array(attributes["multiscales"], "multiscales")
        guard let first = list.first else { throw ZarrError.badMetadata(path: metadataPath, field: "multiscales", reason: "empty list") }
        let multiscale = try json.dictionary(first, "multiscales[0]")
        let axisList = try json.array(multiscale["axes"], "multiscales[0].axes")
        let axes: [OMEZarrAxis] = try axisList.enumerated().map { i, item in
            if let name = item as? String {   // NGFF 0.3: names only
                return OMEZarrAxis(name: name, type: name == "c" ? "channel" : name == "t" ? "time" : "space")
            }
            let axis = try json.dictionary(item, "multiscales[0].axes[\(i)]")
            let name = try json.string(axis["name"], "multiscales[0].axes[\(i)].name")
            return OMEZarrAxis(name: name, type: (axis["type"] as? String) ?? "", unit: axis["unit"] as? String)
        }
        guard (2...5).contains(axes.count) else {
            throw ZarrError.badMetadata(path: metadataPath, field: "multiscales[0].axes", reason: "\(axes.count) axes (NGFF images have 2 to 5)")
        }
        var global = [Double](repeating: 1, count: axes.count)
        if let transforms = multiscale["coordinateTransformations"] {
            global = try scale(of: transforms, field: "multiscales[0].coordinateTransformations", count: axes.count, json: json) ?? global
        }
        let datasets = try json.array(multiscale["datasets"], "multiscales[0].datasets")
        guard !datasets.isEmpty else { throw ZarrError.badMetadata(path: metadataPath, field: "multiscales[0].datasets", reason: "empty list") }
        guard datasets.count <= 64 else {
            throw ZarrError.absurdSize(path: metadataPath, field: "multiscales[0].datasets", reason: "\(datasets.count) levels (at most 64)")
        }
        var levels: [ZarrArray] = []
        var scales: [[Double]] = []
        for (i, item) in datasets.enumerated() {
            let field = "multiscales[0].datasets[\(i)]"
            let dataset = try json.dictionary(item, field)
            let relative = try json.string(dataset["path"], field + ".path")
            guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
                throw ZarrError.badMetadata(path: metadataPath, field: field + ".path", reason: "\"\(relative.prefix(40))\" must be a path inside the image")
            }
            levels.append(try ZarrArray.open(path + "/" + relative))
            var s = [Double](repeating: 1, count: axes.count)
            if let transforms = dataset["coordinateTransformations"] {
                s = try scale(of: transforms, field: field + ".coordinateTransformations", count: axes.count, json: json) ?? s
            }
            scales.append(zip(s, global).map { $0 * $1 })
        }
        var labelNames: [String] = []
        if let labels = try? OMEZarrImage.labelList(path + "/labels") { labelNames = labels }
        return try OMEZarrImage(path: path, ngffVersion: version, axes: axes, levels: levels, scales: scales,
                                name: multiscale["name"] as? String, labelNames: labelNames, downsampling: multiscale["type"] as? String)
    }

    private static func scale(of transforms: Any, field: String, count: Int, json: JSONReader) throws -> [Double]? {
        for (i, item) in try json.array(transforms, field).enumerated() {
            let t = try json.dictionary(item, "\(field)[\(i)]")
            guard (t["type"] as? String) == "scale" else { continue }
            let values = try json.array(t["scale"], "\(field)[\(i)].scale").enumerated().map { try json.double($0.element, "\(field)[\(i)].scale[\($0.offset)]") }
            guard values.count == count, values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw ZarrError.badMetadata(path: json.path, field: "\(field)[\(i)].scale", reason: "expected \(count) positive numbers, found \(values)")
            }
            return values
        }
        return nil
    }

    /// The names a `labels` group lists (empty when there is none).
    static func labelList(_ labelsPath: String) throws -> [String] {
        if let v3 = try ZarrStore.readFile(labelsPath + "/zarr.json", limit: 1 << 20) {
            let object = try JSONReader(path: labelsPath + "/zarr.json").object(v3, document: "zarr.json")
            let ome = (object["attributes"] as? [String: Any])?["ome"] as? [String: Any]
            return (ome?["labels"] as? [Any])?.compactMap { $0 as? String } ?? []
        }
        if let v2 = try ZarrStore.readFile(labelsPath + "/.zattrs", limit: 1 << 20) {
            let object = try JSONReader(path: labelsPath + "/.zattrs").object(v2, document: ".zattrs")
            return (object["labels"] as? [Any])?.compactMap { $0 as? String } ?? []
        }
        return []
    }

    /// Opens the label image `name` of the `labels` group.
    /// - Throws: ``ZarrError/invalidRequest(path:reason:)`` when the image has no such label image.
    public func labels(_ name: String) throws -> OMEZarrImage {
        guard labelNames.contains(name) else {
            throw ZarrError.invalidRequest(path: path, reason: "no label image \"\(name)\" (labels: \(labelNames.isEmpty ? "none" : labelNames.joined(separator: ", ")))")
        }
        return try OMEZarrImage.open(path + "/labels/" + name)
    }

    private static func roles(_ axes: [OMEZarrAxis], path: String) throws -> AxisRoles {
        var found: [String: Int] = [:]
        for (i, axis) in axes.enumerated() {
            var name = axis.name.lowercased()
            if !["t", "c", "z", "y", "x"].contains(name) {
                switch axis.type { case "time": name = "t"; case "channel": name = "c"; default: break }
            }
            guard ["t", "c", "z", "y", "x"].contains(name), found[name] == nil else {
                throw ZarrError.unsupported(path: path, what: "axis \"\(axis.name.prefix(20))\"", reason: "Cleave reads the axes t, c, z, y, x, each at most once")
            }
            found[name] = i
        }
        guard let y = found["y"], let x = found["x"] else {
            throw ZarrError.badMetadata(path: path, field: "axes", reason: "no y and x axes (found \(axes.map(\.name)))")
        }
        // NGFF orders axes time, channel, space (z, y, x): exactly the storage order of Cleave images.
        let order = ["t", "c", "z", "y", "x"].compactMap { found[$0] }
        guard order == Array(0..<axes.count) else {
            throw ZarrError.unsupported(path: path, what: "axis order \(axes.map(\.name).joined(separator: ","))", reason: "Cleave reads the NGFF order t, c, z, y, x")
        }
        return AxisRoles(t: found["t"], c: found["c"], z: found["z"], y: y, x: x)
    }

    // MARK: What it holds

    /// The image shape of a level (channels × planes × rows × columns).
    public func shape(level: Int = 0) -> Shape {
        let s = levels[level].metadata.shape
        return Shape(width: s[roles.x], height: s[roles.y], depth: roles.z.map { s[$0] } ?? 1, channels: roles.c.map { s[$0] } ?? 1)
    }

    /// The shape of the full-resolution level.
    public var shape: Shape { shape(level: 0) }

    /// The pixel type reads return.
    public var pixelType: PixelType { levels[0].metadata.dataType.pixelType }

    /// The chunk extent of a level as (x, y, z, channels).
    public func chunkShape(level: Int = 0) -> (x: Int, y: Int, z: Int, c: Int) {
        let c = levels[level].metadata.chunks
        return (c[roles.x], c[roles.y], roles.z.map { c[$0] } ?? 1, roles.c.map { c[$0] } ?? 1)
    }

    /// Physical voxel size of a level, when the axes carry a length unit.
    public func spacing(level: Int = 0) -> Spacing? {
        guard let unitName = axes[roles.x].unit, let unit = OMEZarrImage.cleaveUnit(unitName) else { return nil }
        let s = scales[level]
        return Spacing(x: s[roles.x], y: s[roles.y], z: roles.z.map { s[$0] } ?? 1, unit: unit)
    }

    /// The full-resolution voxel size.
    public var spacing: Spacing? { spacing(level: 0) }

    /// Cleave's unit for a UDUNITS-2 length unit name (and back: ``ngffUnit(_:)``).
    static func cleaveUnit(_ name: String) -> String? {
        switch name.lowercased() {
        case "micrometer", "micron": return "µm"
        case "nanometer": return "nm"
        case "angstrom": return "Å"
        case "millimeter": return "mm"
        case "centimeter": return "cm"
        case "meter": return "m"
        case "picometer": return "pm"
        case "inch": return "inch"
        default:
            let normalized = Spacing.normalizedUnit(name)
            return Spacing(1, unit: normalized).micrometresPerUnit == nil ? nil : normalized
        }
    }

    /// The UDUNITS-2 name NGFF wants for a Cleave unit, or nil when there is none.
    static func ngffUnit(_ unit: String) -> String? {
        switch Spacing.normalizedUnit(unit) {
        case "µm": return "micrometer"
        case "nm": return "nanometer"
        case "Å": return "angstrom"
        case "mm": return "millimeter"
        case "cm": return "centimeter"
        case "m": return "meter"
        case "pm": return "picometer"
        case "inch": return "inch"
        default: return nil
        }
    }

    /// What the image holds, without reading chunks.
    public func info() -> ImageInfo {
        let m = levels[0].metadata
        let s = shape
        var metadata: [String: String] = [
            "axes": axes.map(\.name).joined(separator: ", "),
            "chunks": chunkDescription(level: 0),
            "levels": "\(levels.count) (" + (0..<levels.count).map { l in let t = shape(level: l); return t.depth > 1 ? "\(t.width)×\(t.height)×\(t.depth)" : "\(t.width)×\(t.height)" }.joined(separator: ", ") + ")",
            "fillValue": "\(m.fillValue)",
        ]
        if !labelNames.isEmpty { metadata["labels"] = labelNames.joined(separator: ", ") }
        if let name { metadata["name"] = name }
        if let downsampling { metadata["downsampling"] = downsampling }
        let variant = (ngffVersion.map { "NGFF \($0), " } ?? "plain array, ") + "Zarr v\(m.zarrFormat)"
        return ImageInfo(format: .omeZarr, variant: variant, width: s.width, height: s.height, depth: s.depth, channels: s.channels,
                         pageCount: s.depth, pixelType: pixelType, storedSampleType: m.dataType.rawValue,
                         compression: m.compressor.description, byteOrder: m.littleEndian || m.dataType.size == 1 ? "little" : "big",
                         photometric: "grey", spacing: spacing, spacingSource: spacing == nil ? nil : "NGFF coordinateTransformations",
                         metadata: metadata)
    }

    private func chunkDescription(level: Int) -> String {
        let c = chunkShape(level: level)
        var text = roles.z == nil ? "\(c.x)×\(c.y)" : "\(c.x)×\(c.y)×\(c.z)"
        if c.c > 1 { text += " (\(c.c) channels)" }
        return text
    }

    // MARK: Reading

    /// Reads a region (all of the level by default) of some channels (all by default), decoding
    /// only the chunks it touches.
    /// - Throws: ``ZarrError`` (region outside the level, corrupt chunk, size over
    ///   ``ImageFile/maximumImageBytes``).
    public func read(level: Int = 0, region: Region? = nil, channels: Range<Int>? = nil) throws -> AnyImage {
        guard level >= 0, level < levels.count else {
            throw ZarrError.invalidRequest(path: path, reason: "level \(level) requested, the image has \(levels.count) (0…\(levels.count - 1))")
        }
        let full = shape(level: level)
        let region = region ?? Region(covering: full)
        let channels = channels ?? 0..<full.channels
        guard region.isInside(full), !region.isEmpty, channels.lowerBound >= 0, channels.upperBound <= full.channels, !channels.isEmpty else {
            throw ZarrError.invalidRequest(path: path, reason: "region \(region), channels \(channels) is outside the level's \(full)")
        }
        let array = levels[level]
        var origin = [Int](repeating: 0, count: axes.count), size = [Int](repeating: 1, count: axes.count)
        if let c = roles.c { origin[c] = channels.lowerBound; size[c] = channels.count }
        if let z = roles.z { origin[z] = region.z; size[z] = region.depth } else if region.z != 0 || region.depth != 1 {
            throw ZarrError.invalidRequest(path: path, reason: "planes \(region.z)… requested from a 2D image")
        }
        origin[roles.y] = region.y; size[roles.y] = region.height
        origin[roles.x] = region.x; size[roles.x] = region.width
        let shape = Shape(width: region.width, height: region.height, depth: region.depth, channels: channels.count)
        let type = array.metadata.dataType
        // Types Cleave keeps are decoded straight into the image's pixel array (no second copy).
        func direct<T: PixelScalar>(_: T.Type) throws -> Image<T> {
            let bytes = shape.count * type.size
            guard bytes <= ImageFile.maximumImageBytes else {
                throw ZarrError.absurdSize(path: path, field: "region", reason: "\(size) samples need \(bytes) bytes, more than the \(ImageFile.maximumImageBytes >> 20) MiB read limit")
            }
            let pixels = try [T](unsafeUninitializedCapacity: shape.count) { buffer, initialized in
                MemoryAdvice.preferHugePages(UnsafeMutableRawPointer(buffer.baseAddress!), byteCount: bytes)
                try array.unsafeRead(origin: origin, size: size, into: UnsafeMutableRawPointer(buffer.baseAddress!))
                initialized = shape.count
            }
            return Image(shape: shape, pixels: pixels)
        }
        var image: AnyImage
        switch type {
        case .uint8: image = .uint8(try direct(UInt8.self))
        case .uint16: image = .uint16(try direct(UInt16.self))
        case .float32: image = .float32(try direct(Float.self))
        default: image = OMEZarrImage.image(try array.read(origin: origin, size: size), type: type, shape: shape)
        }
        image.spacing = spacing(level: level)
        return image
    }

    /// Reads a whole level slab by slab (one chunk of planes at a time), reporting progress.
    public func read(level: Int, progress: CleaveCore.Progress) throws -> AnyImage {
        let full = shape(level: level)
        guard level >= 0, level < levels.count, full.depth > 1 else { return try read(level: level) }
        let bytes = full.count * levels[level].metadata.dataType.pixelType.bytesPerSample
        guard bytes <= ImageFile.maximumImageBytes else {
            throw ZarrError.absurdSize(path: path, field: "shape", reason: "\(full) needs \(bytes) bytes, more than the \(ImageFile.maximumImageBytes >> 20) MiB read limit")
        }
        let slab = chunkShape(level: level).z
        let steps = (full.depth + slab - 1) / slab
        func assemble<S: PixelScalar>(_ type: S.Type, _ first: Image<S>) throws -> AnyImage {
            var out = Image<S>(shape: full, spacing: first.spacing)
            for step in 0..<steps {
                let z = step * slab, d = min(slab, full.depth - z)
                let part = step == 0 ? AnyImage(first) : try read(level: level, region: Region(x: 0, y: 0, z: z, width: full.width, height: full.height, depth: d))
                guard case let typed? = (part.withImage { $0 as? Image<S> }) else { continue }
                for c in 0..<full.channels {
                    let count = d * full.planeSize
                    let source = c * typed.shape.channelSize, target = full.index(column: 0, row: 0, plane: z, channel: c)
                    out.pixels.withUnsafeMutableBufferPointer { o in
                        typed.pixels.withUnsafeBufferPointer { p in
                            o.baseAddress!.advanced(by: target).update(from: p.baseAddress!.advanced(by: source), count: count)
                        }
                    }
                }
                progress.report(step + 1, steps, "reading \(path)")
            }
            return AnyImage(out)
        }
        let first = try read(level: level, region: Region(x: 0, y: 0, z: 0, width: full.width, height: full.height, depth: min(slab, full.depth)))
        switch first {
        case .uint8(let i): return try assemble(UInt8.self, i)
        case .uint16(let i): return try assemble(UInt16.self, i)
        case .float32(let i): return try assemble(Float.self, i)
        }
    }

    /// Reads one plane of all channels (what stack code reads page by page).
    public func read(plane: Int) throws -> AnyImage {
        let s = shape
        guard plane >= 0, plane < s.depth else {
            throw ZarrError.invalidRequest(path: path, reason: "plane \(plane) requested, the image has \(s.depth) (0…\(s.depth - 1))")
        }
        return try read(region: Region(x: 0, y: 0, z: plane, width: s.width, height: s.height, depth: 1))
    }

    /// Raw samples of a stored type as a Cleave image (uint8, uint16 kept; others → float32).
    static func image(_ raw: [UInt8], type: ZarrDataType, shape: Shape) -> AnyImage {
        raw.withUnsafeBytes { buffer -> AnyImage in
            let n = shape.count
            func floats<T: BinaryInteger>(_ t: T.Type) -> [Float] { let p = buffer.bindMemory(to: T.self); return (0..<n).map { Float(p[$0]) } }
            switch type {
            case .uint8: return .uint8(Image(shape: shape, pixels: Array(buffer.bindMemory(to: UInt8.self))))
            case .uint16: return .uint16(Image(shape: shape, pixels: Array(buffer.bindMemory(to: UInt16.self))))
            case .float32: return .float32(Image(shape: shape, pixels: Array(buffer.bindMemory(to: Float.self))))
            case .float64: let p = buffer.bindMemory(to: Double.self); return .float32(Image(shape: shape, pixels: (0..<n).map { Float(p[$0]) }))
            case .int8: return .float32(Image(shape: shape, pixels: floats(Int8.self)))
            case .int16: return .float32(Image(shape: shape, pixels: floats(Int16.self)))
            case .uint32: return .float32(Image(shape: shape, pixels: floats(UInt32.self)))
            case .int32: return .float32(Image(shape: shape, pixels: floats(Int32.self)))
            case .uint64: return .float32(Image(shape: shape, pixels: floats(UInt64.self)))
            case .int64: return .float32(Image(shape: shape, pixels: floats(Int64.self)))
            }
        }
    }

    /// True when `path` is a directory (an OME-Zarr store or Zarr array is one).
    public static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
