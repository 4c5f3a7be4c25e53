import CleaveCore
import CleaveFeatures
import CleaveLearning

/// Pixel classification: filter-bank features + a random forest, trained from sparse labels
/// ("scribbles") and applied block by block.
///
/// ```
/// image ─┬─ block + halo ─→ FilterBank ─→ features (feature-major) ─→ RandomForest ─→ p(class)
///        └─ labels (0 = unlabelled) pick the training rows                    ├→ label = argmax
///                                                                             └→ 1 − (p₁ − p₂)
/// ```
///
/// The CLI (`cleave train`, `cleave predict`) and any server call these same functions.
public enum PixelClassifier {
    /// Settings of ``train(_:classes:options:progress:)``.
    public struct TrainingOptions: Sendable {
        /// Features to compute (default ``FilterBank/pixelClassifierDefault``).
        public var bank: FilterBank
        /// Forest settings; its `seed` also seeds the pixel sampling.
        public var forest: RandomForestConfiguration
        /// When set, at most this many labelled pixels per class per image are used, drawn at
        /// random (seeded) — turns dense label images into scribble-sized training sets.
        public var pixelsPerClass: Int?
        /// Side of the square blocks features are computed in (2D banks); memory ∝ side².
        public var blockSize: Int
        /// How each image's grey values are mapped before features (recorded in the model).
        public var intensityNormalization: IntensityNormalization

        /// Options; by default the standard bank, a 50-tree forest, every labelled pixel, 1024-pixel blocks and
        /// percentile normalisation. `pixelsPerClass` must be ≥ 1 and `blockSize` ≥ 16 (preconditions).
        public init(bank: FilterBank = .pixelClassifierDefault, forest: RandomForestConfiguration = .pixelClassifierDefault,
                    pixelsPerClass: Int? = nil, blockSize: Int = 1024, intensityNormalization: IntensityNormalization = .default) {
            precondition(pixelsPerClass.map { $0 >= 1 } ?? true, "TrainingOptions needs pixelsPerClass >= 1")
            precondition(blockSize >= 16, "TrainingOptions needs blockSize >= 16, got \(blockSize)")
            self.bank = bank
            self.forest = forest
            self.pixelsPerClass = pixelsPerClass
            self.blockSize = blockSize
            self.intensityNormalization = intensityNormalization
        }
    }

    /// One training image with its label image.
    public struct TrainingExample: Sendable {
        /// The image (one or more co-registered channels).
        public var input: PixelClassifierInput
        /// Label image: same width × height × depth, one channel, 0 = unlabelled.
        public var labels: AnyImage
        /// Name of the label file for messages.
        public var labelsName: String

        /// A training image and its labels; sizes are checked by ``PixelClassifier/train(_:classes:options:progress:features:)``.
        public init(input: PixelClassifierInput, labels: AnyImage, labelsName: String) {
            self.input = input
            self.labels = labels
            self.labelsName = labelsName
        }
    }

    /// Most classes a model may have (label maps are stored with one byte per class index).
    public static let maxClassCount = 255

    /// Side of the cubic blocks used with 3D banks.
    static let blockSize3D = 96

