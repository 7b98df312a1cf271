import Dispatch
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MageVault
import NIOCore
import Synchronization

/// What a started server tells its user.
public struct ServeStarted: Sendable {
    /// Where it listens (the port chosen, when 0 was asked for).
    public let address: ListenAddress
    /// The URL to open: it carries the access token.
    public let url: String
    /// The access token alone, for `Authorization: Bearer` in scripts.
    public let token: String
}

/// How long and how many connections `serve` keeps, so that clients that connect and
/// say nothing, or send a request slowly, cannot exhaust it.
public struct ConnectionLimits: Sendable, Equatable {
    /// A connection with no request in progress (just opened, or between requests) is closed
    /// after this long.
    public var idleTimeout: Duration
    /// A request's head and body must all arrive within this long of its first byte, or the
    /// connection is closed: a byte now and then does not keep it open.
    public var requestTimeout: Duration
    /// At most this many connections are open at once; further ones wait, unaccepted, in the
    /// listen backlog until one closes.
    public var maximumConnections: Int

    /// Limits for `serve`: `idleTimeout`, `maximumConnections` (at least 1), `requestTimeout`.
    public init(idleTimeout: Duration, maximumConnections: Int, requestTimeout: Duration = ConnectionLimits.standard.requestTimeout) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maximumConnections = max(1, maximumConnections)
    }

    /// 30 seconds idle (a browser reconnects as it needs), 20 seconds a request (the largest
    /// body, 8 MiB, needs 3.4 Mbit/s), 256 connections (a page uses a handful, and 256
    /// descriptors stay far below the usual limit of 1,024).
    public static let standard = ConnectionLimits(
        idleTimeout: .seconds(30), maximumConnections: 256, requestTimeout: .seconds(20))

    /// How long a connection whose answer ended it may go on sending before it is closed:
    /// long enough for the client to read the answer (closing on unread bytes resets the
    /// connection, which can lose it), short enough that it holds nothing.
    static let linger: Duration = .seconds(2)
}

/// `mage-vault serve`: the Secrets page and its JSON API for one data directory, on
/// Hummingbird (SwiftNIO).
///
/// ```swift
/// let address = try ListenAddress(host: "127.0.0.1", port: 0, allowRemote: false)
/// let server = SecretsServer(location: EnvironmentLocation(), address: address)
/// try server.runUntilInterrupted { started in print(started.url) }
/// ```
public final class SecretsServer: Sendable {
    /// The environment served by default (its scope; other scopes by query parameter).
    public let location: EnvironmentLocation
    /// Where to listen.
    public let address: ListenAddress
    /// Versions per secret compaction keeps when a write triggers it.
    public let history: Int
    /// Whether the next ports are tried when `address.port` is taken (the default port).
    public let searchesPorts: Bool
    /// The idle timeout, the request deadline and the connection cap.
    public let limits: ConnectionLimits

    /// A server for `location` at `address`. With `searchesPorts`, a taken port is
    /// skipped for the next of up to 20 ports. `limits` bound idle connections, slow requests
    /// and the number of connections.
    public init(
        location: EnvironmentLocation, address: ListenAddress, history: Int = Vault.defaultHistory, searchesPorts: Bool = false,
        limits: ConnectionLimits = .standard
    ) {
        self.location = location
        self.address = address
        self.history = history
        self.searchesPorts = searchesPorts
        self.limits = limits
    }

    /// Listens, calls `ready` once requests can come, and serves until the process gets
    /// SIGINT (Ctrl-C) or SIGTERM; then stops taking connections, lets the requests in
    /// flight finish, and returns. Throws when it cannot listen.
    public func runUntilInterrupted(ready: @escaping @Sendable (ServeStarted) -> Void) throws(ServeError) {
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<ServeError?>(nil)
        Task {
            do throws(ServeError) { try await self.serve(ready: ready) } catch { outcome.withLock { $0 = error } }
            finished.signal()
        }
        finished.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }

