import Foundation
import CleaveCore
import CleaveFormats
import CleaveRender
import CleaveLearning

/// Which files ``PixelClassificationOutputs/write(_:model:directory:stem:options:progress:)`` produces.
public struct PixelClassificationOutputOptions: Sendable {
    /// Write `<stem>-probabilities.tif` (float32, one page per class).
    public var probabilities = true
    /// Write `<stem>-uncertainty.tif` (float32, 1 − (p_first − p_second)).
    public var uncertainty = true
    /// Write `<stem>-overlay.png` (class colours over the grey image).
    public var overlay = true
    /// Re-weight probabilities to the class frequencies estimated on each image (see
    /// ``RandomForest/estimatePrior(probabilities:maxIterations:tolerance:)``). Off by default:
    /// on the real-data suite it made most splits worse (bench/suite/RESULTS.md).
    public var adaptPrior = false
    /// How `class-fractions.csv` estimates the fractions (every estimator's values are written too).
    public var fractionEstimator = ClassFractions.defaultEstimator
    /// Block side for prediction.
    public var blockSize = 1024
    /// How the forest walks its trees (all walks give identical results; for benchmarks).
    public var walk = ForestWalk.binned
    /// Every output on, no prior adaptation, 1024-pixel blocks, the binned forest walk.
    public init() {}
}

