import Dispatch
import FlyingFox
import FlyingSocks
import Foundation
import MageVault
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

/// `mage-vault serve`: the Secrets page and its JSON API for one data directory, on
/// FlyingFox (a small HTTP server on Swift concurrency and non-blocking sockets).
///
/// ```swift
/// let server = SecretsServer(location: EnvironmentLocation(), address: try ListenAddress(host: "127.0.0.1", port: 0, allowRemote: false))
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

    /// A server for `location` at `address`. With `searchesPorts`, a taken port is
    /// skipped for the next of up to 20 ports.
    public init(location: EnvironmentLocation, address: ListenAddress, history: Int = Vault.defaultHistory, searchesPorts: Bool = false) {
        self.location = location
        self.address = address
        self.history = history
        self.searchesPorts = searchesPorts
    }

    /// Listens, calls `ready` once requests can come, and serves until the process gets
    /// SIGINT (Ctrl-C) or SIGTERM; then stops taking connections, lets requests in flight
    /// finish (3 s at most) and returns. Throws when it cannot listen.
    public func runUntilInterrupted(ready: @Sendable (ServeStarted) -> Void) throws(ServeError) {
        let stopped = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<ServeStarted, ServeError>?>(nil)
        let running = Mutex<HTTPServer?>(nil)
        Task {
            let result = await self.start()
            if case .success(let (server, _)) = result { running.withLock { $0 = server } }
            outcome.withLock { $0 = result.map(\.1) }
            stopped.signal()
        }
        stopped.wait()
        guard let started = try outcome.withLock({ $0 })?.get(), let server = running.withLock({ $0 }) else { return }

        // Ctrl-C and SIGTERM stop the server; nothing else is listening for them.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                Task {
                    await server.stop(timeout: 3)
                    stopped.signal()
                }
            }
            source.resume()
            return source
        }
        ready(started)
        stopped.wait()
        sources.forEach { $0.cancel() }
    }

    /// Binds (trying the next ports when allowed), waits until listening, and arms the handler.
    private func start() async -> Result<(HTTPServer, ServeStarted), ServeError> {
        let attempts = searchesPorts && address.port != 0 ? 20 : 1
        var lastError = ServeError.listenFailed(address: address.description, reason: "not started")
        for attempt in 0..<attempts {
            let port = address.port == 0 ? 0 : address.port &+ UInt16(attempt)
            let gate = Gate()
            let server: HTTPServer
            do {
                server = try makeServer(port: port, handler: gate)
            } catch {
                return .failure(.listenFailed(address: ListenAddress.authority(host: address.host, port: port), reason: "\(error)"))
            }
            let failure = Mutex<(any Error)?>(nil)
            let task = Task {
                do { try await server.run() } catch { failure.withLock { $0 = error } }
            }
            // Wait until the socket listens, or the run fails (a taken port, say).
            while await !server.isListening {
                if let error = failure.withLock({ $0 }) {
                    lastError = .listenFailed(address: ListenAddress.authority(host: address.host, port: port), reason: Self.describe(error))
                    break
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            guard await server.isListening, let bound = await Self.port(of: server) else {
                task.cancel()
                continue
            }
            let listening = try! ListenAddress(host: address.host, port: bound, allowRemote: true)
            let access = AccessControl(address: listening, port: bound)
            gate.arm(SecretsHandler(store: SecretsStore(base: location, history: history), access: access))
            let query = ([("token", access.token.text)] + scopeQuery).map { "\($0)=\($1)" }.joined(separator: "&")
            let url = "http://\(listening)/?\(query)"
            return .success((server, ServeStarted(address: listening, url: url, token: access.token.text)))
        }
        return .failure(lastError)
    }

    /// The served scope, in the printed URL so the page opens on it.
    private var scopeQuery: [(String, String)] {
        switch location.scope {
        case .global: []
        case .project(let project): [("project", Self.percentEncoded(project))]
        case .pipeline(let project, let pipeline): [("project", Self.percentEncoded(project)), ("pipeline", Self.percentEncoded(pipeline))]
        }
    }

    private func makeServer(port: UInt16, handler: Gate) throws -> HTTPServer {
        let config: HTTPServer.Configuration
        if address.isIPv6 {
            config = HTTPServer.Configuration(address: try sockaddr_in6.inet6(ip6: address.host, port: port), logger: .disabled)
        } else {
            config = HTTPServer.Configuration(address: try sockaddr_in.inet(ip4: address.host, port: port), logger: .disabled)
        }
        return HTTPServer(config: config, handler: handler)
    }

    private static func port(of server: HTTPServer) async -> UInt16? {
        switch await server.listeningAddress {
        case .ip4(_, let port)?, .ip6(_, let port)?: port
        default: nil
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let socket = error as? SocketError, case .failed(_, let errno, let message) = socket {
            return errno == EADDRINUSE ? "the port is in use (pick another with --port, or --port 0 for any free one)" : message
        }
        return "\(error)"
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// The server's handler, armed once the port is known (the Host check needs it). A request
/// that arrives before then is answered 503.
private final class Gate: HTTPHandler {
    private let handler = Mutex<SecretsHandler?>(nil)

    func arm(_ handler: SecretsHandler) { self.handler.withLock { $0 = handler } }

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let handler = handler.withLock({ $0 }) else { return Reply.error(.serviceUnavailable, "starting; try again") }
        return try await handler.handleRequest(request)
    }
}