    private func serve(ready: @escaping @Sendable (ServeStarted) -> Void) async throws(ServeError) {
        let attempts = searchesPorts && address.port != 0 ? 20 : 1
        for attempt in 0..<attempts {
            let port = address.port == 0 ? 0 : address.port &+ UInt16(attempt)
            let responder = SecretsResponder()
            let listening = Mutex(false)
            let application = Application(
                responder: responder,
                server: Self.server(limits),
                configuration: ApplicationConfiguration(
                    address: .hostname(address.host, port: Int(port)), serverName: nil,
                    availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections)),
                onServerRunning: { channel in
                    guard let bound = channel.localAddress?.port.map(UInt16.init) else { return }
                    listening.withLock { $0 = true }
                    ready(self.arm(responder, port: bound))
                },
                // Nothing is logged: a request's target can carry the token.
                logger: Logger(label: "mage-vault-serve", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            do {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
                return
            } catch {
                let where_ = ListenAddress.authority(host: address.host, port: port)
                guard !listening.withLock({ $0 }) else { throw .listenFailed(address: where_, reason: "\(error)") }
                let inUse = "\(error)".contains("Address already in use")
                if inUse, attempt + 1 < attempts { continue }
                throw .listenFailed(
                    address: where_,
                    reason: inUse ? "the port is in use (pick another with --port, or --port 0 for any free one)" : "\(error)")
            }
        }
    }

    /// Hummingbird's HTTP/1 server with the idle timeout, and the request deadline and the
    /// end of reading after a refusal (`GuardedHTTP1Channel`).
    private static func server(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(idleTimeout: TimeAmount(limits.idleTimeout))
        let requestTimeout = TimeAmount(limits.requestTimeout), linger = TimeAmount(ConnectionLimits.linger)
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: configuration), requestTimeout: requestTimeout, linger: linger)
        }
    }

    /// Gives the responder its access rules (the Host check needs the bound port) and says
    /// where to go.
    private func arm(_ responder: SecretsResponder, port: UInt16) -> ServeStarted {
        let listening = try! ListenAddress(host: address.host, port: port, allowRemote: true)
        let access = AccessControl(address: listening, port: port)
        responder.arm(SecretsHandler(store: SecretsStore(base: location, history: history), access: access))
        let query = [("token", access.token.text)] + scopeQuery
        let url = "http://\(listening)/?" + query.map { "\($0)=\($1)" }.joined(separator: "&")
        return ServeStarted(address: listening, url: url, token: access.token.text)
    }

    /// The served scope, in the printed URL so the page opens on it.
    private var scopeQuery: [(String, String)] {
        switch location.scope {
        case .global: []
        case .project(let project): [("project", PercentEncoding.encode(project))]
        case .pipeline(let project, let pipeline): [("project", PercentEncoding.encode(project)), ("pipeline", PercentEncoding.encode(pipeline))]
        }
    }
}

/// Hands Hummingbird's requests to `SecretsHandler` as `WebRequest`s and turns its
/// `WebResponse`s back. Until armed (the port is known only once bound) it answers 503.
final class SecretsResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    private let handler = Mutex<SecretsHandler?>(nil)

    func arm(_ handler: SecretsHandler) { self.handler.withLock { $0 = handler } }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let exchange = Self.webRequest(request)
        let reply: WebResponse
        if let handler = handler.withLock({ $0 }) {
            reply = await handler.respond(to: exchange)
        } else {
            reply = Reply.error(.serviceUnavailable, "the server is starting; try again")
        }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    static func webRequest(_ request: Request) -> WebRequest {
        var headers: [(name: String, value: String)] = []
        if let authority = request.head.authority { headers.append(("host", authority)) }
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let body = request.body
        return WebRequest(method: request.method.rawValue, target: request.head.path ?? "/", headers: headers) { limit in
            var bytes: [UInt8] = []
            for try await buffer in body {
                guard bytes.count + buffer.readableBytes <= limit else { return nil }
                bytes += buffer.readableBytesView
            }
            return bytes
        }
    }
}
