import Foundation
import Testing
import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveLearning
import CleavePipelines
import CleaveTestSupport

/// Issue 19: non-finite pixels, tampered and truncated models, GLCM distances, half-written outputs.
@Suite struct HostileInputTests {
    static func floatImage(width: Int = 48, height: Int = 48, seed: UInt64 = 3) -> Image<Float> {
        var rng = SeededGenerator(seed: seed)
        return Image(shape: Shape(width: width, height: height),
                     pixels: (0..<(width * height)).map { _ in Float.random(in: 10...200, using: &rng) })
    }

    @Test func locatorRefusesNonFinitePixelsWithFileAndPosition() throws {
        let dir = TestData.scratchDirectory("hostile-locator")
        var image = Self.floatImage()
        image[17, 5] = .infinity
        try ImageFile.write(image, to: dir + "/inf.tif")
        do {
            _ = try LocatorInput.load([dir + "/inf.tif"])
            Issue.record("an image with +inf was accepted")
        } catch {
            #expect("\(error)" == "\(dir)/inf.tif: pixel values must be finite, found +inf at column 17, row 5 (replace NaN and infinity first, e.g. Fiji's Process > Math > Remove NaNs)")
        }
    }

    @Test func streamedStackRefusesANaNPlaneNamingThePlane() throws {
        let dir = TestData.scratchDirectory("hostile-stack")
        var stack = Image<Float>(shape: Shape(width: 16, height: 12, depth: 3), pixels: (0..<(16 * 12 * 3)).map { Float($0) })
        stack[3, 4, 2] = .nan
        try ImageFile.write(stack, to: dir + "/stack.tif")
        let input = try PixelClassifierInput.open(paths: [dir + "/stack.tif"])
        #expect(input.isStreamed)
        _ = try input.readBlock(Region(x: 0, y: 0, z: 0, width: 16, height: 12, depth: 2))
        let error = try #require(throws: ImageFileError.self) { try input.readBlock(Region(x: 0, y: 0, z: 1, width: 16, height: 12, depth: 2)) }
        #expect(error == .notFinite(path: dir + "/stack.tif", pixel: NonFinitePixel(column: 3, row: 4, plane: 2, value: .nan)) || "\(error)".contains("NaN at column 3, row 4, plane 2"))
    }

    @Test func glcmDistanceBeyondThePatchIsRefused() throws {
        let images = (0..<2).map { LocatorImage(name: "t\($0).tif", mosaicRow: 0, mosaicColumn: $0, image: Self.floatImage(seed: UInt64($0)), integral: false) }
        var options = LocatorOptions(sampling: .patches(.grid(rows: 2, columns: 2)), features: [.mean, .glcmContrast])
        options.statistics = PatchStatisticsOptions(glcmDistance: 24)
        options.clusterCount = 2
        do {
            _ = try Locator.run(images, options: options)
            Issue.record("a GLCM distance of a whole patch side was accepted")
        } catch {
            #expect("\(error)".contains("glcmDistance 24: not shorter than the patch side (24 pixels)"), "\(error)")
        }
        options.statistics = PatchStatisticsOptions(glcmDistance: 23)
        _ = try Locator.run(images, options: options)
    }

    @Test func truncatedModelIsDamagedNotKindMissing() throws {
        let dir = TestData.scratchDirectory("hostile-models")
        let text = #"{"kind": "cleave.pixel-classifier", "formatVersion": 1, "classes": [{"value": 1, "na"#
        try text.write(toFile: dir + "/cut.json", atomically: true, encoding: .utf8)
        for read in [{ _ = try ModelFileKind.detect(path: dir + "/cut.json") }, { _ = try PixelClassifierModel.read(path: dir + "/cut.json") },
                     { _ = try UNetSegmenterModel.read(path: dir + "/cut.json") }] as [() throws -> Void] {
            do { try read(); Issue.record("accepted") } catch {
                #expect("\(error)".contains("damaged model file"), "\(error)")
                #expect("\(error)".contains("truncated"), "\(error)")
            }
        }
        // Valid JSON of another kind is still "not a Cleave model", not "damaged".
        try #"{"kind": "something else"}"#.write(toFile: dir + "/other.json", atomically: true, encoding: .utf8)
        #expect(try ModelFileKind.detect(path: dir + "/other.json") == .unknown("something else"))
    }

