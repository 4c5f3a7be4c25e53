import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct WebAndOpenAPITests {
    @Test func pageAndModulesAreServed() async throws {
        let app = try await buildApplication(Harness.configuration("server-web"))
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("<canvas id=\"canvas\">") && html.contains("/web/app.js"))
            for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("api.js", "text/javascript; charset=utf-8"),
                                 ("viewer.js", "text/javascript; charset=utf-8"), ("events.js", "text/javascript; charset=utf-8"),
                                 ("style.css", "text/css; charset=utf-8")] {
                let response = try await client.execute(uri: "/web/\(file)", method: .get)
                #expect(response.status == .ok, "\(file)")
                #expect(response.headers[.contentType] == type, "\(file)")
                #expect(response.body.readableBytes > 100, "\(file)")
            }
            for bad in ["/web/..%2FPackage.swift", "/web/.hidden.js", "/web/missing.js", "/web/Package.swift"] {
                let response = try await client.execute(uri: bad, method: .get)
                #expect(response.status == .notFound, "\(bad)")
            }
        }
    }

    @Test func openAPIDocumentListsEveryOperation() async throws {
        let app = try await buildApplication(Harness.configuration("server-openapi"))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/api/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try Harness.object(response)
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = document["paths"] as? [String: [String: Any]] ?? [:]
            var documented = 0
            for (path, operations) in paths { documented += operations.count; _ = path }
            #expect(documented == OpenAPIDocument.operations.count)
            for operation in OpenAPIDocument.operations {
                #expect(paths[operation.path]?[operation.method] != nil, "\(operation.method) \(operation.path)")
            }
            // Every documented operation is routed: with unknown ids it answers with the API's own
            // error (or success), never the router's "no route" 404.
            for operation in OpenAPIDocument.operations {
                var uri = operation.path.replacingOccurrences(of: "{level}", with: "0").replacingOccurrences(of: "{x}", with: "0")
                    .replacingOccurrences(of: "{y}", with: "0").replacingOccurrences(of: "{objectId}", with: "1")
                while let open = uri.firstIndex(of: "{"), let close = uri[open...].firstIndex(of: "}") {
                    uri.replaceSubrange(open...close, with: "zz")
                }
                let method = HTTPRequest.Method(rawValue: operation.method.uppercased())!
                let reply = try await client.execute(uri: uri, method: method, headers: Harness.headers(), body: Harness.body("{}"))
                #expect(!Harness.errorMessage(reply).hasPrefix("no route"), "\(operation.method) \(uri)")
            }
        }
    }
}
