import Testing
import Foundation
import CleaveCore
import CleaveFormats
import CleaveFeatures
import CleaveLearning
import CleaveTestSupport
import CleavePipelines

/// The block runner: labels of an OME-Zarr volume predicted block by block equal whole-volume
/// prediction byte for byte (any block size, any thread count, any order of shares), a run
/// continues where another stopped, and bad requests are refused before anything is written.
@Suite(.serialized) struct BlockPredictionTests {
    /// A small two-detector FIB-SEM volume in OME-Zarr (chunks 32 × 32 × 8) and a forest trained on it.
    static func fixture(_ name: String, version: OMEZarrWriteOptions.Version = .v04)
        throws -> (directory: String, volume: String, model: PixelClassifierModel, whole: AnyImage) {
        let directory = TestData.scratchDirectory("blocks-\(name)")
        let generator = try FIBSEMVolume(FIBSEMVolume.Options(width: 100, height: 75, depth: 19, seed: 5, channels: 2))
        let path = directory + "/vol.ome.zarr"
        _ = try generator.write(to: path, zarr: OMEZarrWriteOptions(version: version, chunkX: 32, chunkY: 32, chunkZ: 8))
        let all = generator.block(Region(x: 0, y: 0, z: 0, width: 100, height: 75, depth: 19))
        let input = PixelClassifierInput(name: "train", image: .uint16(all.detectors))
        let example = PixelClassifier.TrainingExample(input: input, labels: .uint8(all.labels), labelsName: "truth")
        let bank = try FilterBank(features: ["gaussian", "gradient_magnitude", "hessian_eigenvalues"], scales: [0, 1, 3])
        let model = try PixelClassifier.train([example], options: PixelClassifier.TrainingOptions(
            bank: bank, forest: RandomForestConfiguration(treeCount: 8, seed: 2), pixelsPerClass: 150))
        return (directory, path, model, try OMEZarrImage.open(path).read())
    }

    /// Whole-volume prediction's label values, as the labels store holds them.
    static func wholeLabels(_ image: AnyImage, model: PixelClassifierModel) throws -> [UInt8] {
        try PixelClassifier.predict(PixelClassifierInput(name: "whole", image: image), model: model).labels.map { UInt8($0) }
    }