/// Writes the standard outputs of classifying one image into a directory:
///
/// - `<stem>-labels.tif` — label values (8-bit when every class value ≤ 255, else 16-bit);
/// - `<stem>-probabilities.tif` — float32, one page per class (per plane for stacks: class-major);
/// - `<stem>-uncertainty.tif` — float32, 1 − (p_first − p_second);
/// - `<stem>-overlay.png` — class colours over the grey image (middle plane of a stack).
///
/// Every file is written under a temporary name and renamed when complete, so an error leaves no
/// half-written output. Memory: the labels and the input, plus one block of features; the float
/// outputs are streamed to disk block by block.
public enum PixelClassificationOutputs {
    /// Classifies `input` and writes its outputs; returns the class areas.
    /// - Complexity: one streaming prediction (``PixelClassifier/predict(_:model:blockSize:progress:timings:walk:sink:)``),
    ///   O(pixels × classes) more to re-weight the probabilities when `adaptPrior` is set, O(pixels)
    ///   for labels and overlay.
    public static func write(_ input: PixelClassifierInput, model: PixelClassifierModel, directory: String, stem: String,
                             options: PixelClassificationOutputOptions = PixelClassificationOutputOptions(),
                             progress: CleaveCore.Progress = .silent, timings: PredictionTimings? = nil) throws -> ClassFractions {
        try model.check(input)
        let shape = input.spatialShape
        let classes = model.classes
        let K = classes.count
        let names = classes.map { "\($0.value)=\($0.name)" }.joined(separator: ", ")
        let base = (directory as NSString).appendingPathComponent(stem)
        // Pass 1 streams the raw probabilities to disk (the published file, or a scratch file when
        // probabilities are not wanted but the prior is adapted) and keeps a fixed pixel sample.
        let needsProbabilityFile = options.probabilities || options.adaptPrior
        let probabilityWriter = needsProbabilityFile
            ? try FloatPageWriter(path: base + "-probabilities.tif", width: shape.width, height: shape.height,
                                  pageCount: K * shape.depth,
                                  description: "Cleave \(cleaveVersion) class probabilities, one page per class (class-major over planes): \(names)")
            : nil
        let uncertaintyWriter = options.uncertainty
            ? try FloatPageWriter(path: base + "-uncertainty.tif", width: shape.width, height: shape.height,
                                  pageCount: shape.depth, description: "Cleave \(cleaveVersion) uncertainty 1 - (p_first - p_second)")
            : nil
        var indices = [UInt8](repeating: 0, count: shape.count) // class index per pixel (< 256 classes)
        var counts = [Int](repeating: 0, count: K)
        // Counts and probability sums per strip of rows (the blocks of the fractions' bootstrap).
        let stripsPerPlane = (shape.height + ClassFractions.stripRows - 1) / ClassFractions.stripRows
        var strips = [FractionSums](repeating: FractionSums(classCount: K), count: stripsPerPlane * shape.depth)
        var sample = PriorSample(pixelCount: shape.count, classCount: K)
        try PixelClassifier.predict(input, model: model, blockSize: options.blockSize, progress: progress, timings: timings,
                                    walk: options.walk) { block in
            let n = block.region.pixelCount
            var local = 0
            for z in block.region.z..<(block.region.z + block.region.depth) {
                for y in block.region.y..<(block.region.y + block.region.height) {
                    let offset = shape.index(column: block.region.x, row: y, plane: z)
                    let width = block.region.width
                    if options.adaptPrior {
                        var p = (offset + sample.stride - 1) / sample.stride * sample.stride
                        while p < offset + width {
                            for c in 0..<K { sample.values[(p / sample.stride) * K + c] = block.probabilities[c * n + local + p - offset] }
                            p += sample.stride
                        }
                    } else {
                        let strip = z * stripsPerPlane + y / ClassFractions.stripRows
                        for i in 0..<width {
                            let c = Int(block.classIndices[local + i])
                            indices[offset + i] = UInt8(c)
                            counts[c] += 1
                            strips[strip].counts[c] += 1
                        }
                        for c in 0..<K {
                            var sum = 0.0
                            for i in 0..<width { sum += Double(block.probabilities[c * n + local + i]) }
                            strips[strip].posteriorSums[c] += sum
                        }
                        try block.uncertainty.withUnsafeBufferPointer { u in
                            try uncertaintyWriter?.write(page: z, row: y, column: block.region.x,
                                                         values: UnsafeBufferPointer(rebasing: u[local..<(local + width)]))
                        }
                    }
                    try block.probabilities.withUnsafeBufferPointer { p in
                        for c in 0..<K {
                            try probabilityWriter?.write(page: c * shape.depth + z, row: y, column: block.region.x,
                                                         values: UnsafeBufferPointer(rebasing: p[(c * n + local)..<(c * n + local + width)]))
                        }
                    }
                    local += width
                }
            }
        }

        // Pass 2 (prior adaptation): estimate the image's class prior on the sample, then re-weight
        // every row of probabilities in place and derive labels and uncertainty from them.
        var estimatedPrior: [Double]?
        if options.adaptPrior, let writer = probabilityWriter {
            let prior = PredictionTimings.measure(timings, "prior EM") { model.forest.estimatePrior(probabilities: sample.values) }
            estimatedPrior = prior
            let weights = model.forest.priorWeights(for: prior)
            var rowProbabilities = [Float](repeating: 0, count: K * shape.width)
            var pixelMajor = [Float](repeating: 0, count: K * shape.width)
            try PredictionTimings.measure(timings, "prior re-weighting") {
            for z in 0..<shape.depth {
                for y in 0..<shape.height {
                    try rowProbabilities.withUnsafeMutableBufferPointer { buffer in
                        for c in 0..<K {
                            try writer.read(page: c * shape.depth + z, row: y, column: 0,
                                            into: UnsafeMutableBufferPointer(rebasing: buffer[(c * shape.width)..<((c + 1) * shape.width)]))
                        }
                    }
                    for x in 0..<shape.width { for c in 0..<K { pixelMajor[x * K + c] = rowProbabilities[c * shape.width + x] } }
                    pixelMajor.withUnsafeMutableBufferPointer { RandomForest.unsafeReweight($0, classCount: K, weights: weights) }
                    let (rowIndices, uncertainty) = RandomForest.summarise(probabilities: pixelMajor, classCount: K)
                    let offset = shape.index(column: 0, row: y, plane: z)
                    let strip = z * stripsPerPlane + y / ClassFractions.stripRows
                    for x in 0..<shape.width {
                        let c = Int(rowIndices[x])
                        indices[offset + x] = UInt8(c)
                        counts[c] += 1
                        strips[strip].counts[c] += 1
                        for k in 0..<K { strips[strip].posteriorSums[k] += Double(pixelMajor[x * K + k]) }
                    }
                    try uncertainty.withUnsafeBufferPointer { try uncertaintyWriter?.write(page: z, row: y, column: 0, values: $0) }
                    if options.probabilities {
                        for x in 0..<shape.width { for c in 0..<K { rowProbabilities[c * shape.width + x] = pixelMajor[x * K + c] } }
                        try rowProbabilities.withUnsafeBufferPointer { buffer in
                            for c in 0..<K {
                                try writer.write(page: c * shape.depth + z, row: y, column: 0,
                                                 values: UnsafeBufferPointer(rebasing: buffer[(c * shape.width)..<((c + 1) * shape.width)]))
                            }
                        }
                    }
                }
            }
            }
        }

        return try PredictionTimings.measure(timings, "labels + overlay") {
        try input.writeLabelsAndOverlay(indices: &indices, classes: classes, base: base, overlay: options.overlay) {
            if options.probabilities { try probabilityWriter?.finish() } else { probabilityWriter?.discard() }
            try uncertaintyWriter?.finish()
        }
        var result = ClassFractions(image: input.name, classes: classes, pixelCounts: counts, spacing: input.spacing,
                                    isVolume: shape.depth > 1, estimatedPrior: estimatedPrior, strips: strips)
        result.estimate(options.fractionEstimator, calibration: model.forest.outOfBagCalibration)
        return result
        }
    }

