import Foundation
import CleaveCore
import CleaveFormats

/// An image to classify: one or more co-registered images stacked as channels (e.g. two detectors,
/// BSE + element maps). Pixels stay in their file type; blocks are converted to Float on demand so
/// memory follows the block, not the image.
///
/// An input either holds its images in memory (``init(name:parts:partNames:)``) or reads planes
/// from disk when a block needs them (``init(name:shape:spacing:readPlane:)``, made by
/// ``open(paths:name:)`` for multi-page TIFF and MRC stacks): then a stack is never in memory
/// whole — a 2D bank reads it slice by slice, a 3D bank the planes of one block and its halo.
public struct PixelClassifierInput: Sendable {
    /// A name for messages and outputs (usually the first file's path).
    public let name: String
    /// Spatial shape with `channels` = total channel count.
    public let shape: Shape
    /// Spacing of the first part.
    public let spacing: Spacing?
    let planes: PlaneCache?
    let images: [AnyImage]
    /// The stored pixel type (of the first part).
    public let pixelType: PixelType
    /// Per-channel intensity windows applied to every block the features are computed on
    /// (``featureBlock(_:)``; nil: values as stored). Set by ``IntensityNormalization/prepare(_:)``.
    public private(set) var featureWindows: [IntensityWindow]?

    /// The parts, all with the same width × height × depth (empty for an input that streams planes
    /// from disk; use ``readBlock(_:)`` for those).
    public var parts: [AnyImage] { images }
    /// True when planes are read from disk on demand.
    public var isStreamed: Bool { planes != nil }
    /// Total channels over all parts.
    public var channelCount: Int { shape.channels }
    /// Spatial shape (one channel).
    public var spatialShape: Shape { shape.singleChannel }

    /// - Throws: ``PixelClassifierError`` when there are no parts or their sizes differ.
    public init(name: String, parts: [AnyImage], partNames: [String]? = nil) throws {
        guard let first = parts.first else { throw PixelClassifierError.unusableInput(source: name, reason: "no images given") }
        let base = first.shape.singleChannel
        for (i, part) in parts.enumerated() where part.shape.singleChannel != base {
            let partName = partNames.map { $0[i] } ?? "channel image \(i)"
            throw PixelClassifierError.unusableInput(source: partName, reason: "is \(part.shape.singleChannel), but \(partNames?[0] ?? "channel image 0") is \(base); co-registered channels must have the same size")
        }
        self.name = name
        self.images = parts
        self.planes = nil
        self.spacing = first.spacing
        self.pixelType = first.pixelType
        let channels = parts.reduce(0) { $0 + $1.shape.channels }
        self.shape = Shape(width: base.width, height: base.height, depth: base.depth, channels: channels)
    }

    /// A single image (all its channels).
    public init(name: String, image: AnyImage) {
        self.name = name
        self.images = [image]
        self.planes = nil
        self.spacing = image.spacing
        self.pixelType = image.pixelType
        self.shape = image.shape
    }

    /// An input whose planes are read when needed: `readPlane(z)` returns plane z of every part
    /// (2D images of `shape`'s width and height, channels adding up to `shape.channels`). The most
    /// recently read plane is kept, so the blocks of one slice read it once.
    public init(name: String, shape: Shape, spacing: Spacing?, pixelType: PixelType = .float32,
                readPlane: @escaping @Sendable (Int) throws -> [AnyImage]) {
        self.name = name
        self.shape = shape
        self.spacing = spacing
        self.pixelType = pixelType
        self.images = []
        self.planes = PlaneCache(read: readPlane)
    }

    /// Opens co-registered files as one input. A multi-page TIFF or an MRC stack with one channel
    /// is streamed (planes read on demand, see ``init(name:shape:spacing:readPlane:)``); anything
    /// else (2D images, PNG, multi-channel hyperstacks) is read whole.
    /// - Throws: what the readers throw, or ``PixelClassifierError`` when the files differ in size.
    public static func open(paths: [String], name: String? = nil) throws -> PixelClassifierInput {
        let name = name ?? paths.joined(separator: ",")
        guard !paths.isEmpty else { throw PixelClassifierError.unusableInput(source: name, reason: "no images given") }
        let infos = try paths.map { try ImageFile.info($0) }
        guard isStreamable(infos) else {
            return try PixelClassifierInput(name: name, parts: try paths.map { try ImageFile.readFinite($0) }, partNames: paths)
        }
        let base = infos[0].shape.singleChannel
        for (i, info) in infos.enumerated() where info.shape.singleChannel != base {
            throw PixelClassifierError.unusableInput(source: paths[i], reason: "is \(info.shape.singleChannel), but \(paths[0]) is \(base); co-registered channels must have the same size")
        }
        let readers = try zip(paths, infos).map { path, info -> PlaneFile in try PlaneFile(path: path, format: info.format) }
        let shape = Shape(width: base.width, height: base.height, depth: base.depth, channels: paths.count)
        return PixelClassifierInput(name: name, shape: shape, spacing: infos[0].spacing, pixelType: infos[0].pixelType) { z in
            try readers.map { reader in
                let plane = try reader.read(plane: z)
                try ImageFile.requireFinite(plane, path: reader.path, firstPlane: z)
                guard plane.shape.singleChannel == Shape(width: base.width, height: base.height) else {
                    throw PixelClassifierError.unusableInput(source: reader.path, reason: "page \(z) is \(plane.shape.singleChannel), the stack's first page is \(base.width)×\(base.height)")
                }
                return plane
            }
        }
    }

