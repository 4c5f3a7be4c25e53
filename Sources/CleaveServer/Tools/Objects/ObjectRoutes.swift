import Foundation
import Hummingbird

/// Object sets: measuring a prediction's class, the sets and their CSV/GeoJSON/PNG, reclassifying
/// an object by hand (documented in ``OpenAPIDocument`` and docs/api.md).
struct ObjectRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer
        let jsonLimit = workbench.configuration.maximumJSONBytes

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
    }
}
