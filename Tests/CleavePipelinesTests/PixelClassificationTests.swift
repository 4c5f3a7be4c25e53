import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveFeatures
import CleaveLearning
import CleavePipelines
import CleaveRender
import CleaveTestSupport

/// A seeded synthetic scene: dark background (class 1), mid-grey discs (class 2), small bright
/// spots (class 3), Gaussian noise. Returns the image and its dense truth.
private func scene(width: Int = 160, height: Int = 120, seed: UInt64 = 1, spotLevel: Double = 230) -> (Image<UInt8>, [Int32]) {
    var rng = SeededGenerator(seed: seed)
    var truth = [Int32](repeating: 1, count: width * height)
    for _ in 0..<8 {
        let cx = rng.next(below: width), cy = rng.next(below: height), r = 8 + rng.next(below: 12)
        for y in max(0, cy - r)..<min(height, cy + r) {
            for x in max(0, cx - r)..<min(width, cx + r) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                truth[y * width + x] = 2
            }
        }
    }
    for _ in 0..<25 {
        let cx = rng.next(below: width), cy = rng.next(below: height)
        for y in max(0, cy - 1)...min(height - 1, cy + 1) { for x in max(0, cx - 1)...min(width - 1, cx + 1) { truth[y * width + x] = 3 } }
    }
    let level: [Double] = [0, 60, 140, spotLevel]
    let pixels = truth.map { UInt8(max(0, min(255, level[Int($0)] + 18 * rng.nextGaussian()))) }
    return (Image(shape: Shape(width: width, height: height), pixels: pixels), truth)
}

/// Sparse labels: every `step`-th pixel keeps its truth, the rest is 0.
private func sparse(_ truth: [Int32], step: Int) -> Image<UInt8> {
    let pixels = truth.enumerated().map { $0.offset % step == 0 ? UInt8($0.element) : 0 }
    return Image(shape: Shape(width: 160, height: 120), pixels: pixels)
}

private func smallOptions(trees: Int = 15) -> PixelClassifier.TrainingOptions {
    PixelClassifier.TrainingOptions(bank: .fast, forest: RandomForestConfiguration(treeCount: trees, seed: 3))
}

