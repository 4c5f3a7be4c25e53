import CleaveCore
import Foundation

/// How ``OMEZarrWriter`` stores an image.
public struct OMEZarrWriteOptions: Sendable, Equatable {
    /// NGFF 0.4 on Zarr v2 (read by every current tool) or NGFF 0.5 on Zarr v3.
    public enum Version: String, Sendable, CaseIterable {
        case v04 = "0.4"
        case v05 = "0.5"
        /// The Zarr format of this NGFF version.
        public var zarrFormat: Int { self == .v04 ? 2 : 3 }
    }

    public var version: Version
    /// The chunk codec (default zstd level 3).
    public var compressor: ZarrCompressor
    /// Chunk extent along x, y and z (clipped to the image; channels are chunked one by one).
    public var chunkX: Int, chunkY: Int, chunkZ: Int
    /// Resolution levels including the full one; nil chooses: halve x and y until both fit in
    /// one chunk (at most 10 levels).
    public var levels: Int?

    /// - Precondition: chunk extents >= 1, `levels` >= 1 when given.
    public init(version: Version = .v04, compressor: ZarrCompressor = .zstd(level: 3), chunkX: Int = 128, chunkY: Int = 128,
                chunkZ: Int = 64, levels: Int? = nil) {
        precondition(chunkX >= 1 && chunkY >= 1 && chunkZ >= 1, "OMEZarrWriteOptions: chunk extents must be >= 1")
        precondition(levels.map { $0 >= 1 } ?? true, "OMEZarrWriteOptions: levels must be >= 1")
        self.version = version; self.compressor = compressor
        self.chunkX = chunkX; self.chunkY = chunkY; self.chunkZ = chunkZ; self.levels = levels
    }

    public static let `default` = OMEZarrWriteOptions()
}

/// Writes an OME-Zarr image block by block: the full-resolution level from chunk-aligned blocks
/// (``write(_:at:)``), then the pyramid from the level below it (``buildPyramid(progress:)``), so
/// memory stays bounded by a block however large the volume. Label images go to the `labels`
/// group (``labelWriter(name:pixelType:)``).
///
/// Levels halve x and y (z and channels are kept, as FIB-SEM and tomography slices are viewed
/// plane by plane); intensities are averaged over 2 × 2 pixels, labels take the top-left pixel.
/// Every chunk is written under a temporary name and renamed, so an interrupted write leaves only
/// whole chunks (missing ones read as the fill value 0).
public final class OMEZarrWriter: @unchecked Sendable {
    public let path: String
    public let shape: Shape
    public let pixelType: PixelType
    public let spacing: Spacing?
    public let options: OMEZarrWriteOptions
    /// True for a label image (nearest-pixel pyramid, `image-label` metadata).
    public let isLabel: Bool
    /// The created levels, full resolution first.
    public let levels: [ZarrArray]
    let hasChannelAxis: Bool
    let hasZAxis: Bool

    /// Creates the group, its metadata and the (empty) arrays of every level. An image (not a
    /// label image) replaces a Zarr store already at `path` as a whole — its old levels, chunks
    /// and labels could otherwise be taken for parts of the new image — and refuses a directory
    /// that is not empty and not a Zarr store.
    /// - Parameters:
    ///   - channelAxis: write a `c` axis even for one channel (labels of a multi-channel image).
    ///   - name: the multiscale's name.
    ///   - replacing: false reopens a store this writer made before (same shape and options:
    ///     its chunks are kept, its metadata rewritten identically) — how a resumed block run
    ///     continues; true (the default) replaces it as described above.
    ///   - labelSource: the `image-label` `source.image` of a label image (nil: none, for a
    ///     label image that is a store of its own rather than part of an image's `labels` group).
    /// - Throws: ``ZarrError/cannotWrite(path:reason:)``; ``ZarrError/absurdSize`` for a shape
    ///   no reader could hold.
    public init(path: String, shape: Shape, pixelType: PixelType, spacing: Spacing?, options: OMEZarrWriteOptions = .default,
                name: String? = nil, isLabel: Bool = false, channelAxis: Bool? = nil, labelClasses: [(value: Int, name: String)] = [],
                replacing: Bool = true, labelSource: String? = "../../") throws {
        let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        self.path = path; self.shape = shape; self.pixelType = pixelType; self.spacing = spacing
        self.options = options; self.isLabel = isLabel
        hasChannelAxis = channelAxis ?? (shape.channels > 1)
        hasZAxis = shape.depth > 1
        let levelCount: Int = options.levels ?? {
            var n = 1, w = shape.width, h = shape.height
            while (w > options.chunkX || h > options.chunkY) && n < 10 { w = (w + 1) / 2; h = (h + 1) / 2; n += 1 }
            return n
        }()
        var arrays: [ZarrArray] = []
        var w = shape.width, h = shape.height
        let v = options.version
        if !isLabel && replacing { try OMEZarrWriter.clearStore(path) }
        try ZarrStore.makeDirectory(path)
        for level in 0..<levelCount {
            var dims: [Int] = [], chunks: [Int] = [], names: [String] = []
            if hasChannelAxis { dims.append(shape.channels); chunks.append(1); names.append("c") }
            if hasZAxis { dims.append(shape.depth); chunks.append(min(options.chunkZ, shape.depth)); names.append("z") }
            dims += [h, w]; chunks += [min(options.chunkY, h), min(options.chunkX, w)]; names += ["y", "x"]
            let metadata = ZarrArrayMetadata(zarrFormat: v.zarrFormat, shape: dims, chunks: chunks, dataType: ZarrDataType(pixelType),
                                             compressor: options.compressor, dimensionNames: v == .v05 ? names : nil)
            arrays.append(try ZarrArray.create("\(path)/\(level)", metadata: metadata))
            w = (w + 1) / 2; h = (h + 1) / 2
        }
        levels = arrays
        try writeGroupMetadata(name: name, labelClasses: labelClasses, labelSource: labelSource)
    }

