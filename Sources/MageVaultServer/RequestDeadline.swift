import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with two guards against slow clients, which its idle timeout
/// alone does not stop (every body byte restarts that timer, and a refused request's body is
/// still read to its end):
///
/// - **A deadline per request.** From the first byte of a request until its last (head and
///   body) at most `requestTimeout` may pass; then the connection is closed.
/// - **No reading after an answer that ends the exchange.** A response sent before its
///   request's body has all arrived (a 401 answered from the head), or with a status of 400 or
///   more, says `Connection: close`; the server then shuts its sending side, discards whatever
///   else arrives, and closes at most `linger` later (at once when the client closes). So an
///   unauthenticated client holds a connection only while it sends one request head, and never
///   through a body nobody will read. The short linger lets the client read the answer before
///   the close: closing with its bytes unread would reset the connection and could lose it.
///
/// A connection that says nothing is still closed by the idle timeout.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let requestTimeout: TimeAmount
    let linger: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let requestTimeout = requestTimeout, linger = linger
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let exchange = ExchangeState(requestTimeout: requestTimeout, linger: linger)
            let pipeline = channel.pipeline.syncOperations
            // Before the HTTP decoder: it sees the request's first byte, and can drop the rest.
            try pipeline.addHandler(RequestBytesHandler(exchange), position: .first)
            // After it: request and response parts, before Hummingbird's own state handler.
            let stateHandler = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(RequestPartsHandler(exchange), position: .before(stateHandler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// The request and response parts of Hummingbird's HTTP/1 channel (swift-nio-extras'
/// `HTTPRequestPart` and `HTTPResponsePart`), named through the channel's own type, so this
/// target needs no dependency of its own on swift-nio-extras.
typealias RequestPart = HTTP1Channel.Value.InboundElement
typealias ResponsePart = HTTP1Channel.Value.OutboundElement

extension NIOAsyncChannel {
    typealias InboundElement = Inbound
    typealias OutboundElement = Outbound
}

/// One connection's requests and responses, shared by its two handlers (on its event loop).
final class ExchangeState {
    let requestTimeout: TimeAmount
    let linger: TimeAmount
    /// Request heads and ends decoded, and responses ended, on this connection so far.
    var heads = 0, ends = 0, responses = 0
    /// Whether the response being written ends the connection.
    var closesAfterResponse = false
    /// Whether the answer that ends the connection has been sent: input is discarded.
    var finished = false
    private var deadline: Scheduled<Void>?
    private var lingering: Scheduled<Void>?

    init(requestTimeout: TimeAmount, linger: TimeAmount) {
        self.requestTimeout = requestTimeout
        self.linger = linger
    }

    /// Starts the current request's deadline, unless it runs already.
    func startRequest(_ channel: any Channel) {
        guard deadline == nil, !finished else { return }
        deadline = channel.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    /// The request has all arrived (or the connection is ending some other way).
    func stopDeadline() {
        deadline?.cancel()
        deadline = nil
    }

    /// Sends nothing more, reads nothing more, and closes within the linger time.
    func finish(_ channel: any Channel) {
        guard !finished else { return }
        finished = true
        stopDeadline()
        channel.close(mode: .output, promise: nil)  // after the answer's pending writes
        lingering = channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }

    func cancelTimers() {
        stopDeadline()
        lingering?.cancel()
        lingering = nil
    }
}

/// Bytes as they arrive: the first of a request starts its deadline; after the answer that
/// ends the connection, they are dropped unread.
final class RequestBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let exchange: ExchangeState

    init(_ exchange: ExchangeState) { self.exchange = exchange }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if exchange.finished { return }
        exchange.startRequest(context.channel)
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client has read the answer and closed its side: nothing is left to wait for.
        if exchange.finished, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange.cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { exchange.cancelTimers() }
}

/// Decoded requests and the responses to them: a request's end stops its deadline; a response
/// sent before its request's end, or with status 400 or more, ends the connection.
final class RequestPartsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = ResponsePart
    let exchange: ExchangeState

    init(_ exchange: ExchangeState) { self.exchange = exchange }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            exchange.heads += 1
            exchange.startRequest(context.channel)  // a pipelined request decoded with the previous one's bytes
        case .body:
            break
        case .end:
            exchange.ends += 1
            if exchange.ends == exchange.heads { exchange.stopDeadline() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational:
            // Responses go out in the order of their requests: this one answers request number
            // `responses + 1`, whose end has or has not arrived yet.
            let unread = exchange.ends <= exchange.responses
            exchange.closesAfterResponse = unread || response.status.code >= 400
            guard exchange.closesAfterResponse else { break }
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
            return
        case .head, .body:
            break  // a 100 Continue is not the answer; body parts change nothing
        case .end:
            exchange.responses += 1
            if exchange.closesAfterResponse || exchange.ends < exchange.responses {
                context.writeAndFlush(data, promise: promise)
                exchange.finish(context.channel)
                return
            }
        }
        context.write(data, promise: promise)
    }
}
