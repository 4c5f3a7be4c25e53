import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Who is asking, as the authorization layer decided before the handler runs.
public enum Identity: Sendable, Equatable {
    /// Single-user mode (no accounts, loopback only): the person at this machine may do
    /// everything; events carry the browser's pseudonymous `X-Cleave-User`.
    case local(pseudonym: String)
    /// A signed-in account.
    case account(Account)

    /// The signed-in account, or nil in single-user (local) mode.
    public var account: Account? {
        if case .account(let account) = self { return account }
        return nil
    }

    /// The pseudonymous id events and strokes are stored under.
    public var pseudonym: String {
        switch self {
        case .local(let pseudonym): pseudonym
        case .account(let account): account.pseudonym
        }
    }

    /// Admins (and the single user) see every project.
    public var seesEverything: Bool {
        switch self {
        case .local: true
        case .account(let account): account.isAdmin
        }
    }
}

/// The request context of every route: Hummingbird's core context plus who is asking.
public struct WorkbenchContext: RequestContext {
    /// Hummingbird's per-request storage (logger, request id, decoder settings).
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AccessGuard`` before any handler runs (nil only on routes that need no session
    /// while nobody is signed in).
    public var identity: Identity?
    /// The raw session token of a signed-in request (logout, password change).
    var sessionToken: String?
    /// The peer's IP address (login rate limiting); nil in in-process tests.
    var remoteAddress: String?

    /// A context for one request on `source`'s channel, recording the peer's IP address; the identity
    /// is filled in later by ``AccessGuard``.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The pseudonymous user id of this request (events, strokes).
    var userID: String { identity?.pseudonym ?? "" }

    /// A required path parameter.
    func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError(.badRequest, "missing path parameter \(name)") }
        return value
    }

    /// A required integer path parameter.
    func intParameter(_ name: String) throws -> Int {
        guard let value = parameters.get(name, as: Int.self) else {
            throw APIError(.badRequest, "path parameter \(name) must be an integer")
        }
        return value
    }
}

/// What a route needs from the caller. Every route declares one when it is registered
/// (``GuardedRoutes``); ``AccessGuard`` enforces it before the handler runs, and refuses routes
/// that declared none.
public enum Access: Sendable, Equatable, CustomStringConvertible {
    /// Anyone: the page and its files, the API description, logging in.
    case open
    /// Any signed-in account (lists are filtered to the caller's projects).
    case signedIn
    /// Administrators only.
    case admin
    /// At least this role in the project that the route's id parameter (`{projectId}`,
    /// `{imageId}`, `{jobId}`, …) belongs to. Non-members get the same 404 as for an id that
    /// does not exist; members with a lesser role get 403.
    case member(ProjectRole)

    /// The access as written in route tables and tests: `open`, `signedIn`, `admin` or
    /// `member(<role>)`.
    public var description: String {
        switch self {
        case .open: "open"
        case .signedIn: "signedIn"
        case .admin: "admin"
        case .member(let role): "member(\(role.rawValue))"
        }
    }
}

/// One route's declared access, and the audit action recorded when it succeeds.
public struct RouteRule: Sendable {
    /// The HTTP method, e.g. `GET`, `POST`.
    public var method: String
    /// The full route path with its parameters as declared, e.g. `/api/projects/{projectId}`.
    public var path: String
    /// Who may call the route (checked by ``AccessGuard`` before the handler runs).
    public var access: Access
    /// e.g. "export.project", "delete.class": recorded in the audit table after a 2xx answer.
    public var audit: String?
}

/// Every route's rule, filled while the router is built and read by ``AccessGuard``.
public final class RouteRules: @unchecked Sendable {
    private let lock = NSLock()
    private var rules: [String: RouteRule] = [:]

    /// An empty table; routes add their rules while the router is built.
    public init() {}

    static func key(_ method: HTTPRequest.Method, _ path: String) -> String { method.rawValue + " " + path }

    func add(_ rule: RouteRule) {
        lock.lock(); defer { lock.unlock() }
        precondition(rules[RouteRules.key(HTTPRequest.Method(rule.method)!, rule.path)] == nil, "route \(rule.method) \(rule.path) declared twice")
        rules[RouteRules.key(HTTPRequest.Method(rule.method)!, rule.path)] = rule
    }

    func rule(_ method: HTTPRequest.Method, _ path: String) -> RouteRule? {
        lock.lock(); defer { lock.unlock() }
        return rules[RouteRules.key(method, path)]
    }

    /// Every declared rule, sorted by path and method (tests enumerate routes from this).
    public var all: [RouteRule] {
        lock.lock(); defer { lock.unlock() }
        return rules.values.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }
}

