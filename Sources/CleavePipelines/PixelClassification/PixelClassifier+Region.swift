import CleaveCore
import CleaveFeatures
import CleaveLearning

extension PixelClassifier {
    /// Classifies one region of an image: the same values as the region's pixels of
    /// ``predict(_:model:blockSize:adaptPrior:progress:)`` on the whole image.
    ///
    /// Features are taken block by block over the image's own blocks
    /// (``blockRegions(_:bank:blockSize:)``), so a caller that keeps those stacks between calls
    /// (`features`) classifies any region of the image without computing them again.
    ///
    /// - Parameters:
    ///   - region: inside the image's spatial shape.
    ///   - features: where a block's stack comes from (default: computed); called with example index 0.
    /// - Returns: a prediction whose shape is the region's.
    /// - Throws: ``PixelClassifierError`` when the input does not fit the model or the region lies outside it;
    ///   what `features` throws.
    /// - Complexity: features of every block that meets the region (none when `features` returns kept
    ///   stacks), then O(region pixels × treeCount × depth) for the forest.
    public static func predict(_ input: PixelClassifierInput, model: PixelClassifierModel, region: Region,
                               blockSize: Int = 1024, walk: ForestWalk = .binned, progress: Progress = .silent,
                               features source: BlockFeatureSource? = nil) throws -> PixelPrediction {
        precondition(blockSize >= 16, "PixelClassifier.predict(region:) needs blockSize >= 16, got \(blockSize)")
        try model.check(input)
        guard region.isInside(input.spatialShape), !region.isEmpty else {
            throw PixelClassifierError.regionOutside(image: input.name, region: "\(region)", shape: "\(input.spatialShape)")
        }
        let input = try model.intensityNormalization.prepare(input)
        let bank = model.featureBank, forest = model.forest
        let K = forest.classCount, F = forest.featureCount
        let n = region.pixelCount
        var pixelMajor = [Float](repeating: 0, count: n * K)
        let blocks = blockRegions(input.spatialShape, bank: bank, blockSize: blockSize).filter { !$0.intersection(region).isEmpty }
        progress.report(0, n, "Classifying \(input.name)")
        var done = 0
        for block in blocks {
            let stack = try source?(0, input, block) ?? features(of: input, region: block, bank: bank)
            precondition(stack.pixelCount == block.pixelCount && stack.featureCount == F,
                         "PixelClassifier.predict(region:): the feature source gave \(stack.featureCount) features over \(stack.shape) for \(block)")
            let part = block.intersection(region)
            let m = part.pixelCount
            var partOutput = [Float](repeating: 0, count: m * K)
            if part.width == block.width && (part.height == block.height || part.depth == 1) {
                // Consecutive pixels of the block's stack: walked where they are (features `blockN` apart).
                let first = ((part.z - block.z) * block.height + (part.y - block.y)) * block.width
                stack.values.withUnsafeBufferPointer { values in
                    partOutput.withUnsafeMutableBufferPointer { out in
                        forest.unsafeProbabilities(featureMajor: UnsafeBufferPointer(rebasing: values[first...]), rowCount: m,
                                             featureStride: block.pixelCount, into: out, walk: walk)
                    }
                }
            } else {
                // Gather the part's pixels feature-major, then walk them in one call.
                var gathered = [Float](repeating: 0, count: m * F)
                stack.values.withUnsafeBufferPointer { values in
                    gathered.withUnsafeMutableBufferPointer { target in
                        for f in 0..<F {
                            var k = f * m
                            for z in part.z..<(part.z + part.depth) {
                                for y in part.y..<(part.y + part.height) {
                                    let first = f * block.pixelCount
                                        + ((z - block.z) * block.height + (y - block.y)) * block.width + (part.x - block.x)
                                    for i in 0..<part.width { target[k + i] = values[first + i] }
                                    k += part.width
                                }
                            }
                        }
                    }
                }
                gathered.withUnsafeBufferPointer { values in
                    partOutput.withUnsafeMutableBufferPointer { out in
                        forest.unsafeProbabilities(featureMajor: values, rowCount: m, into: out, walk: walk)
                    }
                }
            }
            var k = 0
            for z in part.z..<(part.z + part.depth) {
                for y in part.y..<(part.y + part.height) {
                    let target = ((z - region.z) * region.height + (y - region.y)) * region.width + (part.x - region.x)
                    for i in 0..<(part.width * K) { pixelMajor[target * K + i] = partOutput[k + i] }
                    k += part.width * K
                }
            }
            done += part.pixelCount
            progress.report(done, n, "Classifying \(input.name)")
        }
        let (indices, uncertainty) = RandomForest.summarise(probabilities: pixelMajor, classCount: K)
        var probabilities = [Float](repeating: 0, count: n * K)
        for p in 0..<n { for c in 0..<K { probabilities[c * n + p] = pixelMajor[p * K + c] } }
        let values = forest.classes
        return PixelPrediction(shape: Shape(width: region.width, height: region.height, depth: region.depth),
                               labels: indices.map { values[Int($0)] }, probabilities: probabilities, uncertainty: uncertainty)
    }
}