    /// Trains a model.
    ///
    /// - Parameters:
    ///   - examples: training images with labels (0 = unlabelled; every other value is a class).
    ///   - classes: names and colours; nil names the classes found ("class 3"). When given, every
    ///     label value must be listed, and every listed class must have labelled pixels.
    /// - Throws: ``PixelClassifierError`` for a label image of the wrong size or type, no labelled pixels,
    ///   a single class, a label outside the class list, or images with different channel counts.
    ///   - features: where each block's feature stack comes from (default: computed with
    ///     ``blockFeatures(of:region:bank:)``); the workbench passes its per-image cache.
    /// - Complexity: features only of the blocks that hold chosen pixels: O((block + halo) pixels ×
    ///   Σ kernel sizes) each; then the forest, about O(treeCount × rows × depth × √features) for
    ///   `rows` chosen pixels (capped by `pixelsPerClass`).
    public static func train(_ examples: [TrainingExample], classes: [PixelClass]? = nil,
                             options: TrainingOptions = TrainingOptions(), progress: Progress = .silent,
                             features source: BlockFeatureSource? = nil) throws -> PixelClassifierModel {
        guard let first = examples.first else { throw PixelClassifierError.noTrainingImages(operation: "train") }
        let channelCount = first.input.channelCount
        let listed = classes.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.value, $0) }) }
        var labelled: [Int32: Int] = [:]
        var used: [Int32: Int] = [:]
        var rows: [Float] = []
        var rowLabels: [Int32] = []
        let bank = options.bank

        // Pass 1: validate every example before any expensive work.
        var chosenPerExample: [[Int]] = []
        var labelsPerExample: [[Int32]] = []
        for (index, example) in examples.enumerated() {
            let input = example.input
            guard input.channelCount == channelCount else {
                throw PixelClassifierError.unusableInput(source: input.name, reason: "has \(input.channelCount) channels, but \(first.input.name) has \(channelCount); every training image needs the same channels")
            }
            let labelShape = example.labels.shape
            guard labelShape.channels == 1 else {
                throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "a label image needs one channel, this one has \(labelShape.channels)")
            }
            guard labelShape.singleChannel == input.spatialShape else {
                throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "label image is \(labelShape), but its image \(input.name) is \(input.spatialShape)")
            }
            let values = try labelValues(example.labels, name: example.labelsName)
            var perClass: [Int32: [Int]] = [:]
            for (i, v) in values.enumerated() where v != 0 { perClass[v, default: []].append(i) }
            if let listed {
                for value in perClass.keys.sorted() where listed[value] == nil {
                    throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "label value \(value) is not in the class list (\(classes!.map(\.description).joined(separator: ", ")))")
                }
            }
            guard perClass.count <= maxClassCount else {
                throw PixelClassifierError.unusableInput(source: example.labelsName, reason: "holds \(perClass.count) distinct label values; a pixel classifier takes at most \(maxClassCount) classes (is this an image rather than a label image?)")
            }
            var chosen: [Int] = []
            var rng = SeededGenerator.stream(seed: options.forest.seed ^ 0x9E37_79B9_7F4A_7C15, index: index)
            for value in perClass.keys.sorted() {
                var pixels = perClass[value]!
                labelled[value, default: 0] += pixels.count
                if let limit = options.pixelsPerClass, pixels.count > limit {
                    for i in 0..<limit { pixels.swapAt(i, i + rng.next(below: pixels.count - i)) }
                    pixels.removeLast(pixels.count - limit)
                }
                used[value, default: 0] += pixels.count
                chosen.append(contentsOf: pixels)
            }
            chosen.sort()
            chosenPerExample.append(chosen)
            labelsPerExample.append(values)
        }
        guard !labelled.isEmpty else {
            throw PixelClassifierError.unusableLabels(source: nil, reason: "the label images hold no labelled pixels (all 0); label at least two classes")
        }
        guard labelled.count <= maxClassCount else {
            throw PixelClassifierError.unusableLabels(source: nil, reason: "the label images hold \(labelled.count) distinct label values together; at most \(maxClassCount) classes are supported")
        }
        guard labelled.count >= 2 else {
            throw PixelClassifierError.unusableLabels(source: nil, reason: "the label images hold a single class (\(labelled.keys.first!)); label at least two classes")
        }
        if let classes {
            for c in classes where labelled[c.value] == nil {
                throw PixelClassifierError.unusableLabels(source: nil, reason: "class \(c) has no labelled pixels; label it or remove it from the class list")
            }
        }

        // Pass 2: features of the blocks that hold chosen pixels.
        let totalChosen = chosenPerExample.reduce(0) { $0 + $1.count }
        rows.reserveCapacity(totalChosen * bank.featureCount(channelCount: channelCount))
        rowLabels.reserveCapacity(totalChosen)
        var done = 0
        for (index, example) in examples.enumerated() {
            let input = try options.intensityNormalization.prepare(example.input)
            let tiles = blockTiles(input.spatialShape, bank: bank, blockSize: options.blockSize)
            var buckets = [[Int]](repeating: [], count: tiles.regions.count)
            for p in chosenPerExample[index] { buckets[tiles.tileIndex(ofPixel: p)].append(p) }
            let shape = input.spatialShape
            for (t, region) in tiles.regions.enumerated() where !buckets[t].isEmpty {
                let stack = try source?(index, input, region) ?? features(of: input, region: region, bank: bank)
                precondition(stack.pixelCount == region.pixelCount && stack.featureCount == bank.featureCount(channelCount: channelCount),
                             "PixelClassifier.train: the feature source gave \(stack.featureCount) features over \(stack.shape) for \(region)")
                let local = buckets[t].map { p -> Int in
                    let x = p % shape.width, y = (p / shape.width) % shape.height, z = p / shape.planeSize
                    return ((z - region.z) * region.height + (y - region.y)) * region.width + (x - region.x)
                }
                rows.append(contentsOf: stack.pixelMatrix(for: local))
                for p in buckets[t] { rowLabels.append(labelsPerExample[index][p]) }
                done += buckets[t].count
                progress.report(done, totalChosen, "Computing training features")
            }
        }

        let forest = try RandomForest.train(rows: rows, featureCount: bank.featureCount(channelCount: channelCount),
                                            labels: rowLabels, configuration: options.forest, progress: progress)
        let modelClasses = forest.classes.enumerated().map { position, value in
            listed?[value] ?? PixelClass.unnamed(value, position: position)
        }
        let summary = PixelClassifierTrainingSummary(
            images: examples.map(\.input.name), labelledPixels: forest.classes.map { labelled[$0] ?? 0 },
            usedPixels: forest.classes.map { used[$0] ?? 0 }, outOfBagAccuracy: forest.outOfBagAccuracy,
            seed: options.forest.seed)
        return PixelClassifierModel(classes: modelClasses, featureBank: bank, channelCount: channelCount,
                                    trainingSpacing: first.input.spacing, training: summary, forest: forest,
                                    intensityNormalization: options.intensityNormalization, trainingPixelType: first.input.pixelType)
    }

    /// Label values of a label image as Int32 (0 = unlabelled).
    /// - Throws: when a value is negative, not an integer, or above 65535.
    static func labelValues(_ image: AnyImage, name: String) throws -> [Int32] {
        switch image {
        case .uint8(let i): return i.pixels.map { Int32($0) }
        case .uint16(let i): return i.pixels.map { Int32($0) }
        case .float32(let i):
            var out = [Int32](repeating: 0, count: i.pixels.count)
            for (k, v) in i.pixels.enumerated() {
                guard v >= 0, v <= 65535, v == v.rounded() else {
                    throw PixelClassifierError.unusableInput(source: name, reason: "label value \(v) at pixel \(k) is not an integer in 0…65535")
                }
                out[k] = Int32(v)
            }
            return out
        }
    }

    /// Where a block's feature stack comes from: `(example index, prepared input, block region)` →
    /// the stack of ``blockFeatures(of:region:bank:)`` for that block (computed, or kept by the caller).
    /// The input is the one after ``IntensityNormalization/prepare(_:)``; the region is one of the
    /// blocks of ``blockRegions(_:bank:blockSize:)``.
    public typealias BlockFeatureSource = (_ example: Int, _ input: PixelClassifierInput, _ region: Region) throws -> FeatureStack

    /// The feature stack of `region` exactly as training and prediction compute it (on the region
    /// grown by the bank's halo, so it equals the same pixels of the whole image's stack).
    /// - Throws: what reading a streamed plane throws.
    public static func blockFeatures(of input: PixelClassifierInput, region: Region, bank: FilterBank) throws -> FeatureStack {
        try features(of: input, region: region, bank: bank)
    }

    /// The blocks training and prediction compute features in (see ``TrainingOptions/blockSize``).
    public static func blockRegions(_ shape: Shape, bank: FilterBank, blockSize: Int) -> [Region] {
        blockTiles(shape.singleChannel, bank: bank, blockSize: blockSize).regions
    }

    /// Features of `region` (computed on the region grown by the bank's halo).
    static func features(of input: PixelClassifierInput, region: Region, bank: FilterBank,
                         timings: PredictionTimings? = nil) throws -> FeatureStack {
        let grown = bank.blockRegion(for: region, in: input.spatialShape, spacing: input.spacing)
        let block = try PredictionTimings.measure(timings, "read") { try input.featureBlock(grown) }
        let interior = Region(x: region.x - grown.x, y: region.y - grown.y, z: region.z - grown.z,
                              width: region.width, height: region.height, depth: region.depth)
        return PredictionTimings.measure(timings, "features") { bank.computeBlock(block, interior: interior) }
    }

    /// The blocks an image is processed in: squares of `blockSize` per plane for 2D banks (so
    /// stacks go slice by slice), cubes for 3D banks.
    static func blockTiles(_ shape: Shape, bank: FilterBank, blockSize: Int) -> BlockTiling {
        if bank.threeD && shape.depth > 1 {
            let side = min(blockSize, blockSize3D)
            return BlockTiling(shape: shape, blockWidth: side, blockHeight: side, blockDepth: side)
        }
        return BlockTiling(shape: shape, blockWidth: blockSize, blockHeight: blockSize, blockDepth: 1)
    }
}

