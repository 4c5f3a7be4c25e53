import Foundation
import Hummingbird

/// Jobs, the cluster / pixel-classification / objects tools, reference data and export
/// (documented in ``OpenAPIDocument`` and docs/api.md).
struct ToolRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    /// `{sessionId, clientTime?}` — the body of accept/reject and friends.
    struct SessionInput: Codable { var sessionId: String?; var clientTime: String? }
    struct PickInput: Codable { var sessionId: String?; var clientTime: String?; var cluster: Int; var name: String; var `class`: Int? }
    struct MergeInput: Codable { var sessionId: String?; var clientTime: String?; var clusters: [Int] }

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer
        let jsonLimit = workbench.configuration.maximumJSONBytes

        // Jobs
        // Only jobs of projects the caller can see.
        api.get("jobs", .signedIn) { request, context in
            let visible = try await authorizer.visibleProjects(context.identity!)
            // JobQueue reads the database synchronously: off the cooperative threads, where such a
            // read can wait forever for a reader held by an async read (see AccountStore.hasAccounts).
            let imageID = request.uri.queryParameters.get("imageId")
            let jobs = try await Workbench.offload { try workbench.jobs.jobs(imageID: imageID) }
                .filter { job in
                    guard let visible else { return true }
                    return job.projectId.map { visible[$0] != nil } ?? false
                }
            return ListResponse(items: jobs, key: "jobs")
        }
        api.get("jobs/{jobId}", .member(.viewer)) { _, context -> JobDTO in
            let id = try context.parameter("jobId")
            guard let job = try await Workbench.offload({ workbench.jobs.job(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            return job
        }
        api.post("jobs/{jobId}/cancel", .member(.annotator)) { _, context -> JobDTO in
            let id = try context.parameter("jobId")
            guard let job = try await Workbench.offload({ workbench.jobs.cancel(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            return job
        }
        api.get("jobs/{jobId}/events", .member(.viewer)) { _, context -> Response in
            let id = try context.parameter("jobId")
            guard let stream = try await Workbench.offload({ workbench.jobs.subscribe(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let encoder = JSONEncoder()
                for await job in stream {
                    let json = String(decoding: try encoder.encode(job), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: job\ndata: \(json)\n\n"))
                }
                try await writer.finish(nil)
            })
        }

        // Cluster tool
        api.post("images/{imageId}/cluster", .member(.annotator)) { request, context -> EditedResponse<JobDTO> in
            let input = try await request.decodeJSON(ClusterInput.self, limit: jsonLimit)
            try await authorizer.requireVisible(.clustering, input.pickModelFrom, context.identity)
            let job = try await workbench.startClustering(imageID: try context.parameter("imageId"), userID: context.userID, input: input)
            return EditedResponse(status: .accepted, response: job)
        }
        api.get("images/{imageId}/clusterings", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.clusterings(imageID: try context.parameter("imageId")), key: "clusterings")
        }
        api.get("clusterings/{clusteringId}", .member(.viewer)) { _, context in
            try await workbench.clustering(id: try context.parameter("clusteringId"))
        }
        api.get("clusterings/{clusteringId}/overlay.png", .member(.viewer)) { request, context -> Response in
            let opacity = try request.number("opacity") ?? 0.5
            return pngResponse(try await workbench.clusteringOverlayPNG(id: try context.parameter("clusteringId"), opacity: opacity))
        }
        api.get("clusterings/{clusteringId}/at", .member(.viewer)) { request, context -> ClusterAtResponse in
            guard let x = try request.number("x"), let y = try request.number("y") else {
                throw APIError(.badRequest, "give x and y (image pixels)")
            }
            // Clamped before the conversion: Int(1e300) would trap; far outside is simply no cluster.
            func pixel(_ value: Double) -> Int { Int(min(max(value, -1), 1e12).rounded(.down)) }
            return ClusterAtResponse(cluster: try await workbench.cluster(at: pixel(x), pixel(y),
                                                                          clusteringID: try context.parameter("clusteringId")))
        }
        api.post("clusterings/{clusteringId}/pick", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(PickInput.self, limit: jsonLimit)
            return try await workbench.pickCluster(id: try context.parameter("clusteringId"), userID: context.userID, sessionID: input.sessionId,
                                                   clientTime: input.clientTime, cluster: input.cluster, name: input.name, classValue: input.class)
        }
        api.get("clusterings/{clusteringId}/model.json", .member(.viewer), audit: "export.model") { _, context -> Response in
            let id = try context.parameter("clusteringId")
            return fileResponse(try await workbench.pickModelFile(clusteringID: id), type: "application/json",
                                filename: "locator-model-\(id).json")
        }
        api.post("clusterings/{clusteringId}/merge", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(MergeInput.self, limit: jsonLimit)
            return try await workbench.mergeClusters(id: try context.parameter("clusteringId"), userID: context.userID, sessionID: input.sessionId,
                                                     clientTime: input.clientTime, clusters: input.clusters)
        }
        for (verb, accept) in [("accept", true), ("reject", false)] {
            api.post("clusterings/{clusteringId}/\(verb)", .member(.annotator)) { request, context in
                let input = try await request.decodeJSON(SessionInput.self, limit: jsonLimit)
                return try await workbench.judgeClustering(id: try context.parameter("clusteringId"), userID: context.userID,
                                                           sessionID: input.sessionId, clientTime: input.clientTime, accept: accept)
            }
            api.post("predictions/{predictionId}/\(verb)", .member(.annotator)) { request, context in
                let input = try await request.decodeJSON(SessionInput.self, limit: jsonLimit)
                return try await workbench.judgePrediction(id: try context.parameter("predictionId"), userID: context.userID,
                                                           sessionID: input.sessionId, clientTime: input.clientTime, accept: accept)
            }
        }

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

        // Region of interest (fractions, objects and label exports count only what lies inside)
        api.get("images/{imageId}/roi", .member(.viewer)) { _, context in
            try await workbench.regionOfInterest(imageID: try context.parameter("imageId"))
        }
        api.put("images/{imageId}/pixel-size", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(PixelSizeInput.self, limit: jsonLimit)
            return try await workbench.setPixelSize(imageID: try context.parameter("imageId"), userID: context.userID, input: input)
        }
        api.put("images/{imageId}/roi", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(RegionOfInterestInput.self, limit: jsonLimit)
            return try await workbench.setRegionOfInterest(imageID: try context.parameter("imageId"), userID: context.userID, input: input)
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
        api.get("projects/{projectId}/fractions.csv", .member(.viewer), audit: "export.fractions") { _, context -> Response in
            fileResponse(Array(try await workbench.projectFractionsCSV(projectID: try context.parameter("projectId")).utf8),
                         type: "text/csv; charset=utf-8", filename: "class-fractions.csv")
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

        // Objects
        api.post("images/{imageId}/objects", .member(.annotator)) { request, context -> EditedResponse<JobDTO> in
            let input = try await request.decodeJSON(ObjectsInput.self, limit: jsonLimit)
            try await authorizer.requireVisible(.prediction, input.predictionId, context.identity)
            return EditedResponse(status: .accepted, response: try await workbench.startObjects(
                imageID: try context.parameter("imageId"), userID: context.userID, input: input))
        }
        api.get("images/{imageId}/objectsets", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.objectSets(imageID: try context.parameter("imageId")), key: "objectSets")
        }
        api.get("objectsets/{objectSetId}", .member(.viewer)) { _, context in
            try await workbench.objectSet(id: try context.parameter("objectSetId"))
        }
        api.get("objectsets/{objectSetId}/objects.csv", .member(.viewer), audit: "export.objects") { _, context -> Response in
            fileResponse(Array(try await workbench.objectsCSV(setID: try context.parameter("objectSetId")).utf8), type: "text/csv; charset=utf-8")
        }
        api.get("objectsets/{objectSetId}/objects.geojson", .member(.viewer), audit: "export.objects") { _, context -> Response in
            fileResponse(Array(try await workbench.objectsGeoJSON(setID: try context.parameter("objectSetId")).utf8), type: "application/geo+json")
        }
        api.get("objectsets/{objectSetId}/labels.png", .member(.viewer)) { request, context -> Response in
            pngResponse(try await workbench.objectsPNG(setID: try context.parameter("objectSetId"), opacity: try request.number("opacity") ?? 0.5,
                                                       plane: try request.integer("plane")))
        }
        api.post("objectsets/{objectSetId}/objects/{objectId}/class", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(ReclassifyInput.self, limit: jsonLimit)
            return try await workbench.reclassifyObject(setID: try context.parameter("objectSetId"), objectID: try context.intParameter("objectId"),
                                                        userID: context.userID, input: input)
        }

        // Reference data, consent, export
        api.get("images/{imageId}/reference", .member(.viewer)) { _, context in
            try await workbench.reference(imageID: try context.parameter("imageId")).summary
        }
        api.get("images/{imageId}/reference/labels.tif", .member(.viewer), audit: "export.reference") { _, context -> Response in
            fileResponse(try await workbench.referenceTIFF(imageID: try context.parameter("imageId"), provenance: false), type: "image/tiff")
        }
        api.get("images/{imageId}/reference/provenance.tif", .member(.viewer), audit: "export.reference") { _, context -> Response in
            fileResponse(try await workbench.referenceTIFF(imageID: try context.parameter("imageId"), provenance: true), type: "image/tiff")
        }
        api.put("projects/{projectId}/consent", .member(.owner)) { request, context in
            struct Input: Codable { var consent: Bool; var sessionId: String? }
            let input = try await request.decodeJSON(Input.self, limit: jsonLimit)
            return try await workbench.setConsent(projectID: try context.parameter("projectId"), userID: context.userID,
                                                  sessionID: input.sessionId, consent: input.consent)
        }
        api.post("projects/{projectId}/export", .member(.viewer), audit: "export.project") { request, context -> Response in
            struct Input: Codable { var sessionId: String?; var openData: Bool? }
            let input = try await request.decodeJSON(Input.self, limit: jsonLimit)
            let projectID = try context.parameter("projectId")
            let path = try await workbench.exportProject(projectID: projectID, userID: context.userID, sessionID: input.sessionId,
                                                         openData: input.openData ?? false)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            var headers = HTTPFields()
            headers[.contentType] = "application/zip"
            headers[.contentDisposition] = "attachment; filename=\"cleave-\(projectID.prefix(8)).zip\""
            return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: size) { writer in
                defer { try? FileManager.default.removeItem(atPath: path) }
                guard let reader = FileHandle(forReadingAtPath: path) else { throw APIError(.internalServerError, "export vanished") }
                defer { try? reader.close() }
                while let chunk = try reader.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
        }
        api.get("events.csv", .signedIn, audit: "export.events") { _, context -> Response in
            fileResponse(Array(try await workbench.eventsCSV(userID: context.userID).utf8), type: "text/csv; charset=utf-8")
        }
    }
}

struct ClusterAtResponse: ResponseEncodable, Sendable {
    var cluster: Int?
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(cluster, forKey: DynamicKey("cluster"))
    }
}

extension Request {
    /// An optional numeric query parameter. - Throws: 400 when present but not a finite number.
    func number(_ key: String) throws -> Double? {
        guard let text = uri.queryParameters.get(key) else { return nil }
        guard let value = Double(text), value.isFinite else { throw APIError(.badRequest, "query parameter \(key) must be a number, got \(text.prefix(40))") }
        return value
    }

    /// An optional integer query parameter (a plane). - Throws: 400 when present but not an integer.
    func integer(_ key: String) throws -> Int? {
        guard let text = uri.queryParameters.get(key) else { return nil }
        guard let value = Int(text) else { throw APIError(.badRequest, "query parameter \(key) must be an integer, got \(text.prefix(40))") }
        return value
    }
}

func fileResponse(_ bytes: [UInt8], type: String, filename: String? = nil) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = type
    if let filename { headers[.contentDisposition] = "attachment; filename=\"\(filename)\"" }
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}
