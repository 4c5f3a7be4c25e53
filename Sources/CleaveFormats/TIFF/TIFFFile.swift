import CleaveCore

/// An open TIFF (classic or BigTIFF) file: its pages, and decoding of a page, a region, a tile,
/// or the whole stack.
///
/// Opening reads only the header and the directory chain; pixels are read on demand with
/// positioned reads, so reading page 900 of a 1000-page stack touches only that page's data.
///
/// ```swift
/// let file = try TIFFFile(path: "stack.tif")
/// let slice = try file.readPage(12)                       // one page
/// let tile = try file.readRegion(Region(x: 0, y: 0, width: 256, height: 256), page: 0)
/// ```
public final class TIFFFile {
    /// The path given at opening ("<memory>" for buffers).
    public let path: String
    /// True for BigTIFF (64-bit offsets).
    public let isBigTIFF: Bool
    /// True for "II" (little-endian) files.
    public let isLittleEndian: Bool
    let source: ByteSource
    let directories: [TIFFDirectory]
    let values: TIFFValueReader
    private var layoutCache: [Int: TIFFPageLayout] = [:]
    /// ImageJ stacks over 4 GB have one directory and `images=N` contiguous pages after it.
    private var directorylessPages = 0
    private var directorylessStride = 0

    /// Opens a TIFF file and reads its directory chain.
    /// - Throws: ``TIFFError`` or ``ImageFileError`` when the file is missing, not a TIFF or damaged.
    public convenience init(path: String) throws {
        try self.init(source: try ByteSource(path: path))
    }

    /// Parses a TIFF held in memory (e.g. received over the network or from a fuzzer).
    public convenience init(bytes: [UInt8], path: String = "<memory>") throws {
        try self.init(source: ByteSource(bytes: bytes, path: path))
    }

    init(source: ByteSource) throws {
        let path = source.path
        source.truncated = { offset, expected, actual in
            TIFFError.truncated(path: path, offset: offset, expected: expected, actual: actual)
        }
        self.source = source
        self.path = path
        let parser = try TIFFDirectoryParser(source: source)
        isBigTIFF = parser.isBigTIFF
        isLittleEndian = parser.littleEndian
        values = TIFFValueReader(source: source, littleEndian: parser.littleEndian)
        directories = try parser.directories()
        if directories.count == 1, let images = TIFFMetadata(directory: directories[0], values: values).imageJImages, images > 1,
           let first = try? layout(0), first.isContiguousUncompressed {
            let stride = first.storedBytes
            let (end, overflow) = stride.multipliedReportingOverflow(by: images)
            if !overflow, stride > 0, first.offsets[0] + end <= source.size {
                directorylessPages = images - 1
                directorylessStride = stride
            }
        }
    }

    /// Number of pages: image directories, plus the pages an ImageJ stack over 4 GB stores
    /// without directories.
    public var pageCount: Int { directories.count + directorylessPages }

    func layout(_ page: Int) throws -> TIFFPageLayout {
        guard page >= 0, page < pageCount else {
            throw TIFFError.pageOutOfRange(path: path, page: page, pageCount: pageCount)
        }
        if let cached = layoutCache[page] { return cached }
        if page >= directories.count {
            return try layout(0).shifted(by: page * directorylessStride, index: page)
        }
        let layout = try TIFFPageLayout(directory: directories[page], values: values)
        layoutCache[page] = layout
        return layout
    }

    // MARK: Stack plan

    /// How pages map onto the (channel, plane) axes of the image `read()` returns.
    struct StackPlan {
        var pages: [Int]
        /// For each entry of `pages`: first output channel and plane.
        var placement: [(channel: Int, plane: Int)]
        var shape: Shape
        var first: TIFFPageLayout
        var metadata: TIFFMetadata
        var skippedPages: Int
    }

