import ArgumentParser
import CleaveCore
import CleaveFormats
import CleavePipelines
import Foundation

/// `cleave lithology LOWRES… --train-image L --train-labels H --out DIR`: region classes from a
/// high-resolution class map train a block classifier on the low-resolution scan, which maps
/// whole low-resolution fields and suggests where to scan at high resolution.
struct LithologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lithology",
        abstract: "Map porosity regions and fractures on a low-resolution scan, trained from a high-resolution class map of part of it.",
        discussion: """
        A large field scanned at low resolution does not resolve the pores; a high-resolution \
        scan of a sub-region does. This command derives region classes from the high-resolution \
        class map (--train-labels, e.g. a pixel classification with pore space as --pore-class), \
        one per block of --block high-resolution pixels:
          outside        at least half the block is empty space reaching the map's border
          fracture       elongated pores (elongation ≥ --fracture-elongation, major axis ≥ a block) \
        make up ≥ --fracture-share of the block
          high / low porosity   pore share of the block's sample pixels at or above / below the \
        threshold (--porosity-threshold; default: the median of the training blocks, so the two \
        classes split the training data in halves — the summary says which was used)
        It then trains a random forest on block features of the low-resolution image \
        (--train-image; the map covers it from --offset at --scale): grey statistics, gradients \
        and texture of each block plus grey statistics of its 3×3 and 5×5 block neighbourhoods \
        (non-local averages). Every IMAGE is mapped block by block; the simple baseline (each \
        block's grey mean against thresholds fitted on the same blocks) is mapped beside it. \
        With --truth (high-resolution class maps of the IMAGEs' fields, same scale) both are \
        scored: region-class accuracy per image and overall.

        Outputs in --out: per image <stem>-regions.tif (class per low-resolution pixel, 0 = \
        remainder), <stem>-regions.png (classes over the image, suggested targets as numbered \
        squares), <stem>-blocks.csv; targets.csv (where to scan at high resolution: the blocks whose 3×3 \
        neighbourhood lies inside the sample and holds the most region classes, then the most \
        uncertain); \
        summary.json (rules, threshold, training counts, scores).

        Example (a simulated ×4 low-resolution scan):
          cleave lithology low/0050.tif low/0100.tif --train-image low/0000.tif low/0200.tif \\
              --train-labels labels/0000.tif labels/0200.tif --scale 4 \\
              --truth labels/0050.tif labels/0100.tif --out litho
        """)

    @Argument(help: ArgumentHelp("Low-resolution images to map.", valueName: "image"))
    var images: [String]

    @Option(help: ArgumentHelp("Output folder.", valueName: "dir"))
    var out: String

    @Option(name: .customLong("train-image"), parsing: .upToNextOption, help: ArgumentHelp("Low-resolution image of a training field (one or more, paired in order with --train-labels).", valueName: "image"))
    var trainImages: [String] = []

    @Option(name: .customLong("train-labels"), parsing: .upToNextOption, help: ArgumentHelp("High-resolution class maps of those fields, in the same order.", valueName: "labels"))
    var trainLabels: [String] = []

    @Option(help: ArgumentHelp("High-resolution pixels per low-resolution pixel.", valueName: "n"))
    var scale: Int = 4

    @Option(help: ArgumentHelp("Where each map's first pixel lies in its low-resolution image, X,Y in low-resolution pixels.", valueName: "x,y"))
    var offset: String = "0,0"

    @Option(help: ArgumentHelp("Block side in high-resolution pixels (a multiple of --scale).", valueName: "px"))
    var block: Int = 64

    @Option(name: .customLong("pore-class"), help: ArgumentHelp("Class value of pore space in the maps.", valueName: "value"))
    var poreClass: Int = 1

    @Option(name: .customLong("porosity-threshold"), help: ArgumentHelp("Pore share at which a block is high porosity (default: the training blocks' median).", valueName: "f"))
    var porosityThreshold: Double?

    @Option(name: .customLong("fracture-elongation"), help: ArgumentHelp("Elongation √(λ1/λ2) from which a pore is a crack.", valueName: "e"))
    var fractureElongation: Double = 6

    @Option(name: .customLong("fracture-share"), help: ArgumentHelp("Share of a block's sample pixels in cracks that makes it a fracture block.", valueName: "f"))
    var fractureShare: Double = 0.02

    @Option(parsing: .upToNextOption, help: ArgumentHelp("High-resolution class maps of the IMAGEs' fields, in the same order, to score the maps.", valueName: "labels"))
    var truth: [String] = []

    @Option(help: ArgumentHelp("Suggested high-resolution targets per image.", valueName: "n"))
    var targets: Int = 5

    @Option(help: ArgumentHelp("Trees of the random forest.", valueName: "n"))
    var trees: Int = 100

    @Option(help: "Random seed; same seed, same map.")
    var seed: UInt64 = 0

    @OptionGroup var memory: MemoryBudgetOption

    func lithologyOptions() throws -> LithologyOptions {
        var o = LithologyOptions()
        o.scale = scale; o.blockSize = block; o.poreClass = poreClass; o.porosityThreshold = porosityThreshold
        o.fractureElongation = fractureElongation; o.fractureShare = fractureShare; o.treeCount = trees; o.seed = seed
        o.targetCount = targets
        do { try o.validate() } catch { throw ValidationError(CommandLineNames.message(for: error, command: "lithology")) }
        return o
    }

    func run() throws {
        let options = try lithologyOptions()
        guard !trainImages.isEmpty, trainImages.count == trainLabels.count else {
            throw ValidationError("give --train-image and --train-labels in pairs (got \(trainImages.count) and \(trainLabels.count))")
        }
        guard truth.isEmpty || truth.count == images.count else {
            throw ValidationError("--truth: give one class map per image (\(images.count) images, \(truth.count) maps)")
        }
        let parts = offset.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let ox = parts[0], let oy = parts[1], ox >= 0, oy >= 0 else {
            throw ValidationError("--offset \(offset): expected X,Y in low-resolution pixels, e.g. 120,80")
        }
        memory.apply()
        let all = trainImages + trainLabels + images + truth
        let sizes = try all.map { path -> MemoryEstimate.Size in
            do { return MemoryEstimate.Size(try ImageFile.info(path)) } catch { throw CleaveError("\(path): cannot read image: \(error)") }
        }
        // Two float copies (image, gradient) of the largest plane plus the maps as 16-bit values and components.
        let largest = sizes.map(\.sampleCount).max() ?? 0
        try MemoryEstimate.check(largest * 4 * 4 + sizes.reduce(0) { $0 + $1.sampleCount } * 2,
                                 for: "lithology on \(all.count) images")
        let progress = ProgressBar.make()

        var pairs: [LithologyTrainingPair] = []
        for (image, labels) in zip(trainImages, trainLabels) {
            pairs.append(LithologyTrainingPair(image: try Self.grey(image), imageName: image, labels: try Self.classMap(labels),
                                               labelsName: labels, offsetX: ox, offsetY: oy))
        }
        let model = try Lithology.train(pairs, options: options, progress: progress)
        for path in images { _ = try Self.grey(path) }  // every image readable before anything is written
        for path in truth { _ = try Self.classMap(path) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let counts = LithologyClass.allCases.compactMap { c in model.trainingCounts[c.rawValue].map { "\(c.name) \($0)" } }
        print("region classes from \(pairs.count) map\(pairs.count == 1 ? "" : "s"): \(counts.joined(separator: ", ")) blocks; porosity threshold \(String(format: "%.3f", model.porosityThreshold)) (\(model.thresholdSource))")

        var allTargets: [(image: String, targets: [LithologyTarget])] = []
        var total = LithologyScore()
        var perImage: [[String: Any]] = []
        for (i, path) in images.enumerated() {
            progress.report(i, images.count, "mapping")
            let image = try Self.grey(path)
            let map = Lithology.map(image, model: model)
            let found = Lithology.targets(map, count: options.targetCount)
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            try LithologyOutputs.write(map, image: image, targets: found, stem: stem, directory: out)
            allTargets.append((path, found))
            var entry: [String: Any] = ["image": path, "blocks": map.classes.count,
                                        "classBlocks": Dictionary(grouping: map.classes, by: { $0 }).mapValues(\.count).reduce(into: [String: Int]()) { $0[LithologyClass(rawValue: $1.key)?.name ?? "\($1.key)"] = $1.value }]
            var line = "\(path): \(map.classes.count) blocks"
            if !truth.isEmpty {
                let score = Lithology.score(map, truth: try Self.classMap(truth[i]), model: model)
                total.merge(score)
                entry["forestAccuracy"] = score.forestAccuracy; entry["baselineAccuracy"] = score.baselineAccuracy; entry["scoredBlocks"] = score.blocks
                line += String(format: "; accuracy %.3f (grey-mean baseline %.3f, %d blocks)", score.forestAccuracy, score.baselineAccuracy, score.blocks)
            }
            perImage.append(entry)
            print(line)
        }
        progress.report(images.count, images.count, "mapped")
        try LithologyOutputs.writeTargets(allTargets, to: (out as NSString).appendingPathComponent("targets.csv"))

        var summary: [String: Any] = [
            "cleaveVersion": cleaveVersion, "scale": options.scale, "blockSize": options.blockSize,
            "lowResolutionBlock": options.lowResolutionBlock, "poreClass": options.poreClass,
            "porosityThreshold": model.porosityThreshold, "porosityThresholdSource": model.thresholdSource,
            "rules": [
                "outside: at least half the block is pore space connected to a run of ≥ 90 % pore blocks that reaches the map's border",
                "fracture: pores with elongation ≥ \(options.fractureElongation) and a major axis ≥ one block make up ≥ \(options.fractureShare) of the block's sample pixels",
                "high porosity: pore share of the block's sample pixels ≥ the threshold; low porosity: below it",
            ],
            "classes": LithologyClass.allCases.map { ["value": Int($0.rawValue), "name": $0.name] },
            "trainingBlocks": Dictionary(uniqueKeysWithValues: model.trainingCounts.map { (LithologyClass(rawValue: $0.key)?.name ?? "\($0.key)", $0.value) }),
            "features": Lithology.featureNames, "trees": options.treeCount, "seed": options.seed,
            "baseline": ["classesDarkestFirst": model.baseline.classes.map { Int($0) }, "thresholds": model.baseline.thresholds],
            "images": perImage,
        ]
        if total.blocks > 0 {
            summary["accuracy"] = ["forest": total.forestAccuracy, "baseline": total.baselineAccuracy, "blocks": total.blocks,
                                   "perClass": Dictionary(uniqueKeysWithValues: total.perClass.map { key, v in
                                       (LithologyClass(rawValue: key)?.name ?? "\(key)", ["blocks": v.blocks, "forest": v.forest, "baseline": v.baseline])
                                   })]
            print(String(format: "all images: accuracy %.3f, grey-mean baseline %.3f (%d blocks)", total.forestAccuracy, total.baselineAccuracy, total.blocks))
            for c in LithologyClass.allCases {
                guard let v = total.perClass[c.rawValue] else { continue }
                print("  " + c.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                      + String(format: " %5d blocks  forest %.3f  baseline %.3f", v.blocks, Double(v.forest) / Double(v.blocks), Double(v.baseline) / Double(v.blocks)))
            }
        }
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("summary.json")), options: .atomic)
        print("wrote \(out)/ (regions, targets.csv, summary.json)")
    }

    /// One grey plane, finite.
    static func grey(_ path: String) throws -> Image<Float> {
        let image = try ImageFile.readFinite(path)
        guard image.shape.depth == 1 else { throw LithologyError.notAPlane(path: path, reason: "a stack of \(image.shape.depth) planes; give one plane (cleave convert can split a stack)") }
        guard image.shape.channels == 1 else { throw LithologyError.notAPlane(path: path, reason: "\(image.shape.channels) colour channels; give a grey image") }
        return image.floatImage()
    }

    /// A class-index map (integer values 0…65535).
    static func classMap(_ path: String) throws -> Image<UInt16> {
        let image = try ImageFile.readFinite(path)
        guard image.shape.depth == 1, image.shape.channels == 1 else {
            throw LithologyError.notAPlane(path: path, reason: "a class map must be one plane with one channel (got \(image.shape))")
        }
        if image.pixelType == .float32 {
            let values = image.floatImage().pixels
            if let bad = values.firstIndex(where: { $0 < 0 || $0 > 65535 || $0 != $0.rounded() }) {
                throw LithologyError.notAPlane(path: path, reason: "class values must be whole numbers 0…65535, found \(values[bad]) at pixel \(bad)")
            }
        }
        return image.converted(to: UInt16.self)
    }
}