@Suite struct PixelClassificationTests {
    @Test func streamedStackEqualsWholeStack() throws {
        // A 3-plane uint16 stack written as a multi-page TIFF and as MRC: the CLI path reads it plane
        // by plane (PixelClassifierInput.open); every output file must equal the in-memory result.
        let (image, truth) = scene()
        let input2D = PixelClassifierInput(name: "scene", image: .uint8(image))
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: input2D, labels: .uint8(sparse(truth, step: 7)),
                                                                             labelsName: "labels")], options: smallOptions())
        var pixels: [UInt16] = []
        for seed: UInt64 in [1, 2, 3] { pixels += scene(seed: seed).0.pixels.map { UInt16($0) } }
        let stack = Image(shape: Shape(width: 160, height: 120, depth: 3), pixels: pixels)
        let directory = TestData.scratchDirectory("pixel-streamed")
        for ext in ["tif", "mrc"] {
            let path = directory + "/stack.\(ext)"
            try ImageFile.write(stack, to: path)
            let streamed = try PixelClassifierInput.open(paths: [path])
            #expect(streamed.isStreamed)
            #expect(streamed.spatialShape == Shape(width: 160, height: 120, depth: 3))
            let whole = PixelClassifierInput(name: path, image: try ImageFile.read(path))
            #expect(!whole.isStreamed)
            for side in ["s", "w"] {
                try FileManager.default.createDirectory(atPath: directory + "/\(side)-\(ext)", withIntermediateDirectories: true)
            }
            _ = try PixelClassificationOutputs.write(streamed, model: model, directory: directory + "/s-\(ext)", stem: "stack")
            _ = try PixelClassificationOutputs.write(whole, model: model, directory: directory + "/w-\(ext)", stem: "stack")
            for suffix in ["labels.tif", "probabilities.tif", "uncertainty.tif", "overlay.png"] {
                let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/s-\(ext)/stack-\(suffix)"))
                let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/w-\(ext)/stack-\(suffix)"))
                #expect(a == b, "\(ext) \(suffix)")
            }
            // The labels are the in-memory prediction's (3 classes, mostly right on plane 0).
            let labels = try ImageFile.read(directory + "/s-\(ext)/stack-labels.tif").converted(to: UInt8.self)
            #expect(labels.shape.depth == 3)
            let correct = zip(labels.pixels.prefix(truth.count), truth).filter { Int32($0) == $1 }.count
            #expect(Double(correct) / Double(truth.count) > 0.9)
        }
    }

    @Test func blockwisePredictionEqualsWholeImage() throws {
        let (image, truth) = scene()
        let input = PixelClassifierInput(name: "scene", image: .uint8(image))
        let example = PixelClassifier.TrainingExample(input: input, labels: .uint8(sparse(truth, step: 7)), labelsName: "labels")
        let model = try PixelClassifier.train([example], options: smallOptions())
        for adapt in [false, true] {
            let whole = try PixelClassifier.predict(input, model: model, blockSize: 1024, adaptPrior: adapt)
            let tiled = try PixelClassifier.predict(input, model: model, blockSize: 48, adaptPrior: adapt)
            #expect(whole == tiled)
        }
        let whole = try PixelClassifier.predict(input, model: model, blockSize: 1024, adaptPrior: false)
        // The scene is easy: nearly every pixel right, probabilities sum to 1 per pixel.
        let correct = zip(whole.labels, truth).filter { $0 == $1 }.count
        #expect(Double(correct) / Double(truth.count) > 0.97)
        let n = truth.count
        for p in stride(from: 0, to: n, by: 97) {
            let sum = (0..<3).reduce(Float(0)) { $0 + whole.probabilities[$1 * n + p] }
            #expect(abs(sum - 1) < 1e-5)
        }
    }

    @Test func priorAdaptationShrinksOverRepresentedClasses() throws {
        // Equal scribbles per class although class 3 covers ~2 % of the scene and overlaps class 2
        // in brightness: adaptation must estimate a small prior for it and predict fewer class-3 pixels.
        let (image, truth) = scene(seed: 5, spotLevel: 175)
        var labels = [Int32](repeating: 0, count: truth.count)
        var perClass = [Int32: Int]()
        for (i, t) in truth.enumerated() where i % 3 == 0 && perClass[t, default: 0] < 60 { labels[i] = t; perClass[t, default: 0] += 1 }
        let input = PixelClassifierInput(name: "scene", image: .uint8(image))
        let labelImage = Image(shape: image.shape, pixels: labels.map { UInt8($0) })
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: input, labels: .uint8(labelImage), labelsName: "l")],
                                              options: smallOptions(trees: 30))
        #expect(model.training.usedPixels == [60, 60, 60])
        let raw = try PixelClassifier.predict(input, model: model, adaptPrior: false)
        let adapted = try PixelClassifier.predict(input, model: model, adaptPrior: true)
        let rawSmall = raw.labels.filter { $0 == 3 }.count
        let adaptedSmall = adapted.labels.filter { $0 == 3 }.count
        let trueSmall = truth.filter { $0 == 3 }.count
        #expect(rawSmall > trueSmall + 100, "raw \(rawSmall) vs true \(trueSmall)")
        #expect(adaptedSmall < rawSmall - 50, "adapted \(adaptedSmall) vs raw \(rawSmall)")
        #expect(abs(adaptedSmall - trueSmall) < abs(rawSmall - trueSmall))
        var samplePrior = PriorSample(pixelCount: truth.count, classCount: 3)
        for p in stride(from: 0, to: truth.count, by: samplePrior.stride) {
            for c in 0..<3 { samplePrior.values[(p / samplePrior.stride) * 3 + c] = raw.probabilities[c * truth.count + p] }
        }
        let prior = model.forest.estimatePrior(probabilities: samplePrior.values)
        let trueFraction = Double(trueSmall) / Double(truth.count)
        #expect(abs(prior[2] - trueFraction) < 0.03)
        #expect(abs(prior.reduce(0, +) - 1) < 1e-9)
    }

    @Test func trainingErrorsAreClearAndOneLine() throws {
        let (image, truth) = scene()
        let input = PixelClassifierInput(name: "img.tif", image: .uint8(image))
        func example(_ labels: Image<UInt8>) -> PixelClassifier.TrainingExample {
            PixelClassifier.TrainingExample(input: input, labels: .uint8(labels), labelsName: "labels.tif")
        }
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let wrongSize = Image<UInt8>(width: 10, height: 10, repeating: 1)
        let m1 = message { _ = try PixelClassifier.train([example(wrongSize)], options: smallOptions()) }
        #expect(m1.contains("labels.tif") && m1.contains("10×10") && m1.contains("160×120"))
        let empty = Image<UInt8>(width: 160, height: 120)
        let m2 = message { _ = try PixelClassifier.train([example(empty)], options: smallOptions()) }
        #expect(m2.contains("no labelled pixels"))
        let single = Image<UInt8>(width: 160, height: 120, repeating: 2)
        let m3 = message { _ = try PixelClassifier.train([example(single)], options: smallOptions()) }
        #expect(m3.contains("single class"))
        let classes = [PixelClass(value: 1, name: "bg", colour: .init(0, 0, 0)), PixelClass(value: 2, name: "disc", colour: .init(255, 0, 0))]
        let m4 = message { _ = try PixelClassifier.train([example(sparse(truth, step: 5))], classes: classes, options: smallOptions()) }
        #expect(m4.contains("label value 3") && m4.contains("class list"))
        for m in [m1, m2, m3, m4] { #expect(!m.isEmpty && !m.contains("\n")) }
    }

    @Test func channelMismatchIsAnError() throws {
        let (image, truth) = scene()
        let twoChannels = try PixelClassifierInput(name: "a.tif,b.tif", parts: [.uint8(image), .uint8(image)])
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: twoChannels, labels: .uint8(sparse(truth, step: 9)), labelsName: "l")],
                                              options: smallOptions(trees: 5))
        #expect(model.channelCount == 2)
        #expect(model.forest.featureCount == 2 * FilterBank.fast.featuresPerChannel)
        let one = PixelClassifierInput(name: "single.tif", image: .uint8(image))
        do {
            _ = try PixelClassifier.predict(one, model: model)
            Issue.record("expected a channel error")
        } catch {
            #expect("\(error)".contains("single.tif") && "\(error)".contains("trained on 2"))
        }
        #expect(throws: PixelClassifierError.self) {
            _ = try PixelClassifierInput(name: "x", parts: [.uint8(image), .uint8(Image(width: 5, height: 5))])
        }
    }

    @Test func modelFileRoundTripsAndRejectsDamage() throws {
        let (image, truth) = scene()
        let input = PixelClassifierInput(name: "scene", image: .uint8(image))
        let classes = [PixelClass(value: 1, name: "background", colour: .init(0, 0, 255)),
                       PixelClass(value: 2, name: "disc", colour: .init(255, 0, 0)),
                       PixelClass(value: 3, name: "spot", colour: .init(255, 255, 0))]
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: input, labels: .uint8(sparse(truth, step: 7)), labelsName: "l")],
                                              classes: classes, options: smallOptions(trees: 6))
        let dir = TestData.scratchDirectory("pixel-model")
        let path = dir + "/model.json"
        try model.write(path: path)
        let loaded = try PixelClassifierModel.read(path: path)
        #expect(loaded == model)
        #expect(loaded.classes.map(\.name) == ["background", "disc", "spot"])
        #expect(loaded.featureNames.count == model.forest.featureCount)
        #expect(try PixelClassifier.predict(input, model: loaded) == PixelClassifier.predict(input, model: model))
        // Wrong kind, future version, truncated file: one-line errors naming the file.
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: dir + "/other.json"))
        #expect(throws: ModelFileError.self) { try PixelClassifierModel.read(path: dir + "/other.json") }
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"formatVersion\":1,\"kind\"", with: "\"formatVersion\":99,\"kind\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/future.json"))
        do { _ = try PixelClassifierModel.read(path: dir + "/future.json"); Issue.record("expected a version error") } catch {
            #expect("\(error)".contains("version 99"))
        }
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: dir + "/half.json"))
        #expect(throws: ModelFileError.self) { try PixelClassifierModel.read(path: dir + "/half.json") }
    }

    @Test func outputsAreWrittenCompleteAndConsistent() throws {
        let (image, truth) = scene()
        var calibrated = image
        calibrated.spacing = Spacing(0.5, unit: "µm")
        let input = PixelClassifierInput(name: "scene.tif", image: .uint8(calibrated))
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: input, labels: .uint8(sparse(truth, step: 7)), labelsName: "l")],
                                              options: smallOptions(trees: 8))
        let dir = TestData.scratchDirectory("pixel-outputs")
        var options = PixelClassificationOutputOptions()
        options.blockSize = 64
        let fractions = try PixelClassificationOutputs.write(input, model: model, directory: dir, stem: "scene", options: options)
        let expected = try PixelClassifier.predict(input, model: model, blockSize: 64)
        guard case .uint8(let labels) = try ImageFile.read(dir + "/scene-labels.tif") else { Issue.record("labels not 8-bit"); return }
        #expect(labels.pixels.map { Int32($0) } == expected.labels)
        guard case .float32(let probabilities) = try ImageFile.read(dir + "/scene-probabilities.tif") else { Issue.record("probabilities not float"); return }
        #expect(probabilities.shape.depth * probabilities.shape.channels == 3)
        #expect(probabilities.pixels == expected.probabilities)
        guard case .float32(let uncertainty) = try ImageFile.read(dir + "/scene-uncertainty.tif") else { Issue.record("uncertainty not float"); return }
        #expect(uncertainty.pixels == expected.uncertainty)
        guard case .uint8(let overlay) = try ImageFile.read(dir + "/scene-overlay.png") else { Issue.record("overlay not 8-bit"); return }
        #expect(overlay.shape.channels == 3 && overlay.width == 160)
        #expect(fractions.pixelCounts.reduce(0, +) == 160 * 120)
        #expect(abs(fractions.percents.reduce(0, +) - 100) < 1e-9)
        let area: Double = fractions.physicalSizes!.reduce(0, +)
        #expect(abs(area - 4800.0) < 1e-6)
        // The strips add up to the counts and to the probabilities; the estimate is the default's,
        // and every estimator is reported (the forest was bootstrapped: it has out-of-bag rates).
        var strips = FractionSums(classCount: 3)
        for s in fractions.strips { strips.add(s) }
        #expect(strips.counts == fractions.pixelCounts && fractions.strips.count == (120 + ClassFractions.stripRows - 1) / ClassFractions.stripRows)
        for c in 0..<3 {
            let sum = (0..<(160 * 120)).reduce(0.0) { $0 + Double(expected.probabilities[c * 160 * 120 + $1]) }
            #expect(abs(strips.posteriorSums[c] - sum) < 1e-6 * 160 * 120)
        }
        let estimate = try #require(fractions.estimate)
        #expect(estimate.used == ClassFractions.defaultEstimator && estimate.all.count == 4 && estimate.lower != nil)
        #expect(zip(estimate.all[.classifyAndCount]!, fractions.percents).allSatisfy { abs(100 * $0 - $1) < 1e-9 })
        try PixelClassificationOutputs.writeFractions([fractions], to: dir + "/class-fractions.csv", pooled: fractions)
        let csv = try String(contentsOfFile: dir + "/class-fractions.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4 && csv.contains("µm^2"))
        #expect(csv.hasPrefix(ClassFractions.csvHeader) && csv.split(separator: "\n")[1].contains(",\(ClassFractions.defaultEstimator.rawValue),"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/class-fractions.json"))) as? [String: Any])
        #expect((json["pooled"] as? [String: Any])?["check"] is String)
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test func classListsParse() throws {
        let a = try PixelClassList.parse(specification: "3=clay:#00ff00", position: 0)
        #expect(a.value == 3 && a.name == "clay" && a.colour == RGB(0, 255, 0))
        let b = try PixelClassList.parse(specification: "1 = pore", position: 1)
        #expect(b.value == 1 && b.name == "pore")
        #expect(throws: PixelClassifierError.invalidClass(specification: "0=none", reason: "the value must be an integer ≥ 1 (0 means unlabelled)")) { try PixelClassList.parse(specification: "0=none", position: 0) }
        #expect(throws: PixelClassifierError.self) { try PixelClassList.parse(specification: "pore", position: 0) }
        let dir = TestData.scratchDirectory("class-lists")
        try Data("value,name,colour\n1,pore,#0000ff\n2,grain,\n".utf8).write(to: URL(fileURLWithPath: dir + "/c.csv"))
        let csv = try PixelClassList.read(path: dir + "/c.csv")
        #expect(csv.map(\.value) == [1, 2] && csv[0].colour == RGB(0, 0, 255))
        try Data("{\"2\": \"grain\", \"1\": \"pore\"}".utf8).write(to: URL(fileURLWithPath: dir + "/c.json"))
        #expect(try PixelClassList.read(path: dir + "/c.json").map(\.name) == ["pore", "grain"])
        try Data("1,pore\n1,again\n".utf8).write(to: URL(fileURLWithPath: dir + "/dup.csv"))
        #expect(throws: PixelClassifierError.invalidClassList(source: dir + "/dup.csv", line: nil, reason: "class value 1 is listed twice")) { try PixelClassList.read(path: dir + "/dup.csv") }
    }

    @Test func normalizationTextsParseAndBadOnesSayWhy() throws {
        #expect(IntensityNormalization.default == .percentiles(low: 0.1, high: 99.9))
        for text in ["none", "type", "percentile:0.5:99.5", "percentile:1:99"] {
            #expect(try IntensityNormalization(parsing: text).description == text)
        }
        #expect(try IntensityNormalization(parsing: "percentile") == .default)
        for bad in ["", "zscore", "percentile:5", "percentile:90:10", "percentile:a:b", "percentile:-1:50", "none:1"] {
            do { _ = try IntensityNormalization(parsing: bad); Issue.record("'\(bad)' parsed") } catch {
                #expect("\(error)".contains("normalisation '\(bad)'") && !"\(error)".contains("\n"))
            }
        }
    }

    /// numpy: np.percentile(np.arange(1000), [0.5, 99.5]) = [4.995, 994.005] (linear), so the
    /// window of a 1000-value ramp maps 4.995 → −1 and 994.005 → +1.
    @Test func percentileWindowsAreNumpysPercentilesOfTheWholeImage() throws {
        let ramp = Image(shape: Shape(width: 40, height: 25), pixels: (0..<1000).map { UInt16($0) })
        let input = PixelClassifierInput(name: "ramp", image: .uint16(ramp))
        let half = IntensityNormalization.percentiles(low: 0.5, high: 99.5)
        let windows = try #require(try half.windows(for: input))
        #expect(windows.count == 1)
        #expect(abs(windows[0].low - 4.995) < 1e-3 && abs(windows[0].high - 994.005) < 1e-3)
        let block = try half.prepare(input).featureBlock(Region(x: 0, y: 0, width: 40, height: 25))
        #expect(abs(block.pixels[0] - (2 * (0 - 4.995) / 989.01 - 1)) < 1e-5)
        #expect(abs(block.pixels[999] - (2 * (999 - 4.995) / 989.01 - 1)) < 1e-5)
        // The default 0.1 / 99.9: numpy gives 0.999 and 998.001.
        let defaults = try #require(try IntensityNormalization.default.windows(for: input))
        #expect(abs(defaults[0].low - 0.999) < 1e-3 && abs(defaults[0].high - 998.001) < 1e-3)
        // The type window divides by the type's maximum; none leaves values as stored.
        #expect(try IntensityNormalization.pixelType.windows(for: input) == [IntensityWindow(low: 0, high: 65535)])
        #expect(try IntensityNormalization.none.windows(for: input) == nil)
    }

    /// A stack's window comes from at most 16 evenly spaced planes (0, 1, 2, 3, 5, … 19 of 20), so a
    /// streamed stack is not read twice; a plane left out (4) does not move it, a plane in (5) does.
    @Test func stackWindowsUseEvenlySpacedPlanes() throws {
        func stack(bright plane: Int) -> PixelClassifierInput {
            var pixels = [UInt16](repeating: 0, count: 8 * 8 * 20)
            for z in 0..<20 { for i in 0..<64 { pixels[z * 64 + i] = z == plane ? 60000 : UInt16(i) } }
            return PixelClassifierInput(name: "stack", image: .uint16(Image(shape: Shape(width: 8, height: 8, depth: 20), pixels: pixels)))
        }
        let skipped = try #require(try IntensityNormalization.default.windows(for: stack(bright: 4)))
        #expect(skipped[0].high < 64, "\(skipped)")
        let sampled = try #require(try IntensityNormalization.default.windows(for: stack(bright: 5)))
        #expect(sampled[0].high > 50000, "\(sampled)")
    }

    /// The point of the default: a test image recorded at another bit depth, gain and offset
    /// (16-bit, v·100 + 20000) is classified exactly as its 8-bit original; a model without
    /// normalisation refuses it in one line instead of returning garbage.
    @Test func percentileModelsIgnoreBitDepthAndExposure() throws {
        let (image, truth) = scene()
        let training = PixelClassifier.TrainingExample(input: PixelClassifierInput(name: "scene", image: .uint8(image)),
                                                       labels: .uint8(sparse(truth, step: 7)), labelsName: "labels")
        let model = try PixelClassifier.train([training], options: smallOptions())
        #expect(model.intensityNormalization == .default && model.trainingPixelType == .uint8)
        let (test, testTruth) = scene(seed: 9)
        let brighter = test.map { UInt16(Int($0) * 100 + 20000) }
        let original = try PixelClassifier.predict(PixelClassifierInput(name: "t8", image: .uint8(test)), model: model)
        let shifted = try PixelClassifier.predict(PixelClassifierInput(name: "t16", image: .uint16(brighter)), model: model)
        let agree = zip(original.labels, shifted.labels).filter { $0 == $1 }.count
        #expect(Double(agree) / Double(original.labels.count) > 0.999, "\(agree) of \(original.labels.count)")
        let correct = zip(shifted.labels, testTruth).filter { $0 == $1 }.count
        #expect(Double(correct) / Double(testTruth.count) > 0.9)

        var raw = smallOptions()
        raw.intensityNormalization = .none
        let rawModel = try PixelClassifier.train([training], options: raw)
        do {
            _ = try PixelClassifier.predict(PixelClassifierInput(name: "t16.tif", image: .uint16(brighter)), model: rawModel)
            Issue.record("expected a pixel-type error")
        } catch {
            #expect("\(error)".contains("t16.tif: is uint16") && "\(error)".contains("trained on uint8"))
        }
        // Dividing by the type maximum handles bit depth, not exposure: the shifted background reads as disc.
        let typeModel = try PixelClassifier.train([training], options: { var o = raw; o.intensityNormalization = .pixelType; return o }())
        let typeShifted = try PixelClassifier.predict(PixelClassifierInput(name: "t16", image: .uint16(brighter)), model: typeModel)
        let typeCorrect = zip(typeShifted.labels, testTruth).filter { $0 == $1 }.count
        #expect(Double(typeCorrect) / Double(testTruth.count) < 0.9)
    }

    /// Models written before the normalisation was recorded keep predicting as they did (raw values).
    @Test func olderModelFilesReadAsUnnormalised() throws {
        let (image, truth) = scene()
        let input = PixelClassifierInput(name: "scene", image: .uint8(image))
        var options = smallOptions(trees: 4)
        options.intensityNormalization = .none
        let model = try PixelClassifier.train([PixelClassifier.TrainingExample(input: input, labels: .uint8(sparse(truth, step: 7)), labelsName: "l")],
                                              options: options)
        let dir = TestData.scratchDirectory("pixel-model-old")
        try model.write(path: dir + "/new.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/new.json"))) as! [String: Any]
        #expect(object["normalisation"] as? String == "none")
        object["normalisation"] = nil
        object["trainingPixelType"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: dir + "/old.json"))
        let old = try PixelClassifierModel.read(path: dir + "/old.json")
        #expect(old.intensityNormalization == .none && old.trainingPixelType == nil)
        #expect(try PixelClassifier.predict(input, model: old) == PixelClassifier.predict(input, model: model))
    }
}
