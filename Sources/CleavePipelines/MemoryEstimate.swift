import CleaveCore
import CleaveFormats

/// Peak memory of Cleave's pipelines, estimated from image sizes alone (what a file header
/// declares, ``ImageFile/info(_:)``), so that work which cannot fit the ``MemoryBudget`` is
/// refused before a pixel is decoded or an output allocated.
///
/// Each estimate is `baseline + Σ bytes per pixel × pixels` with coefficients measured as peak
/// RSS of the command on 16- and 64-megapixel images (bench/hostile/RESULTS.md) and rounded up,
/// so a command that proceeds stays within its estimate. Use ``check(_:_:for:)`` or
/// ``MemoryBudget/check(_:for:)`` with them. (The server does not use them yet: it refuses
/// images above its own `--max-image-pixels` from the header, ServerConfiguration.)
public enum MemoryEstimate {
    /// Runtime, code and small tables of any command.
    public static let baseline = 96 << 20

    /// The size of an image as the estimates see it.
    public struct Size: Sendable, Equatable, CustomStringConvertible {
        /// Samples over all planes and channels.
        public var sampleCount: Int
        /// Bytes per stored sample (1, 2 or 4).
        public var bytesPerSample: Int
        /// "20000×20000 uint8" for messages.
        public var text: String

        /// A size given directly; `text` is what messages show.
        public init(sampleCount: Int, bytesPerSample: Int, text: String) {
            self.sampleCount = sampleCount; self.bytesPerSample = bytesPerSample; self.text = text
        }

        /// From a file header.
        public init(_ info: ImageInfo) {
            self.init(shape: info.shape, pixelType: info.pixelType)
        }

        /// From an image's shape and pixel type.
        public init(shape: Shape, pixelType: PixelType) {
            let (count, overflow) = shape.width.multipliedReportingOverflow(by: shape.height)
            let (planes, overflow2) = shape.depth.multipliedReportingOverflow(by: shape.channels)
            let (total, overflow3) = count.multipliedReportingOverflow(by: planes)
            sampleCount = overflow || overflow2 || overflow3 ? Int.max / 64 : total
            bytesPerSample = pixelType.bytesPerSample
            var text = "\(shape.width)×\(shape.height)"
            if shape.depth > 1 { text += "×\(shape.depth)" }
            if shape.channels > 1 { text += " (\(shape.channels) channels)" }
            self.text = text + " \(pixelType)"
        }

        /// The size as messages show it (``text``).
        public var description: String { text }
    }

    /// `coefficient × samples`, saturating instead of overflowing.
    static func bytes(_ coefficient: Double, _ samples: Int) -> Int {
        let value = coefficient * Double(samples)
        return value >= Double(Int.max / 2) ? Int.max / 2 : Int(value.rounded(.up))
    }

    static func sum(_ parts: [Int]) -> Int {
        parts.reduce(0) { total, part in
            let (s, overflow) = total.addingReportingOverflow(part)
            return overflow ? Int.max / 2 : min(s, Int.max / 2)
        }
    }

    /// Reading an image whole (``ImageFile/read(_:)``) and holding it: the samples plus the
    /// decoder's strips (`cleave info`'s value range, `cleave convert` before encoding).
    public static func read(_ sizes: [Size]) -> Int {
        sum([baseline] + sizes.map { bytes(Double($0.bytesPerSample) * 1.25, $0.sampleCount) })
    }

    /// `cleave convert`: the image, its conversion, and the encoded file in memory.
    public static func convert(_ size: Size) -> Int {
        sum([baseline, bytes(Double(size.bytesPerSample) * 3 + 4, size.sampleCount)])
    }

    /// `cleave features`: the image as Float, every feature as a float plane, the filters'
    /// scratch planes and the TIFF written from the stack.
    public static func features(_ sizes: [Size], featureCount: Int) -> Int {
        let pixels = sizes.first?.sampleCount ?? 0
        return sum([baseline] + sizes.map { bytes(Double($0.bytesPerSample) + 4, $0.sampleCount) }
                   + [bytes(Double(featureCount) * 4 * 2 + 16, pixels)])
    }

    /// `cleave locate`: every tile as Float with its flattened / normalised copies, the patch
    /// tables and the pictures.
    public static func locate(_ sizes: [Size]) -> Int {
        sum([baseline] + sizes.map { bytes(Double($0.bytesPerSample) + 24, $0.sampleCount) })
    }

