import CleaveCore
import CleavePipelines
import CleaveRender
import Foundation

/// The U-Net in the workbench: trained as a background job whose events carry the loss and the
/// validation IoU step by step (the page draws them) and which Cancel stops between two steps;
/// every trained network is a model version like the forest's, applied by `predict` and
/// downloadable as a Cleave model file or ONNX.
extension Workbench {
    /// Steps of a workbench U-Net when the request gives none (the CLI's default is 500; an
    /// interactive first try should answer within minutes on a lab PC).
    public static let defaultUNetSteps = 300
    static let maximumUNetSteps = 20_000

    /// The model a prediction asks for: `modelId`, or the project's newest (nil when it has none).
    func chosenModel(_ id: String?, image: ImageDTO) async throws -> ModelDTO? {
        if let id {
            let found = try await model(id: id)
            return found.projectId == image.projectId ? found : nil
        }
        return try await models(projectID: image.projectId).last
    }

    func loadUNet(_ id: String) throws -> UNetSegmenterModel {
        let bytes = try results.read(kind: "models", id: id, part: "json")
        do { return try JSONDecoder().decode(UNetSegmenterModel.self, from: Data(bytes)) }
        catch { throw APIError(.internalServerError, "model \(id) is not a readable U-Net model") }
    }

    /// The U-Net options of a training request: steps (default ``defaultUNetSteps``) or minutes,
    /// the seed, and patches no larger than the smallest image side.
    func unetOptions(_ input: TrainInput, examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)]) throws -> UNetTrainingOptions {
        let steps = input.steps ?? (input.minutes == nil ? Workbench.defaultUNetSteps : nil)
        if let steps, !(1...Workbench.maximumUNetSteps).contains(steps) {
            throw APIError(.badRequest, "steps must be 1 to \(Workbench.maximumUNetSteps), got \(steps)")
        }
        if let minutes = input.minutes, !(minutes.isFinite && minutes > 0 && minutes <= 24 * 60) {
            throw APIError(.badRequest, "minutes must be more than 0 and at most 1440, got \(minutes)")
        }
        var chosen = UNetTrainingOptions()
        chosen.steps = steps
        chosen.minutes = input.minutes
        chosen.seed = input.seed ?? 0
        // Small images: patches no larger than the smallest image side (a multiple of 2^(depth−1)).
        let smallest = examples.map { min($0.0.width, $0.0.height) }.min() ?? chosen.patchSize
        let unit = 1 << (chosen.depth - 1)
        chosen.patchSize = max(unit * 4, min(chosen.patchSize, smallest / unit * unit))
        do { try chosen.validate() } catch { throw APIError(.badRequest, error) }
        return chosen
    }

    /// Each example's strokes rasterised over its corrections (one label plane per image plane),
    /// as plain inputs (the U-Net and method selection normalise them themselves), and the
    /// labelled pixels per class value.
    static func labelledExamples(_ examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)]) -> ([PixelClassifier.TrainingExample], [String: Int]) {
        var training: [PixelClassifier.TrainingExample] = []
        var labelled: [String: Int] = [:]
        for (dto, pixels, strokes, corrected) in examples {
            var labels = corrected ?? [UInt8](repeating: 0, count: dto.width * dto.height * dto.depth)
            StrokeRaster.paint(strokes, width: dto.width, height: dto.height, depth: dto.depth, into: &labels)
            for v in labels where v != 0 { labelled[String(v), default: 0] += 1 }
            let labelImage = Image<UInt8>(shape: Shape(width: dto.width, height: dto.height, depth: dto.depth), pixels: labels)
            training.append(.init(input: PixelClassifierInput(name: dto.name, image: pixels), labels: AnyImage(labelImage),
                                  labelsName: corrected == nil ? "strokes of \(dto.name)" : "strokes and corrections of \(dto.name)"))
        }
        return (training, labelled)
    }

    /// Submits the training job of the U-Net or of method selection: the job rasterises the strokes
    /// and corrections of `examples` (``labelledExamples(_:)``), names their classes from the
    /// project's (``trainingClasses(labelled:projectClasses:)``) and hands the examples, the labelled
    /// pixels per class value and the classes to `train`, whose value is the job's result.
    func submitTrainingJob(image: ImageDTO, input: TrainInput, examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)],
                           projectClasses: [ClassDTO],
                           train: @escaping @Sendable (JobContext, [PixelClassifier.TrainingExample], [String: Int], [PixelClass]) throws -> JSONValue)
    throws -> JobDTO {
        let params = try JSONValue.from(input)
        return try jobs.submit(kind: "train", imageID: image.id, projectID: image.projectId, params: params) { context in
            context.report(0, "rasterising strokes")
            let (training, labelled) = Workbench.labelledExamples(examples)
            let classes = Workbench.trainingClasses(labelled: labelled, projectClasses: projectClasses)
            return try train(context, training, labelled, classes)
        }
    }

    /// Trains a U-Net on the strokes and corrections of `examples` (gathered by ``startTraining``).
    func startUNetTraining(image: ImageDTO, actor: Actor, input: TrainInput,
                           examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)], projectClasses: [ClassDTO]) throws -> JobDTO {
        let options = try unetOptions(input, examples: examples)
        return try submitTrainingJob(image: image, input: input, examples: examples,
                                     projectClasses: projectClasses) { [self] context, training, labelled, classes in
            let model: UNetSegmenterModel
            do {
                // A few strokes may be too few to hold some back: then the network trains on all of
                // them without a validation split (and the page says so) rather than refusing.
                var used = options
                let set: NeuralTrainingSet
                do {
                    set = try NeuralTrainingSet(training, classes: classes, slices: used.slices, validationFraction: used.validationFraction,
                                                percentiles: used.percentiles, flattening: used.flattening)
                } catch where used.validationFraction > 0 {
                    used.validationFraction = 0
                    set = try NeuralTrainingSet(training, classes: classes, slices: used.slices, validationFraction: 0,
                                                percentiles: used.percentiles, flattening: used.flattening)
                }
                let chart = UNetChart(context: context, validated: used.validationFraction > 0)
                model = try UNetTrainer.train(set, options: used, images: examples.map { $0.0.name }, onStep: chart.step)
            } catch let error as JobCancelled { throw error }
            catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let dto = try storeUNet(model, image: image, actor: actor, jobID: context.id, trainedOn: examples.map { $0.0.id },
                                    labelled: labelled, seed: options.seed, selection: nil)
            return Workbench.trainedResult(dto)
        }
    }

    /// Stores a trained U-Net as the project's next model version and records the 'train' event.
    func storeUNet(_ model: UNetSegmenterModel, image: ImageDTO, actor: Actor, jobID: String, trainedOn: [String],
                   labelled: [String: Int], seed: UInt64, selection: MethodSelectionDTO?) throws -> ModelDTO {
        let id = Workbench.newID()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try results.write(Array(try encoder.encode(model)), kind: "models", id: id, part: "json")
        return try database.write { db -> ModelDTO in
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM models WHERE project_id = ?", arguments: [image.projectId]) ?? 0) + 1
            let dto = ModelDTO(id: id, projectId: image.projectId, version: version, jobId: jobID,
                               classes: model.classes.map { ModelClassDTO(value: Int($0.value), name: $0.name, colour: $0.colour.hex) },
                               trainedOn: trainedOn, labelledPixels: labelled, treeCount: 0, bank: "unet",
                               oobAccuracy: nil, createdAt: Workbench.now(), method: "unet", steps: model.training.steps,
                               validationMeanIoU: model.training.validationMeanIoU, selection: selection)
            try db.insert(dto)
            var payload: [String: JSONValue] = [
                "modelId": .string(id), "version": .number(Double(version)), "jobId": .string(jobID), "method": .string("unet"),
                "trainedOn": .array(trainedOn.map { .string($0) }), "steps": .number(Double(model.training.steps)),
                "seed": .number(Double(seed)), "labelledPixels": .object(labelled.mapValues { .number(Double($0)) })]
            if let selection { payload["selection"] = try JSONValue.from(selection) }
            try Workbench.record("train", by: actor, projectID: image.projectId, imageID: image.id, modelVersion: String(version), payload: payload, db)
            return dto
        }
    }

    /// A training job's result: the model and, for a U-Net, its steps and validation score; for
    /// automatic selection, the method kept and why.
    static func trainedResult(_ dto: ModelDTO) -> JSONValue {
        var result: [String: JSONValue] = ["modelId": .string(dto.id), "version": .number(Double(dto.version)),
                                           "method": .string(dto.method ?? "forest")]
        if let steps = dto.steps { result["steps"] = .number(Double(steps)) }
        if let v = dto.validationMeanIoU { result["validationMeanIoU"] = .number(v) }
        if let selection = dto.selection, let value = try? JSONValue.from(selection) { result["selection"] = value }
        return .object(result)
    }

    /// Predicts the region (every plane of a stack) with a U-Net model and stores the result as
    /// the forest's predictions are stored.
    func startUNetPrediction(image: ImageDTO, actor: Actor, input: PredictInput, modelDTO: ModelDTO) async throws -> JobDTO {
        let region = try Workbench.planeRegion(input.region, of: image)
        let chosen = RegionDTO(x: region.x, y: region.y, width: region.width, height: region.height,
                               z: image.depth > 1 ? 0 : nil, depth: image.depth > 1 ? image.depth : nil)
        let pixels = try await decoded(image).image
        let params = try JSONValue.from(input)
        return try jobs.submit(kind: "predict", imageID: image.id, projectID: image.projectId, params: params) { [self] context in
            let model = try loadUNet(modelDTO.id)
            let prediction: PixelPrediction
            do {
                let segmenter = try UNetSegmenter(model: model, tileSize: 512, overlap: 32)
                prediction = try UNetOutputs.predict(PixelClassifierInput(name: image.name, image: pixels), model: model, segmenter: segmenter,
                                                     region: Region(x: chosen.x, y: chosen.y, z: chosen.firstPlane, width: chosen.width,
                                                                    height: chosen.height, depth: chosen.planeCount),
                                                     progress: context.progress())
            } catch { throw APIError(.badRequest, error) }
            try context.checkCancelled()
            let n = prediction.labels.count
            var uncertaintySum = 0.0
            let labels = prediction.labels.map { UInt8(clamping: $0) }
            let uncertainty = prediction.uncertainty.map { u -> UInt8 in
                uncertaintySum += Double(u)
                return UInt8((min(max(Double(u), 0), 1) * 255).rounded())
            }
            let id = Workbench.newID()
            try results.write(labels, kind: "predictions", id: id, part: "labels")
            try results.write(uncertainty, kind: "predictions", id: id, part: "uncertainty")
            try results.write(prediction.probabilities, kind: "predictions", id: id, part: "probabilities")
            let counted = Workbench.fractions(labels: labels, classes: modelDTO.classes, spacing: image.spacing, region: chosen,
                                              roi: try storedRegionOfInterest(imageID: image.id))
            let dto = PredictionDTO(id: id, imageId: image.id, modelId: modelDTO.id, modelVersion: modelDTO.version, jobId: context.id,
                                    region: chosen, classes: modelDTO.classes, fractions: counted.fractions,
                                    meanUncertainty: uncertaintySum / Double(max(n, 1)), roi: counted.roi, state: "open", createdAt: Workbench.now())
            try database.write { db in
                try db.insert(dto)
                try Workbench.record("predict", by: actor, projectID: image.projectId, imageID: image.id,
                                     modelVersion: String(modelDTO.version), payload: [
                    "predictionId": .string(id), "modelId": .string(modelDTO.id), "jobId": .string(context.id), "method": .string("unet"),
                    "region": .array([chosen.x, chosen.y, chosen.width, chosen.height].map { .number(Double($0)) })], db)
            }
            return .object(["predictionId": .string(id)])
        }
    }

    /// A model as a file users can keep: the Cleave model JSON (`cleave predict --model` reads it),
    /// or for a U-Net its ONNX export.
    public func modelFile(id: String, format: String) async throws -> (bytes: [UInt8], filename: String, type: String) {
        let dto = try await model(id: id)
        let stem = "cleave-model-v\(dto.version)"
        switch format {
        case "json":
            return (try results.read(kind: "models", id: id, part: "json"), "\(stem).json", "application/json")
        case "onnx":
            guard dto.method == "unet" else { throw APIError(.badRequest, "model v\(dto.version) is a random forest; ONNX export is for U-Net models") }
            let model = try loadUNet(id)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("cleave-onnx-\(Workbench.newID()).onnx").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            do { _ = try model.writeONNX(to: path) } catch { throw APIError(.internalServerError, "ONNX export failed: \(error)") }
            guard let data = FileManager.default.contents(atPath: path) else { throw APIError(.internalServerError, "ONNX export wrote nothing") }
            return ([UInt8](data), "\(stem).onnx", "application/octet-stream")
        default:
            throw APIError(.notFound, "models are offered as model.json or model.onnx, not \(format.prefix(20))")
        }
    }
}

