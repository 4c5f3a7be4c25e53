import Foundation
import Hummingbird

/// Pixel classification: classes, hand corrections of a result, training, model versions and their
/// files, prediction and its downloads, accept/reject (documented in ``OpenAPIDocument`` and
/// docs/api.md).
struct ClassifyRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer
        let jsonLimit = workbench.configuration.maximumJSONBytes

        // Classes
        api.get("projects/{projectId}/classes", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.classes(projectID: try context.parameter("projectId")), key: "classes")
        }
        api.post("projects/{projectId}/classes", .member(.annotator)) { request, context -> EditedResponse<ClassDTO> in
            let input = try await request.decodeJSON(ClassInput.self, limit: jsonLimit)
            return EditedResponse(status: .created, response: try await workbench.createClass(
                projectID: try context.parameter("projectId"), userID: context.userID, input: input))
        }
        api.put("classes/{classId}", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(ClassInput.self, limit: jsonLimit)
            return try await workbench.updateClass(id: try context.parameter("classId"), userID: context.userID, input: input)
        }
        api.delete("classes/{classId}", .member(.owner), audit: "delete.class") { request, context in
            try await workbench.deleteClass(id: try context.parameter("classId"), userID: context.userID,
                                            sessionID: request.uri.queryParameters.get("sessionId"),
                                            discard: request.uri.queryParameters.get("discard") == "true")
        }

        // Correcting a result by hand (brush, lasso, fill)
        api.post("predictions/{predictionId}/corrections", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(CorrectionInput.self, limit: jsonLimit)
            return try await workbench.correctPrediction(id: try context.parameter("predictionId"), userID: context.userID, input: input)
        }

        // Training and prediction
        api.post("images/{imageId}/train", .member(.annotator)) { request, context -> EditedResponse<JobDTO> in
            let input = try await request.decodeJSON(TrainInput.self, limit: jsonLimit)
            return EditedResponse(status: .accepted, response: try await workbench.startTraining(
                imageID: try context.parameter("imageId"), userID: context.userID, input: input))
        }
        api.get("projects/{projectId}/models", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.models(projectID: try context.parameter("projectId")), key: "models")
        }
        api.get("models/{modelId}", .member(.viewer)) { _, context in
            try await workbench.model(id: try context.parameter("modelId"))
        }
        // The model file: model.json (cleave predict --model) or model.onnx (U-Net).
        api.get("models/{modelId}/{file}", .member(.viewer), audit: "export.model") { _, context -> Response in
            let file = try context.parameter("file")
            guard file.hasPrefix("model.") else { throw APIError(.notFound, "models are offered as model.json or model.onnx") }
            let found = try await workbench.modelFile(id: try context.parameter("modelId"), format: String(file.dropFirst(6)))
            return fileResponse(found.bytes, type: found.type, filename: found.filename)
        }
        api.post("images/{imageId}/predict", .member(.annotator)) { request, context -> EditedResponse<JobDTO> in
            let input = try await request.decodeJSON(PredictInput.self, limit: jsonLimit)
            try await authorizer.requireVisible(.model, input.modelId, context.identity)
            return EditedResponse(status: .accepted, response: try await workbench.startPrediction(
                imageID: try context.parameter("imageId"), userID: context.userID, input: input))
        }
        api.get("images/{imageId}/predictions", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.predictions(imageID: try context.parameter("imageId")), key: "predictions")
        }
        api.get("predictions/{predictionId}", .member(.viewer)) { _, context in
            try await workbench.prediction(id: try context.parameter("predictionId"))
        }
        api.get("predictions/{predictionId}/labels.png", .member(.viewer)) { request, context -> Response in
            pngResponse(try await workbench.predictionLabelsPNG(id: try context.parameter("predictionId"), opacity: try request.number("opacity") ?? 0.5,
                                                                plane: try request.integer("plane")))
        }
        api.get("predictions/{predictionId}/uncertainty.png", .member(.viewer)) { request, context -> Response in
            pngResponse(try await workbench.predictionUncertaintyPNG(id: try context.parameter("predictionId"), opacity: try request.number("opacity") ?? 0.7,
                                                                     plane: try request.integer("plane")))
        }
        api.get("predictions/{predictionId}/labels.tif", .member(.viewer), audit: "export.prediction") { _, context -> Response in
            fileResponse(try await workbench.predictionLabelsTIFF(id: try context.parameter("predictionId")), type: "image/tiff")
        }
        api.get("predictions/{predictionId}/probabilities.tif", .member(.viewer), audit: "export.prediction") { _, context -> Response in
            fileResponse(try await workbench.predictionProbabilitiesTIFF(id: try context.parameter("predictionId")), type: "image/tiff")
        }
        api.get("predictions/{predictionId}/overlay.png", .member(.viewer)) { request, context -> Response in
            pngResponse(try await workbench.predictionOverlayPNG(id: try context.parameter("predictionId"), opacity: try request.number("opacity") ?? 0.5,
                                                                 plane: try request.integer("plane")))
        }
        api.get("predictions/{predictionId}/fractions.json", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.prediction(id: try context.parameter("predictionId")).fractions, key: "fractions")
        }
        for (verb, accept) in [("accept", true), ("reject", false)] {
            api.post("predictions/{predictionId}/\(verb)", .member(.annotator)) { request, context in
                let input = try await request.decodeJSON(SessionInput.self, limit: jsonLimit)
                return try await workbench.judgePrediction(id: try context.parameter("predictionId"), userID: context.userID,
                                                           sessionID: input.sessionId, clientTime: input.clientTime, accept: accept)
            }
        }
    }
}
