/// Where `serve` listens: loopback unless the user insists, because the page can change
/// every secret of the environment and plain HTTP carries the token in clear.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The numeric address to bind: an IPv4 dotted quad or an IPv6 address.
    public let host: String
    /// The port; 0 asks the system for a free one.
    public let port: UInt16

    /// Where the server listens unless told otherwise: the loopback interface only.
    public static let defaultHost = "127.0.0.1"

    /// The default port, next to Mage's own 6789.
    public static let defaultPort: UInt16 = 6790

    /// `host` ("localhost" means 127.0.0.1) and `port`. A host that is not a loopback
    /// address is refused unless `allowRemote` is true: the caller must then warn the user.
    public init(host: String, port: UInt16, allowRemote: Bool) throws(ServeError) {
        let numeric = host == "localhost" ? Self.defaultHost : host
        guard Self.isIPv4(numeric) || Self.isIPv6(numeric) else { throw .invalidHost(host) }
        guard allowRemote || Self.isLoopback(numeric) else { throw .remoteRefused(host) }
        self.host = numeric
        self.port = port
    }

    /// Whether the address is on the loopback interface (127.0.0.0/8 or ::1), which only
    /// this machine's processes can reach.
    public var isLoopback: Bool { Self.isLoopback(host) }

    /// Whether the host is written in IPv6 notation.
    public var isIPv6: Bool { Self.isIPv6(host) }

    /// `host:port`, with brackets around an IPv6 host, as a URL writes it.
    public var description: String { Self.authority(host: host, port: port) }

    /// `host:port` as a URL's authority (and a request's Host header) writes it.
    static func authority(host: String, port: UInt16) -> String {
        isIPv6(host) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func isLoopback(_ host: String) -> Bool {
        if isIPv4(host) { return host.hasPrefix("127.") }
        return host == "::1" || host == "0:0:0:0:0:0:0:1"
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && Int(part)! <= 255
            }
    }

    static func isIPv6(_ host: String) -> Bool {
        host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

/// Why `serve` could not start.
public enum ServeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host is not a numeric IP address (or `localhost`).
    case invalidHost(String)
    /// The host is reachable from other machines and the user did not pass the flag that allows it.
    case remoteRefused(String)
    /// Binding or listening failed (the port is taken, say).
    case listenFailed(address: String, reason: String)

    public var description: String {
        switch self {
        case .invalidHost(let host):
            "'\(host)' is not an IP address to listen on (use 127.0.0.1, ::1 or another numeric address)"
        case .remoteRefused(let host):
            "refusing to listen on \(host): other machines could reach the page, and plain HTTP carries the "
                + "token and any value typed in clear. Use an SSH tunnel to 127.0.0.1, or pass --allow-remote "
                + "if you really mean it"
        case .listenFailed(let address, let reason):
            "cannot listen on \(address): \(reason)"
        }
    }
}