    @Test func tamperedLocatorModelNamesTheField() throws {
        let dir = TestData.scratchDirectory("hostile-locator-model")
        let model = LocatorModel(sampling: .patches(.grid(rows: 2, columns: 2)), features: [.mean, .std], statistics: PatchStatisticsOptions(),
                                 scaler: FittedScaler(method: .zScore, center: [100, 10], scale: [20, 2]), pca: nil,
                                 centroids: Matrix(rows: 2, columns: 2, values: [0, 0, 1, 1]), picked: 1, pickedSignature: [:],
                                 excludeDark: false, darkMargin: 0, flattenBackground: false, tails: nil)
        try model.save(dir + "/ok.json")
        _ = try LocatorModel.load(dir + "/ok.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/ok.json"))) as! [String: Any]
        var variants: [(String, [String: Any])] = []
        var picked = object; picked["picked"] = 7; variants.append(("picked", picked))
        var centroids = object; var matrix = object["centroids"] as! [String: Any]; matrix["values"] = [0, 0, 1]
        centroids["centroids"] = matrix; variants.append(("centroids", centroids))
        var scaler = object; var fitted = object["scaler"] as! [String: Any]; fitted["scale"] = [20]
        scaler["scaler"] = fitted; variants.append(("scaler", scaler))
        var zero = object; var zeroScale = object["scaler"] as! [String: Any]; zeroScale["scale"] = [20, 0]
        zero["scaler"] = zeroScale; variants.append(("scaler", zero))
        for (field, tampered) in variants {
            try JSONSerialization.data(withJSONObject: tampered).write(to: URL(fileURLWithPath: dir + "/bad.json"))
            do { _ = try LocatorModel.load(dir + "/bad.json"); Issue.record("\(field): accepted") } catch {
                #expect("\(error)".contains("damaged Locator model (\(field):"), "\(error)")
            }
        }
    }

    /// A failure while writing the object outputs leaves no file of the new set and no temporary file.
    @Test func objectsReportWritesAllOrNothing() throws {
        let dir = TestData.scratchDirectory("hostile-objects")
        var image = Image<UInt8>(width: 40, height: 30)
        for y in 5..<12 { for x in 5..<15 { image[x, y] = 1 } }
        let result = try ObjectsPipeline.run(.uint8(image), options: ObjectsOptions())
        // The overlay's temporary name is taken by a directory: its write fails after the tables.
        let blocker = dir + "/.overlay.png.partial-\(getpid()).png"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try ObjectsReport.write(result, background: nil, to: dir) }
        try FileManager.default.removeItem(atPath: blocker)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(left.isEmpty, "\(left)")
        let written = try ObjectsReport.write(result, background: nil, to: dir)
        #expect(written.count == 7 && written.allSatisfy { FileManager.default.fileExists(atPath: $0) })
    }

    @Test func memoryEstimatesGrowWithTheImageAndRefuseBombs() throws {
        let bomb = MemoryEstimate.Size(shape: Shape(width: 60000, height: 30000), pixelType: .uint8)
        #expect(bomb.text == "60000×30000 uint8")
        let budget = MemoryBudget(bytes: 12 << 30)
        for need in [MemoryEstimate.features([bomb], featureCount: 49), MemoryEstimate.locate([bomb]),
                     MemoryEstimate.objects(bomb, intensity: bomb), MemoryEstimate.predict([bomb], featureCount: 49, blockSize: 1024)] {
            #expect(throws: MemoryBudgetError.self) { try budget.check(need, for: "a 1.8-gigapixel image") }
        }
        let tile = MemoryEstimate.Size(shape: Shape(width: 1000, height: 1000), pixelType: .uint16)
        try budget.check(MemoryEstimate.features([tile], featureCount: 49), for: "a 1000² tile")
        // Streaming a stack holds one plane, not the stack. (A stack large enough that the per-thread
        // feature blocks, which other tests running at the same time change with the thread count,
        // cannot decide the comparison.)
        let stack = MemoryEstimate.Size(shape: Shape(width: 2000, height: 2000, depth: 5000), pixelType: .uint8)
        #expect(MemoryEstimate.predict([stack], streamedPlane: 4_000_000, featureCount: 49, blockSize: 1024)
                < MemoryEstimate.predict([stack], featureCount: 49, blockSize: 1024) / 4)
        // Training holds every image but computes features one image at a time: 13 one-megapixel
        // images (the nasa-ebc3 training set, measured peak 0.38 GiB) fit the default budget of a
        // 24 GiB machine, and the feature blocks count once, not once per image (session 11: they
        // were summed, 12.7 GiB, and the suite's training set was refused).
        // (Other tests change the thread count concurrently, so the check is written to hold for
        // any thread count from 1 to 8: with 64-px blocks the per-thread blocks are a few MB.)
        let megapixel = MemoryEstimate.Size(shape: Shape(width: 1024, height: 1024), pixelType: .uint8)
        let thirteen = MemoryEstimate.train(Array(repeating: ([megapixel], megapixel, 49), count: 13), blockSize: 64)
        #expect(thirteen < 13 * 20_000_000 + MemoryEstimate.baseline + 64 << 20, "\(thirteen) bytes for 13 images")
        #expect(MemoryEstimate.train(Array(repeating: ([megapixel], megapixel, 49), count: 13), blockSize: 1024) < 5 << 30)
        #expect(throws: MemoryBudgetError.self) {
            try budget.check(MemoryEstimate.train([([bomb], bomb, 49)], blockSize: 1024), for: "training on a 1.8-gigapixel image")
        }
        // Sizes that overflow saturate instead of trapping.
        let absurd = MemoryEstimate.Size(shape: Shape(width: 1 << 30, height: 1 << 30, depth: 1 << 30), pixelType: .float32)
        #expect(MemoryEstimate.features([absurd], featureCount: 65) > 1 << 60)
    }
}
