import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleavePipelines

/// `cleave experiment`: train a grid of U-Net variants and compare them.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Train a grid of U-Net variants on the same labels and compare them in one table.",
        discussion: """
        The design study before committing to a model: does a second detector help? neighbouring \
        slices? a deeper network? Every combination of --depths × --widths × --channels × --slices \
        is trained like `cleave train --method unet` (same labels, same seed, same validation split) \
        and scored on the validation split and on test planes:
          --truth T       (one per --image) full truth of a training stack: every plane without \
        training labels is a test plane;
          --test-image I --test-labels L   separate test images with their labels (0 = not scored).

        Budget: --steps N per variant, or --minutes M for the whole grid (shared equally). \
        --channels 1,2 uses the first 1 and the first 2 channels of each image (e.g. one or both \
        detectors). Writes DIR/experiment.csv (per variant: steps, wall and CPU seconds, validation \
        mIoU and per-class IoU, test mIoU, accuracy, per-class IoU and Dice) and prints the table.

        Example (synthetic FIB-SEM volume, one vs two detectors, one vs three slices):
          cleave sample --kind fibsem --out fib --seed 2
          cleave experiment --image fib/detector1.tif,fib/detector2.tif --labels fib/train-labels.tif \\
                            --truth fib/truth/labels.tif --classes fib/classes.csv \\
                            --channels 1,2 --slices 1,3 --steps 300 --out fib-experiment
        """)

    @Option(name: .long, help: ArgumentHelp("Training image; repeat for several. Comma-separate co-registered channels.", valueName: "IMG[,IMG…]"))
    var image: [String] = []

    @Option(name: .long, help: ArgumentHelp("Label image for the --image at the same position (0 = unlabelled).", valueName: "LABELS"))
    var labels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Full truth for the --image at the same position; its planes without training labels are test planes.", valueName: "TRUTH"))
    var truth: [String] = []

    @Option(name: .customLong("test-image"), help: ArgumentHelp("A separate test image (comma-separated channels); repeat for several.", valueName: "IMG[,IMG…]"))
    var testImage: [String] = []

    @Option(name: .customLong("test-labels"), help: ArgumentHelp("Labels of the --test-image at the same position (0 = not scored).", valueName: "LABELS"))
    var testLabels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Class list file (JSON or CSV, as for `cleave train`).", valueName: "FILE"))
    var classes: String?

    @Option(name: .customLong("class"), help: ArgumentHelp("A class as VALUE=NAME or VALUE=NAME:#rrggbb; repeat per class.", valueName: "SPEC"))
    var classSpecs: [String] = []

    @Option(name: .long, help: ArgumentHelp("U-Net depths to try.", valueName: "LIST"))
    var depths = String(UNetCommonOptions.defaults.depth)

    @Option(name: .long, help: ArgumentHelp("Base widths to try.", valueName: "LIST"))
    var widths = String(UNetCommonOptions.defaults.baseWidth)

    @Option(name: .long, help: ArgumentHelp("Numbers of input channels to try (the first N of each image; default: all).", valueName: "LIST"))
    var channels: String?

    @Option(name: .long, help: ArgumentHelp("Neighbouring slices to try (1, 3, 5).", valueName: "LIST"))
    var slices = "1"

    @Option(name: .long, help: "Output folder for experiment.csv (created if needed).")
    var out: String

    @Option(name: .long, help: "Seed of every variant (same patches and initialisation scheme).")
    var seed: UInt64 = 0

    @OptionGroup(title: "U-Net training (per variant; --minutes is for the whole grid)")
    var unet: UNetCommonOptions

    @OptionGroup var memory: MemoryBudgetOption

    func validate() throws {
        if image.isEmpty { throw ValidationError("Give at least one --image with its --labels.") }
        if image.count != labels.count { throw ValidationError("Got \(image.count) --image and \(labels.count) --labels; give one label image per training image.") }
        if !truth.isEmpty && truth.count != image.count { throw ValidationError("Give one --truth per --image (or none).") }
        if testImage.count != testLabels.count { throw ValidationError("Got \(testImage.count) --test-image and \(testLabels.count) --test-labels.") }
        if classes != nil && !classSpecs.isEmpty { throw ValidationError("Use either --classes FILE or --class flags, not both.") }
    }

    static func list(_ text: String, option: String) throws -> [Int] {
        let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = values.compactMap { Int($0) }
        guard !parsed.isEmpty, parsed.count == values.count else { throw ValidationError("--\(option) must be a comma-separated list of integers, got '\(text)'.") }
        return parsed
    }

    /// Refuses, before reading, images whose largest variant would not fit the memory budget
    /// (each variant trains on every training image and predicts every test image).
    func checkMemory(_ options: UNetTrainingOptions) throws {
        memory.apply()
        let width = try Self.list(widths, option: "widths").max() ?? options.baseWidth
        let slicesMax = try Self.list(slices, option: "slices").max() ?? 1
        var need = 0
        for (spec, labelPath) in zip(image + testImage, labels + testLabels) {
            let infos = try spec.split(separator: ",").map { try ImageFile.info(String($0)) }
            need += MemoryEstimate.unetTrain(infos.map(MemoryEstimate.Size.init), labels: MemoryEstimate.Size(try ImageFile.info(labelPath)),
                                             networkChannels: infos.reduce(0) { $0 + $1.channels } * slicesMax,
                                             largestSide: max(infos[0].width, infos[0].height),
                                             batch: options.batchSize, patch: options.patchSize, width: width)
        }
        try MemoryEstimate.check(need, for: "the U-Net experiment on \(image.count + testImage.count) image(s)")
    }

    func run() throws {
        var options = try unet.trainingOptions(seed: seed)
        let classList = try readClassList(file: classes, specifications: classSpecs)
        try checkMemory(options)
        var examples: [NeuralTrainingSet.Example] = []
        var tests: [UNetExperiment.TestImage] = []
        for (k, (spec, labelPath)) in zip(image, labels).enumerated() {
            let input = try readInput(spec)
            let labelImage = try ImageFile.readFinite(labelPath)
            examples.append(NeuralTrainingSet.Example(input: input, labels: labelImage, labelsName: labelPath))
            if k < truth.count {
                let truthImage = try ImageFile.readFinite(truth[k])
                guard truthImage.shape.singleChannel == input.spatialShape else {
                    throw CleaveError("\(truth[k]): truth is \(truthImage.shape), but \(spec) is \(input.spatialShape)")
                }
                let trainingValues = try UNetExperiment.labelValues(labelImage, name: labelPath)
                let n = input.spatialShape.planeSize
                let planes = (0..<input.spatialShape.depth).filter { z in !trainingValues[(z * n)..<((z + 1) * n)].contains { $0 != 0 } }
                guard !planes.isEmpty else { throw CleaveError("\(truth[k]): every plane of \(labelPath) is labelled, so no plane is left to test on") }
                tests.append(.init(input: input, truth: try UNetExperiment.labelValues(truthImage, name: truth[k]), planes: planes))
            }
        }
        for (spec, labelPath) in zip(testImage, testLabels) {
            let input = try readInput(spec)
            let labelImage = try ImageFile.readFinite(labelPath)
            guard labelImage.shape.singleChannel == input.spatialShape else {
                throw CleaveError("\(labelPath): labels are \(labelImage.shape), but \(spec) is \(input.spatialShape)")
            }
            tests.append(.init(input: input, truth: try UNetExperiment.labelValues(labelImage, name: labelPath),
                               planes: Array(0..<input.spatialShape.depth)))
        }
        let channelCounts = try channels.map { try Self.list($0, option: "channels") } ?? [examples[0].input.channelCount]
        let variants = UNetExperiment.grid(depths: try Self.list(depths, option: "depths"), widths: try Self.list(widths, option: "widths"),
                                           channels: channelCounts, slices: try Self.list(slices, option: "slices"))
        if let minutes = options.minutes { options.minutes = minutes / Double(variants.count) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let rows = try UNetExperiment.run(examples, classes: classList, tests: tests, variants: variants, options: options, log: logLine)
        let path = (out as NSString).appendingPathComponent("experiment.csv")
        try Data(UNetExperiment.csv(rows).utf8).write(to: URL(fileURLWithPath: path))
        print(UNetExperiment.table(rows), terminator: "")
        print("wrote \(path)")
    }
}