    /// Removes a Zarr store at `path` (nothing there is fine).
    /// - Throws: ``ZarrError/cannotWrite(path:reason:)`` for a file, or a directory that is not
    ///   empty and holds no Zarr metadata (never deleted).
    public static func clearStore(_ path: String) throws {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw ZarrError.cannotWrite(path: path, reason: "a file of that name exists; an OME-Zarr image is a directory")
        }
        let entries = (try? files.contentsOfDirectory(atPath: path)) ?? []
        if entries.isEmpty { return }
        guard entries.contains(where: { [".zgroup", ".zattrs", ".zarray", "zarr.json"].contains($0) }) else {
            throw ZarrError.cannotWrite(path: path, reason: "the directory exists and is not a Zarr store; choose a new name")
        }
        do { try files.removeItem(atPath: path) } catch {
            throw ZarrError.cannotWrite(path: path, reason: "cannot replace the existing store (\(error.localizedDescription))")
        }
    }

    // MARK: Metadata

    var axesJSON: JSONValue {
        var axes: [JSONValue] = []
        let unit = spacing.flatMap { OMEZarrImage.ngffUnit($0.unit) }
        func space(_ name: String) -> JSONValue {
            var fields: [(String, JSONValue)] = [("name", .string(name)), ("type", .string("space"))]
            if let unit { fields.append(("unit", .string(unit))) }
            return .object(fields)
        }
        if hasChannelAxis { axes.append(.object([("name", .string("c")), ("type", .string("channel"))])) }
        if hasZAxis { axes.append(space("z")) }
        axes += [space("y"), space("x")]
        return .array(axes)
    }

    /// The scale of a level, one value per axis.
    func scale(level: Int) -> [Double] {
        let factor = Double(1 << level)
        let s = spacing.flatMap { OMEZarrImage.ngffUnit($0.unit) == nil ? nil : $0 } ?? Spacing(1, unit: "µm")
        var values: [Double] = []
        if hasChannelAxis { values.append(1) }
        if hasZAxis { values.append(s.z) }
        values += [s.y * factor, s.x * factor]
        return values
    }

    private func writeGroupMetadata(name: String?, labelClasses: [(value: Int, name: String)], labelSource: String?) throws {
        let datasets: [JSONValue] = (0..<levels.count).map { level in
            .object([("path", .string("\(level)")),
                     ("coordinateTransformations", .array([.object([("type", .string("scale")), ("scale", .numbers(scale(level: level)))])]))])
        }
        var multiscale: [(String, JSONValue)] = []
        if options.version == .v04 { multiscale.append(("version", .string("0.4"))) }
        if let name { multiscale.append(("name", .string(name))) }
        multiscale += [("axes", axesJSON), ("datasets", .array(datasets)),
                       ("type", .string(isLabel ? "nearest" : "mean")),
                       ("metadata", .object([("method", .string(isLabel ? "top-left pixel of each 2×2 block" : "mean of each 2×2 block")),
                                              ("software", .string("Cleave \(cleaveVersion)"))]))]
        var attributes: [(String, JSONValue)] = [("multiscales", .array([.object(multiscale)]))]
        if isLabel {
            var label: [(String, JSONValue)] = []
            if options.version == .v04 { label.append(("version", .string("0.4"))) }
            if let labelSource { label.append(("source", .object([("image", .string(labelSource))]))) }
            if !labelClasses.isEmpty {
                label.append(("properties", .array(labelClasses.map { .object([("label-value", .int($0.value)), ("class", .string($0.name))]) })))
            }
            attributes.append(("image-label", .object(label)))
        }
        try OMEZarrWriter.writeGroup(path, attributes: attributes, version: options.version)
    }

    /// Writes a group's `.zgroup` + `.zattrs` (v2) or `zarr.json` with `attributes.ome` (v3).
    static func writeGroup(_ path: String, attributes: [(String, JSONValue)], version: OMEZarrWriteOptions.Version) throws {
        try ZarrStore.makeDirectory(path)
        if version == .v04 {
            try ZarrStore.writeAtomically(Array((JSONValue.object([("zarr_format", .int(2))]).text() + "\n").utf8), to: path + "/.zgroup")
            try ZarrStore.writeAtomically(Array((JSONValue.object(attributes).text() + "\n").utf8), to: path + "/.zattrs")
        } else {
            let ome: JSONValue = .object([("version", .string("0.5"))] + attributes)
            let document: JSONValue = .object([("zarr_format", .int(3)), ("node_type", .string("group")),
                                               ("attributes", .object([("ome", ome)]))])
            try ZarrStore.writeAtomically(Array((document.text() + "\n").utf8), to: path + "/zarr.json")
        }
    }

    // MARK: Labels

    /// A writer for the label image `name` in this image's `labels` group (same x, y, z and
    /// chunks; one channel), listed in the group's metadata.
    /// - Parameter classes: names of label values, stored as the label image's `properties`.
    public func labelWriter(name: String, pixelType: PixelType = .uint16, classes: [(value: Int, name: String)] = []) throws -> OMEZarrWriter {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw ZarrError.invalidRequest(path: path, reason: "label name \"\(name)\" must be a plain name")
        }
        guard pixelType != .float32 else {
            throw ZarrError.invalidRequest(path: path, reason: "label images hold integers; \"\(name)\" would be float32")
        }
        let labelsPath = path + "/labels"
        var names = (try? OMEZarrImage.labelList(labelsPath)) ?? []
        if !names.contains(name) { names.append(name) }
        try OMEZarrWriter.writeGroup(labelsPath, attributes: [("labels", .array(names.map { .string($0) }))], version: options.version)
        var labelOptions = options
        labelOptions.levels = levels.count
        return try OMEZarrWriter(path: labelsPath + "/" + name, shape: shape.singleChannel, pixelType: pixelType, spacing: spacing,
                                 options: labelOptions, name: name, isLabel: true, channelAxis: hasChannelAxis, labelClasses: classes)
    }

    // MARK: Pixels

    /// Writes a block of the full-resolution level: all channels of `block`, placed at `origin`
    /// (x, y, z), which must lie on the chunk grid; the block must end on the grid or at the
    /// image's edge.
    /// - Throws: ``ZarrError/invalidRequest(path:reason:)`` for a block off the grid or of another
    ///   pixel type; ``ZarrError/cannotWrite(path:reason:)``.
    public func write<S: PixelScalar>(_ block: Image<S>, at origin: (x: Int, y: Int, z: Int)) throws {
        guard S.pixelType == pixelType, block.channels == shape.channels else {
            throw ZarrError.invalidRequest(path: path, reason: "block of \(block.channels) \(S.pixelType) channel(s) for an image of \(shape.channels) \(pixelType) channel(s)")
        }
        try writeLevel(0, pixels: block.pixels, shape: block.shape, origin: origin)
    }

    /// ``write(_:at:)`` for an image of any pixel type.
    public func write(_ block: AnyImage, at origin: (x: Int, y: Int, z: Int)) throws {
        switch block {
        case .uint8(let i): try write(i, at: origin)
        case .uint16(let i): try write(i, at: origin)
        case .float32(let i): try write(i, at: origin)
        }
    }

    private func box(shape block: Shape, origin: (x: Int, y: Int, z: Int)) throws -> (origin: [Int], size: [Int]) {
        var o: [Int] = [], s: [Int] = []
        if hasChannelAxis { o.append(0); s.append(block.channels) }
        if hasZAxis { o.append(origin.z); s.append(block.depth) } else if origin.z != 0 || block.depth != 1 {
            throw ZarrError.invalidRequest(path: path, reason: "planes \(origin.z)… written to a 2D image")
        }
        return (o + [origin.y, origin.x], s + [block.height, block.width])
    }

    private func writeLevel<S: PixelScalar>(_ level: Int, pixels: [S], shape block: Shape, origin: (x: Int, y: Int, z: Int)) throws {
        let (o, s) = try box(shape: block, origin: origin)
        try pixels.withUnsafeBytes { try levels[level].unsafeWrite(origin: o, size: s, from: $0.baseAddress!) }
    }

    /// Writes a whole in-memory image (full-resolution level in chunk slabs, then the pyramid).
    public func writeAll(_ image: AnyImage, progress: CleaveCore.Progress = .silent) throws {
        let slab = hasZAxis ? levels[0].metadata.chunks[hasChannelAxis ? 1 : 0] : 1
        let steps = (shape.depth + slab - 1) / slab
        func slabs<S: PixelScalar>(_ i: Image<S>) throws {
            for step in 0..<steps {
                let z = step * slab, d = min(slab, shape.depth - z)
                try write(i.cropped(to: Region(x: 0, y: 0, z: z, width: shape.width, height: shape.height, depth: d)), at: (0, 0, z))
                progress.report(step + 1, steps, "writing \(path)")
            }
        }
        switch image {
        case .uint8(let i): try slabs(i)
        case .uint16(let i): try slabs(i)
        case .float32(let i): try slabs(i)
        }
        try buildPyramid(progress: progress)
    }

    /// Computes levels 1… from the level below, one output chunk at a time (reads touch only the
    /// 2 × 2 source chunks under it).
    public func buildPyramid(progress: CleaveCore.Progress = .silent) throws {
        guard levels.count > 1 else { return }
        let tasks: [(level: Int, chunk: [Int])] = (1..<levels.count).flatMap { level in
            let m = levels[level].metadata
            return levels[level].chunks(touching: m.shape.map { _ in 0 }, size: m.shape).map { (level, $0) }
        }
        var done = 0
        for level in 1..<levels.count {
            let batch = tasks.filter { $0.level == level }
            let target = levels[level], source = levels[level - 1]
            try Parallel.forEachThrowing(batch.count) { i in
                try self.downsample(chunk: batch[i].chunk, from: source, to: target)
            }
            done += batch.count
            progress.report(done, tasks.count, "pyramid of \(path)")
        }
    }

    private func downsample(chunk: [Int], from source: ZarrArray, to target: ZarrArray) throws {
        let m = target.metadata, sm = source.metadata
        let n = m.shape.count
        let origin = zip(chunk, m.chunks).map { $0 * $1 }
        let size = (0..<n).map { min(m.chunks[$0], m.shape[$0] - origin[$0]) }
        var sourceOrigin = origin, sourceSize = size
        for d in (n - 2)..<n {
            sourceOrigin[d] = origin[d] * 2
            sourceSize[d] = min(size[d] * 2, sm.shape[d] - sourceOrigin[d])
        }
        let raw = try source.read(origin: sourceOrigin, size: sourceSize)
        let outer = size.dropLast(2).reduce(1, *)
        let (h, w, sh, sw) = (size[n - 2], size[n - 1], sourceSize[n - 2], sourceSize[n - 1])
        func reduce<T>(_ type: T.Type, _ combine: ([T]) -> T) -> [UInt8] {
            var out = [T]()
            out.reserveCapacity(outer * h * w)
            raw.withUnsafeBytes { buffer in
                let p = buffer.bindMemory(to: T.self)
                var group: [T] = []
                for o in 0..<outer {
                    for y in 0..<h {
                        for x in 0..<w {
                            group.removeAll(keepingCapacity: true)
                            for yy in (2 * y)..<min(2 * y + 2, sh) {
                                for xx in (2 * x)..<min(2 * x + 2, sw) { group.append(p[(o * sh + yy) * sw + xx]) }
                            }
                            out.append(combine(group))
                        }
                    }
                }
            }
            return out.withUnsafeBytes { Array($0) }
        }
        let reduced: [UInt8]
        switch pixelType {
        case .uint8: reduced = reduce(UInt8.self) { isLabel ? $0[0] : UInt8(($0.reduce(0) { $0 + Int($1) } * 2 + $0.count) / (2 * $0.count)) }
        case .uint16: reduced = reduce(UInt16.self) { isLabel ? $0[0] : UInt16(($0.reduce(0) { $0 + Int($1) } * 2 + $0.count) / (2 * $0.count)) }
        case .float32: reduced = reduce(Float.self) { isLabel ? $0[0] : $0.reduce(0, +) / Float($0.count) }
        }
        try reduced.withUnsafeBytes { try target.unsafeWrite(origin: origin, size: size, from: $0.baseAddress!) }
    }

    /// Writes an in-memory image as a new OME-Zarr image (replacing the metadata of one there).
    public static func writeImage(_ image: AnyImage, to path: String, options: OMEZarrWriteOptions = .default,
                             progress: CleaveCore.Progress = .silent) throws {
        let writer = try OMEZarrWriter(path: path, shape: image.shape, pixelType: image.pixelType, spacing: image.spacing,
                                       options: options, name: OMEZarrWriter.imageName(path))
        try writer.writeAll(image, progress: progress)
    }

    /// "vol" for ".../vol.ome.zarr".
    public static func imageName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".zarr", ".ome"] where name.lowercased().hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }
}
