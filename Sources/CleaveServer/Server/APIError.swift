import CleaveCore
import Foundation
import Hummingbird

/// An error the API reports to the client as `{"error": "one line"}` with a 4xx/5xx status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    /// The HTTP status the client receives (4xx for a refused request, 5xx for a server fault).
    public let status: HTTPResponse.Status
    /// The one-line reason shown to the client as the `error` field (newlines become spaces).
    public let message: String
    /// Numbers the client needs to act on the refusal (e.g. a class's strokes and corrected
    /// pixels when deleting it needs `discard=true`), sent beside `error`.
    public let counts: [String: Int]

    /// An error answered with `status` and the one-line `message`; `counts` go into the JSON body
    /// beside it (e.g. the strokes and corrected pixels a refused class delete would discard).
    public init(_ status: HTTPResponse.Status, _ message: String, counts: [String: Int] = [:]) {
        self.status = status
        self.message = message
        self.counts = counts
    }

    /// The status code and message, e.g. `404 unknown image`, for logs.
    public var description: String { "\(status.code) \(message)" }

    /// A module error in the API's words: a field named by the error (``InvalidField``, or in
    /// backticks inside a reason) is said as the JSON field that sets it (``jsonNames``).
    public init(_ status: HTTPResponse.Status, _ error: any Error) {
        self.init(status, APIError.message(for: error))
    }

    /// Pipeline fields whose JSON name differs. Today there are none: the request bodies decode
    /// into the pipelines' option types (``LocatorSettings``) or name their fields alike
    /// (`treeCount`, `steps`, `minutes`, `seed`); a request field named otherwise gets a row here.
    static let jsonNames: [String: String] = [:]

    /// `error` as one line for a client: fields as JSON names, never command-line flags.
    public static func message(for error: any Error) -> String {
        func json(_ field: String) -> String { jsonNames[field] ?? field }
        if let invalid = (error as? any FieldNamingError)?.invalidField { return invalid.renamed(json).description }
        return InvalidField.renamingFields(in: String(describing: error), json)
    }

    /// The JSON body `{"error": "…"}` with this status; carries `Connection: close` when the client
    /// asked to close.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        var fields: [String: JSONValue] = counts.mapValues { .number(Double($0)) }
        fields["error"] = .string(line)
        let data = (try? JSONEncoder().encode(JSONValue.object(fields))) ?? Data("{\"error\":\"error\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        // Say so when the client asked to close (the server closes after this response; see
        // ``ConnectionCloseHandler``), also when the request is refused before its body was read.
        if let connection = request.headers[.connection], ConnectionCloseHandler.asksToClose(connection) {
            headers[.connection] = "close"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Keeps server file paths out of what clients see (error lines, job errors): the data
/// directory and the web directory are replaced by a short name wherever they stand as a path of
/// their own, and in server-side (5xx) messages any remaining absolute path is replaced too.
public struct PathRedactor: Sendable {
    private let roots: [(pattern: NSRegularExpression, name: String)]

    /// A redactor for this server's data directory and web directory (each also in its standardized
    /// and symlink-resolved form).
    public init(configuration: ServerConfiguration) {
        var found: [(String, String)] = []
        func add(_ path: String, _ name: String) {
            let url = URL(fileURLWithPath: path)
            for form in [path, url.standardizedFileURL.path, url.resolvingSymlinksInPath().path] {
                let trimmed = form.hasSuffix("/") ? String(form.dropLast()) : form
                if trimmed.count > 1, !found.contains(where: { $0.0 == trimmed }) { found.append((trimmed, name)) }
            }
        }
        add(configuration.dataDirectory, "<data directory>")
        add(configuration.webDirectory, "<web directory>")
        // Longest first, so a directory inside another is replaced as a whole. A root counts only
        // as a path of its own: not inside a longer name or a relative path a client sent.
        roots = found.sorted { $0.0.count > $1.0.count }.compactMap { root, name in
            let escaped = NSRegularExpression.escapedPattern(for: root)
            return (try? NSRegularExpression(pattern: #"(?<![\w.~/-])"# + escaped + #"(?![\w.~-])"#)).map { ($0, name) }
        }
    }

    /// `message` with the server's directories replaced; with `allPaths`, also every other
    /// absolute path of two or more components (used for 5xx and job errors, which come from the
    /// server's own file system; 4xx lines may legitimately quote routes such as `/api/…`).
    public func clean(_ message: String, allPaths: Bool) -> String {
        var text = message
        for root in roots {
            text = root.pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                         withTemplate: NSRegularExpression.escapedTemplate(for: root.name))
        }
        if allPaths, text.contains("/") {
            text = PathRedactor.absolutePath.stringByReplacingMatches(
                in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "<server path>")
        }
        return text
    }

    /// `/a/b…`: a slash not preceded by a word character, `.`, `<`, `>` or `:` (so `a/b`, `1/2`
    /// and URLs' `//` stay), then at least two path components.
    private static let absolutePath = try! NSRegularExpression(
        pattern: #"(?<![\w.<>:/])/[^\s/"'“”‘’,;()<>]+(?:/[^\s/"'“”‘’,;()<>]*)+"#)
}

/// Turns every error that escapes a route (Hummingbird's own 404/413, decoding failures) into the
/// API's one-line JSON error shape, so clients only ever parse one format; server paths are
/// redacted from every line (``PathRedactor``).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let redactor: PathRedactor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw APIError(error.status, redactor.clean(error.message, allPaths: error.status.code >= 500), counts: error.counts)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no route for \(request.method) \(request.uri.path)"
                                                                   : error.status.reasonPhrase)
            throw APIError(error.status, redactor.clean(message, allPaths: error.status.code >= 500))
        } catch let error as HTTPResponseError {
            throw APIError(error.status, error.status.reasonPhrase)
        } catch {
            throw APIError(.internalServerError, redactor.clean(APIError.message(for: error), allPaths: true))
        }
    }
}
