import CleaveCore
import CleaveFeatures
import CleaveLearning

/// The classifier's output for one block of an image.
public struct PredictedBlock: Sendable {
    /// Where the block sits in the image.
    public var region: Region
    /// `classCount × pixels`, class-major (one plane per class), pixels in the block's storage order.
    public var probabilities: [Float]
    /// Most probable class index (into the model's classes) per pixel.
    public var classIndices: [Int32]
    /// 1 − (p_first − p_second) per pixel.
    public var uncertainty: [Float]
}

/// A whole-image prediction held in memory (fine for images up to a few hundred megapixels; the
/// CLI streams blocks to files instead).
public struct PixelPrediction: Sendable, Equatable {
    /// Spatial shape of the image.
    public var shape: Shape
    /// Label value (the training label values) per pixel.
    public var labels: [Int32]
    /// `classCount × pixels`, class-major.
    public var probabilities: [Float]
    /// 1 − (p_first − p_second) per pixel.
    public var uncertainty: [Float]

    /// A prediction; `labels` and `uncertainty` hold one value per pixel of `shape`, `probabilities` classes × pixels.
    public init(shape: Shape, labels: [Int32], probabilities: [Float], uncertainty: [Float]) {
        self.shape = shape
        self.labels = labels
        self.probabilities = probabilities
        self.uncertainty = uncertainty
    }
}

extension PixelClassifier {
    /// Classifies an image block by block, handing each finished block to `sink` in order.
    ///
    /// Blocks are `blockSize²` squares per plane for 2D banks (so a stack goes slice by slice) and
    /// cubes for 3D banks; each is computed on the block grown by the bank's halo, so the result is
    /// identical to classifying the whole image at once while memory follows the block size.
    ///
    /// - Throws: ``PixelClassifierError`` when the input's channel count differs from the model's, or what `sink` throws.
    /// - Complexity: O(pixels × (Σ kernel sizes + treeCount × depth)), plus each block's halo; memory
    ///   O(blockSize² × features) per block in flight, independent of the image size.
    public static func predict(_ input: PixelClassifierInput, model: PixelClassifierModel, blockSize: Int = 1024,
                               progress: Progress = .silent, timings: PredictionTimings? = nil,
                               walk: ForestWalk = .binned, sink: (PredictedBlock) throws -> Void) throws {
        precondition(blockSize >= 16, "PixelClassifier.predict needs blockSize >= 16, got \(blockSize)")
        try model.check(input)
        let input = try model.intensityNormalization.prepare(input)
        let bank = model.featureBank
        let forest = model.forest
        let K = forest.classCount
        let tiles = blockTiles(input.spatialShape, bank: bank, blockSize: blockSize)
        let total = input.spatialShape.count
        var done = 0
        progress.report(0, total, "Classifying \(input.name)")
        for region in tiles.regions {
            let stack = try features(of: input, region: region, bank: bank, timings: timings)
            let n = stack.pixelCount
            var pixelMajor = [Float](repeating: 0, count: n * K)
            PredictionTimings.measure(timings, "forest") {
                stack.values.withUnsafeBufferPointer { values in
                    pixelMajor.withUnsafeMutableBufferPointer { out in
                        forest.unsafeProbabilities(featureMajor: values, rowCount: n, into: out, walk: walk)
                    }
                }
            }
            let block = PredictionTimings.measure(timings, "summarise") { () -> PredictedBlock in
                let (indices, uncertainty) = RandomForest.summarise(probabilities: pixelMajor, classCount: K)
                var classMajor = [Float](repeating: 0, count: n * K)
                classMajor.withUnsafeMutableBufferPointer { out in
                    pixelMajor.withUnsafeBufferPointer { source in
                        for p in 0..<n {
                            for c in 0..<K { out[c * n + p] = source[p * K + c] }
                        }
                    }
                }
                return PredictedBlock(region: region, probabilities: classMajor, classIndices: indices, uncertainty: uncertainty)
            }
            timings?.addPixels(n)
            try PredictionTimings.measure(timings, "write blocks") { try sink(block) }
            done += n
            progress.report(done, total, "Classifying \(input.name)")
        }
    }

