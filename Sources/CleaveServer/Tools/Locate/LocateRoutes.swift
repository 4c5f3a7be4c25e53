import Foundation
import Hummingbird

/// The cluster tool (the Locator on the workbench): runs, their overlay and the cluster under a
/// pixel, pick/merge, the pick model file, accept/reject (documented in ``OpenAPIDocument`` and
/// docs/api.md).
struct LocateRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    /// `{sessionId, clientTime?, cluster, name, class?}` — naming (and classing) one cluster.
    struct PickInput: Codable { var sessionId: String?; var clientTime: String?; var cluster: Int; var name: String; var `class`: Int? }
    /// `{sessionId, clientTime?, clusters}` — the clusters to merge into one.
    struct MergeInput: Codable { var sessionId: String?; var clientTime: String?; var clusters: [Int] }

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer
        let jsonLimit = workbench.configuration.maximumJSONBytes

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
        }
    }
}

/// `{"cluster": n}` or `{"cluster": null}`: the cluster under a pixel, if any.
struct ClusterAtResponse: ResponseEncodable, Sendable {
    var cluster: Int?
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(cluster, forKey: DynamicKey("cluster"))
    }
}
