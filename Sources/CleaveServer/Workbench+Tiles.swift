import CleaveCore
import CleaveFormats
import Foundation

extension Workbench {
    /// The decoded image (plane 0 is what the viewer shows), from the in-memory cache or the blob
    /// store (checksum verified on load).
    ///
    /// Images over the pixel budget are refused before decoding and images with non-finite
    /// pixels after it (``checkPixelBudget(name:width:height:depth:channels:)``,
    /// ``checkFinite(_:name:)``): tiles, windows and jobs of such an image fail alone with that
    /// line, and the failure is remembered so that repeated requests do not decode it again.
    func decoded(_ image: ImageDTO) async throws -> DecodedImageCache.Entry {
        try checkPixelBudget(name: image.name, width: image.width, height: image.height, depth: image.depth, channels: image.channels)
        let blobs = self.blobs
        return try await images.entry(for: image.sha256) {
            let bytes = try blobs.verifiedBytes(sha256: image.sha256)
            let pixels = try ImageFile.read(data: bytes, path: image.name)
            try Workbench.checkFinite(pixels, name: image.name)
            return pixels
        }
    }

    /// The default contrast window of an image (of plane `plane` of a stack; plane 0 is cached).
    /// - Throws: 400 for a plane outside the image.
    public func defaultWindow(imageID: String, plane: Int? = nil) async throws -> WindowDTO {
        let image = try await image(id: imageID)
        let entry = try await decoded(image)
        guard let plane, plane != 0 else { return entry.window }
        guard (0..<image.depth).contains(plane) else {
            throw APIError(.badRequest, "plane must be 0 to \(image.depth - 1) (\(image.name) has \(image.depth) plane\(image.depth == 1 ? "" : "s")), got \(plane)")
        }
        let pixels = entry.image
        return try await Workbench.offload { TilePyramid.defaultWindow(pixels, plane: plane) }
    }

    /// A PNG tile, generated once per (image, window, level, x, y) and then served from
    /// `tiles/` in the data directory.
    /// - Parameters: low/high override the default window (both or neither).
    /// - Throws: 404 for an unknown image or a tile outside the pyramid, 400 for a bad window.
    public func tilePNG(imageID: String, level: Int, column: Int, row: Int, low: Double?, high: Double?,
                        plane: Int = 0) async throws -> [UInt8] {
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
        if (low == nil) != (high == nil) { throw APIError(.badRequest, "give both low and high, or neither") }
        var window: ClosedRange<Double>
        if let low, let high {
            guard low.isFinite, high.isFinite, low < high else {
                throw APIError(.badRequest, "window needs finite low < high, got low=\(low) high=\(high)")
            }
            window = low...high
        } else {
            // One window for every plane of a stack (plane 0's), so slices keep their relative brightness.
            let w = try await defaultWindow(imageID: imageID)
            window = w.low...w.high
        }
        let windowKey = "\(Self.key(window.lowerBound))_\(Self.key(window.upperBound))"
        let directory = "\(tileDirectory)/\(image.id)/\(windowKey)/\(plane == 0 ? "" : "plane\(plane)/")\(level)"
        let path = "\(directory)/\(column)_\(row).png"
        if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
        let pixels = try await decoded(image).image
        let renderWindow = window
        let png = try await Workbench.offload { () throws -> [UInt8] in
            guard let tile = TilePyramid.render(pixels, level: level, column: column, row: row, window: renderWindow, plane: plane) else {
                throw APIError(.notFound, "tile (\(column), \(row)) of level \(level) is outside image \(imageID)")
            }
            return try ImageFile.encode(tile, as: .png)
        }
        // Write-then-rename so a concurrent reader never sees half a file.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".\(Workbench.newID()).part"
        if FileManager.default.createFile(atPath: temporary, contents: Data(png)) {
            if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
        }
        return png
    }

    private static func key(_ value: Double) -> String {
        // Enough digits to distinguish windows; no characters that need escaping in paths.
        String(format: "%.6g", value).replacingOccurrences(of: "+", with: "")
    }
}
