import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `cleave convert IN OUT`: change an image's file format, optionally picking a page or channel.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert an image file to TIFF, PNG or MRC (chosen by the output extension).",
        discussion: """
        Values are never rescaled: 16-bit data stays 16-bit (PNG included), float data can only \
        go to TIFF or MRC. Colour becomes grey only with --grey (mean of R, G, B). PNG and MRC \
        hold one plane or one channel, so pick one with --page / --channel when the input has more.
        Spacing (pixel size) is carried over where the output format can hold it.

        Examples:
          cleave convert tile.tif tile.png
          cleave convert stack.tif slice12.png --page 12
          cleave convert tomogram.mrc tomogram.tif --compression deflate
          cleave convert mask-rgb.tif mask-grey.tif --grey
        """)

    @Argument(help: "Input image (TIFF, PNG or MRC; detected by content).")
    var input: String

    @Argument(help: "Output file: .tif/.tiff, .png or .mrc.")
    var output: String

    @Option(name: .long, help: "Convert only this page / plane (0-based).")
    var page: Int?

    @Option(name: .long, help: "Keep only this channel (0-based).")
    var channel: Int?

    @Flag(name: .long, help: "Average the R, G, B channels into one grey channel (colour input only).")
    var grey = false

    @Option(name: .long, help: "TIFF compression: none or deflate.")
    var compression: ImageWriteOptions.Compression = .none

    func validate() throws {
        if let page, page < 0 { throw ValidationError("--page must be 0 or more, got \(page).") }
        if let channel, channel < 0 { throw ValidationError("--channel must be 0 or more, got \(channel).") }
        if grey && channel != nil { throw ValidationError("Use either --grey or --channel, not both.") }
        if ImageFormat.fromExtension(output) == nil {
            throw ValidationError("Unknown output format for '\(output)'; use a .tif, .tiff, .png or .mrc name.")
        }
    }

    @OptionGroup var memory: MemoryBudgetOption

    func run() throws {
        memory.apply()
        let info = try ImageFile.info(input)
        var size = MemoryEstimate.Size(info)
        if page != nil { size = MemoryEstimate.Size(shape: Shape(width: info.width, height: info.height, channels: info.channels), pixelType: info.pixelType) }
        try MemoryEstimate.check(MemoryEstimate.convert(size), for: "converting \(input) (\(size))")
        var result = try page.map { try ImageFile.read(input, page: $0) } ?? ImageFile.read(input)
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
