import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveLearning
import CleavePipelines
import CleaveRender
import Foundation
import Hummingbird

/// `POST /api/images/{imageId}/train`: how to train a pixel classifier of the image's project from
/// its painted strokes and hand corrections.
public struct TrainInput: Codable, Sendable {
    /// The page session that asked (recorded with the `train` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
    /// Images whose active strokes train the model (default: every image of the project with strokes).
    public var imageIds: [String]?
    /// Forest: number of trees, 1 to 500 (default: the pixel classifier's default).
    public var treeCount: Int?
    /// Forest: the random seed (default 0); the same strokes and seed give the same model.
    public var seed: UInt64?
    /// A named filter bank: default, fast, ilastik, full.
    public var bank: String?
    /// 3D filters across the planes of stacks (default false: each plane on its own).
    public var threeD: Bool?
    /// forest (default), unet, or auto (both on the same held-out labels, the better one kept;
    /// as `cleave train --method auto`).
    public var method: String?
    /// U-Net: training steps (default ``Workbench/defaultUNetSteps``).
    public var steps: Int?
    /// U-Net: time budget in minutes (stops at whichever of steps / minutes comes first).
    public var minutes: Double?
}

/// A rectangle of an image in pixel coordinates: columns `x ..< x + width`, rows `y ..< y + height`
/// (0-based, inside the image).
public struct RegionDTO: Codable, Equatable, Sendable {
    /// First column (0-based).
    public var x: Int
    /// First row (0-based).
    public var y: Int
    /// Columns, at least 1.
    public var width: Int
    /// Rows, at least 1.
    public var height: Int
    /// First plane and number of planes (stacks only; absent for 2D images = plane 0, one plane).
    public var z: Int? = nil
    /// Number of planes from `z` (stacks only).
    public var depth: Int? = nil
}

/// `POST /api/images/{imageId}/predict`: which model to apply to which part of the image.
public struct PredictInput: Codable, Sendable {
    /// The page session that asked (recorded with the `predict` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent.
    public var clientTime: String?
    /// The model to apply, of this image's project (default: the project's newest model).
    public var modelId: String?
    /// The part to classify, e.g. the visible part of the page (default: the whole image); must lie
    /// inside the image.
    public var region: RegionDTO?
}

/// A class as a model learned it: its value in label maps, name and colour at training time.
public struct ModelClassDTO: Codable, Equatable, Sendable {
    /// The class value (the pixel value in label maps, 1…255).
    public var value: Int
    /// The class name.
    public var name: String
    /// The overlay colour as `#rrggbb`.
    public var colour: String
}

/// A trained pixel classifier of a project.
public struct ModelDTO: ResponseCodable, Equatable, Sendable {
    /// The model's id (the `{modelId}` of its routes).
    public var id: String
    /// The project it belongs to.
    public var projectId: String
    /// 1, 2, 3 … per project in training order; recorded with events as the model version.
    public var version: Int
    /// The job that trained it.
    public var jobId: String?
    /// The classes it predicts (those with training labels: strokes or hand corrections).
    public var classes: [ModelClassDTO]
    /// The ids of the images whose strokes (and hand corrections) trained it.
    public var trainedOn: [String]
    /// Labelled pixels per class value (as text keys).
    public var labelledPixels: [String: Int]
    /// Trees of the forest (0 for a U-Net).
    public var treeCount: Int
    /// The filter bank's name (default, fast, ilastik, full; "unet" for a U-Net).
    public var bank: String
    /// The forest's out-of-bag accuracy (0…1) on the stroke pixels; nil for a U-Net.
    public var oobAccuracy: Double?
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
    /// forest (absent in older models) or unet.
    public var method: String? = nil
    /// U-Net: steps trained and the kept weights' validation mean IoU.
    public var steps: Int? = nil
    /// U-Net: mean IoU (0…1) of the kept weights on the held-out validation pixels (nil without a
    /// validation split, and for a forest).
    public var validationMeanIoU: Double? = nil
    /// Trained with method "auto": which method was kept and why.
    public var selection: MethodSelectionDTO? = nil
}

