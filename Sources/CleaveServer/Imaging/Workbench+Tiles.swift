import CleaveCore
import CleaveFormats
import CleaveRender
import Foundation

extension Workbench {
    /// Images decoded from the blob store since the server started (diagnostics: tile requests
    /// for rendered tiles must not add to it).
    public var imageDecodeCount: Int {
        get async { await images.decodeCount }
    }

    /// The decoded image (plane 0 is what the viewer shows), from the in-memory cache or the blob
    /// store (checksum verified on load).
    ///
    /// Images over the pixel budget are refused before decoding and images with non-finite
    /// pixels after it (``checkPixelBudget(name:width:height:depth:channels:)``,
    /// ``checkFinite(_:name:)``): tiles, windows and jobs of such an image fail alone with that
    /// line, and the failure is remembered so that repeated requests do not decode it again.
    func decoded(_ image: ImageDTO) async throws -> DecodedImageCache.Entry {
        try checkPixelBudget(name: image.name, width: image.width, height: image.height, depth: image.depth, channels: image.channels)
        if let entry = try await images.cached(image.sha256) { return entry }
        let blobs = self.blobs
        do {
            let entry = try await Workbench.offload { () throws -> DecodedImageCache.Entry in
                let bytes = try blobs.verifiedBytes(sha256: image.sha256)
                let pixels = try ImageFile.read(data: bytes, path: image.name)
                try Workbench.checkFinite(pixels, name: image.name)
                return DecodedImageCache.Entry(image: pixels, window: TilePyramid.defaultWindow(pixels))
            }
            return await images.insert(image.sha256, entry)
        } catch let error as APIError where (400..<500).contains(error.status.code) {
            await images.refuse(image.sha256, error)
            throw error
        }
    }

    /// The default contrast window of an image (of plane `plane` of a stack, channel `channel` of a
    /// multi-channel image; plane 0, channel 0 is cached).
    /// - Throws: 400 for a plane or channel outside the image.
    public func defaultWindow(imageID: String, plane: Int? = nil, channel: Int? = nil) async throws -> WindowDTO {
        try await defaultWindow(try await image(id: imageID), plane: plane, channel: channel)
    }

    /// ``defaultWindow(imageID:plane:channel:)`` of an image whose row is already read.
    func defaultWindow(_ image: ImageDTO, plane: Int? = nil, channel: Int? = nil) async throws -> WindowDTO {
        let plane = plane ?? 0, channel = channel ?? 0
        if plane == 0 && channel == 0, let known = await images.window(image.sha256) { return known }
        let entry = try await decoded(image)
        guard plane != 0 || channel != 0 else { return entry.window }
        guard (0..<image.depth).contains(plane) else {
            throw APIError(.badRequest, "plane must be 0 to \(image.depth - 1) (\(image.name) has \(image.depth) plane\(image.depth == 1 ? "" : "s")), got \(plane)")
        }
        guard (0..<image.channels).contains(channel) else {
            throw APIError(.badRequest, "channel must be 0 to \(image.channels - 1) (\(image.name) has \(image.channels) channel\(image.channels == 1 ? "" : "s")), got \(channel)")
        }
        let pixels = entry.image
        return try await Workbench.offload { TilePyramid.defaultWindow(pixels, plane: plane, channel: channel) }
    }

    /// The window a grey picture is drawn through: `low`…`high` when given (both or neither), else
    /// the image's default window — plane 0's for every plane of a stack, so slices keep their
    /// relative brightness.
    /// Takes the image's row as read by the caller, so a tile or slice request reads it once.
    /// - Throws: 400 for one bound without the other, or bounds that are not finite with low < high.
    func displayWindow(_ image: ImageDTO, low: Double?, high: Double?) async throws -> ClosedRange<Double> {
        if (low == nil) != (high == nil) { throw APIError(.badRequest, "give both low and high, or neither") }
        if let low, let high {
            guard low.isFinite, high.isFinite, low < high else {
                throw APIError(.badRequest, "window needs finite low < high, got low=\(low) high=\(high)")
            }
            return low...high
        }
        let w = try await defaultWindow(image)
        return w.low...w.high
    }

    /// An orthogonal view of a stack (``OrthogonalSlice``) as a grey PNG, through `low`/`high` or
    /// the image's default window.
    /// - Throws: 400 for an unknown axis, a row/column outside the image or a bad window; 404 for
    ///   an unknown image.
    public func orthogonalPNG(imageID: String, axis: String, at: Int?, low: Double?, high: Double?) async throws -> [UInt8] {
        let image = try await image(id: imageID)
        guard let chosen = OrthogonalSlice.Axis(rawValue: axis) else { throw APIError(.badRequest, "axis must be xz or yz, got \(axis.prefix(20))") }
        let extent = chosen == .xz ? image.height : image.width
        let at = at ?? extent / 2
        guard (0..<extent).contains(at) else {
            throw APIError(.badRequest, "at must be a \(chosen == .xz ? "row" : "column") 0 to \(extent - 1) of \(image.name), got \(at)")
        }
        let window = try await displayWindow(image, low: low, high: high)
        let pixels = try await decoded(image).image
        return try await Workbench.offload { () throws -> [UInt8] in
            guard let slice = OrthogonalSlice.render(pixels, axis: chosen, at: at, window: window) else {
                throw APIError(.badRequest, "at \(at) is outside \(image.name)")
            }
            return try ImageFile.encode(slice, as: .png)
        }
    }

