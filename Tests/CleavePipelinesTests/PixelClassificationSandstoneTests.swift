import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveLearning
import CleavePipelines
import CleaveTestSupport

#if DEBUG
private let isReleaseBuild = false
#else
private let isReleaseBuild = true
#endif

/// The sandstone protocol of issue 4 (also in bench/pixel-classifier): train on slices 0000 and
/// 0200 with 2000 randomly chosen labelled pixels per class per slice, predict the other seven,
/// score against labels/. Release builds only (a debug build needs many minutes).
@Suite struct PixelClassificationSandstoneTests {
    @Test(.enabled(if: TestData.isAvailable && isReleaseBuild, "needs ../shared/data and a release build"))
    func sandstoneProtocolBeatsTheReference() throws {
        func path(_ kind: String, _ slice: String) -> String { TestData.path("sandstone-xrm/\(kind)/Sandstone_Versa\(slice).tif") }
        let examples = try ["0000", "0200"].map { slice in
            PixelClassifier.TrainingExample(input: PixelClassifierInput(name: slice, image: try ImageFile.read(path("images", slice))),
                                            labels: try ImageFile.read(path("labels", slice)), labelsName: slice)
        }
        // The CLI's defaults (ilastik bank, percentile 0.1–99.9 normalisation, 50 trees).
        let model = try PixelClassifier.train(examples, options: PixelClassifier.TrainingOptions(pixelsPerClass: 2000))
        #expect(model.training.usedPixels == [4000, 4000, 4000, 4000])
        var truth: [Int32] = []
        var predicted: [Int32] = []
        var adapted: [Int32] = []
        for slice in ["0050", "0100", "0150", "0250", "0300", "0350", "0400"] {
            let input = PixelClassifierInput(name: slice, image: try ImageFile.read(path("images", slice)))
            predicted += try PixelClassifier.predict(input, model: model).labels
            adapted += try PixelClassifier.predict(input, model: model, adaptPrior: true).labels
            truth += try ImageFile.read(path("labels", slice)).converted(to: UInt8.self).pixels.map { Int32($0) }
        }
        let scores = try SegmentationScores(truth: truth, predicted: predicted, classes: [1, 2, 3, 4])
        // Reference (scikit-image multiscale_basic_features + scikit-learn RandomForestClassifier(100),
        // bench/pixel-classifier/reference.py): IoU 0.972 / 0.970 / 0.629 / 0.915, mean 0.871.
        // Defaults chosen on the whole suite reach 0.872 here (bench/suite/RESULTS.md); the issue's
        // 0.88 is reached on this set with the per-image prior estimate (--adapt-prior), which the
        // suite does not support as a default.
        #expect(scores.meanIoU >= 0.871, "mean IoU \(scores.meanIoU), per class \(scores.iou)")
        #expect(scores.iou[2] > 0.629, "clay IoU \(scores.iou[2])")
        // Bright minerals: 0.91 here against the reference's 0.915 (a loss the suite table also shows).
        #expect(scores.iou[3] > 0.90, "bright-mineral IoU \(scores.iou[3])")
        let withPrior = try SegmentationScores(truth: truth, predicted: adapted, classes: [1, 2, 3, 4])
        #expect(withPrior.meanIoU >= 0.88, "mean IoU with --adapt-prior \(withPrior.meanIoU), per class \(withPrior.iou)")
    }

    /// On real features (default bank, slice 0050) the byte walk gives the float walk's
    /// probabilities bit for bit (every threshold of the 100 trees is exercised by real values).
    @Test(.enabled(if: TestData.isAvailable && isReleaseBuild, "needs ../shared/data and a release build"))
    func binnedWalkEqualsThresholdWalkOnSandstone() throws {
        func path(_ kind: String, _ slice: String) -> String { TestData.path("sandstone-xrm/\(kind)/Sandstone_Versa\(slice).tif") }
        let example = PixelClassifier.TrainingExample(
            input: PixelClassifierInput(name: "0000", image: try ImageFile.read(path("images", "0000"))),
            labels: try ImageFile.read(path("labels", "0000")), labelsName: "0000")
        let model = try PixelClassifier.train([example], options: PixelClassifier.TrainingOptions(
            forest: RandomForestConfiguration(seed: 0), pixelsPerClass: 500, intensityNormalization: .none))
        let image = try ImageFile.read(path("images", "0050")).floatImage()
        let stack = try model.featureBank.compute(image, region: Region(x: 300, y: 300, width: 256, height: 200))
        let n = stack.pixelCount
        func probabilities(_ walk: ForestWalk) -> [Float] {
            var out = [Float](repeating: 0, count: n * model.forest.classCount)
            stack.values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { model.forest.unsafeProbabilities(featureMajor: v, rowCount: n, into: $0, walk: walk) }
            }
            return out
        }
        let float = probabilities(.thresholds)
        #expect(probabilities(.binned) == float)
        #expect(Set(float).count > 100) // real, varied probabilities
    }
}
