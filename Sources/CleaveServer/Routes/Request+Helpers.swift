import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body of at most `limit` bytes.
    /// - Throws: 413 over the limit, 400 (one line) for malformed JSON or missing fields.
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            var copy = self
            buffer = try await copy.collectBody(upTo: limit)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "request body exceeds the limit of \(limit) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "malformed JSON body: missing field \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw APIError(.badRequest, "malformed JSON body: wrong type at \(Request.pathText(context.codingPath))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw APIError(.badRequest, "malformed JSON body: missing value at \(Request.pathText(context.codingPath))")
        } catch {
            throw APIError(.badRequest, "malformed JSON body: not valid JSON")
        }
    }

    static func pathText(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// `{"projects": […]}` and friends: lists are wrapped in an object so the API can grow fields.
struct ListResponse<Item: Codable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
    var key: String

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(items, forKey: DynamicKey(key))
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

struct CountResponse: ResponseEncodable, Sendable {
    var deleted: Int
}

/// The result of undo/redo: the stroke it changed, or null when there was nothing to do.
struct StrokeChangeResponse: ResponseEncodable, Sendable {
    var stroke: StrokeDTO?

    // `{"stroke": null}` rather than `{}`: the field is always there.
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(stroke, forKey: DynamicKey("stroke"))
    }
}

func pngResponse(_ bytes: [UInt8]) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "image/png"
    headers[.cacheControl] = "private, max-age=3600"
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// `{sessionId, clientTime?}` — the body of accept/reject and friends.
struct SessionInput: Codable { var sessionId: String?; var clientTime: String? }

extension Request {
    /// An optional numeric query parameter. - Throws: 400 when present but not a finite number.
    func number(_ key: String) throws -> Double? {
        guard let text = uri.queryParameters.get(key) else { return nil }
        guard let value = Double(text), value.isFinite else { throw APIError(.badRequest, "query parameter \(key) must be a number, got \(text.prefix(40))") }
        return value
    }

    /// An optional integer query parameter (a plane). - Throws: 400 when present but not an integer.
    func integer(_ key: String) throws -> Int? {
        guard let text = uri.queryParameters.get(key) else { return nil }
        guard let value = Int(text) else { throw APIError(.badRequest, "query parameter \(key) must be an integer, got \(text.prefix(40))") }
        return value
    }
}

func fileResponse(_ bytes: [UInt8], type: String, filename: String? = nil) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = type
    if let filename { headers[.contentDisposition] = "attachment; filename=\"\(filename)\"" }
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}
