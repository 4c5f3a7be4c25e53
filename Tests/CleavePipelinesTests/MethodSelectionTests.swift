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
        let set = try NeuralTrainingSet([example], classes: nil, slices: 1, validationFraction: unet.validationFraction,
                                        split: .blocks(side: unet.patchSize))
        #expect(report.validationCounts == set.validationCounts)
        #expect(report.classes == set.classes)
        #expect(report.chosen == MethodSelection.choose(forest: report.forest.meanIoU, unet: report.unet.meanIoU))
        // Two steps of a tiny network cannot beat a forest on the phantom's clean phases.
        #expect(report.chosen == .forest, "forest \(report.forest.meanIoU), U-Net \(report.unet.meanIoU)")
        #expect(report.forest.meanIoU > 0.6)
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
        // 64 × 64 in blocks of 16 (the U-Net's patch): class 2 only inside block (0, 0), which the lattice holds out.
        let width = 64, height = 64
        var pixels = [UInt16](repeating: 0, count: width * height)
        var labels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let inside = x < 16 && y < 16
                pixels[y * width + x] = UInt16(inside ? 900 : 100) + UInt16((x * 7 + y * 3) % 13)
                labels[y * width + x] = inside ? 2 : 1
            }
        }
        let shape = Shape(width: width, height: height)
        let input = try PixelClassifierInput(name: "img", parts: [.uint16(Image(shape: shape, pixels: pixels))])
        let example = PixelClassifier.TrainingExample(input: input, labels: .uint8(Image(shape: shape, pixels: labels)), labelsName: "lab")
        #expect {
            var unet = NeuralTrainingTests.smallOptions(steps: 1)
            unet.patchSize = 16
            _ = try MethodSelection.train([example], classes: nil, forest: Self.forestOptions(), unet: unet, images: ["img"])
        } throws: { error in
            "\(error)".contains("class 2=class 2 is labelled only in the held-out blocks")
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

    @Test func theBlockLatticeHoldsOutEveryMthBlockInEveryRowAndColumn() {
        let labels = [Int32](repeating: 1, count: 64 * 64)
        let mask = NeuralTrainingSet.validationMask(labels, width: 64, height: 64, fraction: 0.25, split: .blocks(side: 8))
        #expect(mask.filter { $0 }.count == 64 * 64 / 4)
        // Block row 0: block columns 0 and 4; block row 1: columns 1 and 5 (diagonal).
        #expect(mask[0] && mask[4 * 8] && !mask[1 * 8] && mask[8 * 64 + 1 * 8] && !mask[8 * 64])
        // Every block row and every block column holds some held-out block.
        for b in 0..<8 {
            #expect((0..<8).contains { mask[(b * 8) * 64 + $0 * 8] })
            #expect((0..<8).contains { mask[($0 * 8) * 64 + b * 8] })
        }
        let rows = NeuralTrainingSet.validationMask(labels, width: 64, height: 64, fraction: 0.25, split: .bottomRows)
        #expect(rows.firstIndex(of: true) == 48 * 64)
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
