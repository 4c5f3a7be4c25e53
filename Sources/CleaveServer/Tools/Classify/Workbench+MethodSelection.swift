import CleaveCore
import CleaveLearning
import CleavePipelines
import Foundation

/// Training with method "auto" (the page's "Automatic"): the workbench runs the CLI's
/// ``MethodSelection`` (`cleave train --method auto`) on the project's strokes and corrections —
/// forest and U-Net trained on the same labels, scored on the same held-out blocks, the better one
/// kept — and stores the kept model as the project's next version. The job's result and the model
/// say which method was kept and why, in the CLI's words.
extension Workbench {
    func startAutomaticTraining(image: ImageDTO, actor: Actor, input: TrainInput,
                                examples: [(ImageDTO, AnyImage, [StrokeDTO], [UInt8]?)], projectClasses: [ClassDTO],
                                forest: PixelClassifier.TrainingOptions, bankName: String) throws -> JobDTO {
        let unet = try unetOptions(input, examples: examples)
        return try submitTrainingJob(image: image, input: input, examples: examples,
                                     projectClasses: projectClasses) { [self] context, training, labelled, classes in
            let chart = UNetChart(context: context, validated: true)
            let outcome: (model: MethodSelection.Trained, report: MethodSelection.Report)
            do {
                outcome = try MethodSelection.train(
                    training, classes: classes, forest: forest, unet: unet, images: examples.map { $0.0.name },
                    budgetMinutes: input.minutes, progress: context.progress(),
                    log: { line in context.report(0, String(line.prefix(200))) }, onStep: chart.step)
            } catch let error as JobCancelled { throw error }
            catch { throw APIError(.badRequest, String(describing: error)) }
            try context.checkCancelled()
            let report = outcome.report
            let selection = MethodSelectionDTO(
                chosen: report.chosen == .unet ? "unet" : "forest", reason: report.reason,
                forestMeanIoU: report.forest.meanIoU.isFinite ? report.forest.meanIoU : 0,
                unetMeanIoU: report.unet.meanIoU.isFinite ? report.unet.meanIoU : 0,
                heldOutPixels: report.validationCounts.reduce(0, +))
            let trainedOn = examples.map { $0.0.id }
            let dto: ModelDTO
            switch outcome.model {
            case .forest(let model):
                dto = try storeForest(model, image: image, actor: actor, jobID: context.id, trainedOn: trainedOn, labelled: labelled,
                                      treeCount: forest.forest.treeCount, bankName: bankName, seed: forest.forest.seed, selection: selection)
            case .unet(let model):
                dto = try storeUNet(model, image: image, actor: actor, jobID: context.id, trainedOn: trainedOn, labelled: labelled,
                                    seed: unet.seed, selection: selection)
            }
            return Workbench.trainedResult(dto)
        }
    }
}