    /// Writes `class-fractions.csv` for several images (atomically), and, when `pooled` is given,
    /// `class-fractions.json` with every image's and the pooled estimate.
    public static func writeFractions(_ fractions: [ClassFractions], to path: String, pooled: ClassFractions? = nil) throws {
        var text = ClassFractions.csvHeader + "\n"
        for f in fractions { for line in f.csvLines { text += line + "\n" } }
        try AtomicFile.write(Data(text.utf8), to: path)
        if let pooled {
            let json = (path as NSString).deletingPathExtension + ".json"
            try AtomicFile.write(try ClassFractions.json(images: fractions, pooled: pooled), to: json)
        }
    }
}

extension PixelClassifierInput {
    /// The last step of a prediction, shared by the forest and the U-Net: the middle plane's
    /// overlay (when `overlay`, from the class indices), then `<base>-labels.tif` (class values:
    /// 8-bit in place of the indices when every value fits, one byte per pixel, else 16-bit;
    /// `indices` is consumed), then `finish` (the float writers), and only then every file moved
    /// into place. When anything fails the temporary files are removed (the float writers remove
    /// theirs when they are released unfinished) and the error is rethrown.
    /// - Complexity: O(voxels).
    func writeLabelsAndOverlay(indices: inout [UInt8], classes: [PixelClass], base: String, overlay: Bool,
                               finish: () throws -> Void) throws {
        let shape = spatialShape, values = classes.map(\.value)
        var overlayTemporary: String?
        let labelsPath = base + "-labels.tif"
        let labelsTemporary = AtomicFile.temporaryPath(for: labelsPath) + ".tif"
        do {
            if overlay { overlayTemporary = try writeMiddlePlaneOverlay(indices: indices, classes: classes, base: base) }
            if values.allSatisfy({ $0 <= 255 }) {
                let lookup = values.map { UInt8($0) }
                indices.withUnsafeMutableBufferPointer { buffer in
                    for i in buffer.indices { buffer[i] = lookup[Int(buffer[i])] }
                }
                let image = Image(shape: shape, pixels: indices, spacing: spacing)
                indices = []
                try ImageFile.write(image, to: labelsTemporary)
            } else {
                let lookup = values.map { UInt16(clamping: $0) }
                let image = Image(shape: shape, pixels: indices.map { lookup[Int($0)] }, spacing: spacing)
                indices = []
                try ImageFile.write(image, to: labelsTemporary)
            }
            try finish()
            try AtomicFile.commit(labelsTemporary, to: labelsPath)
            if let overlayTemporary { try AtomicFile.commit(overlayTemporary, to: base + "-overlay.png") }
        } catch {
            unlink(labelsTemporary)
            if let overlayTemporary { unlink(overlayTemporary) }
            throw error
        }
    }

    /// The overlay picture of the middle plane: class colours over the plane's grey picture, from
    /// the class index of every pixel of the input (`indices`, plane-major), written to a temporary
    /// file for `base + "-overlay.png"`. Returns that file's path; the caller commits or removes it.
    /// - Complexity: O(plane size).
    func writeMiddlePlaneOverlay(indices: [UInt8], classes: [PixelClass], base: String) throws -> String {
        let shape = spatialShape, plane = shape.depth / 2
        let grey = Display.grey(try readDisplayPlane(plane))
        let start = plane * shape.planeSize
        let planeIndices = indices[start..<start + shape.planeSize].map { Int32($0) }
        let colours = classes.map(\.colour)
        let picture = Display.overlay(grey: grey, labels: planeIndices, colours: { colours[Int($0)] })
        let path = AtomicFile.temporaryPath(for: base + "-overlay.png") + ".png"
        try ImageFile.write(picture, to: path)
        return path
    }
}