/// Registers routes on a group, each with the ``Access`` it needs. Routes are only added
/// through this, so none can skip the declaration.
struct GuardedRoutes {
    let group: RouterGroup<WorkbenchContext>
    let prefix: RouterPath
    let rules: RouteRules

    func on<Output: ResponseGenerator>(_ path: RouterPath, method: HTTPRequest.Method, _ access: Access, audit: String? = nil,
                                       use handler: @Sendable @escaping (Request, WorkbenchContext) async throws -> Output) {
        rules.add(RouteRule(method: method.rawValue, path: prefix.appendingPath(path).description, access: access, audit: audit))
        group.on(path, method: method, use: handler)
    }

    func get<Output: ResponseGenerator>(_ path: RouterPath, _ access: Access, audit: String? = nil,
                                        use handler: @Sendable @escaping (Request, WorkbenchContext) async throws -> Output) {
        on(path, method: .get, access, audit: audit, use: handler)
    }

    func post<Output: ResponseGenerator>(_ path: RouterPath, _ access: Access, audit: String? = nil,
                                         use handler: @Sendable @escaping (Request, WorkbenchContext) async throws -> Output) {
        on(path, method: .post, access, audit: audit, use: handler)
    }

    func put<Output: ResponseGenerator>(_ path: RouterPath, _ access: Access, audit: String? = nil,
                                        use handler: @Sendable @escaping (Request, WorkbenchContext) async throws -> Output) {
        on(path, method: .put, access, audit: audit, use: handler)
    }

    func delete<Output: ResponseGenerator>(_ path: RouterPath, _ access: Access, audit: String? = nil,
                                           use handler: @Sendable @escaping (Request, WorkbenchContext) async throws -> Output) {
        on(path, method: .delete, access, audit: audit, use: handler)
    }
}

/// Decides whether an identity may reach a resource: the one place that reads project roles.
struct Authorizer: Sendable {
    let accounts: AccountStore

    /// The project of `id` when `identity` holds at least `role` there.
    /// - Throws: 404 "no <kind> with id …" when the id does not exist or the caller is not a
    ///   member (the two are indistinguishable), 403 when the caller's role is too low.
    @discardableResult
    func require(_ role: ProjectRole, _ kind: ResourceKind, id: String, identity: Identity) async throws -> String {
        guard let project = try await accounts.projectID(of: kind, id: id) else {
            throw APIError(.notFound, "no \(kind.noun) with id \(String(id.prefix(80)))")
        }
        guard case .account(let account) = identity, !account.isAdmin else { return project }
        guard let held = try await accounts.role(of: account.id, in: project) else {
            throw APIError(.notFound, "no \(kind.noun) with id \(String(id.prefix(80)))")
        }
        guard held >= role else {
            throw APIError(.forbidden, "your role in this project is \(held.rawValue); this needs \(role.rawValue) or owner")
        }
        return project
    }

    /// An id named in a request body (a model to predict with, a prediction to measure, a
    /// clustering whose pick model is applied, an event's project or image) must be visible to
    /// the caller too: 404 otherwise, as for the route's own id. Nothing to check for the single user.
    func requireVisible(_ kind: ResourceKind, _ id: String?, _ identity: Identity?) async throws {
        guard let id, let identity, identity.account != nil else { return }
        try await require(.viewer, kind, id: id, identity: identity)
    }

    /// The projects `identity` may see (nil: all of them), with the caller's role in each.
    func visibleProjects(_ identity: Identity) async throws -> [String: ProjectRole]? {
        guard case .account(let account) = identity, !account.isAdmin else { return nil }
        return try await accounts.roles(of: account.id)
    }

    /// The id parameter of a matched route, in the order that names the most specific resource first.
    static func resource(in parameters: Parameters) -> (ResourceKind, String)? {
        for kind in [ResourceKind.objectSet, .clustering, .prediction, .model, .class, .job, .image, .project] {
            if let id = parameters.get(kind.parameter) { return (kind, id) }
        }
        return nil
    }
}

/// The authorization layer: every routed request passes here after ``CrossSiteGuard``.
///
/// - With no accounts the workbench is single-user: on a loopback address every route is open
///   to the person at the machine, exactly as before accounts existed; bound to any other
///   address every request is refused (and `cleave serve` does not start).
/// - Once any account exists, every route except ``Access/open`` ones needs a session cookie;
///   state-changing requests also need the session's `X-CSRF-Token`; then the route's declared
///   ``Access`` is checked. A route that declared none is refused (500): fail closed.
/// - Routes that declared an audit action are recorded in the audit table when they succeed.
struct AccessGuard: RouterMiddleware {
    typealias Context = WorkbenchContext