    /// Classifies a whole image in memory (see ``predict(_:model:blockSize:progress:timings:walk:sink:)``).
    ///
    /// - Parameter adaptPrior: re-weight the probabilities to the class frequencies estimated on
    ///   this image (``PriorSample``, ``RandomForest/estimatePrior(probabilities:maxIterations:tolerance:)``)
    ///   instead of the proportions of the training labels. Default false: on the real-data suite
    ///   the estimate made six of seven splits worse (bench/suite/RESULTS.md).
    /// - Complexity: as the streaming ``predict(_:model:blockSize:progress:timings:walk:sink:)``, plus
    ///   O(pixels × classes) memory for the probabilities.
    public static func predict(_ input: PixelClassifierInput, model: PixelClassifierModel, blockSize: Int = 1024,
                               adaptPrior: Bool = false, progress: Progress = .silent) throws -> PixelPrediction {
        let shape = input.spatialShape
        let n = shape.count
        let K = model.forest.classCount
        var pixelMajor = [Float](repeating: 0, count: n * K)
        try predict(input, model: model, blockSize: blockSize, progress: progress) { block in
            let bn = block.region.pixelCount
            block.region.forEachRow(in: shape) { offset, local, count in
                for i in 0..<count {
                    for c in 0..<K { pixelMajor[(offset + i) * K + c] = block.probabilities[c * bn + local + i] }
                }
            }
        }
        if adaptPrior {
            var sample = PriorSample(pixelCount: n, classCount: K)
            for p in stride(from: 0, to: n, by: sample.stride) {
                for c in 0..<K { sample.values[(p / sample.stride) * K + c] = pixelMajor[p * K + c] }
            }
            let weights = model.forest.priorWeights(for: model.forest.estimatePrior(probabilities: sample.values))
            pixelMajor.withUnsafeMutableBufferPointer { RandomForest.unsafeReweight($0, classCount: K, weights: weights) }
        }
        let (indices, uncertainty) = RandomForest.summarise(probabilities: pixelMajor, classCount: K)
        var probabilities = [Float](repeating: 0, count: n * K)
        for p in 0..<n { for c in 0..<K { probabilities[c * n + p] = pixelMajor[p * K + c] } }
        let values = model.forest.classes
        return PixelPrediction(shape: shape, labels: indices.map { values[Int($0)] }, probabilities: probabilities,
                               uncertainty: uncertainty)
    }
}

/// The pixels the class prior of an image is estimated on: every `stride`-th pixel in storage order
/// (at most ~262,000), stored by position so the estimate does not depend on the block size.
public struct PriorSample: Sendable {
    /// Distance in pixels (storage order) between sampled pixels, ≥ 1.
    public let stride: Int
    /// Probabilities per sampled pixel (the model's class count).
    public let classCount: Int
    /// Row-major probabilities of the sampled pixels.
    public var values: [Float]

    /// Room for every `stride`-th of `pixelCount` pixels, with the stride chosen so at most about `maximum` are kept; values start at 0.
    public init(pixelCount: Int, classCount: Int, maximum: Int = 262_144) {
        stride = max(1, (pixelCount + maximum - 1) / maximum)
        self.classCount = classCount
        values = [Float](repeating: 0, count: ((pixelCount + stride - 1) / stride) * classCount)
    }
}

extension Region {
    /// Calls `body(imageOffset, blockOffset, count)` for every image row the region covers:
    /// `imageOffset` is the linear index in `shape`, `blockOffset` the index in the region's own layout.
    func forEachRow(in shape: Shape, _ body: (_ imageOffset: Int, _ blockOffset: Int, _ count: Int) -> Void) {
        var local = 0
        for z in self.z..<(self.z + depth) {
            for y in self.y..<(self.y + height) {
                body(shape.index(column: x, row: y, plane: z), local, width)
                local += width
            }
        }
    }
}
