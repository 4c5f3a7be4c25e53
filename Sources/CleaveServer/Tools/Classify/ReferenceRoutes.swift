import Foundation
import Hummingbird

/// An image's reference labels: their summary and the label and provenance TIFFs (documented in
/// ``OpenAPIDocument`` and docs/api.md).
struct ReferenceRoutes {
    let workbench: Workbench

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench

        api.get("images/{imageId}/reference", .member(.viewer)) { _, context in
            try await workbench.reference(imageID: try context.parameter("imageId")).summary
        }
        api.get("images/{imageId}/reference/labels.tif", .member(.viewer), audit: "export.reference") { _, context -> Response in
            fileResponse(try await workbench.referenceTIFF(imageID: try context.parameter("imageId"), provenance: false), type: "image/tiff")
        }
        api.get("images/{imageId}/reference/provenance.tif", .member(.viewer), audit: "export.reference") { _, context -> Response in
            fileResponse(try await workbench.referenceTIFF(imageID: try context.parameter("imageId"), provenance: true), type: "image/tiff")
        }
    }
}