    static let cookieName = "cleave_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let rules: RouteRules
    let authorizer: Authorizer
    let loopbackOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Unrouted requests go on to the router's 404.
        guard let endpoint = context.endpointPath else { return try await next(request, context) }
        guard let rule = rules.rule(request.method, endpoint) else {
            throw APIError(.internalServerError, "\(request.method) \(endpoint) declares no access rule; refused")
        }
        var context = context
        let accounts = authorizer.accounts
        if try await accounts.hasAccounts() {
            if let token = request.cookies[AccessGuard.cookieName]?.value, let account = try await accounts.session(token: token) {
                context.identity = .account(account)
                context.sessionToken = token
            }
            if rule.access != .open {
                guard context.identity != nil, let token = context.sessionToken else {
                    throw APIError(.unauthorized, "sign in first: POST /api/session with {\"name\", \"password\"}")
                }
                if CrossSite.stateChanging.contains(request.method) {
                    let sent = request.headers[AccessGuard.csrfHeader] ?? ""
                    guard AccountStore.constantTimeEqual(sent, AccountStore.csrfToken(for: token)) else {
                        throw APIError(.forbidden, "refused: a \(request.method) needs this session's X-CSRF-Token header (from the login answer or GET /api/session)")
                    }
                }
            }
        } else {
            guard loopbackOnly else {
                throw APIError(.unauthorized, "this workbench listens beyond loopback but has no accounts, so nobody can sign in; create one with cleave user add")
            }
            context.identity = .local(pseudonym: request.headers[CrossSite.userHeader] ?? "")
        }

        var projectID: String?
        switch rule.access {
        case .open, .signedIn:
            break
        case .admin:
            guard context.identity?.seesEverything == true else {
                throw APIError(.forbidden, "only administrators can use \(request.method) \(endpoint)")
            }
        case .member(let role):
            guard let resource = Authorizer.resource(in: context.parameters) else {
                throw APIError(.internalServerError, "\(request.method) \(endpoint) declares a project role but names no project; refused")
            }
            let (kind, id) = resource
            // The single user needs no lookup (the handler says 404 for unknown ids as before).
            if case .account = context.identity {
                projectID = try await authorizer.require(role, kind, id: id, identity: context.identity!)
            } else if rule.audit != nil {
                projectID = try await accounts.projectID(of: kind, id: id)
            }
        }
        let response = try await next(request, context)
        if let action = rule.audit, (200..<300).contains(response.status.code) {
            try accounts.audit(context.identity?.account, action: action, target: request.uri.path, projectID: projectID)
        }
        return response
    }
}

/// Failed logins per account name and per client address: after ``freeFailures`` failures in a
/// row, each further attempt must wait 1, 2, 4 … seconds (at most ``maximumDelay``) after the
/// last failure, and is refused with 429 without checking the password until then.
public final class LoginThrottle: Sendable {
    struct Entry { var failures: Int; var last: Double }

    /// Failures in a row that cost nothing (5); the 6th attempt waits 1 s, the 7th 2 s, and so on.
    public static let freeFailures = 5
    /// The longest wait in seconds (900, i.e. 15 minutes).
    public static let maximumDelay = 900.0

    private let entries = LockedValue<[String: Entry]>([:])
    private let clock: @Sendable () -> Double

    /// A throttle reading the time (seconds since 1970) from `clock`; tests pass their own clock.
    public init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) { self.clock = clock }

    /// The throttle keys of a login attempt: the account name (case-insensitive) and, when known, the
    /// client address — a wait on either delays the attempt.
    public static func keys(name: String, address: String?) -> [String] {
        ["name:" + name.lowercased()] + (address.map { ["address:" + $0] } ?? [])
    }

    /// Seconds to wait before `keys` may try again (0: now).
    public func wait(_ keys: [String]) -> Double {
        let now = clock()
        return entries.withLock { entries in
            keys.compactMap { entries[$0] }.map { entry -> Double in
                guard entry.failures >= LoginThrottle.freeFailures else { return 0 }
                let delay = min(LoginThrottle.maximumDelay, pow(2, Double(entry.failures - LoginThrottle.freeFailures)))
                return max(0, entry.last + delay - now)
            }.max() ?? 0
        }
    }

    /// Records a failed login for each key (now is the time of the last failure). Keys whose last
    /// failure is an hour old are forgotten once more than 10 000 are held.
    public func failed(_ keys: [String]) {
        let now = clock()
        entries.withLock { entries in
            for key in keys { entries[key, default: Entry(failures: 0, last: now)].failures += 1; entries[key]!.last = now }
            // Bounded memory: forget keys whose last failure is an hour old.
            if entries.count > 10_000 { entries = entries.filter { now - $0.value.last < 3600 } }
        }
    }

    /// Forgets the failures of each key after a successful login.
    public func succeeded(_ keys: [String]) {
        entries.withLock { entries in for key in keys { entries[key] = nil } }
    }
}
