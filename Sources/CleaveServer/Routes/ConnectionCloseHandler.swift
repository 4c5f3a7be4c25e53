import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Makes `Connection: close` mean close whatever its spelling. HTTP says the option is
/// case-insensitive and may come in a list (`Connection: Close`, `keep-alive, close`), but
/// Hummingbird only closes a connection after the response when the header is exactly `close`;
/// otherwise it reads on, so a client that sent an oversized upload and waits for the server to
/// close after the 413 waited forever. This handler sits in each HTTP/1 connection's pipeline
/// and rewrites such headers to exactly `close` before Hummingbird sees them.
final class ConnectionCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part, let value = head.headerFields[.connection], value != "close",
           ConnectionCloseHandler.asksToClose(value) {
            head.headerFields[.connection] = "close"
            part = .head(head)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// True when a Connection header value lists the `close` option (any case, any position).
    static func asksToClose(_ value: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
    }
}