/// A regular tiling of a shape (``Region/tiles(covering:blockWidth:blockHeight:blockDepth:)``) that
/// can also say which tile holds a pixel.
struct BlockTiling {
    let shape: Shape
    let blockWidth: Int, blockHeight: Int, blockDepth: Int
    let regions: [Region]

    init(shape: Shape, blockWidth: Int, blockHeight: Int, blockDepth: Int) {
        self.shape = shape
        self.blockWidth = blockWidth; self.blockHeight = blockHeight; self.blockDepth = blockDepth
        self.regions = Region.tiles(covering: shape, blockWidth: blockWidth, blockHeight: blockHeight, blockDepth: blockDepth)
    }

    /// Tile of linear pixel index `p` (regions are x fastest, then y, then z).
    func tileIndex(ofPixel p: Int) -> Int {
        let x = p % shape.width, y = (p / shape.width) % shape.height, z = p / shape.planeSize
        let across = (shape.width + blockWidth - 1) / blockWidth
        let down = (shape.height + blockHeight - 1) / blockHeight
        return ((z / blockDepth) * down + y / blockHeight) * across + x / blockWidth
    }
}

extension RandomForestConfiguration {
    /// The pixel classifier's forest: scikit-learn's defaults with 50 trees instead of 100. On the
    /// real-data suite 50 trees scored within 0.002 mean IoU of 100 (no split lost to the
    /// reference) for half the prediction time; 32 trees lost 0.008 (bench/suite/RESULTS.md).
    public static let pixelClassifierDefault = RandomForestConfiguration(treeCount: 50)
}
