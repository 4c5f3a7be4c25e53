import Foundation
import Hummingbird

/// Jobs, the tools (cluster, pixel classification, objects), an image's region of interest and
/// pixel size, reference labels and exports: one registration point that calls each part's routes,
/// which live next to that part (documented in ``OpenAPIDocument`` and docs/api.md).
struct ToolRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    func register(on api: GuardedRoutes) {
        JobRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
        LocateRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
        ClassifyRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
        ImageSettingsRoutes(workbench: workbench).register(on: api)
        ObjectRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
        ReferenceRoutes(workbench: workbench).register(on: api)
        ExportRoutes(workbench: workbench).register(on: api)
    }
}