    /// The layers of a composite tile from the query value `channels`: comma-separated
    /// `channel:low:high:rrggbb` entries (each channel at most once; low < high, finite).
    /// - Throws: 400 naming the entry that is malformed.
    static func compositeLayers(_ text: String, channelCount: Int) throws -> [TilePyramid.Layer] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...max(1, channelCount)).contains(entries.count) else {
            throw APIError(.badRequest, "channels: give 1 to \(channelCount) entries channel:low:high:rrggbb, got \(entries.count)")
        }
        var layers: [TilePyramid.Layer] = []
        for entry in entries {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, let channel = Int(parts[0]), let low = Double(parts[1]), let high = Double(parts[2]),
                  let colour = RGB(hex: parts[3]) else {
                throw APIError(.badRequest, "channels: each entry is channel:low:high:rrggbb (e.g. 0:100:4000:ff00ff), got \(entry.prefix(60))")
            }
            guard (0..<channelCount).contains(channel) else {
                throw APIError(.badRequest, "channels: channel must be 0 to \(channelCount - 1), got \(channel)")
            }
            guard low.isFinite, high.isFinite, low < high else {
                throw APIError(.badRequest, "channels: channel \(channel) needs finite low < high, got low=\(parts[1].prefix(20)) high=\(parts[2].prefix(20))")
            }
            guard !layers.contains(where: { $0.channel == channel }) else {
                throw APIError(.badRequest, "channels: channel \(channel) is given twice")
            }
            layers.append(TilePyramid.Layer(channel: channel, window: low...high, colour: colour))
        }
        return layers
    }

    /// A PNG tile, generated once per (image, window, level, x, y) and then served from
    /// `tiles/` in the data directory.
    /// - Parameters:
    ///   - low/high: override the default window (both or neither).
    ///   - channels: a composite of several channels (``compositeLayers(_:channelCount:)``), an RGB
    ///     PNG; low/high are then not used.
    /// - Throws: 404 for an unknown image or a tile outside the pyramid, 400 for a bad window.
    public func tilePNG(imageID: String, level: Int, column: Int, row: Int, low: Double?, high: Double?,
                        plane: Int = 0, channels: String? = nil) async throws -> [UInt8] {
        let image = try await image(id: imageID)
        guard plane >= 0, plane < image.depth else {
            throw APIError(.notFound, "plane \(plane) outside 0..<\(image.depth) for image \(imageID)")
        }
        guard level >= 0, level < image.levelCount else {
            throw APIError(.notFound, "level \(level) outside 0..<\(image.levelCount) for image \(imageID)")
        }
        let counts = TilePyramid.tileCounts(width: image.width, height: image.height, level: level)
        guard column >= 0, column < counts.columns, row >= 0, row < counts.rows else {
            throw APIError(.notFound, "tile (\(column), \(row)) outside the \(counts.columns)×\(counts.rows) tiles of level \(level)")
        }
        if let channels { return try await compositeTilePNG(image, level: level, column: column, row: row, plane: plane, channels: channels) }
        let window = try await displayWindow(image, low: low, high: high)
        let windowKey = "\(Self.key(window.lowerBound))_\(Self.key(window.upperBound))"
        let directory = "\(tileDirectory)/\(image.id)/\(windowKey)/\(plane == 0 ? "" : "plane\(plane)/")\(level)"
        return try await cachedTile(image, directory: directory, level: level, column: column, row: row) { pixels in
            TilePyramid.render(pixels, level: level, column: column, row: row, window: window, plane: plane)
        }
    }

    /// A composite tile (RGB PNG), cached under the composite's key like grey tiles under their window's.
    func compositeTilePNG(_ image: ImageDTO, level: Int, column: Int, row: Int, plane: Int, channels: String) async throws -> [UInt8] {
        let layers = try Workbench.compositeLayers(channels, channelCount: image.channels)
        let key = "composite-" + layers.map { "\($0.channel)_\(Self.key($0.window.lowerBound))_\(Self.key($0.window.upperBound))_\($0.colour.hex.dropFirst())" }
            .joined(separator: "-")
        let directory = "\(tileDirectory)/\(image.id)/\(key)/\(plane == 0 ? "" : "plane\(plane)/")\(level)"
        return try await cachedTile(image, directory: directory, level: level, column: column, row: row) { pixels in
            TilePyramid.renderComposite(pixels, level: level, column: column, row: row, layers: layers, plane: plane)
        }
    }

    /// The tile `column_row.png` under `directory` (a window's or composite's key, plane and level):
    /// read back when cached, else drawn by `render` from the decoded image off the cooperative
    /// threads (nil: the tile is outside the image, 404), encoded as PNG and cached.
    /// Grey and composite tiles share this path.
    func cachedTile(_ image: ImageDTO, directory: String, level: Int, column: Int, row: Int,
                    render: @escaping (AnyImage) -> Image<UInt8>?) async throws -> [UInt8] {
        let path = "\(directory)/\(column)_\(row).png"
        if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
        let pixels = try await decoded(image).image
        let png = try await Workbench.offload { () throws -> [UInt8] in
            guard let tile = render(pixels) else {
                throw APIError(.notFound, "tile (\(column), \(row)) of level \(level) is outside image \(image.id)")
            }
            return try ImageFile.encode(tile, as: .png)
        }
        cacheTile(png, directory: directory, path: path)
        return png
    }

    /// Stores a rendered tile. Write-then-rename, so a concurrent reader never sees half a file.
    func cacheTile(_ png: [UInt8], directory: String, path: String) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".\(Workbench.newID()).part"
        if FileManager.default.createFile(atPath: temporary, contents: Data(png)) {
            if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
        }
    }

    private static func key(_ value: Double) -> String {
        // Enough digits to distinguish windows; no characters that need escaping in paths.
        String(format: "%.6g", value).replacingOccurrences(of: "+", with: "")
    }
}
