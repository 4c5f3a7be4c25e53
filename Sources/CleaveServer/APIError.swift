import Foundation
import Hummingbird

/// An error the API reports to the client as `{"error": "one line"}` with a 4xx/5xx status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        let data = (try? JSONEncoder().encode(["error": line])) ?? Data("{\"error\":\"error\"}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error that escapes a route (Hummingbird's own 404/413, decoding failures) into the
/// API's one-line JSON error shape, so clients only ever parse one format.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no route for \(request.method) \(request.uri.path)"
                                                                   : error.status.reasonPhrase)
            throw APIError(error.status, message)
        } catch let error as HTTPResponseError {
            throw APIError(error.status, error.status.reasonPhrase)
        } catch {
            throw APIError(.internalServerError, String(describing: error))
        }
    }
}
