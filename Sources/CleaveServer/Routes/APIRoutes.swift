import Foundation
import Hummingbird

/// The JSON API under `/api` (documented in ``OpenAPIDocument``).
struct APIRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    /// Streams a raw request body into `sink` (an image upload or a project archive), size-limited
    /// as it arrives; a declared length over the limit is refused before a byte is stored. On any
    /// failure the temporary file is removed.
    static func receive(_ request: Request, into sink: UploadSink, _ workbench: Workbench) async throws -> UploadSink {
        do {
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > workbench.configuration.maximumUploadBytes {
                throw APIError(.contentTooLarge, "upload exceeds the limit of \(workbench.configuration.maximumUploadBytes) bytes")
            }
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { try sink.unsafeWrite($0) }
            }
        } catch {
            workbench.abandonUpload(sink)
            throw error
        }
        return sink
    }

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer
        let jsonLimit = workbench.configuration.maximumJSONBytes

        api.get("openapi.json", .open) { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }

        // Projects
        // The caller's projects (all of them for admins and the single user), each with the caller's role.
        api.get("projects", .signedIn) { _, context in
            let visible = try await authorizer.visibleProjects(context.identity!)
            let projects = try await workbench.projects().compactMap { project -> ProjectDTO? in
                var project = project
                if let visible {
                    guard let role = visible[project.id] else { return nil }
                    project.role = role.rawValue
                } else {
                    project.role = context.identity?.account == nil ? ProjectRole.owner.rawValue : "admin"
                }
                return project
            }
            return ListResponse(items: projects, key: "projects")
        }
        // The creator of a project is its owner.
        api.post("projects", .signedIn) { request, context -> EditedResponse<ProjectDTO> in
            struct Input: Decodable { var name: String }
            let input = try await request.decodeJSON(Input.self, limit: jsonLimit)
            return EditedResponse(status: .created, response: try await workbench.createProject(name: input.name,
                                                                                               owner: context.identity?.account))
        }
        // Import of a project export zip (the raw archive is the body; `name` optional): a new
        // project owned by the caller, so anyone who may create projects may import. The audit
        // record is written in the import's own transaction (with what was imported).
        api.post("projects/import", .signedIn) { request, context -> EditedResponse<ProjectImportDTO> in
            let name = request.uri.queryParameters.get("name")
            if let name { _ = try ProjectImporter.projectName(name) }   // fail fast before reading the body
            let sink = try await APIRoutes.receive(request, into: workbench.beginArchiveUpload(), workbench)
            defer { workbench.abandonUpload(sink) }
            try sink.close()
            guard sink.byteCount > 0 else { throw APIError(.badRequest, "the request body is empty; send the project's .zip as the body") }
            let imported = try await workbench.importProject(archive: sink.path, name: name, owner: context.identity?.account,
                                                             userID: context.userID,
                                                             sessionID: request.uri.queryParameters.get("sessionId"))
            return EditedResponse(status: .created, response: imported)
        }
        api.get("projects/{projectId}", .member(.viewer)) { _, context in
            try await workbench.project(id: try context.parameter("projectId"))
        }
        api.put("projects/{projectId}", .member(.owner)) { request, context in
            let input = try await request.decodeJSON(RenameInput.self, limit: jsonLimit)
            return try await workbench.renameProject(id: try context.parameter("projectId"), userID: context.userID, input: input)
        }
        // What deleting would remove (the page's confirm), then the deletion itself.
        api.get("projects/{projectId}/deletion", .member(.owner)) { _, context in
            try await workbench.projectDeletionPreview(id: try context.parameter("projectId"))
        }
        api.delete("projects/{projectId}", .member(.owner), audit: "delete.project") { request, context in
            try await workbench.deleteProject(id: try context.parameter("projectId"), userID: context.userID,
                                              sessionID: request.uri.queryParameters.get("sessionId"))
        }
        api.get("projects/{projectId}/images", .member(.viewer)) { _, context in
            ListResponse(items: try await workbench.images(projectID: try context.parameter("projectId")), key: "images")
        }
        // Upload: the raw file is the body; `name` (query) is only a display name.
        api.post("projects/{projectId}/images", .member(.annotator)) { request, context -> EditedResponse<ImageDTO> in
            let projectID = try context.parameter("projectId")
            _ = try await workbench.project(id: projectID)   // fail fast before reading the body
            let name = request.uri.queryParameters.get("name") ?? "image"
            _ = try Workbench.checkedUploadName(name)
            let sink = try await APIRoutes.receive(request, into: workbench.beginUpload(), workbench)
            let image = try await workbench.acceptUpload(sink, projectID: projectID, name: name)
            return EditedResponse(status: .created, response: image)
        }

        // Images
        api.get("images/{imageId}", .member(.viewer)) { _, context in
            try await workbench.image(id: try context.parameter("imageId"))
        }
        api.put("images/{imageId}", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(RenameInput.self, limit: jsonLimit)
            return try await workbench.renameImage(id: try context.parameter("imageId"), userID: context.userID, input: input)
        }
        api.get("images/{imageId}/deletion", .member(.owner)) { _, context in
            try await workbench.imageDeletionPreview(id: try context.parameter("imageId"))
        }
        api.delete("images/{imageId}", .member(.owner), audit: "delete.image") { request, context in
            try await workbench.deleteImage(id: try context.parameter("imageId"), userID: context.userID,
                                            sessionID: request.uri.queryParameters.get("sessionId"))
        }
        api.get("images/{imageId}/window", .member(.viewer)) { request, context in
            try await workbench.defaultWindow(imageID: try context.parameter("imageId"), plane: try request.integer("plane"),
                                              channel: try request.integer("channel"))
        }
        api.get("images/{imageId}/tiles/{level}/{x}/{tile}", .member(.viewer)) { request, context -> Response in
            let tile = try context.parameter("tile")
            guard tile.hasSuffix(".png"), let row = Int(tile.dropLast(4)) else {
                throw APIError(.notFound, "tile must be named {y}.png, got \(tile)")
            }
            let png = try await workbench.tilePNG(imageID: try context.parameter("imageId"), level: try context.intParameter("level"),
                                                  column: try context.intParameter("x"), row: row,
                                                  low: try request.number("low"), high: try request.number("high"),
                                                  plane: try request.integer("plane") ?? 0, channels: request.uri.queryParameters.get("channels"))
            return pngResponse(png)
        }

        // Orthogonal views of a stack (XZ through a row, YZ through a column)
        api.get("images/{imageId}/orthogonal/{axis}", .member(.viewer)) { request, context -> Response in
            let axis = try context.parameter("axis")
            guard axis.hasSuffix(".png") else { throw APIError(.notFound, "orthogonal views are named xz.png or yz.png, got \(axis.prefix(20))") }
            let png = try await workbench.orthogonalPNG(imageID: try context.parameter("imageId"), axis: String(axis.dropLast(4)),
                                                        at: try request.integer("at"), low: try request.number("low"),
                                                        high: try request.number("high"))
            return pngResponse(png)
        }

        // Strokes
        api.get("images/{imageId}/strokes", .member(.viewer)) { request, context in
            let all = request.uri.queryParameters.get("include") == "undone"
            return ListResponse(items: try await workbench.strokes(imageID: try context.parameter("imageId"), includeUndone: all),
                                key: "strokes")
        }
        api.post("images/{imageId}/strokes", .member(.annotator)) { request, context -> EditedResponse<StrokeDTO> in
            let input = try await request.decodeJSON(StrokeInput.self, limit: jsonLimit)
            let stroke = try await workbench.addStroke(imageID: try context.parameter("imageId"), userID: context.userID, input: input)
            return EditedResponse(status: .created, response: stroke)
        }
        api.post("images/{imageId}/strokes/undo", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(UndoRedoInput.self, limit: jsonLimit)
            return StrokeChangeResponse(stroke: try await workbench.undoStroke(
                imageID: try context.parameter("imageId"), userID: context.userID, sessionID: input.sessionId))
        }
        api.post("images/{imageId}/strokes/redo", .member(.annotator)) { request, context in
            let input = try await request.decodeJSON(UndoRedoInput.self, limit: jsonLimit)
            return StrokeChangeResponse(stroke: try await workbench.redoStroke(
                imageID: try context.parameter("imageId"), userID: context.userID, sessionID: input.sessionId))
        }

        // Events (the caller's own only)
        api.post("events", .signedIn) { request, context -> EditedResponse<ListResponse<EventDTO>> in
            let batch = try await request.decodeJSON(EventBatchInput.self, limit: jsonLimit)
            // Events may name only projects and images the caller can see.
            for id in Set(batch.events.compactMap(\.projectId)) { try await authorizer.requireVisible(.project, id, context.identity) }
            for id in Set(batch.events.compactMap(\.imageId)) { try await authorizer.requireVisible(.image, id, context.identity) }
            let stored = try await workbench.recordEvents(batch.events, userID: context.userID)
            return EditedResponse(status: .created, response: ListResponse(items: stored, key: "events"))
        }
        api.get("events", .signedIn) { request, context in
            ListResponse(items: try await workbench.events(userID: context.userID,
                                                           imageID: request.uri.queryParameters.get("imageId")),
                         key: "events")
        }
        api.delete("events", .signedIn, audit: "delete.events") { _, context in
            CountResponse(deleted: try await workbench.deleteEvents(userID: context.userID))
        }
    }
}
