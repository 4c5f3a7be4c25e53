import ArgumentParser
import CleaveCore
import CleaveFilters
import CleaveFeatures
import CleaveFormats
import CleavePipelines
import Foundation

/// `cleave features IMAGE --out DIR`: export a filter bank's feature stack for inspection.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute the pixel features a classifier sees and write them as a float32 TIFF stack.",
        discussion: """
        A filter bank is a feature × scale matrix: Gaussian smoothing (scale 0 = raw intensity), \
        gradient magnitude, Laplacian of Gaussian, difference of Gaussians, Hessian and \
        structure-tensor eigenvalues, windowed mean / std / min / max and windowed GLCM texture \
        (contrast, homogeneity, energy, correlation, entropy), each at several Gaussian scales \
        (sigma in pixels; windows have side 2·round(2·scale)+1). Features are computed for every channel of the image \
        (and for every --channel image added as a further channel; sizes must match).

        Output: DIR/<stem>-features.tif, one float32 page per feature (for --3d an ImageJ \
        hyperstack with the features as channels), and DIR/<stem>-features.json with the ordered \
        feature names (e.g. ch0:gaussian:s1.6), the bank and the halo. Values are not rescaled.

        Banks: default = ilastik (ilastik's six Gaussian features at 0.3…10; 49 features per \
        channel; the pixel classifier's default), windows (Gaussian, gradient magnitude and Hessian \
        eigenvalues at 0.7…10 plus small-window std/min/max; 37), fast (9 features), full (every \
        feature but texture, 65). The values are the image's own grey levels: `cleave train` \
        maps each image by its percentiles first (--normalize). --features and --scales \
        build a custom bank instead: every listed feature at every listed scale.

        Examples:
          cleave features slice.tif --out feats
          cleave features slice.tif --out feats --features gaussian,hessian_eigenvalues --scales 0,1,3.5
          cleave features stack.tif --out feats --bank fast --3d
          cleave features slice.tif --out feats --features texture --scales 1.6,3.5 --texture-range 0:255
          cleave features bse.tif --channel eds-si.tif --out feats
        """)

    @Argument(help: "Input image (TIFF, PNG or MRC). Multi-page files are stacks (planes).")
    var image: String

    @Option(name: .long, help: "Output directory (created if missing).")
    var out: String

    @Option(name: .long, help: "Predefined bank: \(FilterBank.namedBanks.joined(separator: ", ")).")
    var bank: String = "default"

    @Option(name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("Custom bank: comma- or space-separated feature names (overrides --bank).",
                               discussion: "Names: \(FilterFeature.allCases.map(\.rawValue).joined(separator: ", ")). Aliases: intensity, log, std, min, max, hessian, structure_tensor."))
    var features: [String] = []

    @Option(name: .long, parsing: .upToNextOption,
            help: "Scales (Gaussian sigma, pixels) for --features; default 0.7 1 1.6 3.5 5 10 (0 = raw, gaussian only).")
    var scales: [String] = []

    @Flag(name: .customLong("3d"), help: "Filter stacks in 3D (sigma along z scaled by the voxel spacing) instead of plane by plane.")
    var threeD = false

    @Option(name: .long, help: "Edge handling: reflect (default), mirror, nearest, constant or constant:VALUE.")
    var boundary: String = "reflect"

    @Option(name: .customLong("texture-range"),
            help: "Intensity range LOW:HIGH mapped to the texture feature's grey levels (default 0:255; use 0:65535 for 16-bit).")
    var textureRange: String?

    @Option(name: .customLong("glcm-levels"), help: "Grey levels of the texture (GLCM) feature (2…64, default 16; as cleave locate --glcm-levels; was --texture-levels, accepted until Cleave 0.2).")
    var textureLevels: Int = 16

    @Option(name: .long, help: "A co-registered image added as a further channel (repeatable).")
    var channel: [String] = []

    @Flag(name: .customLong("time-only"), help: "Compute and print the timing, write nothing (for benchmarks).")
    var timeOnly = false

    @OptionGroup var memory: MemoryBudgetOption

    func validate() throws {
        if Boundary(name: boundary) == nil {
            throw ValidationError("--boundary must be reflect, mirror, nearest, constant or constant:VALUE (a finite number), got '\(boundary)'.")
        }
        if !scales.isEmpty && features.isEmpty { throw ValidationError("--scales needs --features (a custom bank).") }
        if !(2...64).contains(textureLevels) { throw ValidationError("--glcm-levels must be 2…64, got \(textureLevels).") }
        _ = try parsedTextureRange()
    }

    /// Splits "a,b c" lists into items.
    static func items(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    func parsedTextureRange() throws -> (Double, Double)? {
        guard let textureRange else { return nil }
        let parts = textureRange.split(separator: ":").map { Double($0) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], high > low else {
            throw ValidationError("--texture-range must be LOW:HIGH with LOW < HIGH, got '\(textureRange)'.")
        }
        return (low, high)
    }

    func makeBank() throws -> FilterBank {
        let edge = Boundary(name: boundary) ?? .reflect
        var texture: TextureOptions?
        if textureRange != nil || textureLevels != 16 {
            let range = try parsedTextureRange() ?? (0, 255)
            texture = TextureOptions(levels: textureLevels, low: range.0, high: range.1)
        }
        if features.isEmpty {
            let named = try FilterBank.named(bank, threeD: threeD)
            return try FilterBank(entries: named.entries, threeD: threeD, boundary: edge, textureOptions: texture)
        }
        var scaleValues = FilterBank.defaultScales
        if !scales.isEmpty {
            scaleValues = try FeaturesCommand.items(scales).map { text in
                guard let value = Double(text) else { throw ValidationError("--scales: '\(text)' is not a number.") }
                return value
            }
        }
        return try FilterBank(features: FeaturesCommand.items(features), scales: scaleValues, threeD: threeD, boundary: edge,
                              textureOptions: texture)
    }

    func run() throws {
        BufferReuse.enable()
        memory.apply()
        let bank = try makeBank()
        let infos = try ([image] + channel).map { try ImageFile.info($0) }
        let featureCount = bank.featureCount(channelCount: infos.reduce(0) { $0 + $1.channels })
        let sizes = infos.map(MemoryEstimate.Size.init)
        try MemoryEstimate.check(MemoryEstimate.features(sizes, featureCount: featureCount),
                                 for: "features of \(image) (\(sizes[0]), \(featureCount) features)")
        var input = try ImageFile.readFinite(image).floatImage()
        if !channel.isEmpty {
            var images = [input]
            for path in channel {
                let extra = try ImageFile.readFinite(path).floatImage()
                guard extra.shape.singleChannel == input.shape.singleChannel else {
                    throw CleaveError("--channel \(path): size \(extra.shape) differs from \(image) (\(input.shape))")
                }
                images.append(extra)
            }
            input = Image.stackingChannels(images)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = processCPUSeconds()
        let stack = bank.compute(input, progress: ProgressBar.make())
        let cpuSeconds = processCPUSeconds() - cpuStart
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

        let shape = stack.shape
        if timeOnly {
            let megapixels = Double(shape.count) / 1e6
            print("computed \(stack.featureCount) features × \(shape) in \(String(format: "%.3f", seconds)) s "
                  + "(\(String(format: "%.3f", seconds / megapixels)) s/Mpx; CPU \(String(format: "%.3f", cpuSeconds)) s)")
            return
        }
        let outImage: Image<Float>
        let options: ImageWriteOptions
        if shape.depth == 1 {
            outImage = Image(shape: Shape(width: shape.width, height: shape.height, depth: stack.featureCount),
                             pixels: stack.values, spacing: input.spacing)
            options = ImageWriteOptions()
        } else {
            // Feature-major values are exactly (channel = feature, plane, row, column).
            outImage = Image(shape: Shape(width: shape.width, height: shape.height, depth: shape.depth, channels: stack.featureCount),
                             pixels: stack.values, spacing: input.spacing)
            options = ImageWriteOptions(channelLayout: .pages)
        }
        let tiffPath = out + "/" + stem + "-features.tif"
        let jsonPath = out + "/" + stem + "-features.json"
        let halo = bank.halo(spacing: input.spacing)
        let sidecar = FeatureSidecar(image: image, width: shape.width, height: shape.height, depth: shape.depth,
                                     channels: input.channels, featureCount: stack.featureCount, names: stack.names,
                                     bank: bank, halo: [halo.x, halo.y, halo.z], cleaveVersion: cleaveVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(sidecar)
        // Write both to temporary names first so a failure leaves nothing half-written.
        try ImageFile.write(outImage, to: tiffPath + ".partial.tif", options: options)
        try json.write(to: URL(fileURLWithPath: jsonPath + ".partial"))
        try FileManager.default.replaceOrMove(tiffPath + ".partial.tif", to: tiffPath)
        try FileManager.default.replaceOrMove(jsonPath + ".partial", to: jsonPath)
        let megapixels = Double(shape.count) / 1e6
        print("wrote \(tiffPath): \(stack.featureCount) features × \(shape) in \(String(format: "%.3f", seconds)) s "
              + "(\(String(format: "%.3f", seconds / megapixels)) s/Mpx; CPU \(String(format: "%.3f", cpuSeconds)) s), names in \(jsonPath)")
    }
}

/// The JSON written beside the feature TIFF.
struct FeatureSidecar: Codable {
    var image: String
    var width: Int
    var height: Int
    var depth: Int
    var channels: Int
    var featureCount: Int
    var names: [String]
    var bank: FilterBank
    var halo: [Int]
    var cleaveVersion: String
}

extension FileManager {
    /// Moves `source` to `destination`, replacing an existing file.
    func replaceOrMove(_ source: String, to destination: String) throws {
        if fileExists(atPath: destination) { try removeItem(atPath: destination) }
        try moveItem(atPath: source, toPath: destination)
    }
}

/// CPU time used by this process so far (all threads), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
}
