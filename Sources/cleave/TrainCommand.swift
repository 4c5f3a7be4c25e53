import ArgumentParser
import Foundation
import CleaveCore
import CleaveFormats
import CleaveFeatures
import CleaveLearning
import CleavePipelines

/// `cleave train`: filter-bank features + random forest from labelled images → a model file.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a pixel classifier (filter-bank features + random forest) from labelled images.",
        discussion: """
        Give each training image with its label image (pairs in order). In a label image 0 means \
        unlabelled and every other value is a class, so a few strokes per class are enough; dense \
        label images work too (use --pixels-per-class to sample them). Prediction writes the same \
        label values back. Co-registered channels (two detectors, BSE + element maps) are given \
        as one comma-separated --image; every training and prediction image needs the same channels.

        Before features, each image's grey values are mapped by its own 0.1 and 99.9 percentiles \
        (--normalize), so images of another bit depth, exposure or contrast than the training \
        images are classified alike. Features: the ilastik bank (Gaussian, Laplacian, gradient \
        magnitude, difference of Gaussians, structure-tensor and Hessian eigenvalues at scales \
        0.3–10 px) — see --bank / --features / --scales. The forest follows scikit-learn's \
        RandomForestClassifier (√F features per split, bootstrap, fully grown trees) with 50 trees. \
        Every default was chosen on the whole real-data suite, five SEM sets and an XRM set, \
        leave-one-set-out (bench/suite/RESULTS.md). The model file (JSON) records the classes, the \
        normalisation, the bank, the channel count and the forest; it is written only when \
        training succeeded.

        Examples:
          cleave train --image slice0.tif --labels strokes0.tif --model rock.model.json \\
                       --class 1=pore --class 2=quartz --class 3=clay:#00ff00
          cleave train --image a.tif --labels a-labels.tif --image b.tif --labels b-labels.tif \\
                       --model m.json --classes classes.csv --pixels-per-class 2000 --seed 7
          cleave train --image bse.tif,si.tif --labels strokes.tif --model multi.json

        U-Net (--method unet): a convolutional network trained on patches of the labelled planes \
        (label 0 ignored, so scribbles and dense labels both work). Its input is every channel × \
        --slices neighbouring planes (2.5D), each channel scaled by the 1–99 % window of the \
        training images (recorded in the model). The bottom rows of every labelled plane (25 % of \
        its labels, --validation) are held out; the weights with the best validation mean IoU are \
        kept. Augmentation (flips, rotations, intensity jitter, shading, curtaining stripes, noise; \
        --augment) makes it robust to FIB-SEM and XRM artefacts without cleaning the images first. \
        Loss: class-weighted cross-entropy + soft Dice. Budget: --steps N or --minutes M. `cleave \
        predict` recognises the model kind. `cleave experiment` compares variants.
          cleave train --method unet --image a.tif --labels a-labels.tif --model unet.json --minutes 8
          cleave train --method unet --image ch1.tif,ch2.tif --labels train-labels.tif \
                       --slices 3 --steps 400 --seed 1 --model fib.json
        """)

    @Option(name: .long, help: ArgumentHelp("rf: filter bank + random forest (default); unet: a U-Net (options marked U-Net); auto: train both, keep the better on held-out labels.",
                                            discussion: "auto holds out every 4th block (--validation 0.25; blocks of --patch-size pixels in a diagonal lattice, so every layer of a layered sample is represented) of every labelled plane, trains the forest on the other labels and scores it in those blocks, trains the U-Net with the same blocks held out (--steps / --minutes; with --minutes the budget covers both), and writes the one with the higher held-out mean IoU (a tie: the forest, retrained on every label). It prints both scores per class and why it chose."))
    var method: TrainingMethod = .rf

    @OptionGroup(title: "U-Net network")
    var unetNetwork: UNetNetworkOptions

    @OptionGroup(title: "U-Net training")
    var unet: UNetCommonOptions

    @Option(name: .long, help: ArgumentHelp("Training image; repeat for several. Comma-separate co-registered channels.", valueName: "IMG[,IMG…]"))
    var image: [String] = []

    @Option(name: .long, help: ArgumentHelp("Label image for the --image at the same position (0 = unlabelled).", valueName: "LABELS"))
    var labels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where to write the model (JSON).", valueName: "MODEL"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("Class list: JSON ([{\"value\":1,\"name\":\"pore\",\"colour\":\"#0000ff\"}] or {\"1\":\"pore\"}) or CSV (value,name[,#rrggbb]).", valueName: "FILE"))
    var classes: String?

    @Option(name: .customLong("class"), help: ArgumentHelp("A class as VALUE=NAME or VALUE=NAME:#rrggbb; repeat per class.", valueName: "SPEC"))
    var classSpecs: [String] = []

    @Option(name: .long, help: "Number of trees (default 50: as accurate as 100 on the real-data suite, half the prediction time).")
    var trees = RandomForestConfiguration.pixelClassifierDefault.treeCount

    @Option(name: .long, help: "Deepest tree level (default: grow until pure).")
    var maxDepth: Int?

    @Option(name: .long, help: "Minimum training pixels per leaf.")
    var minSamplesLeaf = 1

    @Option(name: .long, help: "Candidate features per split: sqrt, log2, all, a count, or a fraction in (0, 1].")
    var maxFeatures = "sqrt"

    @Flag(name: .long, help: "Weight classes inversely to their labelled pixel counts (scikit-learn's class_weight=\"balanced\").")
    var balanced = false

    @Option(name: .long, help: "Seed of the pixel sampling and the forest.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Use at most N randomly chosen labelled pixels per class per image (seeded).")
    var pixelsPerClass: Int?

    @Option(name: .long, help: ArgumentHelp("Feature bank: \(FilterBank.namedBanks.joined(separator: ", ")) (default = ilastik).", discussion: "ilastik: Gaussian, Laplacian, gradient magnitude, difference of Gaussians, structure-tensor and Hessian eigenvalues at σ 0.3–10 px (49 features per channel); chosen on the whole real-data suite. windows: Gaussian derivatives plus local std/min/max in small windows (37). fast: 9 features. full: every feature (65)."))
    var bank = "default"

    @Option(name: .long, help: ArgumentHelp("Instead of --bank: comma-separated features (\(FilterFeature.allCases.map(\.rawValue).joined(separator: ", "))).", valueName: "LIST"))
    var features: String?

    @Option(name: .long, help: ArgumentHelp("Scales (Gaussian sigma, pixels) for --features, comma-separated.", valueName: "LIST"))
    var scales: String?

    @Flag(name: .customLong("3d"), help: "Use 3D filters on stacks (default: plane by plane).")
    var threeD = false

    @Option(name: .long, help: "Block side (pixels) for feature computation; memory grows with its square.")
    var blockSize = 1024

    @Option(name: .long, help: ArgumentHelp("How each image's grey values are mapped before features: percentile[:LOW:HIGH] (0.1–99.9 unless given: each image's own percentiles → −1…+1), type (÷ 255 or 65535), none.",
                                            discussion: "Recorded in the model and repeated by `cleave predict`. percentile makes bit depth, exposure and contrast differences between images irrelevant, assuming each image shows its phases over a similar grey range; type handles bit depth only; none uses the stored values (the model then refuses images of another pixel type).", valueName: "MODE"))
    var normalize = IntensityNormalization.default.description

    @OptionGroup var memory: MemoryBudgetOption

    func validate() throws {
        if image.isEmpty { throw ValidationError("Give at least one --image with its --labels.") }
        if image.count != labels.count {
            throw ValidationError("Got \(image.count) --image and \(labels.count) --labels; give one label image per training image, in the same order.")
        }
        if trees < 1 { throw ValidationError("--trees must be at least 1, got \(trees).") }
        if let maxDepth, maxDepth < 1 { throw ValidationError("--max-depth must be at least 1, got \(maxDepth).") }
        if minSamplesLeaf < 1 { throw ValidationError("--min-samples-leaf must be at least 1, got \(minSamplesLeaf).") }
        if let pixelsPerClass, pixelsPerClass < 1 { throw ValidationError("--pixels-per-class must be at least 1, got \(pixelsPerClass).") }
        if blockSize < 16 { throw ValidationError("--block-size must be at least 16, got \(blockSize).") }
        if classes != nil && !classSpecs.isEmpty { throw ValidationError("Use either --classes FILE or --class flags, not both.") }
        if scales != nil && features == nil { throw ValidationError("--scales goes with --features.") }
        _ = try parsedMaxFeatures()
        do { _ = try IntensityNormalization(parsing: normalize) } catch { throw ValidationError("--normalize: \(error)") }
    }

    func parsedMaxFeatures() throws -> MaxFeatures {
        switch maxFeatures.lowercased() {
        case "sqrt": return .sqrt
        case "log2": return .log2
        case "all": return .all
        default:
            if let n = Int(maxFeatures), n >= 1 { return .count(n) }
            if let x = Double(maxFeatures), x > 0, x <= 1 { return .fraction(x) }
            throw ValidationError("--max-features must be sqrt, log2, all, a count ≥ 1 or a fraction in (0, 1], got '\(maxFeatures)'.")
        }
    }

    func filterBank() throws -> FilterBank {
        if let features {
            let names = features.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            var scaleList = FilterBank.defaultScales
            if let scales {
                scaleList = try scales.split(separator: ",").map { text -> Double in
                    guard let v = Double(text.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("--scales: '\(text)' is not a number.")
                    }
                    return v
                }
            }
            return try FilterBank(features: names, scales: scaleList, threeD: threeD)
        }
        return try FilterBank.named(bank, threeD: threeD)
    }

    /// The forest's options from the forest flags.
    func forestTrainingOptions() throws -> PixelClassifier.TrainingOptions {
        let forest = RandomForestConfiguration(
            treeCount: trees, maxFeatures: try parsedMaxFeatures(), maxDepth: maxDepth, minSamplesLeaf: minSamplesLeaf,
            classWeighting: balanced ? .balanced : .none, seed: seed)
        return PixelClassifier.TrainingOptions(bank: try filterBank(), forest: forest, pixelsPerClass: pixelsPerClass, blockSize: blockSize,
                                               intensityNormalization: try IntensityNormalization(parsing: normalize))
    }

    /// Refuses, before reading, training images whose features would not fit the memory budget.
    func checkForestMemory(bank: FilterBank) throws {
        var examples: [(sizes: [MemoryEstimate.Size], labels: MemoryEstimate.Size, featureCount: Int)] = []
        for (spec, labelPath) in zip(image, labels) {
            let infos = try spec.split(separator: ",").map { try ImageFile.info(String($0)) }
            examples.append((infos.map(MemoryEstimate.Size.init), MemoryEstimate.Size(try ImageFile.info(labelPath)),
                             bank.featureCount(channelCount: infos.reduce(0) { $0 + $1.channels })))
        }
        try MemoryEstimate.check(MemoryEstimate.train(examples, blockSize: blockSize), for: "training on \(image.count == 1 ? image[0] : "\(image.count) images")")
    }

    func run() throws {
        memory.apply()
        switch method {
        case .unet: try runUNet(); return
        case .auto: try runAuto(); return
        case .rf: break
        }
        let classList = try readClassList(file: classes, specifications: classSpecs)
        let options = try forestTrainingOptions()
        try checkForestMemory(bank: options.bank)
        let examples = try readExamples()
        let start = Date()
        let trained = try PixelClassifier.train(examples, classes: classList, options: options, progress: ProgressBar.make())
        try trained.write(path: model)
        let seconds = Date().timeIntervalSince(start)
        let used = trained.training.usedPixels.reduce(0, +)
        print("model: \(model)")
        print("classes: \(trained.classes.map(\.description).joined(separator: ", "))")
        print("training pixels: \(used) (\(zip(trained.classes, trained.training.usedPixels).map { "\($0.value): \($1)" }.joined(separator: ", ")))")
        print("features: \(trained.forest.featureCount) (\(options.bank)), intensity normalisation \(trained.intensityNormalization)")
        if let oob = trained.forest.outOfBagAccuracy { print(String(format: "out-of-bag accuracy: %.4f", oob)) }
        print(String(format: "time: %.2f s", seconds))
    }
}

/// Reads `a.tif[,b.tif…]` as one multi-channel input.
func readInput(_ spec: String) throws -> PixelClassifierInput {
    let paths = spec.split(separator: ",").map(String.init)
    guard !paths.isEmpty else { throw ValidationError("Empty image name '\(spec)'.") }
    let parts = try paths.map { try ImageFile.readFinite($0) }
    return try PixelClassifierInput(name: spec, parts: parts, partNames: paths)
}