    /// Whether ``open(paths:name:)`` streams files with these headers plane by plane (one-channel
    /// multi-page TIFF or MRC stacks) rather than reading them whole.
    public static func isStreamable(_ infos: [ImageInfo]) -> Bool {
        infos.allSatisfy { $0.depth > 1 && $0.channels == 1 && $0.pageCount == $0.depth && $0.format != .png }
    }

    /// The same input with per-channel windows applied by ``featureBlock(_:)``.
    public func withFeatureWindows(_ windows: [IntensityWindow]) -> PixelClassifierInput {
        precondition(windows.count == channelCount, "withFeatureWindows: \(windows.count) windows for \(channelCount) channels")
        var copy = self
        copy.featureWindows = windows
        return copy
    }

    /// The pixels of `region` as ``readBlock(_:)`` gives them, each channel mapped through its
    /// ``featureWindows`` entry: what the filter bank sees.
    public func featureBlock(_ region: Region) throws -> Image<Float> {
        var block = try readBlock(region)
        guard let featureWindows else { return block }
        let planeSize = region.pixelCount
        block.pixels.withUnsafeMutableBufferPointer { pixels in
            for (c, window) in featureWindows.enumerated() {
                for i in (c * planeSize)..<((c + 1) * planeSize) { pixels[i] = window.normalized(pixels[i]) }
            }
        }
        return block
    }

    /// The pixels of `region` (all channels) as Float, exactly (no rescaling).
    /// - Throws: what reading a streamed plane throws.
    public func readBlock(_ region: Region) throws -> Image<Float> {
        guard let planes else { return floatBlock(region) }
        let flat = Region(x: region.x, y: region.y, z: 0, width: region.width, height: region.height, depth: 1)
        var slices: [Image<Float>] = [] // one per plane, all channels
        for z in region.z..<(region.z + region.depth) {
            let parts = try planes.plane(z)
            let pieces = parts.map { PixelClassifierInput.float($0, flat) }
            slices.append(pieces.count == 1 ? pieces[0] : Image.stackingChannels(pieces))
        }
        var block: Image<Float>
        if slices.count == 1 {
            block = slices[0]
        } else {
            let planeSize = region.width * region.height
            var pixels: [Float] = []
            pixels.reserveCapacity(planeSize * region.depth * shape.channels)
            for c in 0..<shape.channels {
                for slice in slices { pixels.append(contentsOf: slice.pixels[(c * planeSize)..<((c + 1) * planeSize)]) }
            }
            block = Image(shape: Shape(width: region.width, height: region.height, depth: region.depth, channels: shape.channels),
                          pixels: pixels)
        }
        block.spacing = spacing
        return block
    }

    /// The pixels of `region` (all channels) as Float, exactly (no rescaling). For a streamed input
    /// a read error stops the program: call ``readBlock(_:)`` there.
    public func floatBlock(_ region: Region) -> Image<Float> {
        if planes != nil { return try! readBlock(region) }
        let pieces = images.map { PixelClassifierInput.float($0, region) }
        var block = pieces.count == 1 ? pieces[0] : Image.stackingChannels(pieces)
        block.spacing = spacing
        return block
    }

    static func float(_ part: AnyImage, _ region: Region) -> Image<Float> {
        switch part {
        case .uint8(let image): return image.cropped(to: region).converted(to: Float.self)
        case .uint16(let image): return image.cropped(to: region).converted(to: Float.self)
        case .float32(let image): return image.cropped(to: region)
        }
    }

    /// Channel 0, plane `plane`, as stored (for overlays).
    /// - Throws: what reading a streamed plane throws.
    public func readDisplayPlane(_ plane: Int) throws -> AnyImage {
        if let planes { return try planes.plane(plane)[0] }
        return displayPlane(plane)
    }

    /// Channel 0, plane `plane`, as stored (for overlays; streamed inputs: see ``readDisplayPlane(_:)``).
    public func displayPlane(_ plane: Int) -> AnyImage {
        if planes != nil { return try! readDisplayPlane(plane) }
        switch images[0] {
        case .uint8(let image): return .uint8(image.plane(plane))
        case .uint16(let image): return .uint16(image.plane(plane))
        case .float32(let image): return .float32(image.plane(plane))
        }
    }
}

/// The last plane read from a streamed input (one at a time; blocks of a slice share it).
final class PlaneCache: @unchecked Sendable {
    private let read: @Sendable (Int) throws -> [AnyImage]
    private let lock = NSLock()
    private var index = -1
    private var parts: [AnyImage] = []

    init(read: @escaping @Sendable (Int) throws -> [AnyImage]) { self.read = read }

    func plane(_ z: Int) throws -> [AnyImage] {
        lock.lock()
        defer { lock.unlock() }
        if z != index {
            parts = []
            parts = try read(z)
            index = z
        }
        return parts
    }
}

/// One stack file kept open for page reads.
final class PlaneFile: @unchecked Sendable {
    let path: String
    private let tiff: TIFFFile?
    private let lock = NSLock()

    init(path: String, format: ImageFormat) throws {
        self.path = path
        tiff = format == .tiff ? try TIFFFile(path: path) : nil
    }

    func read(plane: Int) throws -> AnyImage {
        lock.lock()
        defer { lock.unlock() }
        if let tiff { return try tiff.readPage(plane) }
        return try ImageFile.read(path, page: plane)
    }
}
