import Foundation
import Hummingbird

/// What leaves the server whole: a project's class fractions (CSV), its open-data consent, the
/// reference-data export (zip, streamed), and the caller's own events (CSV) (documented in
/// ``OpenAPIDocument`` and docs/api.md).
struct ExportRoutes {
    let workbench: Workbench

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench
        let jsonLimit = workbench.configuration.maximumJSONBytes

        api.get("projects/{projectId}/fractions.csv", .member(.viewer), audit: "export.fractions") { _, context -> Response in
            fileResponse(Array(try await workbench.projectFractionsCSV(projectID: try context.parameter("projectId")).utf8),
                         type: "text/csv; charset=utf-8", filename: "class-fractions.csv")
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
