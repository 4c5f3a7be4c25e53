import Foundation
import Hummingbird

/// What an image's measurements count and in what unit: its region of interest (fractions,
/// objects and label exports count only what lies inside) and its pixel size (documented in
/// ``OpenAPIDocument`` and docs/api.md).
struct ImageSettingsRoutes {
    let workbench: Workbench

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench
        let jsonLimit = workbench.configuration.maximumJSONBytes

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
    }
}
