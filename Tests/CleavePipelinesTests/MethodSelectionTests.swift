import Testing
import Foundation
import CleaveCore
import CleaveLearning
import CleavePipelines

/// `cleave train --method auto` (``MethodSelection``).
@Suite struct MethodSelectionTests {
    static func forestOptions() -> PixelClassifier.TrainingOptions {
        PixelClassifier.TrainingOptions(bank: .pixelClassifierDefault,
                                        forest: RandomForestConfiguration(treeCount: 10, seed: 4), pixelsPerClass: 300)
    }

    @Test func theForestAndTheUNetAreScoredOnTheSameHeldOutPixels() throws {
        let (example, _) = try NeuralTrainingTests.phantomExample()
        var unet = NeuralTrainingTests.smallOptions(steps: 2)
        unet.evaluations = 1
        let (model, report) = try MethodSelection.train([example], classes: nil, forest: Self.forestOptions(), unet: unet, images: ["fib"])
        let set = try NeuralTrainingSet([example], classes: nil, slices: 1, validationFraction: unet.validationFraction)
        #expect(report.validationCounts == set.validationCounts)
        #expect(report.classes == set.classes)
        #expect(report.chosen == MethodSelection.choose(forest: report.forest.meanIoU, unet: report.unet.meanIoU))
        // Two steps of a tiny network cannot beat a forest on the phantom's clean phases.
        #expect(report.chosen == .forest, "forest \(report.forest.meanIoU), U-Net \(report.unet.meanIoU)")
        #expect(report.forest.meanIoU > 0.8)
        // The kept forest is exactly what `--method rf` trains from every label.
        guard case .forest(let forest) = model else { Issue.record("expected the forest"); return }
        let direct = try PixelClassifier.train([example], classes: nil, options: Self.forestOptions())
        #expect(forest == direct)
        #expect(report.reason.contains("kept the forest") && report.reason.contains("held-out mean IoU"))
    }

    @Test func tiesGoToTheForestAndTheBetterScoreWins() {
        #expect(MethodSelection.choose(forest: 0.7, unet: 0.7) == .forest)
        #expect(MethodSelection.choose(forest: 0.7, unet: 0.71) == .unet)
        #expect(MethodSelection.choose(forest: 0.71, unet: 0.7) == .forest)
    }

    @Test func aClassLabelledOnlyInTheHeldOutRowsIsRefused() throws {
        // 40 × 40, class 1 on the top 30 rows, class 2 only on the bottom 10: all of class 2 is held out.
        let width = 40, height = 40
        var pixels = [UInt16](repeating: 0, count: width * height)
        var labels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                pixels[y * width + x] = UInt16(y < 30 ? 100 : 900) + UInt16((x * 7 + y * 3) % 13)
                labels[y * width + x] = y < 30 ? 1 : 2
            }
        }
        let shape = Shape(width: width, height: height)
        let input = try PixelClassifierInput(name: "img", parts: [.uint16(Image(shape: shape, pixels: pixels))])
        let example = PixelClassifier.TrainingExample(input: input, labels: .uint8(Image(shape: shape, pixels: labels)), labelsName: "lab")
        #expect {
            _ = try MethodSelection.train([example], classes: nil, forest: Self.forestOptions(),
                                          unet: NeuralTrainingTests.smallOptions(steps: 1), images: ["img"])
        } throws: { error in
            "\(error)".contains("class 2=class 2 is labelled only in the held-out bottom rows")
        }
    }

    @Test func withoutAValidationShareThereIsNothingToCompareOn() throws {
        let (example, _) = try NeuralTrainingTests.phantomExample()
        var unet = NeuralTrainingTests.smallOptions(steps: 1)
        unet.validationFraction = 0
        #expect {
            _ = try MethodSelection.train([example], classes: nil, forest: Self.forestOptions(), unet: unet, images: [])
        } throws: { "\($0)".contains("validation share is 0") }
    }

    @Test func theSplitRowHoldsOutTheRequestedShareOfLabels() {
        // 10 × 10, every pixel labelled: 25 % → the bottom 3 rows (30 labels, the first whole-row count ≥ 25).
        let labels = [Int32](repeating: 1, count: 100)
        #expect(NeuralTrainingSet.validationSplitRow(labels, width: 10, height: 10, fraction: 0.25) == 7)
        #expect(NeuralTrainingSet.validationSplitRow(labels, width: 10, height: 10, fraction: 0) == 10)
        // Labels only in rows 0 and 1: holding out 50 % takes row 1 (and the empty rows below it).
        var sparse = [Int32](repeating: 0, count: 100)
        for x in 0..<10 { sparse[x] = 1; sparse[10 + x] = 2 }
        #expect(NeuralTrainingSet.validationSplitRow(sparse, width: 10, height: 10, fraction: 0.5) == 1)
    }
}