/// The U-Net chart's series, pushed with the job's progress: every step's loss (thinned to at
/// most 400–800 points) and each validation pass; Cancel is noticed between two steps.
final class UNetChart {
    let context: JobContext
    let validated: Bool
    private var losses: [(Int, Double)] = []
    private var validations: [(Int, Double)] = []
    private var lastPush = Date.distantPast

    init(context: JobContext, validated: Bool) {
        self.context = context
        self.validated = validated
    }

    func step(_ status: UNetTrainer.Status) throws {
        try context.checkCancelled()
        losses.append((status.step, status.loss))
        let evaluated = status.evaluation.map { $0.step == status.step } ?? false
        if evaluated, let e = status.evaluation, e.meanIoU.isFinite { validations.append((e.step, e.meanIoU)) }
        if losses.count > 800 { losses = stride(from: 0, to: losses.count, by: 2).map { losses[$0] } }
        let stage = "U-Net step \(status.step)" + (status.totalSteps.map { " of \($0)" } ?? "")
            + String(format: ", loss %.3f", status.loss)
            + (status.evaluation.map { String(format: ", validation mean IoU %.3f", $0.meanIoU) } ?? "")
        context.report(status.progress, stage)
        guard Date().timeIntervalSince(lastPush) >= 0.25 || evaluated || status.step == status.totalSteps else { return }
        lastPush = Date()
        context.reportMetrics(.object([
            "step": .number(Double(status.step)),
            "totalSteps": status.totalSteps.map { .number(Double($0)) } ?? .null,
            "validated": .bool(validated),
            "loss": .array(losses.map { .array([.number(Double($0.0)), .number($0.1)]) }),
            "validation": .array(validations.map { .array([.number(Double($0.0)), .number($0.1)]) })]))
    }
}
