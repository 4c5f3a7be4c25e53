import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `cleave convert IN OUT`: change an image's file format, optionally picking a page or channel.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert an image file to TIFF, PNG, MRC or OME-Zarr (chosen by the output extension).",
        discussion: """
        Values are never rescaled: 16-bit data stays 16-bit (PNG included), float data can only \
        go to TIFF or MRC. Colour becomes grey only with --grey (mean of R, G, B). PNG and MRC \
        hold one plane or one channel, so pick one with --page / --channel when the input has more.
        Spacing (pixel size) is carried over where the output format can hold it.

        OME-Zarr (a directory named .ome.zarr or .zarr) is written chunk by chunk with a \
        multiscale pyramid (levels halve x and y; napari, Fiji/MoBIE, ome-zarr-py and zarr-python \
        open it): NGFF 0.4 on Zarr v2 by default, --ngff 0.5 for Zarr v3; --codec, --codec-level, \
        --chunk and --levels choose the storage. Reading an OME-Zarr takes its full-resolution \
        level (--level for another) and reads plain Zarr arrays too.

        Examples:
          cleave convert tile.tif tile.png
          cleave convert stack.tif slice12.png --page 12
          cleave convert tomogram.mrc tomogram.tif --compression deflate
          cleave convert mask-rgb.tif mask-grey.tif --grey
          cleave convert stack.tif stack.ome.zarr --codec blosc --chunk 32x256x256
          cleave convert stack.tif stack.ome.zarr --ngff 0.5
          cleave convert stack.ome.zarr stack.tif
        """)

    @Argument(help: "Input image (TIFF, PNG, MRC or an OME-Zarr directory; detected by content).")
    var input: String

    @Argument(help: "Output file: .tif/.tiff, .png, .mrc or .ome.zarr (a directory).")
    var output: String

    @Option(name: .long, help: "Convert only this page / plane (0-based).")
    var page: Int?

    @Option(name: .long, help: "Keep only this channel (0-based).")
    var channel: Int?

    @Flag(name: .long, help: "Average the R, G, B channels into one grey channel (colour input only).")
    var grey = false

    @Option(name: .long, help: "TIFF compression: none or deflate.")
    var compression: ImageWriteOptions.Compression = .none

    @Option(name: .long, help: "OME-Zarr input: the resolution level to read (0 = full resolution).")
    var level: Int = 0

    @OptionGroup(title: "OME-Zarr output") var zarr: ZarrOptions

    func validate() throws {
        if let page, page < 0 { throw ValidationError("--page must be 0 or more, got \(page).") }
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, got \(channel).") }
        if grey && channel != nil { throw ValidationError("Use either --grey or --channel, not both.") }
        if ImageFormat.fromExtension(output) == nil {
            throw ValidationError("Unknown output format for '\(output)'; use a .tif, .tiff, .png, .mrc or .ome.zarr name.")
        }
        if level < 0 { throw ValidationError("--level must be 0 or more, got \(level).") }
    }

    @OptionGroup var memory: MemoryBudgetOption

    func run() throws {
        memory.apply()
        let zarrInput = OMEZarrImage.isDirectory(input) ? try OMEZarrImage.open(input) : nil
        if let zarrInput, level >= zarrInput.levels.count {
            throw ValidationError("--level \(level) requested, '\(input)' has \(zarrInput.levels.count) level(s) (0…\(zarrInput.levels.count - 1)).")
        } else if zarrInput == nil && level != 0 {
            throw ValidationError("--level reads a level of an OME-Zarr input; '\(input)' is a single-resolution file.")
        }
        var info = try zarrInput?.info() ?? ImageFile.info(input)
        if let zarrInput, level > 0 {
            let s = zarrInput.shape(level: level)
            (info.width, info.height) = (s.width, s.height)
        }
        var size = MemoryEstimate.Size(info)
        if page != nil { size = MemoryEstimate.Size(shape: Shape(width: info.width, height: info.height, channels: info.channels), pixelType: info.pixelType) }
        try MemoryEstimate.check(MemoryEstimate.convert(size), for: "converting \(input) (\(size))")
        let progress = ProgressBar.make()
        var result: AnyImage
        if let zarrInput {
            if let page {
                guard page < info.depth else { throw ZarrError.invalidRequest(path: input, reason: "plane \(page) requested, the image has \(info.depth) (0…\(info.depth - 1))") }
                result = try zarrInput.read(level: level, region: Region(x: 0, y: 0, z: page, width: info.width, height: info.height, depth: 1))
            } else {
                result = try zarrInput.read(level: level, progress: progress)
            }
        } else {
            result = try page.map { try ImageFile.read(input, page: $0) } ?? ImageFile.read(input)
        }
        if let channel {
            guard channel < result.shape.channels else {
                throw ValidationError("--channel \(channel) requested, '\(input)' has \(result.shape.channels) channel(s) (0…\(result.shape.channels - 1)).")
            }
            result = ConvertCommand.selectChannel(result, channel)
        }
        if grey {
            guard result.shape.channels == 3 || result.shape.channels == 4 else {
                throw ValidationError("--grey needs an RGB or RGBA image, '\(input)' has \(result.shape.channels) channel(s).")
            }
            result = ConvertCommand.toGrey(result)
        }
        if ImageFormat.fromExtension(output) == .omeZarr {
            let options = zarr.writeOptions
            try OMEZarrWriter.writeImage(result, to: output, options: options, progress: progress)
            let written = try OMEZarrImage.open(output)
            let c = written.chunkShape()
            print("wrote \(output): \(result.shape) \(result.pixelType), NGFF \(options.version.rawValue) (Zarr v\(options.version.zarrFormat)), \(options.compressor), chunks \(c.x)×\(c.y)\(result.shape.depth > 1 ? "×\(c.z)" : ""), \(written.levels.count) level(s)")
            return
        }
        try ImageFile.write(result, to: output, options: ImageWriteOptions(compression: compression))
        let s = result.shape
        print("wrote \(output): \(s) \(result.pixelType)")
    }

    static func selectChannel(_ image: AnyImage, _ channel: Int) -> AnyImage {
        switch image {
        case .uint8(let i): return .uint8(i.channel(channel))
        case .uint16(let i): return .uint16(i.channel(channel))
        case .float32(let i): return .float32(i.channel(channel))
        }
    }

    /// Mean of the first three channels, rounded, in the same pixel type (an explicit request).
    static func toGrey(_ image: AnyImage) -> AnyImage {
        func mean<S: PixelScalar>(_ i: Image<S>) -> Image<S> {
            let n = i.shape.channelSize
            var out = [S]()
            out.reserveCapacity(n)
            for k in 0..<n {
                let v = (i.pixels[k].doubleValue + i.pixels[n + k].doubleValue + i.pixels[2 * n + k].doubleValue) / 3
                out.append(S(roundingClamping: v))
            }
            return Image(shape: i.shape.singleChannel, pixels: out, spacing: i.spacing)
        }
        switch image {
        case .uint8(let i): return .uint8(mean(i))
        case .uint16(let i): return .uint16(mean(i))
        case .float32(let i): return .float32(mean(i))
        }
    }
}

extension ImageWriteOptions.Compression: ExpressibleByArgument {}
