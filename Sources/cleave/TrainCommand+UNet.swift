import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines

extension TrainCommand {
    /// The U-Net's options from the U-Net flags.
    func unetTrainingOptions() throws -> UNetTrainingOptions {
        var options = try unet.trainingOptions(seed: seed)
        options.depth = unetNetwork.depth
        options.baseWidth = unetNetwork.width
        options.slices = unetNetwork.slices
        try options.validate()
        return options
    }

    /// Refuses, before reading, a U-Net training set that would not fit the memory budget.
    func checkUNetMemory(_ options: UNetTrainingOptions) throws {
        var need = 0
        for (spec, labelPath) in zip(image, labels) {
            let infos = try spec.split(separator: ",").map { try ImageFile.info(String($0)) }
            let channels = infos.reduce(0) { $0 + $1.channels } * options.slices
            need += MemoryEstimate.unetTrain(infos.map(MemoryEstimate.Size.init), labels: MemoryEstimate.Size(try ImageFile.info(labelPath)),
                                             networkChannels: channels, largestSide: max(infos[0].width, infos[0].height),
                                             batch: options.batchSize, patch: options.patchSize, width: options.baseWidth)
        }
        try MemoryEstimate.check(need, for: "U-Net training on \(image.count == 1 ? image[0] : "\(image.count) images")")
    }

    /// The training images with their labels, read in order.
    func readExamples() throws -> [PixelClassifier.TrainingExample] {
        try zip(image, labels).map { spec, labelPath in
            PixelClassifier.TrainingExample(input: try readInput(spec), labels: try ImageFile.readFinite(labelPath), labelsName: labelPath)
        }
    }

    /// `cleave train --method unet`.
    func runUNet() throws {
        let options = try unetTrainingOptions()
        let classList = try readClassList(file: classes, specifications: classSpecs)
        try checkUNetMemory(options)
        let examples = try readExamples()
        let start = Date()
        let cpu0 = UNetExperiment.processCPUSeconds()
        let set = try NeuralTrainingSet(examples, classes: classList, slices: options.slices,
                                        validationFraction: options.validationFraction, percentiles: options.percentiles,
                                        flattening: options.flattening)
        logLine("training pixels per class: \(zip(set.classes, set.trainingCounts).map { "\($0.value): \($1)" }.joined(separator: ", ")); validation: \(set.validationCounts.map(String.init).joined(separator: ", "))")
        let trained = try UNetTrainer.train(set, options: options, images: image,
                                            checkpoint: UNetTrainer.CheckpointPolicy(path: unetNetwork.checkpoint, resume: unetNetwork.resume),
                                            log: logLine)
        try trained.write(path: model)
        printUNetSummary(trained)
        print(String(format: "time: %.1f s (CPU %.1f s)", Date().timeIntervalSince(start), UNetExperiment.processCPUSeconds() - cpu0))
    }

    func printUNetSummary(_ trained: UNetSegmenterModel) {
        let a = trained.architecture
        print("model: \(model) (U-Net depth \(a.depth), width \(a.baseWidth), \(trained.input.detectorChannels) channel(s) × \(trained.input.slices) slice(s))")
        print("classes: \(trained.classes.map(\.description).joined(separator: ", "))")
        print("steps: \(trained.training.steps), kept step \(trained.training.bestStep)")
        if let v = trained.training.validationMeanIoU {
            print(String(format: "validation mean IoU: %.4f (", v) + (trained.training.validationIoU ?? []).map { $0.isNaN ? "–" : String(format: "%.4f", $0) }.joined(separator: ", ") + ")")
        }
    }

    /// `cleave train --method auto`: both methods on the same held-out rows; the better one is written.
    func runAuto() throws {
        let unetOptions = try unetTrainingOptions()
        let classList = try readClassList(file: classes, specifications: classSpecs)
        try checkForestMemory(bank: try filterBank())
        try checkUNetMemory(unetOptions)
        let examples = try readExamples()
        let start = Date()
        let cpu0 = UNetExperiment.processCPUSeconds()
        let (trained, report) = try MethodSelection.train(
            examples, classes: classList, forest: try forestTrainingOptions(), unet: unetOptions, images: image,
            budgetMinutes: unet.minutes, progress: ProgressBar.make(), log: logLine)
        switch trained {
        case .forest(let m): try m.write(path: model)
        case .unet(let m): try m.write(path: model)
        }
        func cell(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
        print("method: \(report.chosen.rawValue) — \(report.reason)")
        print("held-out IoU per class (" + report.classes.map(\.description).joined(separator: ", ") + "), pixels " +
              report.validationCounts.map(String.init).joined(separator: ", "))
        print(String(format: "  forest: mean %.3f  (", report.forest.meanIoU) + report.forest.iou.map(cell).joined(separator: ", ") +
              String(format: ")  %.1f s", report.forest.seconds))
        print(String(format: "  U-Net:  mean %.3f  (", report.unet.meanIoU) + report.unet.iou.map(cell).joined(separator: ", ") +
              String(format: ")  %.1f s", report.unet.seconds))
        switch trained {
        case .forest(let m):
            print("model: \(model) (random forest, \(m.forest.treeCount) trees, \(m.forest.featureCount) features)")
            print("classes: \(m.classes.map(\.description).joined(separator: ", "))")
        case .unet(let m):
            printUNetSummary(m)
        }
        print(String(format: "time: %.1f s (CPU %.1f s)", Date().timeIntervalSince(start), UNetExperiment.processCPUSeconds() - cpu0))
    }
}
