import Testing
import Foundation
import CleaveCore
import CleaveFeatures
import CleaveLearning
import CleavePipelines
import CleaveTestSupport

/// Learning from picks (issue 18 item 4): a random forest on the scaled patch statistics, trained
/// on a run's clusters as picked, stored in the model (format version 3) and applied to new grids.
@Suite struct LocatorPickLearningTests {
    static let options = LocatorOptions(sampling: .patches(.grid(rows: 16, columns: 16)), clusterCount: 2, compressTails: true)
    /// Applying a model: the run's own grid (a model does not fix the grid), the model's everything else.
    static let applied = LocatorOptions(sampling: .patches(.grid(rows: 16, columns: 16)))

    static func set(seed: UInt64, particles: Double = 10) throws -> SyntheticTileSet {
        try SyntheticTileSet.generate(.init(rows: 2, columns: 2, tileSize: 512, seed: seed, kind: .film, particlesPerTile: particles))
    }

    /// The run that teaches the classifier (seed 1) and its model.
    static func trained() throws -> (result: LocatorResult, model: LocatorModel) {
        let result = try Locator.run(try set(seed: 1).locatorImages(), options: options)
        return (result, try Locator.learnPicks(result, name: "particle"))
    }

    /// A model learned on seed 1 picks the true particle patches of seeds 2 and 3 by classification
    /// and records its route. Measured with the CLI on the same sets (`cleave sample --seed S --rows 2
    /// --columns 2 --tile-size 512 --kind film`, `--grid 16x16` applied): F1 0.843 / 0.939, precision
    /// 1.0 (the centroid route 0.862 / 0.949): on particle-rich grids the two routes are equal.
    @Test(arguments: [UInt64(2), 3])
    func classifierPicksParticlesOnAnotherSeed(seed: UInt64) throws {
        let (training, model) = try Self.trained()
        let classifier = try #require(model.classifier)
        #expect(classifier.picked == [Int32(training.picked)] && classifier.pickedName == "particle")
        #expect(classifier.trainingPatches == training.layout.count && classifier.forest.featureCount == training.featureNames.count)
        #expect(classifier.trainingClusterSizes == training.clusterSizes)
        let other = try Self.set(seed: seed)
        let classified = try Locator.run(other.locatorImages(), options: Self.applied, model: model)
        #expect(classified.pickedBy == "classifier")
        let score = other.score(classified, positiveCoverage: 0.02)
        let centroids = try Locator.run(other.locatorImages(), options: Self.applied, model: model.withoutClassifier)
        #expect(centroids.pickedBy == "model")
        let centroidScore = other.score(centroids, positiveCoverage: 0.02)
        #expect(score.f1 >= 0.8 && score.precision >= 0.95, "classifier \(score), centroids \(centroidScore)")
        #expect(abs(score.f1 - centroidScore.f1) <= 0.05, "classifier \(score), centroids \(centroidScore)")
        // Heat is the picked cluster's probability: at least 0.5 on every picked patch of two classes.
        for i in classified.heat.indices where classified.pickedMask[i] { #expect(classified.heat[i] >= 0.5) }
        #expect(classified.heat.allSatisfy { $0 >= 0 && $0 <= 1 })
        // The classifier carries on in the applied run's model.
        #expect(classified.model.classifier == classifier)
    }

    /// On a grid without particles the classifier picks (almost) nothing, while re-clustering from
    /// the centroids still splits the film into two clusters and picks one of them (measured with
    /// the CLI on seed 4, `--particles 0`: 0 against 394 of 1024 patches).
    @Test func classifierPicksNothingWhereThereIsNothing() throws {
        let (_, model) = try Self.trained()
        let empty = try Self.set(seed: 4, particles: 0).locatorImages()
        let classified = try Locator.run(empty, options: Self.applied, model: model)
        let centroids = try Locator.run(empty, options: Self.applied, model: model.withoutClassifier)
        let classifiedCount = classified.pickedMask.filter { $0 }.count, centroidCount = centroids.pickedMask.filter { $0 }.count
        #expect(classifiedCount <= 2 && centroidCount >= 10 * max(1, classifiedCount),
                "classifier picked \(classifiedCount), centroids \(centroidCount) of \(classified.layout.count)")
    }

    /// Applying the model to its own training grid gives back the training clusters (a fully grown
    /// forest fits its training rows) and the same picked patches.
    @Test func classifierReproducesItsTrainingClusters() throws {
        let (training, model) = try Self.trained()
        let again = try Locator.run(try Self.set(seed: 1).locatorImages(), options: Self.applied, model: model)
        #expect(again.labels == training.labels && again.pickedMask == training.pickedMask)
    }

    /// The same model file gives the same result whatever the thread count.
    @Test func resultsIdenticalForAnyThreadCount() throws {
        let (_, model) = try Self.trained()
        let images = try Self.set(seed: 2).locatorImages()
        let saved = Parallel.threadCount
        Parallel.threadCount = 1
        let one = try Locator.run(images, options: Self.applied, model: model)
        let single = try Locator.learnPicks(try Locator.run(try Self.set(seed: 1).locatorImages(), options: Self.options))
        Parallel.threadCount = saved
        let many = try Locator.run(images, options: Self.applied, model: model)
        #expect(one.labels == many.labels && one.heat == many.heat)
        #expect(single.classifier == model.classifier.map { var c = $0; c.pickedName = nil; return c })
    }

    /// Save, load: the same model (Equatable), the same result; version 3 on disk.
    @Test func classifierModelRoundTrips() throws {
        let (_, model) = try Self.trained()
        let folder = TestData.scratchDirectory("locator-pick-roundtrip")
        try model.save(folder + "/m.json")
        let loaded = try LocatorModel.load(folder + "/m.json")
        #expect(loaded.version == 3 && loaded.classifier == model.classifier)
        let images = try Self.set(seed: 2).locatorImages()
        let a = try Locator.run(images, options: Self.applied, model: model)
        let b = try Locator.run(images, options: Self.applied, model: loaded)
        #expect(a.labels == b.labels && a.heat == b.heat && a.pickedMask == b.pickedMask)
    }