    /// `cleave objects`: the label or mask image, the intensity image, the component labels,
    /// the measurements' scratch and the pictures.
    public static func objects(_ labels: Size, intensity: Size?) -> Int {
        sum([baseline, bytes(Double(labels.bytesPerSample) + 16, labels.sampleCount),
             intensity.map { bytes(Double($0.bytesPerSample) + 4, $0.sampleCount) } ?? 0])
    }

    /// `cleave predict` (random forest): the input (whole, or one plane at a time when streamed),
    /// one class index per pixel, the picture, and one block of features per thread.
    /// - Parameter streamedPlane: pixels of one plane when the input is read plane by plane
    ///   (``PixelClassifierInput/isStreamable(_:)``), nil when it is read whole.
    public static func predict(_ sizes: [Size], streamedPlane: Int? = nil, featureCount: Int, blockSize: Int) -> Int {
        let pixels = sizes.first?.sampleCount ?? 0
        let side = blockSize + 64
        let block = bytes(Double(featureCount) * 4 * Double(Parallel.threadCount), side * side)
        let planePixels = streamedPlane.map { min($0, pixels) } ?? pixels
        let input = sizes.map { size -> Int in
            bytes(Double(size.bytesPerSample) + 2, streamedPlane.map { min($0, size.sampleCount) } ?? size.sampleCount)
        }
        // A class index per pixel of the whole input and the label image made from it; the
        // picture and its grey plane per (middle) plane.
        return sum([baseline, block, bytes(2, pixels), bytes(6, planePixels)] + input)
    }

    /// `cleave train` (random forest): every training image and its labels held at once (they
    /// are read before training), and the feature blocks of one image at a time (images are
    /// processed one after the other, so the blocks count once, for the widest feature stack).
    /// - Parameter examples: per training example its images (channels) and labels, and the
    ///   bank's feature count for it.
    public static func train(_ examples: [(sizes: [Size], labels: Size, featureCount: Int)], blockSize: Int) -> Int {
        let side = blockSize + 64
        let widest = examples.map(\.featureCount).max() ?? 0
        let block = bytes(Double(widest) * 4 * 2 * Double(Parallel.threadCount), side * side)
        return sum([baseline, block] + examples.flatMap { example in
            [bytes(Double(example.labels.bytesPerSample) + 8, example.labels.sampleCount)]
                + example.sizes.map { bytes(Double($0.bytesPerSample) * 2 + 8, $0.sampleCount) }
        })
    }

    /// `cleave train --method unet` (and the U-Net of `--method auto`): the images read whole; per
    /// labelled pixel the label arrays, the normalised and flat-field-corrected planes, their crops
    /// and the validation probabilities (120 bytes, plus 8 per network input channel); the
    /// network's activations for one training batch (`batch × patch² × width × 4 bytes × 24`) and
    /// for one validation tile of up to 1024² (`tile² × width × 4 bytes × 20`). Measured (default
    /// network, 2 steps): a 4 MP and a 16 MP uint8 image, and the 16 MP one as 2 channels: peak RSS
    /// 1.55, 2.86 and 2.93 GiB against estimates of 2.0, 3.5 and 3.6 GiB (bench/hostile/RESULTS.md).
    public static func unetTrain(_ sizes: [Size], labels: Size, networkChannels: Int, largestSide: Int,
                                 batch: Int, patch: Int, width: Int) -> Int {
        let tile = min(1024, max(1, largestSide))
        let training = bytes(Double(batch) * Double(width) * 4 * 24, patch * patch)
        let validation = bytes(Double(width) * 4 * 20, tile * tile)
        return sum([baseline, training, validation,
                    bytes(Double(labels.bytesPerSample) + 120 + 8 * Double(networkChannels), labels.sampleCount)]
                   + sizes.map { bytes(Double($0.bytesPerSample) * 1.25, $0.sampleCount) })
    }

    /// Throws ``MemoryBudgetError`` when `bytes` exceeds `budget`.
    /// - Parameter work: what would be done, e.g. "cleave features of big.tif (20000×20000 uint8, 49 features)".
    public static func check(_ bytes: Int, _ budget: MemoryBudget = .current, for work: String) throws {
        try budget.check(bytes, for: work)
    }
}
