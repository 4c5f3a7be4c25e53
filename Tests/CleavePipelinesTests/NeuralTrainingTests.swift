import Testing
import Foundation
import CleaveCore
import CleaveNeural
import CleaveLearning
import CleaveTestSupport
import CleavePipelines

@Suite struct NeuralTrainingTests {
    /// A small two-detector phantom as a training example (truth on planes 2, 4, 6).
    static func phantomExample() throws -> (example: NeuralTrainingSet.Example, phantom: FIBSEMPhantom) {
        let phantom = try FIBSEMPhantom.generate(FIBSEMPhantom.Options(width: 64, height: 64, depth: 8, seed: 3, curtaining: 0.5,
                                                                        labelledPlanes: [2, 4, 6]))
        let input = try PixelClassifierInput(name: "fib", parts: phantom.detectors.map { AnyImage.uint16($0) })
        return (NeuralTrainingSet.Example(input: input, labels: .uint8(phantom.trainingLabels), labelsName: "train-labels"), phantom)
    }

    /// A one-detector training set from the phantom and a fresh checkpoint path in scratch folder `name`.
    static func checkpointRun(_ name: String) throws -> (set: NeuralTrainingSet, path: String) {
        let (example, _) = try phantomExample()
        let set = try NeuralTrainingSet([example], classes: nil, slices: 1)
        let dir = TestData.scratchDirectory(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/run.checkpoint"
        try? FileManager.default.removeItem(atPath: path)
        return (set, path)
    }

    static func smallOptions(steps: Int) -> UNetTrainingOptions {
        var o = UNetTrainingOptions()
        o.depth = 2
        o.baseWidth = 8
        o.patchSize = 32
        o.batchSize = 4
        o.steps = steps
        o.learningRate = 0.01
        o.evaluations = 3
        o.seed = 1
        return o
    }

    @Test func tiledInferenceEqualsWholeImageInference() throws {
        let configuration = UNetConfiguration(inputChannels: 2, classes: 3, depth: 3, baseWidth: 4)
        let network = try UNet(configuration: configuration, seed: 5)
        var random = SeededGenerator(seed: 8)
        let plane = NeuralPlane(channels: 2, width: 90, height: 70, values: (0..<(2 * 90 * 70)).map { _ in Float(random.nextGaussian()) })
        let whole = UNetSegmenter(network: network, classCount: 3, depth: 3, tileSize: 1024).probabilities(plane)
        let tiled = UNetSegmenter(network: network, classCount: 3, depth: 3, tileSize: 32, overlap: 8).probabilities(plane)
        #expect(whole.count == 3 * 90 * 70)
        let worst = zip(whole, tiled).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest difference \(worst)")
        // Probabilities sum to one per pixel.
        let n = 90 * 70
        #expect((0..<n).allSatisfy { abs(whole[$0] + whole[n + $0] + whole[2 * n + $0] - 1) < 1e-4 })
    }

    /// Mirrors every channel of a channel-major `width × height` array left–right.
    static func mirrored(_ values: [Float], channels: Int, width: Int, height: Int) -> [Float] {
        var out = values
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { out[(c * height + y) * width + x] = values[(c * height + y) * width + (width - 1 - x)] }
            }
        }
        return out
    }

    /// Swaps x and y of every channel of a channel-major `width × height` array.
    static func transposed(_ values: [Float], channels: Int, width: Int, height: Int) -> [Float] {
        var out = values
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { out[(c * width + x) * height + y] = values[(c * height + y) * width + x] }
            }
        }
        return out
    }

    @Test func testTimeViewsAverageTheOrientations() throws {
        let configuration = UNetConfiguration(inputChannels: 2, classes: 3, depth: 3, baseWidth: 4)
        let network = try UNet(configuration: configuration, seed: 9)
        var random = SeededGenerator(seed: 4)
        let (w, h) = (40, 24)
        let plane = NeuralPlane(channels: 2, width: w, height: h, values: (0..<(2 * w * h)).map { _ in Float(random.nextGaussian()) })
        let single = UNetSegmenter(network: network, classCount: 3, depth: 3)
        var two = single; two.views = 2
        var eight = single; eight.views = 8
        // Two views: the plane and its mirror image, mapped back and averaged.
        let direct = single.probabilities(plane)
        let mirrorPlane = NeuralPlane(channels: 2, width: w, height: h, values: Self.mirrored(plane.values, channels: 2, width: w, height: h))
        let back = Self.mirrored(single.probabilities(mirrorPlane), channels: 3, width: w, height: h)
        let expected = zip(direct, back).map { ($0 + $1) / 2 }
        let worstTwo = zip(two.probabilities(plane), expected).map { abs($0 - $1) }.max()!
        #expect(worstTwo < 1e-6, "views 2 differs from the hand-made average by \(worstTwo)")
        // Eight views average over the whole symmetry group, so the result is equivariant: the
        // prediction of a mirrored or transposed plane is the mirrored or transposed prediction.
        let p8 = eight.probabilities(plane)
        #expect(abs(p8[0] + p8[w * h] + p8[2 * w * h] - 1) < 1e-5)
        let ofMirror = eight.probabilities(mirrorPlane)
        let worstMirror = zip(ofMirror, Self.mirrored(p8, channels: 3, width: w, height: h)).map { abs($0 - $1) }.max()!
        #expect(worstMirror < 1e-5, "8 views not mirror-equivariant: \(worstMirror)")
        let transposedPlane = NeuralPlane(channels: 2, width: h, height: w, values: Self.transposed(plane.values, channels: 2, width: w, height: h))
        let ofTranspose = eight.probabilities(transposedPlane)
        let worstTranspose = zip(ofTranspose, Self.transposed(p8, channels: 3, width: w, height: h)).map { abs($0 - $1) }.max()!
        #expect(worstTranspose < 1e-5, "8 views not transpose-equivariant: \(worstTranspose)")
        // A single view is not (a random network has no symmetry), so the test can tell.
        let plainMirror = zip(single.probabilities(mirrorPlane), Self.mirrored(direct, channels: 3, width: w, height: h)).map { abs($0 - $1) }.max()!
        #expect(plainMirror > 1e-3)
    }

    @Test func weightAveragingKeepsTheMovingAverage() throws {
        let (set, path) = try Self.checkpointRun("unet-averaging")
        var options = Self.smallOptions(steps: 1)
        options.evaluations = 1
        options.weightAveraging = 0.9
        let model = try UNetTrainer.train(set, options: options, images: [], checkpoint: .init(path: path))
        let saved = try JSONDecoder().decode(UNetTrainer.Checkpoint.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        // After one step the average is d·w₀ + (1 − d)·w₁ with the ramped decay d = min(0.9, 1/10).
        let configuration = try options.configuration(inputChannels: set.spec.networkChannels, classCount: set.classes.count)
        let initial = try UNet(configuration: configuration, seed: options.seed).weights()
        var worst: Float = 0, moved: Float = 0
        for (a, (w0, w1)) in zip(model.weights.arrays, zip(initial.arrays, saved.weights.arrays)) {
            #expect(a.name == w0.name && a.name == w1.name)
            for i in a.values.indices {
                worst = max(worst, abs(a.values[i] - (0.1 * w0.values[i] + 0.9 * w1.values[i])))
                moved = max(moved, abs(w1.values[i] - w0.values[i]))
            }
        }
        #expect(worst < 1e-6, "kept weights are not the moving average: \(worst)")
        #expect(moved > 1e-4, "the step did not change the weights")
        #expect(saved.average == model.weights)
        // An impossible decay is refused.
        options.weightAveraging = 1
        #expect(throws: NeuralError.invalidOption(field: "weightAveraging", value: "1.0", reason: "must be in [0, 1)")) { try options.validate() }
        // So is an augmentation chance outside [0, 1], in the training call itself.
        options.weightAveraging = nil
        try options.validate()
        for bad in [-0.1, 1.5, Double.nan] {
            options.augmentation.probability = bad
            do { try options.validate(); Issue.record("augmentation chance \(bad) accepted") } catch {
                #expect(error.invalidField?.field == "augmentation.probability", "\(error)")
            }
        }
    }

    @Test func tinyTrainingBeatsChanceAndTheModelRoundTrips() throws {
        let (example, phantom) = try Self.phantomExample()
        let set = try NeuralTrainingSet([example], classes: nil, slices: 3)
        #expect(set.spec.networkChannels == 6 && set.classes.map(\.value) == [1, 2, 3, 4])
        var lines: [String] = []
        var options = Self.smallOptions(steps: 60)
        options.slices = 3
        let model = try UNetTrainer.train(set, options: options, images: ["fib"]) { lines.append($0) }
        #expect(model.training.steps == 60 && lines.count >= 3 && lines[0].contains("val mIoU"))
        #expect(model.training.validationMeanIoU != nil && model.training.history.count >= 3)

        // Test on planes without training labels.
        let segmenter = try UNetSegmenter(model: model)
        let planes = [1, 3, 5]
        let predicted = try UNetOutputs.predictLabels(example.input, model: model, segmenter: segmenter, planes: planes)
        let n = 64 * 64
        var truth: [Int32] = [], guess: [Int32] = []
        for z in planes {
            truth += phantom.labels.pixels[(z * n)..<((z + 1) * n)].map { Int32($0) }
            guess += predicted[z]!
        }
        let scores = try SegmentationScores(truth: truth, predicted: guess, classes: [1, 2, 3, 4])
        // Chance (always "matrix") gives mean IoU ≈ 0.15; the network separates the phases.
        #expect(scores.meanIoU > 0.5, "mean IoU \(scores.meanIoU), IoU \(scores.iou)")
        #expect(scores.iou[0] > 0.5 && scores.iou[1] > 0.6, "IoU \(scores.iou)")

        // Round trip through the file: same kind, same predictions.
        let dir = TestData.scratchDirectory("unet-model")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/model.json"
        try model.write(path: path)
        #expect(try ModelFileKind.detect(path: path) == .unet)
        let read = try UNetSegmenterModel.read(path: path)
        #expect(read.weights == model.weights && read.input == model.input && read.classes == model.classes)
        let again = try UNetOutputs.predictLabels(example.input, model: read, segmenter: try UNetSegmenter(model: read), planes: [3])
        #expect(again[3]! == predicted[3]!)
        // A 3-slice model refuses a single image, and a one-detector input.
        let single = PixelClassifierInput(name: "single.tif", image: .uint16(phantom.detectors[0].plane(0)))
        #expect(throws: NeuralError.self) { try read.check(channels: 2, depth: 1, source: "single.tif") }
        #expect(throws: NeuralError.self) { try read.check(channels: single.channelCount, depth: 8, source: "single.tif") }
        // A forest model is told apart; a random file is not a U-Net model.
        try Data("{\"kind\": \"cleave.pixel-classifier\"}".utf8).write(to: URL(fileURLWithPath: dir + "/forest.json"))
        #expect(try ModelFileKind.detect(path: dir + "/forest.json") == .randomForest)
        #expect(throws: ModelFileError.self) { try UNetSegmenterModel.read(path: dir + "/forest.json") }
    }

    @Test func checkpointResumeContinuesTheRun() throws {
        let (set, path) = try Self.checkpointRun("unet-checkpoint")
        var options = Self.smallOptions(steps: 4)
        options.evaluations = 2
        let first = try UNetTrainer.train(set, options: options, images: [], checkpoint: .init(path: path, resume: true))
        #expect(FileManager.default.fileExists(atPath: path) && first.training.steps == 4)
        options.steps = 8
        var lines: [String] = []
        let resumed = try UNetTrainer.train(set, options: options, images: [], checkpoint: .init(path: path, resume: true)) { lines.append($0) }
        #expect(lines.first?.contains("resumed") == true && lines.first?.contains("step 4") == true)
        #expect(resumed.training.steps == 8)
        #expect(resumed.training.history.first?.step == first.training.history.first?.step)
        // Same seed and budget without a checkpoint: the same first run, bit for bit.
        options.steps = 4
        let repeated = try UNetTrainer.train(set, options: options, images: [])
        #expect(repeated.weights == first.weights)
    }
}
