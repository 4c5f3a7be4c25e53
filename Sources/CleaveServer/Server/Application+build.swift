import Foundation
import Hummingbird

/// Builds the workbench application: opens (or creates) the data directory, runs migrations,
/// adds the demo project when asked, and wires the routes. `cleave serve` runs the result;
/// tests drive it in process with `app.test(.router)`.
///
/// - Throws: when the data directory or database cannot be opened.
/// - Throws: ``ServeRefusal`` when asked to listen beyond loopback while no account exists.
public func buildApplication(_ configuration: ServerConfiguration) async throws -> some ApplicationProtocol {
    let workbench = try Workbench(configuration: configuration)
    if !CrossSite.isLoopback(host: configuration.host), try await !workbench.accounts.hasAccounts() {
        throw ServeRefusal.noAccounts(host: configuration.host)
    }
    if configuration.demo { try await DemoProject.ensure(in: workbench) }
    let router = buildRouter(workbench)
    return Application(router: router, server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionCloseHandler()])),
                       configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                            serverName: "cleave"))
}

/// The router with every route (see ``OpenAPIDocument`` for the list). Each route declares the
/// ``Access`` it needs; ``AccessGuard`` enforces it. `rules` collects the declarations (tests
/// enumerate routes from it).
public func buildRouter(_ workbench: Workbench, rules: RouteRules = RouteRules()) -> Router<WorkbenchContext> {
    let router = Router(context: WorkbenchContext.self)
    let authorizer = Authorizer(accounts: workbench.accounts)
    router.add(middleware: JSONErrorMiddleware(redactor: workbench.redactor))
    router.add(middleware: CrossSiteGuard(bindAddress: workbench.configuration.host))
    router.add(middleware: AccessGuard(rules: rules, authorizer: authorizer,
                                       loopbackOnly: CrossSite.isLoopback(host: workbench.configuration.host)))
    WebRoutes(directory: workbench.configuration.webDirectory)
        .register(on: GuardedRoutes(group: router.group(), prefix: "", rules: rules))
    let api = GuardedRoutes(group: router.group("api"), prefix: "api", rules: rules)
    APIRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
    ToolRoutes(workbench: workbench, authorizer: authorizer).register(on: api)
    SessionRoutes(workbench: workbench, throttle: LoginThrottle()).register(on: api)
    return router
}

/// Why `cleave serve` will not start.
public enum ServeRefusal: Error, CustomStringConvertible, Equatable {
    /// Listening beyond loopback with no account would give everyone every project.
    case noAccounts(host: String)

    /// The one-line reason, with the command that fixes it.
    public var description: String {
        switch self {
        case .noAccounts(let host):
            "refusing to listen on \(host) with no accounts: anyone who can reach it could read and change every project; create an account first (cleave user add NAME --admin)"
        }
    }
}