/// What automatic method selection compared and why it kept its model (``MethodSelection``).
public struct MethodSelectionDTO: Codable, Equatable, Sendable {
    /// forest or unet.
    public var chosen: String
    /// The sentence `cleave train --method auto` prints after "method: rf — " (the same words).
    public var reason: String
    /// Held-out mean IoU of each candidate.
    public var forestMeanIoU: Double
    /// Held-out mean IoU of the U-Net.
    public var unetMeanIoU: Double
    /// Labelled pixels held out to compare them on.
    public var heldOutPixels: Int
}

/// One class's share of a prediction.
public struct FractionDTO: Codable, Equatable, Sendable {
    /// The class value.
    public var value: Int
    /// The class name.
    public var name: String
    /// The overlay colour as `#rrggbb`.
    public var colour: String
    /// Pixels of this class counted (inside the region of interest when there is one).
    public var pixels: Int
    /// `pixels` as a percentage (0…100) of all pixels of the region, or, with a region of interest,
    /// of the pixels counted inside it.
    public var percent: Double
    /// Area in `unit` (e.g. "nm²") when the image has a pixel size.
    public var area: Double?
    /// The unit of `area` (the pixel size's unit squared, e.g. "nm²"); nil without a pixel size.
    public var unit: String?
}

/// A prediction of a model over an image region.
public struct PredictionDTO: ResponseCodable, Equatable, Sendable {
    /// The prediction's id (the `{predictionId}` of its routes).
    public var id: String
    /// The image it classified.
    public var imageId: String
    /// The model applied.
    public var modelId: String
    /// That model's version in its project.
    public var modelVersion: Int
    /// The job that computed it.
    public var jobId: String?
    /// The part of the image classified (label and uncertainty maps cover exactly this).
    public var region: RegionDTO
    /// The model's classes.
    public var classes: [ModelClassDTO]
    /// Share of each class (the region of interest's outside class not listed).
    public var fractions: [FractionDTO]
    /// Mean per-pixel uncertainty over the region (0…1: 0 sure, 1 unsure).
    public var meanUncertainty: Double
    /// What the fractions count when the image has a region of interest (absent: every pixel).
    public var roi: RegionOfInterestSummaryDTO? = nil
    /// open | accepted | rejected
    public var state: String
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
}

extension Workbench {
    static let maximumTreeCount = 500

    // MARK: Training

