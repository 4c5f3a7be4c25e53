import Foundation
import Hummingbird

/// Serves the page: `/` → index.html, `/web/{file}` → the files of the Web directory. Only plain
/// file names (no `/`, no leading dot) are served, so requests cannot leave the directory.
struct WebRoutes {
    let directory: String

    static let contentTypes = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                               "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
                               "json": "application/json; charset=utf-8"]

    func register(on router: GuardedRoutes) {
        let directory = self.directory
        router.get("/", .open) { _, _ in try WebRoutes.file("index.html", in: directory) }
        router.get("web/{file}", .open) { _, context in try WebRoutes.file(try context.parameter("file"), in: directory) }
    }

    static func file(_ name: String, in directory: String) throws -> Response {
        let allowed = name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 || $0 == 46 }
        guard allowed, !name.hasPrefix("."), let ext = name.split(separator: ".").last.map(String.init),
              let type = contentTypes[ext],
              let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw APIError(.notFound, "no web file \(name)")
        }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
