import ArgumentParser
import CleaveCore
import CleaveFormats
import CleaveLearning
import CleavePipelines
import Foundation

/// `cleave transfer MAP PLANE --out DIR --predict SLICES…`: a 2D map's classes become training
/// labels on a registered plane; the trained forest classifies the other slices.
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Register a class map to a plane, train a pixel classifier from it and classify other slices (3D mineralogy from a 2D map).",
        discussion: """
        1. Registers MAP to PLANE exactly as `cleave register` (same options, same refusals, same \
        outputs in --out). 2. The registered classes become training labels on PLANE, cleaned of \
        what the map and the registration cannot vouch for: a pixel trains only if its class fills \
        the (2r+1)² square around it, r = --erode-factor × (registration uncertainty + half a map \
        pixel on the plane), so stray map pixels and bumps along borders narrower than that do not \
        teach, while the edges of wider regions still do; and pixels within ⌊--erode-factor × \
        uncertainty⌋ px of a border between two classes are left out (none for a sub-pixel \
        registration). 3. Trains the random forest on PLANE (the `cleave train` defaults; \
        --pixels-per-class labelled pixels per class sampled). 4. Classifies every --predict image \
        as `cleave predict` does (labels, probabilities, uncertainty, overlay) and prints the phase \
        fractions per image and over all of them, with 95 % intervals (--fractions chooses the estimator).

        Outputs in --out: the registration's files, training-labels.tif (label values, 0 = \
        unlabelled), model.json (use with `cleave predict`), per image <stem>-labels.tif, \
        -probabilities.tif, -uncertainty.tif, -overlay.png, class-fractions.csv (per image and class: \
        pixels, the estimate with its interval, every estimator's value, the assumption checked) and \
        class-fractions.json (the same plus the pooled estimate over all images).

        Example:
          cleave transfer eds-map.tif slices/0000.tif --predict slices/0050.tif slices/0100.tif --out mineralogy
        """)

    @Argument(help: "Class map (integer labels, 0 = no data), e.g. a mineral map.")
    var map: String

    @Argument(help: ArgumentHelp("The plane the map shows (grey image; a stack with --plane).", valueName: "plane"))
    var planeImagePath: String

    @Option(help: ArgumentHelp("Output folder.", valueName: "dir"))
    var out: String

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Images (slices) to classify with the trained model.", valueName: "image"))
    var predict: [String] = []

    @OptionGroup var registration: RegistrationFlags

    @OptionGroup var fractionOptions: FractionOptions

    @Option(name: .customLong("erode-factor"), help: ArgumentHelp("Scales the cleaning of the map's classes: the opening's radius in units of (uncertainty + half a map pixel) and the border strip in units of the uncertainty; 0 keeps every pixel.", valueName: "f"))
    var erodeFactor: Double = 1

    @Option(name: .customLong("pixels-per-class"), help: ArgumentHelp("Labelled pixels per class sampled for training.", valueName: "n"))
    var pixelsPerClass: Int = 2000

    @Option(help: ArgumentHelp("Seed of the chance test, the pixel sampling and the forest.", valueName: "n"))
    var seed: UInt64 = 1

    func validate() throws {
        guard erodeFactor >= 0 && erodeFactor.isFinite else { throw ValidationError("--erode-factor must be 0 or more, got \(erodeFactor).") }
        guard pixelsPerClass >= 1 else { throw ValidationError("--pixels-per-class must be at least 1, got \(pixelsPerClass).") }
    }

    func run() throws {
        let started = Date()
        let options = registration.options(seed: seed)
        let plane = planeImagePath, planeIndex = registration.plane, landmarks = registration.landmarks
        let movingImage = try RegistrationMovingImage(try ImageFile.read(map), path: map)
        let planeImage = try ImageFile.read(plane)
        let fixedImage = try RegistrationFixedImage(planeImage, path: plane, plane: planeIndex)
        for path in predict { _ = try ImageFile.info(path) }  // fail before the work when a slice is missing
        let progress = ProgressBar.make()
        let result = try register(moving: movingImage, fixed: fixedImage, options: options,
                                  landmarks: try landmarks.map { try RegistrationLandmarks(path: $0) }, progress: progress)
        _ = try writeRegistrationOutputs(result, moving: movingImage, fixed: fixedImage, movingPath: map, fixedPath: plane,
                                         fixedPlane: planeIndex, landmarksPath: landmarks, minimumZScore: options.minimumZScore, directory: out)
        print(String(format: "registered: rotation %.2f°, scale %.4f", result.transform.rotationDegrees, result.transform.scale)
              + (result.transform.isMirrored ? ", mirrored" : "")
              + String(format: ", η² %.3f, z %.1f, uncertainty ≈ %.1f px", result.correlationRatio,
                       result.zScore.isFinite ? result.zScore : 1e9, result.uncertainty))
        let planeAlone = planeImage.shape.depth == 1 ? planeImage : AnyImage(planeImage.floatImage().plane(planeIndex))
        var forest = RandomForestConfiguration.pixelClassifierDefault
        forest.seed = seed
        let training = try LabelTransfer.train(registration: result, moving: movingImage, fixed: fixedImage, fixedImage: planeAlone,
                                               fixedName: plane, erosionFactor: erodeFactor,
                                               options: PixelClassifier.TrainingOptions(forest: forest, pixelsPerClass: pixelsPerClass),
                                               progress: progress)
        try ImageFile.write(training.labels, to: (out as NSString).appendingPathComponent("training-labels.tif"))
        try training.model.write(path: (out as NSString).appendingPathComponent("model.json"))
        print("training labels: a pixel trains where its class fills the \(2 * training.radius + 1) × \(2 * training.radius + 1) px square around it, "
              + "and \(training.borderRadius) px along class borders are left out; pixels per class "
              + zip(movingImage.labels, zip(training.pixelsBefore, training.pixelsAfter)).map { "\($0): \($1.0) → \($1.1)" }.joined(separator: ", "))
        guard !predict.isEmpty else {
            print("wrote \(out) in " + String(format: "%.2f s", Date().timeIntervalSince(started)) + " (no --predict images)")
            return
        }
        var fractions: [ClassFractions] = []
        var stems = Set<String>()
        for path in predict {
            let input = try training.model.intensityNormalization.prepare(try PixelClassifierInput.open(paths: [path], name: path))
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var unique = stem, k = 2
            while !stems.insert(unique).inserted { unique = "\(stem)-\(k)"; k += 1 }
            var outputOptions = PixelClassificationOutputOptions()
            outputOptions.fractionEstimator = fractionOptions.estimator
            let result = try PixelClassificationOutputs.write(input, model: training.model, directory: out, stem: unique,
                                                              options: outputOptions, progress: progress)
            fractions.append(result)
            print("\(path): " + FractionOptions.summary(result))
        }
        let pooled = ClassFractions.pooled(fractions, estimator: fractionOptions.estimator, calibration: training.model.forest.outOfBagCalibration)
        if let pooled {
            print("phase fractions over \(fractions.count) image(s): " + FractionOptions.summary(pooled))
            if let check = pooled.estimate?.check { print("fractions: \(check)") }
        }
        try PixelClassificationOutputs.writeFractions(fractions, to: (out as NSString).appendingPathComponent("class-fractions.csv"), pooled: pooled)
        print("wrote \(out) in " + String(format: "%.2f s", Date().timeIntervalSince(started)))
    }
}