    func stackPlan() throws -> StackPlan {
        let metadata = TIFFMetadata(directory: directories[0], values: values)
        var firstIndex = 0
        while firstIndex < pageCount - 1, try layout(firstIndex).isReducedResolution { firstIndex += 1 }
        let first = try layout(firstIndex)
        var pages: [Int] = []
        for i in firstIndex..<pageCount {
            let L = try layout(i)
            if L.isReducedResolution && i != firstIndex { continue }
            guard L.width == first.width, L.height == first.height, L.samplesPerPixel == first.samplesPerPixel,
                  L.bitsPerSample == first.bitsPerSample, L.sampleFormat == first.sampleFormat,
                  L.photometric == first.photometric, L.outputType == first.outputType else { continue }
            pages.append(i)
        }
        let perPage = first.outputChannels
        var placement: [(channel: Int, plane: Int)] = []
        let shape: Shape
        if metadata.declaresAxes, metadata.channels * metadata.slices * metadata.frames == pages.count {
            let sizes: [Character: Int] = ["C": metadata.channels, "Z": metadata.slices, "T": metadata.frames]
            for position in 0..<pages.count {
                var rest = position
                var index: [Character: Int] = [:]
                for axis in metadata.pageOrder {
                    let size = sizes[axis] ?? 1
                    index[axis] = rest % size
                    rest /= size
                }
                let plane = (index["T"] ?? 0) * metadata.slices + (index["Z"] ?? 0)
                placement.append((channel: (index["C"] ?? 0) * perPage, plane: plane))
            }
            shape = Shape(width: first.width, height: first.height, depth: metadata.slices * metadata.frames,
                          channels: metadata.channels * perPage)
        } else {
            placement = pages.indices.map { (channel: 0, plane: $0) }
            shape = Shape(width: first.width, height: first.height, depth: pages.count, channels: perPage)
        }
        return StackPlan(pages: pages, placement: placement, shape: shape, first: first, metadata: metadata,
                         skippedPages: pageCount - pages.count)
    }

    // MARK: Info

    /// Dimensions, types, compression, spacing and metadata, without decoding pixels.
    public func info() throws -> ImageInfo {
        let plan = try stackPlan()
        let L = plan.first
        var metadata = plan.metadata.entries
        if plan.skippedPages > 0 { metadata["skippedPages"] = "\(plan.skippedPages)" }
        if L.isTiled { metadata["tiles"] = "\(L.segmentWidth)×\(L.segmentHeight)" } else { metadata["rowsPerStrip"] = "\(L.segmentHeight)" }
        if L.predictor != 1 { metadata["predictor"] = "\(L.predictor)" }
        if L.samplesPerPixel > 1 { metadata["planarConfiguration"] = L.planarConfiguration == 1 ? "interleaved" : "separate" }
        if plan.metadata.declaresAxes {
            metadata["axes"] = "channels=\(plan.metadata.channels) slices=\(plan.metadata.slices) frames=\(plan.metadata.frames)"
        }
        return ImageInfo(format: .tiff, variant: isBigTIFF ? "BigTIFF" : "classic",
                         width: plan.shape.width, height: plan.shape.height, depth: plan.shape.depth,
                         channels: plan.shape.channels, pageCount: pageCount, pixelType: L.outputType,
                         storedSampleType: L.storedSampleType, compression: L.compression.name,
                         byteOrder: isLittleEndian ? "little" : "big", photometric: L.photometricName,
                         spacing: plan.metadata.spacing, spacingSource: plan.metadata.spacingSource, metadata: metadata)
    }

    // MARK: Reading

    /// The whole image: all same-shaped pages as planes (or, for ImageJ/OME hyperstacks, as
    /// channels and planes), with spacing from the metadata.
    /// - Throws: ``TIFFError`` for damaged or unsupported files.
    public func read() throws -> AnyImage {
        let plan = try stackPlan()
        let jobs = zip(plan.pages, plan.placement).map { (page: $0.0, channel: $0.1.channel, plane: $0.1.plane) }
        var image = try decode(shape: plan.shape, type: plan.first.outputType, jobs: jobs, window: nil)
        image.spacing = plan.metadata.spacing
        return image
    }

    /// One page as a 2D image (its samples as channels; palettes as RGB).
    public func readPage(_ page: Int) throws -> AnyImage {
        let L = try layout(page)
        let shape = Shape(width: L.width, height: L.height, depth: 1, channels: L.outputChannels)
        var image = try decode(shape: shape, type: L.outputType, jobs: [(page, 0, 0)], window: nil)
        image.spacing = TIFFMetadata(directory: directories[0], values: values).spacing.map { Spacing(x: $0.x, y: $0.y, z: 1, unit: $0.unit) }
        return image
    }

    /// A rectangle of one page; only the strips or tiles it touches are read and decoded.
    /// `region.z` and `region.depth` are ignored (use `page`).
    public func readRegion(_ region: Region, page: Int) throws -> AnyImage {
        let L = try layout(page)
        guard region.width >= 1, region.height >= 1, region.x >= 0, region.y >= 0,
              region.x + region.width <= L.width, region.y + region.height <= L.height else {
            throw ImageFileError.invalidRequest(path: path, reason: "region \(region) lies outside page \(page) (\(L.width)×\(L.height))")
        }
        let shape = Shape(width: region.width, height: region.height, depth: 1, channels: L.outputChannels)
        let window = TIFFPageDecoder.Window(x: region.x, y: region.y, width: region.width, height: region.height)
        var image = try decode(shape: shape, type: L.outputType, jobs: [(page, 0, 0)], window: window)
        image.spacing = TIFFMetadata(directory: directories[0], values: values).spacing.map { Spacing(x: $0.x, y: $0.y, z: 1, unit: $0.unit) }
        return image
    }