    /// Every chunk file of the labels' full-resolution level, by key.
    static func chunkFiles(_ store: String) throws -> [String: Data] {
        let level = store + "/0"
        var out: [String: Data] = [:]
        let files = FileManager.default.enumerator(atPath: level)!
        while let name = files.nextObject() as? String {
            let path = level + "/" + name
            var isDirectory: ObjCBool = false
            guard !name.hasPrefix("."), !name.contains("/."), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            out[name] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        return out
    }

    static func labels(_ store: String) throws -> [UInt8] {
        guard case .uint8(let image) = try OMEZarrImage.open(store).read() else { Issue.record("labels are not uint8"); return [] }
        return image.pixels
    }

    @Test func blocksEqualWholeVolumeForAnyBlockSizeAndThreadCount() throws {
        let f = try Self.fixture("equal")
        let expected = try Self.wholeLabels(f.whole, model: f.model)
        let threads = Parallel.threadCount
        defer { Parallel.threadCount = threads }
        var reference: [String: Data]?
        for (i, (blockSize, threadCount)) in [(32, 1), (64, 3), (1024, 2)].enumerated() {
            Parallel.threadCount = threadCount
            var options = BlockPredictionOptions()
            options.blockSize = blockSize
            let out = f.directory + "/out\(i)"
            let report = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: out, stem: "vol", options: options)
            #expect(report.output == out + "/vol-labels.ome.zarr")
            #expect(report.started && report.computed == report.blockCount && report.skipped == 0)
            let image = try OMEZarrImage.open(report.output)
            #expect(image.shape == Shape(width: 100, height: 75, depth: 19))
            #expect(image.chunkShape().x == 32 && image.chunkShape().y == 32 && image.chunkShape().z == 8)
            #expect(image.spacing == Spacing(x: 5, y: 5, z: 10, unit: "nm"))
            #expect(image.levels.count > 1)
            let labels = try Self.labels(report.output)
            #expect(labels == expected, "block size \(blockSize), \(threadCount) threads")
            // Class areas from the per-block counts equal the labels' own counts.
            let counts = report.fractions!.classes.map { c in labels.filter { Int32($0) == c.value }.count }
            #expect(report.fractions!.pixelCounts == counts)
            #expect(FileManager.default.fileExists(atPath: out + "/vol-overlay.png"))
            let chunks = try Self.chunkFiles(report.output)
            #expect(chunks.count == 4 * 3 * 3)
            if let reference { #expect(chunks == reference) } else { reference = chunks }
        }
        // The forest's largest scale is 3: blocks of 32 pixels (one chunk) are fine, 4 are not.
        var small = BlockPredictionOptions()
        small.blockSize = 4
        #expect(throws: BlockRunError.self) {
            _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: f.directory + "/small", stem: "vol", options: small)
        }
        #expect(!FileManager.default.fileExists(atPath: f.directory + "/small/vol-labels.ome.zarr"))
    }

    @Test func sharesThenFinishEqualOneRunAndResumeSkipsDoneBlocks() throws {
        let f = try Self.fixture("shares", version: .v05)
        var options = BlockPredictionOptions()
        options.blockSize = 32
        let one = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: f.directory + "/one", stem: "vol", options: options)
        let out = f.directory + "/shared"
        var computed = 0
        for i in [2, 0] {
            options.share = try BlockShare(parsing: "\(i)/3")
            let report = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: out, stem: "vol", options: options)
            #expect(report.fractions == nil)
            #expect(report.started == (i == 2))
            #expect(try report.computed == BlockShare(index: i, count: 3).blocks(of: report.blockCount).count)
            computed += report.computed
        }
        // A share run again finds its blocks done.
        let again = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: out, stem: "vol", options: options)
        #expect(again.computed == 0 && again.skipped > 0)
        // Not finished: no pyramid yet (level 1 has no chunks).
        #expect(try Self.chunkFiles(out + "/vol-labels.ome.zarr").count < one.blockCount * 4)
        // A block whose chunks were half written (no marker) is computed again whole.
        let pending = try BlockShare(index: 1, count: 3).blocks(of: one.blockCount)
        let store = out + "/vol-labels.ome.zarr"
        // Chunk (z 0, y 1, x 0) is block 4, of share 1 (not run yet).
        let key = try OMEZarrImage.open(store).levels[0].metadata.chunkKey([0, 1, 0])
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: store + "/0/" + key))
        options.share = nil
        let finish = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: out, stem: "vol", options: options)
        #expect(finish.computed == pending.count)
        #expect(computed + finish.computed == one.blockCount)
        #expect(try Self.chunkFiles(store) == (try Self.chunkFiles(one.output)))
        #expect(finish.fractions == one.fractions)
        #expect(try Self.labels(store) == (try Self.wholeLabels(f.whole, model: f.model)))
        // Run complete: the same command again computes nothing and gives the same summary.
        let rerun = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: out, stem: "vol", options: options)
        #expect(rerun.computed == 0 && rerun.fractions == one.fractions)
    }

    @Test func anotherRunsOutputAndBadInputsAreRefused() throws {
        let f = try Self.fixture("refuse")
        var options = BlockPredictionOptions()
        options.blockSize = 64
        options.share = try BlockShare(parsing: "0/2")
        let out = f.directory + "/out"
        _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m1", directory: out, stem: "vol", options: options)
        // Another model, or another block size, into the same output: one line naming what differs.
        do {
            _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m2", directory: out, stem: "vol", options: options)
            Issue.record("another model was accepted")
        } catch let error as BlockRunError {
            guard case .otherRun(_, let field, let recorded, let requested) = error else { Issue.record("\(error)"); return }
            #expect(field == "model" && recorded == "m1" && requested == "m2")
            #expect(!error.description.contains("\n"))
        }
        options.blockSize = 96
        #expect(throws: BlockRunError.self) {
            _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m1", directory: out, stem: "vol", options: options)
        }
        // Shares that do not exist.
        for text in ["2/2", "-1/2", "1", "a/b", "0/0"] {
            #expect(throws: BlockRunError.self, "\(text)") { _ = try BlockShare(parsing: text) }
        }
        // A model of one channel on the two-channel volume.
        let single = try OMEZarrImage.open(f.volume).read(channels: 0..<1)
        let oneChannel = try PixelClassifier.train([PixelClassifier.TrainingExample(
            input: PixelClassifierInput(name: "c0", image: single), labels: try OMEZarrImage.open(f.volume).labels("truth").read(),
            labelsName: "truth")], options: PixelClassifier.TrainingOptions(bank: f.model.featureBank,
                                                                              forest: RandomForestConfiguration(treeCount: 2, seed: 1), pixelsPerClass: 20))
        #expect(throws: PixelClassifierError.self) {
            _ = try BlockPrediction.run(volume: f.volume, model: oneChannel, modelIdentity: "c", directory: f.directory + "/c", stem: "vol")
        }
        #expect(!FileManager.default.fileExists(atPath: f.directory + "/c/vol-labels.ome.zarr"))
        // A corrupt input chunk met by a run that started on the sound volume: a one-line Zarr
        // error, and the blocks that read the chunk are not marked done.
        var plain = BlockPredictionOptions()
        plain.blockSize = 32
        plain.share = try BlockShare(parsing: "1/2")
        _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: f.directory + "/bad", stem: "vol", options: plain)
        let volume = try OMEZarrImage.open(f.volume)
        let key = volume.levels[0].metadata.chunkKey([1, 1, 0, 0])
        try Data(repeating: 7, count: 40).write(to: URL(fileURLWithPath: f.volume + "/0/" + key))
        plain.share = nil
        do {
            _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "m", directory: f.directory + "/bad", stem: "vol", options: plain)
            Issue.record("a corrupt chunk was read")
        } catch let error as ZarrError {
            guard case .badChunk = error else { Issue.record("\(error)"); return }
            #expect(!error.description.contains("\n"))
        }
        let journal = try #require(try BlockJournal.open(store: f.directory + "/bad/vol-labels.ome.zarr"))
        // Chunk [1, 1, 0, 0] is channel 1, planes 8…15, x and y 0…31: block 12 (the first of the
        // second slab of 4 × 3 blocks) reads it and is not done; block 0 is.
        #expect(!journal.isDone(12))
        #expect(journal.isDone(0) && journal.isDone(1))
    }

    @Test func unetBlocksOfWholePlanesEqualWholeVolumeInference() throws {
        let f = try Self.fixture("unet")
        let generator = try FIBSEMVolume(FIBSEMVolume.Options(width: 100, height: 75, depth: 19, seed: 5, channels: 2))
        let all = generator.block(Region(x: 0, y: 0, z: 0, width: 100, height: 75, depth: 19))
        let input = PixelClassifierInput(name: "whole", image: .uint16(all.detectors))
        let set = try NeuralTrainingSet([NeuralTrainingSet.Example(input: input, labels: .uint8(all.labels), labelsName: "truth")],
                                        classes: nil, slices: 3)
        var training = UNetTrainingOptions()
        training.depth = 2; training.baseWidth = 4; training.patchSize = 32; training.batchSize = 2
        training.steps = 4; training.evaluations = 1; training.seed = 1; training.slices = 3
        let model = try UNetTrainer.train(set, options: training, images: ["fib"])
        // Tiles of 32 blended over 8 pixels: blocks must reproduce the plane's tile layout.
        let segmenter = try UNetSegmenter(model: model, tileSize: 32, overlap: 8)
        let whole = try UNetOutputs.predictLabels(input, model: model, segmenter: segmenter)
        let expected = (0..<19).flatMap { whole[$0]!.map { UInt8($0) } }
        var reference: [String: Data]?
        for share in [nil, "1/2"] as [String?] {
            var options = BlockPredictionOptions()
            options.share = try share.map { try BlockShare(parsing: $0) }
            let out = f.directory + "/unet-\(share == nil ? "one" : "shared")"
            let first = try BlockPrediction.run(volume: f.volume, method: .unet(model, segmenter), modelIdentity: "u", directory: out,
                                                stem: "vol", options: options)
            #expect(first.blockCount == 3) // whole planes, 8 deep (the chunks), 19 planes
            if share != nil {
                options.share = nil
                let finish = try BlockPrediction.run(volume: f.volume, method: .unet(model, segmenter), modelIdentity: "u", directory: out,
                                                     stem: "vol", options: options)
                #expect(finish.computed == 2)
            }
            let store = out + "/vol-labels.ome.zarr"
            #expect(try Self.labels(store) == expected)
            let chunks = try Self.chunkFiles(store)
            if let reference { #expect(chunks == reference) } else { reference = chunks }
        }
        // The same output asked of the forest: another method, refused.
        #expect(throws: BlockRunError.self) {
            _ = try BlockPrediction.run(volume: f.volume, model: f.model, modelIdentity: "u", directory: f.directory + "/unet-one", stem: "vol")
        }
    }

    @Test func planCoversTheVolumeOnTheChunkGrid() throws {
        let plan = try BlockPlan(shape: Shape(width: 100, height: 75, depth: 19), chunk: (32, 32, 8), blockSize: 40, halo: (5, 5, 0), method: "m")
        #expect(plan.blockWidth == 64 && plan.blockHeight == 64 && plan.blockDepth == 8)
        #expect(plan.blocks.count == 2 * 2 * 3)
        #expect(plan.blocks.reduce(0) { $0 + $1.pixelCount } == 100 * 75 * 19)
        #expect(plan.readRegion(0) == Region(x: 0, y: 0, z: 0, width: 69, height: 69, depth: 8))
        #expect(plan.readRegion(3) == Region(x: 59, y: 59, z: 0, width: 41, height: 16, depth: 8))
        let deep = try BlockPlan(shape: Shape(width: 100, height: 75, depth: 19), chunk: (32, 32, 8), blockSize: 32, halo: (5, 5, 11), method: "m")
        #expect(deep.blockDepth == 16)
        do {
            _ = try BlockPlan(shape: Shape(width: 100, height: 75, depth: 19), chunk: (32, 32, 8), blockSize: 4, halo: (5, 7, 0), method: "the filters")
            Issue.record("a block smaller than the halo was accepted")
        } catch let error as BlockRunError {
            #expect(error == .blockSmallerThanHalo(field: "blockSize", blockSize: 4, halo: 7, method: "the filters"))
        }
        let shares = (0..<3).map { try! BlockShare(index: $0, count: 3).blocks(of: 10) }
        #expect(shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]])
    }
}
