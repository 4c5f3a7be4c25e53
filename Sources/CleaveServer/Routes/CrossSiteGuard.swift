import Foundation
import HTTPTypes
import Hummingbird

/// Keeps other web sites out of a workbench running on the user's machine.
///
/// A page the user visits elsewhere can make their browser send requests to `127.0.0.1`; without
/// these checks it could create projects, upload files or start jobs (cross-site request
/// forgery), or, by pointing its own host name at 127.0.0.1, read the API as if it were the
/// workbench's page (DNS rebinding). Every request is refused with 403 and one JSON line when:
///
/// - the server listens on a loopback address and the `Host` header names anything but a
///   loopback host (`localhost`, `127.x.x.x`, `[::1]`): DNS rebinding;
/// - it changes state (POST, PUT, PATCH, DELETE) and
///   - carries an `Origin` that is not the server's own (`http://` + the `Host` header), or
///   - lacks the `X-Cleave-User` header, which browsers send cross-site only after a CORS
///     preflight that this server never grants (so no other site can add it), or
///   - has a form content type (`text/plain`, `application/x-www-form-urlencoded`,
///     `multipart/form-data`), the only ones an HTML form can send without such a preflight.
///
/// The workbench's page sends `X-Cleave-User` with every call (Web/api.js), and JSON with
/// `application/json`, uploads with `application/octet-stream`. With accounts, a session's
/// `X-CSRF-Token` takes the place of `X-Cleave-User` (``AccessGuard`` checks its value), and
/// `POST /api/session` (signing in) needs only its JSON content type.
struct CrossSiteGuard<Context: RequestContext>: RouterMiddleware {
    /// True when the server is bound to a loopback address (the Host check applies).
    let loopbackOnly: Bool

    init(bindAddress: String) {
        loopbackOnly = CrossSite.isLoopback(host: bindAddress)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try CrossSite.check(request, loopbackOnly: loopbackOnly)
        return try await next(request, context)
    }
}

/// The rules of ``CrossSiteGuard``.
enum CrossSite {
    static let userHeader = HTTPField.Name("X-Cleave-User")!
    static let hostHeader = HTTPField.Name("Host")!
    static let stateChanging: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]
    static let formTypes = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]

    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The host name of a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`).
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        if let colon = authority.lastIndex(of: ":") { return String(authority[..<colon]) }
        return authority
    }

    /// - Throws: ``APIError`` 403 with one line saying what was refused and why.
    static func check(_ request: Request, loopbackOnly: Bool) throws {
        // HTTP/1 puts the first Host header into `authority`; any further Host headers stay fields.
        let host = request.head.authority ?? request.headers[hostHeader]
        if loopbackOnly {
            for name in [request.head.authority].compactMap({ $0 }) + request.headers[values: hostHeader]
            where !isLoopback(host: hostName(name)) {
                throw APIError(.forbidden, "refused: this workbench answers only to a loopback host (localhost or 127.0.0.1), not \(String(name.prefix(80)).debugDescription) (protection against DNS rebinding)")
            }
        }
        guard stateChanging.contains(request.method) else { return }
        if let origin = request.headers[.origin] {
            let own = host.map { "http://" + $0.lowercased() }
            guard origin.lowercased() == own else {
                throw APIError(.forbidden, "refused: a \(request.method) from another site (Origin \(String(origin.prefix(80)).debugDescription)); only the workbench's own page may change data")
            }
        }
        if let type = request.headers[.contentType]?.lowercased(), let form = formTypes.first(where: { type.hasPrefix($0) }) {
            throw APIError(.forbidden, "refused: Content-Type \(form) is what cross-site forms send; send JSON as application/json and uploads as application/octet-stream")
        }
        // A signed-in page sends its X-CSRF-Token (checked against the session by AccessGuard),
        // which no other site can add either; signing in itself sends JSON, which no other site
        // can send without the same refused preflight.
        if let token = request.headers[AccessGuard.csrfHeader], !token.isEmpty { return }
        if request.method == .post, request.uri.path == "/api/session",
           request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true { return }
        guard let user = request.headers[userHeader], !user.isEmpty else {
            throw APIError(.forbidden, "refused: a \(request.method) needs the X-Cleave-User header (the workbench page sends it; scripts add -H 'X-Cleave-User: <8-64 letters, digits, - or _>')")
        }
    }
}