    /// The tile grid of a page: tile size and counts (strips count as full-width tiles).
    public func tileGrid(page: Int) throws -> (tileWidth: Int, tileHeight: Int, across: Int, down: Int) {
        let L = try layout(page)
        return (L.segmentWidth, L.segmentHeight, L.segmentsAcross, L.segmentsDown)
    }

    /// One tile (or strip) of a page, clipped to the image, decoding nothing else.
    public func readTile(page: Int, column: Int, row: Int) throws -> AnyImage {
        let grid = try tileGrid(page: page)
        let L = try layout(page)
        guard column >= 0, column < grid.across, row >= 0, row < grid.down else {
            throw ImageFileError.invalidRequest(path: path, reason: "tile (\(column), \(row)) outside the \(grid.across)×\(grid.down) grid of page \(page)")
        }
        let x = column * grid.tileWidth, y = row * grid.tileHeight
        return try readRegion(Region(x: x, y: y, width: min(grid.tileWidth, L.width - x),
                                     height: min(grid.tileHeight, L.height - y)), page: page)
    }

    /// Decodes pages into a new image of `shape`.
    private func decode(shape: Shape, type: PixelType, jobs: [(page: Int, channel: Int, plane: Int)],
                        window: TIFFPageDecoder.Window?) throws -> AnyImage {
        let (bytes, overflow) = shape.count.multipliedReportingOverflow(by: type.bytesPerSample)
        guard !overflow, bytes <= ImageFile.maximumImageBytes else {
            throw TIFFError.implausibleSize(path: path, page: jobs.first?.page ?? 0,
                                            reason: "\(shape) \(type) exceeds the \(ImageFile.maximumImageBytes >> 20) MiB limit")
        }
        func fill<T: PixelScalar>(_: T.Type) throws -> [T] {
            try [T](unsafeUninitializedCapacity: shape.count) { buffer, initialized in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                MemoryAdvice.preferHugePages(base, byteCount: shape.count * MemoryLayout<T>.stride)
                for job in jobs {
                    try decodePage(job.page, window: window, into: base, shape: shape, plane: job.plane, firstChannel: job.channel)
                }
                initialized = shape.count
            }
        }
        switch type {
        case .uint8: return .uint8(Image(shape: shape, pixels: try fill(UInt8.self)))
        case .uint16: return .uint16(Image(shape: shape, pixels: try fill(UInt16.self)))
        case .float32: return .float32(Image(shape: shape, pixels: try fill(Float.self)))
        }
    }

    /// Decodes one page (or its window) into the output's planes for `plane`, channels from `firstChannel`.
    private func decodePage(_ page: Int, window: TIFFPageDecoder.Window?, into output: UnsafeMutableRawPointer,
                            shape: Shape, plane: Int, firstChannel: Int) throws {
        let L = try layout(page)
        let w = window ?? TIFFPageDecoder.Window(x: 0, y: 0, width: L.width, height: L.height)
        let decoder = TIFFPageDecoder(layout: L, source: source)
        let elementBytes = L.outputType.bytesPerSample
        func channelPlane(_ channel: Int) -> UnsafeMutableRawPointer {
            output + shape.index(column: 0, row: 0, plane: plane, channel: firstChannel + channel) * elementBytes
        }
        if TIFFSampleConversion.isDirect(L) {
            try decoder.decode(window: w, into: (0..<L.samplePlanes).map(channelPlane))
            return
        }
        let rowBytes = w.width * L.chunkSamples * L.rasterSampleBytes
        let planeBytes = rowBytes * w.height
        let raster = UnsafeMutableRawPointer.allocate(byteCount: max(1, planeBytes * L.samplePlanes), alignment: 16)
        defer { raster.deallocate() }
        try decoder.decode(window: w, into: (0..<L.samplePlanes).map { raster + $0 * planeBytes })
        let count = w.width * w.height
        if L.photometric == 3 {
            TIFFSampleConversion.convert(L, raster: raster, count: count, chunk: 1, destinations: (0..<3).map(channelPlane))
        } else if L.planarConfiguration == 2 {
            for p in 0..<L.samplePlanes {
                TIFFSampleConversion.convert(L, raster: raster + p * planeBytes, count: count, chunk: 1, destinations: [channelPlane(p)])
            }
        } else {
            TIFFSampleConversion.convert(L, raster: raster, count: count, chunk: L.samplesPerPixel,
                                         destinations: (0..<L.samplesPerPixel).map(channelPlane))
        }
    }
}