    /// A version-2 file (no classifier field) still loads and gives exactly the centroid route's
    /// output, which is the version-2 behaviour (k-means warm-started from the saved centres).
    @Test func versionTwoModelsStillLoadAndCluster() throws {
        let (_, model) = try Self.trained()
        let folder = TestData.scratchDirectory("locator-pick-v2")
        try model.save(folder + "/m.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/m.json"))) as? [String: Any])
        json["version"] = 2
        json.removeValue(forKey: "classifier")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/v2.json"))
        let old = try LocatorModel.load(folder + "/v2.json")
        #expect(old.classifier == nil && old.version == 2)
        let images = try Self.set(seed: 2).locatorImages()
        let fromFile = try Locator.run(images, options: Self.applied, model: old)
        let inMemory = try Locator.run(images, options: Self.applied, model: model.withoutClassifier)
        #expect(fromFile.pickedBy == "model" && fromFile.labels == inMemory.labels && fromFile.heat == inMemory.heat)
        #expect(fromFile.pickedMask == inMemory.pickedMask && fromFile.model.classifier == nil)
    }

    /// Hand-edited classifier fields are refused with the field's name, never a crash.
    @Test(arguments: [
        ("picked", "classifier.picked"), ("classes", "classifier.forest.classes"), ("featureCount", "classifier.forest.featureCount"),
        ("nodeValues", "classifier.forest.nodeValues"), ("nodeChildren", "classifier.forest.nodeChildren"),
        ("trainingClusterSizes", "classifier.trainingClusterSizes"), ("missing", "classifier.forest.treeStarts"),
    ])
    func tamperedClassifiersAreRefused(field: String, named: String) throws {
        let (_, model) = try Self.trained()
        let folder = TestData.scratchDirectory("locator-pick-tampered-\(field)")
        try model.save(folder + "/m.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/m.json"))) as? [String: Any])
        var classifier = try #require(json["classifier"] as? [String: Any])
        var forest = try #require(classifier["forest"] as? [String: Any])
        switch field {
        case "picked": classifier["picked"] = [7]
        case "classes": forest["classes"] = [0, 9]
        case "featureCount":  // a consistent forest of another width: importances match, the model's scaler does not
            let importances = try #require(forest["featureImportances"] as? [Double])
            forest["featureImportances"] = importances + [0]; forest["featureCount"] = importances.count + 1
        case "nodeValues":  // the first leaf fraction becomes NaN (0x7FC00000, little-endian)
            let text = try #require(forest["nodeValues"] as? String)
            var bytes = [UInt8](try #require(Data(base64Encoded: text)))
            bytes.replaceSubrange(0..<4, with: [0x00, 0x00, 0xC0, 0x7F])
            forest["nodeValues"] = Data(bytes).base64EncodedString()
        case "nodeChildren":  // the root points past the end of its tree
            let text = try #require(forest["nodeChildren"] as? String)
            var bytes = [UInt8](try #require(Data(base64Encoded: text)))
            bytes.replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, 0x0F])
            forest["nodeChildren"] = Data(bytes).base64EncodedString()
        case "trainingClusterSizes": classifier["trainingClusterSizes"] = [1]
        default: forest.removeValue(forKey: "treeStarts")
        }
        classifier["forest"] = forest
        json["classifier"] = classifier
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/bad.json"))
        do {
            _ = try LocatorModel.load(folder + "/bad.json")
            Issue.record("a tampered \(field) loaded")
        } catch let error as ModelFileError {
            #expect(error.description.contains("damaged Locator model (\(named)"), "\(error.description)")
            #expect(!error.description.contains("\n"), "one line: \(error.description)")
        }
    }

    /// Picks that cannot teach a classifier are refused naming the field.
    @Test func learnPicksRefusesWhatItCannotLearn() throws {
        let (training, _) = try Self.trained()
        #expect(throws: LocatorOptionError(field: "picked", value: "[5]", reason: "clusters are not all among 0…1")) { try Locator.learnPicks(training, picked: [5]) }
        let one = [Int32](repeating: 0, count: training.layout.count)
        #expect(throws: LocatorOptionError.self) { try Locator.learnPicks(training, labels: one, picked: [1]) }
        #expect(throws: LocatorOptionError(field: "labels", value: nil, reason: "3 labels for \(training.layout.count) patches")) { try Locator.learnPicks(training, labels: [0, 1, 0]) }
        var similar = Self.options
        similar.similarTo = .init(image: training.imageNames[0], row: 0, column: 0)
        let similarity = try Locator.run(try Self.set(seed: 1).locatorImages(), options: similar)
        #expect(throws: LocatorOptionError.self) { try Locator.learnPicks(similarity) }
    }

    /// Two picked clusters (a workbench pick after a merge, or two picks): both are picked on the
    /// new grid, and the heat is their summed probability.
    @Test func severalPickedClusters() throws {
        var options = Self.options
        options.clusterCount = 3
        let training = try Locator.run(try Self.set(seed: 1).locatorImages(), options: options)
        let model = try Locator.learnPicks(training, picked: [0, 1])
        #expect(model.classifier?.picked == [0, 1] && model.picked == 0)
        let applied = try Locator.run(try Self.set(seed: 2).locatorImages(), options: Self.applied, model: model)
        for i in applied.labels.indices { #expect(applied.pickedMask[i] == (applied.labels[i] == 0 || applied.labels[i] == 1)) }
    }
}
