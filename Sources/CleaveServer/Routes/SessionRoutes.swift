import Foundation
import Hummingbird

/// Login sessions, project members and the audit log (issue 23; documented in ``OpenAPIDocument``).
struct SessionRoutes {
    let workbench: Workbench
    let throttle: LoginThrottle

    struct SessionResponse: ResponseEncodable, Sendable {
        /// `pseudonym`: the random id the account's events carry (shown under "My recorded events").
        struct User: Codable, Sendable {
            var name: String
            var admin: Bool
            var pseudonym: String
            init(_ account: Account) { (name, admin, pseudonym) = (account.name, account.isAdmin, account.pseudonym) }
        }
        /// False in single-user mode (no accounts exist).
        var accounts: Bool
        var user: User?
        var csrfToken: String?

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: DynamicKey.self)
            try container.encode(accounts, forKey: DynamicKey("accounts"))
            try container.encode(user, forKey: DynamicKey("user"))
            try container.encode(csrfToken, forKey: DynamicKey("csrfToken"))
        }
    }

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, throttle = self.throttle
        let accounts = workbench.accounts
        let secure = workbench.configuration.secureCookies

        @Sendable func sessionCookie(_ value: String, request: Request, clear: Bool = false) -> String {
            let overTLS = secure || request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
            return "\(AccessGuard.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict" + (overTLS ? "; Secure" : "")
                + (clear ? "; Max-Age=0" : "")
        }

        api.post("session", .open) { request, context -> Response in
            struct Input: Decodable { var name: String; var password: String }
            let input = try await request.decodeJSON(Input.self, limit: 4096)
            guard try await accounts.hasAccounts() else {
                throw APIError(.conflict, "this workbench has no accounts (single-user mode): there is nothing to sign in to")
            }
            let keys = LoginThrottle.keys(name: input.name, address: context.remoteAddress)
            let wait = throttle.wait(keys)
            if wait > 0 {
                let seconds = Int(wait.rounded(.up))
                var response = try APIError(.tooManyRequests, "too many failed sign-ins for this name or address: try again in \(seconds) s")
                    .response(from: request, context: context)
                response.headers[.retryAfter] = String(seconds)
                return response
            }
            let account = try await Workbench.offload { try accounts.verify(name: input.name, password: input.password) }
            guard let account else {
                throttle.failed(keys)
                throw APIError(.unauthorized, "wrong name or password")
            }
            throttle.succeeded(keys)
            let session = try accounts.createSession(for: account)
            var response = try SessionResponse(accounts: true, user: .init(account),
                                               csrfToken: session.csrfToken).response(from: request, context: context)
            response.headers[.setCookie] = sessionCookie(session.token, request: request)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        api.get("session", .signedIn) { request, context -> Response in
            var response: Response
            if let account = context.identity?.account, let token = context.sessionToken {
                response = try SessionResponse(accounts: true, user: .init(account),
                                               csrfToken: AccountStore.csrfToken(for: token)).response(from: request, context: context)
            } else {
                response = try SessionResponse(accounts: false, user: nil, csrfToken: nil).response(from: request, context: context)
            }
            response.headers[.cacheControl] = "no-store"
            return response
        }
        api.delete("session", .signedIn) { request, context -> Response in
            if let token = context.sessionToken { try accounts.deleteSession(token: token) }
            var response = try SessionResponse(accounts: context.identity?.account != nil, user: nil, csrfToken: nil)
                .response(from: request, context: context)
            response.headers[.setCookie] = sessionCookie("", request: request, clear: true)
            return response
        }
        api.put("session/password", .signedIn) { request, context -> SessionResponse in
            struct Input: Decodable { var currentPassword: String; var newPassword: String }
            let input = try await request.decodeJSON(Input.self, limit: 4096)
            guard let account = context.identity?.account, let token = context.sessionToken else {
                throw APIError(.conflict, "this workbench has no accounts (single-user mode): there is no password to change")
            }
            let keys = LoginThrottle.keys(name: account.name, address: context.remoteAddress)
            let wait = throttle.wait(keys)
            guard wait == 0 else {
                throw APIError(.tooManyRequests, "too many failed sign-ins for this name or address: try again in \(Int(wait.rounded(.up))) s")
            }
            let verified = try await Workbench.offload { try accounts.verify(name: account.name, password: input.currentPassword) }
            guard verified != nil else {
                throttle.failed(keys)
                throw APIError(.forbidden, "currentPassword is wrong")
            }
            do {
                try await Workbench.offload { try accounts.setPassword(name: account.name, password: input.newPassword, keeping: token) }
            } catch let error as AccountError {
                throw APIError(.badRequest, "newPassword: \(error.description)")
            }
            return SessionResponse(accounts: true, user: .init(account),
                                   csrfToken: AccountStore.csrfToken(for: token))
        }

        // Members
        api.get("projects/{projectId}/members", .member(.viewer)) { _, context in
            ListResponse(items: try await accounts.members(projectID: try context.parameter("projectId")), key: "members")
        }
        api.post("projects/{projectId}/members", .member(.owner), audit: "member.add") { request, context -> MemberDTO in
            struct Input: Decodable { var name: String; var role: String }
            let input = try await request.decodeJSON(Input.self, limit: 4096)
            guard let role = ProjectRole(rawValue: input.role) else {
                throw APIError(.badRequest, "role must be owner, annotator or viewer, got \(String(input.role.prefix(40)).debugDescription)")
            }
            do {
                return try accounts.setMember(projectID: try context.parameter("projectId"), name: input.name, role: role)
            } catch let error as AccountError {
                throw APIError(.notFound, error.description)
            }
        }
        api.delete("projects/{projectId}/members", .member(.owner), audit: "member.remove") { request, context in
            struct Input: Decodable { var name: String }
            let input = try await request.decodeJSON(Input.self, limit: 4096)
            do {
                try accounts.removeMember(projectID: try context.parameter("projectId"), name: input.name)
            } catch let error as AccountError {
                throw APIError(.notFound, error.description)
            }
            return CountResponse(deleted: 1)
        }

        // Audit
        api.get("audit", .admin) { _, _ in
            ListResponse(items: try await accounts.auditLog(), key: "audit")
        }
    }
}

extension MemberDTO: ResponseEncodable {}
extension AuditDTO: ResponseEncodable {}
