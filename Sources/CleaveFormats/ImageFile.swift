import CleaveCore

/// The front door for image files: read any supported file (format detected from its content,
/// never its name), ask what it holds, and write by file extension.
///
/// ```swift
/// let image = try ImageFile.read("tile.tif")          // AnyImage: all pages as planes
/// let info = try ImageFile.info("stack.mrc")          // sizes, types, spacing, metadata
/// try ImageFile.write(mask, to: "mask.png")           // format from the extension
/// ```
public enum ImageFile {
    /// Largest decoded image (bytes) a read will allocate; larger declared sizes are refused
    /// with an error rather than exhausting memory. Default 16 GiB.
    nonisolated(unsafe) public static var maximumImageBytes: Int = 16 << 30

    /// The format of a file, from its first bytes.
    /// - Throws: ``ImageFileError/unknownFormat(path:firstBytes:)`` when nothing matches.
    public static func format(of path: String) throws -> ImageFormat {
        if OMEZarrImage.isDirectory(path) { _ = try OMEZarrImage.open(path); return .omeZarr }
        return try format(of: try ByteSource(path: path))
    }

    static func format(of source: ByteSource) throws -> ImageFormat {
        let head = try source.prefix(count: 1024)
        guard let format = ImageFormat.detect(head) else {
            throw ImageFileError.unknownFormat(path: source.path, firstBytes: head.isEmpty ? "(empty file)" : hexPrefix(head))
        }
        return format
    }

    /// Reads the whole image: every page / section as planes (hyperstacks as channels and planes).
    /// OME-Zarr images (directories) are read whole at full resolution (``OMEZarrImage`` reads
    /// regions and other levels).
    /// - Throws: ``TIFFError``, ``PNGError``, ``MRCError``, ``ZarrError`` or ``ImageFileError``, each one line
    ///   naming the path, where and why.
    public static func read(_ path: String) throws -> AnyImage {
        if OMEZarrImage.isDirectory(path) { return try OMEZarrImage.open(path).read() }
        return try read(source: try ByteSource(path: path), page: nil)
    }

    /// Reads one page (TIFF directory, MRC section; PNG has only page 0) as a 2D image.
    public static func read(_ path: String, page: Int) throws -> AnyImage {
        if OMEZarrImage.isDirectory(path) { return try OMEZarrImage.open(path).read(plane: page) }
        return try read(source: try ByteSource(path: path), page: page)
    }

    /// Decodes a file held in memory (format detected from the bytes).
    public static func read(data: [UInt8], path: String = "<memory>", page: Int? = nil) throws -> AnyImage {
        try read(source: ByteSource(bytes: data, path: path), page: page)
    }

    static func read(source: ByteSource, page: Int?) throws -> AnyImage {
        switch try format(of: source) {
        case .tiff:
            let file = try TIFFFile(source: source)
            if let page { return try file.readPage(page) }
            return try file.read()
        case .png:
            if let page, page != 0 {
                throw ImageFileError.invalidRequest(path: source.path, reason: "page \(page) requested, a PNG has only page 0")
            }
            return try PNGReader.read(source: source)
        case .mrc:
            return try MRCFile.read(source: source, plane: page)
        case .omeZarr:
            throw ImageFileError.invalidRequest(path: source.path, reason: "an OME-Zarr image is a directory, not a file in memory")
        }
    }

    /// Refuses an image holding NaN or ±infinity: the policy of every command that analyses
    /// pixels (``info`` and ``convert`` pass such values through as they are).
    /// - Parameter firstPlane: the plane of the file that the image's plane 0 is (for a stack read
    ///   plane by plane), so the message names the file's plane.
    /// - Throws: ``ImageFileError/notFinite(path:pixel:)`` naming the first such sample.
    public static func requireFinite(_ image: AnyImage, path: String, firstPlane: Int = 0) throws {
        guard var pixel = image.firstNonFinitePixel() else { return }
        pixel.plane += firstPlane
        throw ImageFileError.notFinite(path: path, pixel: pixel)
    }

    /// Reads the whole image (``read(_:)``) and refuses NaN or ±infinity
    /// (``requireFinite(_:path:firstPlane:)``): what analyses read.
    public static func readFinite(_ path: String) throws -> AnyImage {
        let image = try read(path)
        try requireFinite(image, path: path)
        return image
    }

    /// What the file holds, without decoding pixels.
    public static func info(_ path: String) throws -> ImageInfo {
        if OMEZarrImage.isDirectory(path) { return try OMEZarrImage.open(path).info() }
        return try info(source: try ByteSource(path: path))
    }

    /// What an in-memory file holds.
    public static func info(data: [UInt8], path: String = "<memory>") throws -> ImageInfo {
        try info(source: ByteSource(bytes: data, path: path))
    }

    static func info(source: ByteSource) throws -> ImageInfo {
        switch try format(of: source) {
        case .tiff: return try TIFFFile(source: source).info()
        case .png: return try PNGReader.info(source: source)
        case .mrc: return try MRCFile.info(source: source)
        case .omeZarr:
            throw ImageFileError.invalidRequest(path: source.path, reason: "an OME-Zarr image is a directory, not a file in memory")
        }
    }

    /// Writes an image; the format comes from the extension (.tif/.tiff, .png, .mrc, .zarr: an
    /// OME-Zarr image with ``OMEZarrWriteOptions/default``; ``OMEZarrWriter`` chooses more).
    /// - Parameter options: TIFF compression, channel layout and BigTIFF choice (ignored by PNG/MRC).
    /// - Throws: ``ImageFileError/unknownExtension(path:)``, or the format's error when it cannot
    ///   hold the image (e.g. float PNG, multi-channel MRC).
    public static func write<S: PixelScalar>(_ image: Image<S>, to path: String, options: ImageWriteOptions = .default) throws {
        guard let format = ImageFormat.fromExtension(path) else { throw ImageFileError.unknownExtension(path: path) }
        switch format {
        case .tiff: try TIFFWriter.write(image, to: path, options: options)
        case .png: try PNGWriter.write(image, to: path)
        case .mrc: try MRCFile.write(image, to: path)
        case .omeZarr: try OMEZarrWriter.writeImage(AnyImage(image), to: path)
        }
    }

    /// Writes an image of any pixel type (see ``write(_:to:options:)``).
    public static func write(_ image: AnyImage, to path: String, options: ImageWriteOptions = .default) throws {
        switch image {
        case .uint8(let i): try write(i, to: path, options: options)
        case .uint16(let i): try write(i, to: path, options: options)
        case .float32(let i): try write(i, to: path, options: options)
        }
    }

    /// Encodes an image in memory in `format`.
    public static func encode<S: PixelScalar>(_ image: Image<S>, as format: ImageFormat, options: ImageWriteOptions = .default) throws -> [UInt8] {
        switch format {
        case .tiff: return try TIFFWriter.encode(image, options: options)
        case .png: return try PNGWriter.encode(image)
        case .mrc: return try MRCFile.encode(image)
        case .omeZarr:
            throw ImageFileError.invalidRequest(path: "<memory>", reason: "an OME-Zarr image is a directory; write it with ImageFile.write(_:to:)")
        }
    }
}
