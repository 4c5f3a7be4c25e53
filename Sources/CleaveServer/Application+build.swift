import Foundation
import Hummingbird

/// The request context of every route.
public typealias WorkbenchContext = BasicRequestContext

/// Builds the workbench application: opens (or creates) the data directory, runs migrations,
/// adds the demo project when asked, and wires the routes. `cleave serve` runs the result;
/// tests drive it in process with `app.test(.router)`.
///
/// - Throws: when the data directory or database cannot be opened.
public func buildApplication(_ configuration: ServerConfiguration) async throws -> some ApplicationProtocol {
    let workbench = try Workbench(configuration: configuration)
    if configuration.demo { try await DemoProject.ensure(in: workbench) }
    let router = buildRouter(workbench)
    return Application(router: router, server: .http1(additionalChannelHandlers: [ConnectionCloseHandler()]),
                       configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                            serverName: "cleave"))
}

/// The router with every route (see ``OpenAPIDocument`` for the list).
public func buildRouter(_ workbench: Workbench) -> Router<WorkbenchContext> {
    let router = Router(context: WorkbenchContext.self)
    router.add(middleware: JSONErrorMiddleware(redactor: workbench.redactor))
    router.add(middleware: CrossSiteGuard(bindAddress: workbench.configuration.host))
    WebRoutes(directory: workbench.configuration.webDirectory).register(on: router)
    let api = router.group("api")
    APIRoutes(workbench: workbench).register(on: api)
    ToolRoutes(workbench: workbench).register(on: api)
    return router
}