    /// Starts training a model from the active strokes of the project's images.
    /// - Throws: 400 when there are no strokes or fewer than two classes, bad options; 404 unknown ids.
    public func startTraining(imageID: String, userID: String, input: TrainInput) async throws -> JobDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let image = try await image(id: imageID)
        let treeCount = input.treeCount ?? RandomForestConfiguration.pixelClassifierDefault.treeCount
        guard (1...Workbench.maximumTreeCount).contains(treeCount) else {
            throw APIError(.badRequest, "treeCount must be 1 to \(Workbench.maximumTreeCount), got \(treeCount)")
        }
        let bankName = input.bank ?? "default"
        let bank: FilterBank
        do { bank = try FilterBank.named(bankName, threeD: input.threeD ?? false) } catch { throw APIError(.badRequest, "bank: \(error)") }
        let projectImages = try await images(projectID: image.projectId)
        var chosen: [ImageDTO]
        if let ids = input.imageIds {
            guard !ids.isEmpty, ids.count <= 100 else { throw APIError(.badRequest, "imageIds must list 1 to 100 images") }
            chosen = []
            for id in ids {
                guard let found = projectImages.first(where: { $0.id == id }) else {
                    throw APIError(.badRequest, "image \(id.prefix(40)) is not an image of this project")
                }
                chosen.append(found)
            }
        } else {
            chosen = projectImages
        }
        // Training labels: pixels corrected on a result (correction tools, reclassified objects),
        // then strokes painted over them (later wins; an eraser stroke clears both).
        var examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)] = []
        var values = Set<Int>()
        for candidate in chosen {
            let strokes = try await strokes(imageID: candidate.id)
            let corrected = try await correctionLabels(image: candidate)
            guard !strokes.isEmpty || corrected != nil else { continue }
            values.formUnion(strokes.map(\.class).filter { $0 != 0 })   // 0 = eraser
            if let corrected { values.formUnion(Set(corrected.filter { $0 != 0 }.map(Int.init))) }
            examples.append((candidate, try await decoded(candidate).image, strokes, corrected))
        }
        guard !examples.isEmpty else { throw APIError(.badRequest, "no strokes to train from: paint at least two classes first") }
        guard values.count >= 2 else {
            throw APIError(.badRequest, "strokes of only one class (\(values.sorted().map(String.init).joined(separator: ", "))); paint at least two classes")
        }
        let projectClasses = try await classes(projectID: image.projectId)
        let params = try JSONValue.from(input)
        let seed = input.seed ?? 0
        let ready = examples
        switch input.method ?? "forest" {
        case "forest": break
        case "unet":
            return try startUNetTraining(image: image, actor: actor, input: input, examples: ready, projectClasses: projectClasses)
        case "auto":
            let forest = PixelClassifier.TrainingOptions(bank: bank, forest: RandomForestConfiguration(treeCount: treeCount, seed: seed),
                                                         blockSize: PixelFeatureCache.blockSize)
            return try startAutomaticTraining(image: image, actor: actor, input: input, examples: ready, projectClasses: projectClasses,
                                              forest: forest, bankName: bankName)
        case let other: throw APIError(.badRequest, "method must be forest, unet or auto, got \(other.prefix(40))")
        }
        return try jobs.submit(kind: "train", imageID: imageID, projectID: image.projectId, params: params) { [self] context in
            context.report(0, "rasterising strokes")
            var training: [PixelClassifier.TrainingExample] = []
            var labelled: [String: Int] = [:]
            let options = PixelClassifier.TrainingOptions(bank: bank, forest: RandomForestConfiguration(treeCount: treeCount, seed: seed),
                                                          blockSize: PixelFeatureCache.blockSize)
            for (dto, pixels, strokes, corrected) in ready {
                // One label plane per image plane: each stroke labels the plane it was painted on.
                var labels = corrected ?? [UInt8](repeating: 0, count: dto.width * dto.height * dto.depth)
                StrokeRaster.paint(strokes, width: dto.width, height: dto.height, depth: dto.depth, into: &labels)
                for v in labels where v != 0 { labelled[String(v), default: 0] += 1 }
                let labelImage = Image<UInt8>(shape: Shape(width: dto.width, height: dto.height, depth: dto.depth), pixels: labels)
                // The whole image's windows, measured once per image (cached), as prediction uses them.
                let input = try pixelFeatures.prepared(sha256: dto.sha256, input: PixelClassifierInput(name: dto.name, image: pixels),
                                                       intensityNormalization: options.intensityNormalization)
                training.append(.init(input: input, labels: AnyImage(labelImage),
                                      labelsName: corrected == nil ? "strokes of \(dto.name)" : "strokes and corrections of \(dto.name)"))
            }
            let shas = ready.map { $0.0.sha256 }
            try context.checkCancelled()
            let classes = Workbench.trainingClasses(labelled: labelled, projectClasses: projectClasses)
            let model: PixelClassifierModel
            do {
                // Feature stacks of the blocks holding stroke pixels come from the per-image cache:
                // after the first update they are not computed again until the image leaves it.
                model = try PixelClassifier.train(training, classes: classes, options: options, progress: context.progress()) { index, input, region in
                    try self.pixelFeatures.stack(sha256: shas[index], input: input, region: region, bank: bank)
                }
            } catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let dto = try storeForest(model, image: image, actor: actor, jobID: context.id, trainedOn: ready.map { $0.0.id },
                                      labelled: labelled, treeCount: treeCount, bankName: bankName, seed: seed, selection: nil)
            return Workbench.trainedResult(dto)
        }
    }

    /// Stores a trained forest as the project's next model version and records the 'train' event.
    func storeForest(_ model: PixelClassifierModel, image: ImageDTO, actor: Actor, jobID: String, trainedOn: [String],
                     labelled: [String: Int], treeCount: Int, bankName: String, seed: UInt64,
                     selection: MethodSelectionDTO?) throws -> ModelDTO {
        let id = Workbench.newID()
        try results.write(Array(try JSONEncoder().encode(model)), kind: "models", id: id, part: "json")
        self.models.store(model, key: id)
        return try database.write { db -> ModelDTO in
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM models WHERE project_id = ?", arguments: [image.projectId]) ?? 0) + 1
            let dto = ModelDTO(id: id, projectId: image.projectId, version: version, jobId: jobID,
                               classes: model.classes.map { ModelClassDTO(value: Int($0.value), name: $0.name, colour: $0.colour.hex) },
                               trainedOn: trainedOn, labelledPixels: labelled, treeCount: treeCount, bank: bankName,
                               oobAccuracy: model.training.outOfBagAccuracy, createdAt: Workbench.now(), selection: selection)
            try db.insert(dto)
            var payload: [String: JSONValue] = [
                "modelId": .string(id), "version": .number(Double(version)), "jobId": .string(jobID),
                "trainedOn": .array(trainedOn.map { .string($0) }), "treeCount": .number(Double(treeCount)),
                "bank": .string(bankName), "seed": .number(Double(seed)),
                "labelledPixels": .object(labelled.mapValues { .number(Double($0)) })]
            if let selection { payload["method"] = .string("forest"); payload["selection"] = try JSONValue.from(selection) }
            try Workbench.record("train", by: actor, projectID: image.projectId, imageID: image.id, modelVersion: String(version), payload: payload, db)
            return dto
        }
    }

    /// `GET /api/models/{modelId}` (viewers and up): a trained model's summary.
    ///
    /// - Throws: ``APIError`` 404 for an unknown model id.
    public func model(id: String) async throws -> ModelDTO {
        try await get(ModelDTO.self, id)
    }

    /// `GET /api/projects/{projectId}/models` (viewers and up): the project's models, oldest
    /// (version 1) first.
    ///
    /// - Throws: ``APIError`` 404 for an unknown project.
    public func models(projectID: String) async throws -> [ModelDTO] {
        _ = try await project(id: projectID)
        return try await list(ModelDTO.self, "project_id", projectID, orderBy: "version")
    }

    func loadModel(_ id: String) throws -> PixelClassifierModel {
        if let cached = models.value(key: id) { return cached }
        let bytes = try results.read(kind: "models", id: id, part: "json")
        let model = try JSONDecoder().decode(PixelClassifierModel.self, from: Data(bytes))
        models.store(model, key: id)
        return model
    }

    /// The classes a model learns: the values labelled (keys of `labelled`, counts per value) in
    /// value order, named and coloured as the project's classes (unnamed when the project has none
    /// of that value).
    static func trainingClasses(labelled: [String: Int], projectClasses: [ClassDTO]) -> [PixelClass] {
        Set(labelled.keys.compactMap { Int32($0) }).sorted().enumerated().map { position, value in
            if let known = projectClasses.first(where: { $0.value == Int(value) }) {
                return PixelClass(value: value, name: known.name, colour: RGB(hex: known.colour) ?? Palette.colour(forIndex: position))
            }
            return PixelClass.unnamed(value, position: Int(value) - 1)
        }
    }

    // MARK: Prediction

    /// The requested rectangle of a prediction (the whole plane when absent).
    /// - Throws: 400 when it is empty or not inside the image.
    static func planeRegion(_ requested: RegionDTO?, of image: ImageDTO) throws -> RegionDTO {
        let region = requested ?? RegionDTO(x: 0, y: 0, width: image.width, height: image.height)
        // Written so that no sum can overflow (a region of Int.max used to trap the server).
        guard region.x >= 0, region.y >= 0, region.width >= 1, region.height >= 1,
              region.width <= image.width - region.x, region.height <= image.height - region.y else {
            throw APIError(.badRequest, "region (\(region.x), \(region.y), \(region.width)x\(region.height)) is not inside the \(image.width)x\(image.height) image")
        }
        return region
    }

    /// Starts a prediction of the whole image or of `region` (the page's visible part).
    public func startPrediction(imageID: String, userID: String, input: PredictInput) async throws -> JobDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let image = try await image(id: imageID)
        if let chosen = try await chosenModel(input.modelId, image: image), chosen.method == "unet" {
            return try await startUNetPrediction(image: image, actor: actor, input: input, modelDTO: chosen)
        }
        if image.depth > 1 { return try await startStackPrediction(image: image, actor: actor, input: input) }
        let modelDTO: ModelDTO
        if let id = input.modelId {
            modelDTO = try await model(id: id)
            guard modelDTO.projectId == image.projectId else { throw APIError(.badRequest, "model \(id) belongs to another project") }
        } else {
            guard let newest = try await models(projectID: image.projectId).last else {
                throw APIError(.badRequest, "the project has no trained model yet; train one first")
            }
            modelDTO = newest
        }
        let region = try Workbench.planeRegion(input.region, of: image)
        let pixels = try await decoded(image).image
        let params = try JSONValue.from(input)
        return try jobs.submit(kind: "predict", imageID: imageID, projectID: image.projectId, params: params) { [self] context in
            let model = try loadModel(modelDTO.id)
            let wanted = Region(x: region.x, y: region.y, width: region.width, height: region.height)
            // The whole image's intensity windows and its blocks' feature stacks come from the
            // cache (kept between strokes), so a region is classified exactly as it would be in the
            // whole image, and a live update after a stroke computes no features.
            let prediction: PixelPrediction
            do {
                let input = try pixelFeatures.prepared(sha256: image.sha256, input: PixelClassifierInput(name: image.name, image: pixels),
                                                       intensityNormalization: model.intensityNormalization)
                let bank = model.featureBank
                prediction = try PixelClassifier.predict(input, model: model, region: wanted, blockSize: PixelFeatureCache.blockSize,
                                                         progress: context.progress()) { _, input, block in
                    try self.pixelFeatures.stack(sha256: image.sha256, input: input, region: block, bank: bank)
                }
            } catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let k = model.classes.count, n = region.width * region.height
            var labels = [UInt8](repeating: 0, count: n), uncertainty = [UInt8](repeating: 0, count: n)
            var uncertaintySum = 0.0
            for i in 0..<n {
                labels[i] = UInt8(clamping: prediction.labels[i])
                let u = Double(prediction.uncertainty[i])
                uncertaintySum += u
                uncertainty[i] = UInt8((min(max(u, 0), 1) * 255).rounded())
            }
            let probabilities = prediction.probabilities
            precondition(probabilities.count == n * k, "startPrediction: \(probabilities.count) probabilities for \(n) pixels × \(k) classes")
            let id = Workbench.newID()
            try results.write(labels, kind: "predictions", id: id, part: "labels")
            try results.write(uncertainty, kind: "predictions", id: id, part: "uncertainty")
            try results.write(probabilities, kind: "predictions", id: id, part: "probabilities")
            let counted = Workbench.fractions(labels: labels, classes: modelDTO.classes, spacing: image.spacing, region: region,
                                              roi: try storedRegionOfInterest(imageID: image.id))
            let fractions = counted.fractions
            let dto = PredictionDTO(id: id, imageId: image.id, modelId: modelDTO.id, modelVersion: modelDTO.version, jobId: context.id,
                                    region: region, classes: modelDTO.classes, fractions: fractions,
                                    meanUncertainty: uncertaintySum / Double(n), roi: counted.roi, state: "open", createdAt: Workbench.now())
            try database.write { db in
                try db.insert(dto)
                try Workbench.record("predict", by: actor, projectID: image.projectId, imageID: image.id,
                                     modelVersion: String(modelDTO.version), payload: [
                    "predictionId": .string(id), "modelId": .string(modelDTO.id), "jobId": .string(context.id),
                    "region": .array([region.x, region.y, region.width, region.height].map { .number(Double($0)) }),
                    "fractions": .object(Dictionary(uniqueKeysWithValues: fractions.map { (String($0.value), JSONValue.number($0.percent)) }))], db)
            }
            return .object(["predictionId": .string(id)])
        }
    }

    static func crop(_ image: AnyImage, to region: Region) -> AnyImage {
        switch image {
        case .uint8(let i): return AnyImage(i.cropped(to: region))
        case .uint16(let i): return AnyImage(i.cropped(to: region))
        case .float32(let i): return AnyImage(i.cropped(to: region))
        }
    }

    /// Class fractions of a result over `region`: of every pixel, or, with a region of interest, of
    /// the pixels inside its polygon that are not of its outside class (which is then not listed).
    static func fractions(labels: [UInt8], classes: [ModelClassDTO], spacing: SpacingDTO?, region: RegionDTO,
                          roi: RegionOfInterestDTO?) -> (fractions: [FractionDTO], roi: RegionOfInterestSummaryDTO?) {
        var counts = [Int](repeating: 0, count: 256)
        if let mask = polygonMask(roi, region: region), mask.count == labels.count {
            for i in labels.indices where mask[i] { counts[Int(labels[i])] += 1 }
        } else {
            for v in labels { counts[Int(v)] += 1 }
        }
        let outside = roi?.outsideClass
        let listed = classes.filter { $0.value != outside }
        let inside = listed.reduce(0) { $0 + counts[$1.value] }
        // Without a region of interest every pixel counts (unlabelled ones too), as always.
        let total = Double(max(roi == nil ? labels.count : inside, 1))
        let fractions = listed.map { c in
            let pixels = counts[c.value]
            return FractionDTO(value: c.value, name: c.name, colour: c.colour, pixels: pixels, percent: 100 * Double(pixels) / total,
                               area: spacing.map { Double(pixels) * $0.x * $0.y }, unit: spacing.map { $0.unit + "²" })
        }
        let summary = roi.map { RegionOfInterestSummaryDTO(insidePixels: inside, totalPixels: labels.count, polygon: $0.polygon != nil,
                                                           outsideClass: $0.outsideClass) }
        return (fractions, summary)
    }

    /// `GET /api/predictions/{predictionId}` (viewers and up): a prediction's summary and fractions.
    ///
    /// - Throws: ``APIError`` 404 for an unknown prediction id.
    public func prediction(id: String) async throws -> PredictionDTO {
        try await get(PredictionDTO.self, id)
    }

    /// `GET /api/images/{imageId}/predictions` (viewers and up): the image's predictions, oldest first.
    ///
    /// - Throws: ``APIError`` 404 for an unknown image.
    public func predictions(imageID: String) async throws -> [PredictionDTO] {
        _ = try await image(id: imageID)
        return try await list(PredictionDTO.self, "image_id", imageID, orderBy: "created_at, id")
    }

    /// Accepts or rejects a prediction.
    public func judgePrediction(id: String, userID: String, sessionID: String?, clientTime: String?, accept: Bool) async throws -> PredictionDTO {
        let actor = try Actor(userID: userID, sessionID: sessionID, clientTime: clientTime)
        let existing = try await prediction(id: id)
        let image = try await image(id: existing.imageId)
        return try await database.write { db in
            var dto = existing
            dto.state = accept ? "accepted" : "rejected"
            try db.update(dto, columns: ["summary", "state"])
            try Workbench.record(accept ? "accept" : "reject", by: actor, projectID: image.projectId, imageID: image.id,
                                 modelVersion: String(dto.modelVersion),
                                 payload: ["resultType": .string("prediction"), "resultId": .string(id)], db)
            return dto
        }
    }

    /// Class colours over the prediction's region (alpha = opacity, 0 where unlabelled).
    public func predictionLabelsPNG(id: String, opacity: Double, plane: Int? = nil) async throws -> [UInt8] {
        guard opacity.isFinite, (0...1).contains(opacity) else { throw APIError(.badRequest, "opacity must be 0 to 1, got \(opacity)") }
        let dto = try await prediction(id: id)
        let labels = try Workbench.resultPlane(try await clippedPredictionLabels(dto), region: dto.region, plane: plane)
        var colours = [RGB?](repeating: nil, count: 256)
        for c in dto.classes { colours[c.value] = RGB(hex: c.colour) }
        let alpha = UInt8((opacity * 255).rounded())
        return try Workbench.rgbaPNG(width: dto.region.width, height: dto.region.height) { i in
            colours[Int(labels[labels.startIndex + i])].map { ($0, alpha) }
        }
    }

    /// Uncertainty as a heat map (viridis), alpha = opacity × uncertainty so confident pixels stay clear.
    public func predictionUncertaintyPNG(id: String, opacity: Double, plane: Int? = nil) async throws -> [UInt8] {
        guard opacity.isFinite, (0...1).contains(opacity) else { throw APIError(.badRequest, "opacity must be 0 to 1, got \(opacity)") }
        let dto = try await prediction(id: id)
        let values = try Workbench.resultPlane(try results.read(kind: "predictions", id: id, part: "uncertainty"), region: dto.region, plane: plane)
        let palette = (0..<256).map { Palette.viridis(Double($0) / 255) }
        return try Workbench.rgbaPNG(width: dto.region.width, height: dto.region.height) { i in
            let v = values[values.startIndex + i]
            return (palette[Int(v)], UInt8((opacity * Double(v)).rounded()))
        }
    }

    /// The prediction's labels (class values, reclassified objects included) as an 8-bit TIFF with
    /// the image's pixel size; one page per plane for stacks; 0 outside the region-of-interest polygon.
    public func predictionLabelsTIFF(id: String) async throws -> [UInt8] {
        let dto = try await prediction(id: id)
        let image = try await image(id: dto.imageId)
        let labels = try await clippedPredictionLabels(dto)
        return try ImageFile.encode(Image<UInt8>(shape: Shape(width: dto.region.width, height: dto.region.height, depth: dto.region.planeCount), pixels: labels,
                                                 spacing: image.spacing.map { Spacing(x: $0.x, y: $0.y, unit: $0.unit) }), as: .tiff)
    }

    /// An RGBA PNG from a per-pixel colour function (nil = transparent).
    static func rgbaPNG(width: Int, height: Int, colour: (Int) -> (RGB, UInt8)?) throws -> [UInt8] {
        var out = Image<UInt8>(shape: Shape(width: width, height: height, channels: 4))
        let plane = width * height
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<plane {
                guard let (c, a) = colour(i) else { continue }
                p[i] = c.red; p[plane + i] = c.green; p[2 * plane + i] = c.blue; p[3 * plane + i] = a
            }
        }
        return try ImageFile.encode(out, as: .png)
    }
}

/// A small thread-safe LRU of decoded values (trained models).
final class LockedCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(key: String, value: Value)] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func value(key: String) -> Value? {
        lock.lock(); defer { lock.unlock() }
        return entries.first(where: { $0.key == key })?.value
    }

    func store(_ value: Value, key: String) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.key == key }
        entries.append((key, value))
        if entries.count > capacity { entries.removeFirst() }
    }

    func remove(key: String) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.key == key }
    }
}

extension ModelDTO: SummaryRecord {
    static let table = "models"
    static let noun = "model"
    func indexColumns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("project_id", projectId), ("version", version), ("job_id", jobId), ("created_at", createdAt)]
    }
}

extension PredictionDTO: SummaryRecord {
    static let table = "predictions"
    static let noun = "prediction"
    func indexColumns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("image_id", imageId), ("model_id", modelId), ("job_id", jobId), ("state", state), ("created_at", createdAt)]
    }
}
