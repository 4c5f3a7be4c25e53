import Foundation
import Hummingbird

/// The JSON API under `/api` (documented in ``OpenAPIDocument``).
struct APIRoutes {
    let workbench: Workbench

    func register(on api: RouterGroup<WorkbenchContext>) {
        let workbench = self.workbench
        let jsonLimit = workbench.configuration.maximumJSONBytes

        api.get("openapi.json") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }

        // Projects
        api.get("projects") { _, _ in
            ListResponse(items: try await workbench.projects(), key: "projects")
        }
        api.post("projects") { request, _ -> EditedResponse<ProjectDTO> in
            struct Input: Decodable { var name: String }
            let input = try await request.decodeJSON(Input.self, limit: jsonLimit)
            return EditedResponse(status: .created, response: try await workbench.createProject(name: input.name))
        }
        api.get("projects/{projectId}") { _, context in
            try await workbench.project(id: try context.parameter("projectId"))
        }
        api.get("projects/{projectId}/images") { _, context in
            ListResponse(items: try await workbench.images(projectID: try context.parameter("projectId")), key: "images")
        }
        // Upload: the raw file is the body; `name` (query) is only a display name.
        api.post("projects/{projectId}/images") { request, context -> EditedResponse<ImageDTO> in
            let projectID = try context.parameter("projectId")
            _ = try await workbench.project(id: projectID)   // fail fast before reading the body
            let name = request.uri.queryParameters.get("name") ?? "image"
            _ = try Workbench.checkedUploadName(name)
            // A declared length over the limit is refused before a byte is stored.
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > workbench.configuration.maximumUploadBytes {
                throw APIError(.contentTooLarge, "upload exceeds the limit of \(workbench.configuration.maximumUploadBytes) bytes")
            }
            let sink = try workbench.beginUpload()
            do {
                for try await buffer in request.body {
                    try buffer.withUnsafeReadableBytes { try sink.write($0) }
                }
            } catch {
                workbench.abandonUpload(sink)
                throw error
            }
            let image = try await workbench.acceptUpload(sink, projectID: projectID, name: name)
            return EditedResponse(status: .created, response: image)
        }

        // Images
        api.get("images/{imageId}") { _, context in
            try await workbench.image(id: try context.parameter("imageId"))
        }
        api.get("images/{imageId}/window") { request, context in
            try await workbench.defaultWindow(imageID: try context.parameter("imageId"), plane: try request.integer("plane"))
        }
        api.get("images/{imageId}/tiles/{level}/{x}/{tile}") { request, context -> Response in
            let tile = try context.parameter("tile")
            guard tile.hasSuffix(".png"), let row = Int(tile.dropLast(4)) else {
                throw APIError(.notFound, "tile must be named {y}.png, got \(tile)")
            }
            let query = request.uri.queryParameters
            func number(_ key: String) throws -> Double? {
                guard let text = query.get(key) else { return nil }
                guard let value = Double(text) else { throw APIError(.badRequest, "query parameter \(key) must be a number, got \(text)") }
                return value
            }
            let png = try await workbench.tilePNG(imageID: try context.parameter("imageId"), level: try context.intParameter("level"),
                                                  column: try context.intParameter("x"), row: row,
                                                  low: try number("low"), high: try number("high"), plane: try request.integer("plane") ?? 0)
            return pngResponse(png)
        }

        // Strokes
        api.get("images/{imageId}/strokes") { request, context in
            let all = request.uri.queryParameters.get("include") == "undone"
            return ListResponse(items: try await workbench.strokes(imageID: try context.parameter("imageId"), includeUndone: all),
                                key: "strokes")
        }
        api.post("images/{imageId}/strokes") { request, context -> EditedResponse<StrokeDTO> in
            let input = try await request.decodeJSON(StrokeInput.self, limit: jsonLimit)
            let stroke = try await workbench.addStroke(imageID: try context.parameter("imageId"), userID: request.userID, input: input)
            return EditedResponse(status: .created, response: stroke)
        }
        api.post("images/{imageId}/strokes/undo") { request, context in
            let input = try await request.decodeJSON(UndoRedoInput.self, limit: jsonLimit)
            return StrokeChangeResponse(stroke: try await workbench.undoStroke(
                imageID: try context.parameter("imageId"), userID: request.userID, sessionID: input.sessionId))
        }
        api.post("images/{imageId}/strokes/redo") { request, context in
            let input = try await request.decodeJSON(UndoRedoInput.self, limit: jsonLimit)
            return StrokeChangeResponse(stroke: try await workbench.redoStroke(
                imageID: try context.parameter("imageId"), userID: request.userID, sessionID: input.sessionId))
        }

        // Events (the caller's own only)
        api.post("events") { request, _ -> EditedResponse<ListResponse<EventDTO>> in
            let batch = try await request.decodeJSON(EventBatchInput.self, limit: jsonLimit)
            let stored = try await workbench.recordEvents(batch.events, userID: request.userID)
            return EditedResponse(status: .created, response: ListResponse(items: stored, key: "events"))
        }
        api.get("events") { request, _ in
            ListResponse(items: try await workbench.events(userID: request.userID,
                                                           imageID: request.uri.queryParameters.get("imageId")),
                         key: "events")
        }
        api.delete("events") { request, _ in
            CountResponse(deleted: try await workbench.deleteEvents(userID: request.userID))
        }
    }
}
