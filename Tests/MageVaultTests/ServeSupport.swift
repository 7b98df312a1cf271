import Foundation
import Testing

/// A running `mage-vault serve --port 0` against a temporary data dir, stopped (SIGINT,
/// then SIGKILL if it lingers) when the test ends.
final class ServerProcess {
    let process = Process()
    private let stdout = Pipe(), stderr = Pipe()
    /// The URL the server printed, with its token.
    let url: String
    /// The token alone.
    let token: String
    /// The port it listens on.
    let port: UInt16
    /// Everything printed on standard output before the URL (and the URL line).
    let banner: String

    /// Starts `mage-vault serve --port 0 ARGUMENTS` and waits for its URL.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: toolPath)
        process.arguments = ["serve", "--port", "0"] + arguments
        var variables = ProcessInfo.processInfo.environment
        variables["MAGE_DATA_DIR"] = nil
        variables["MAGE_VAULT_FILE"] = nil
        for (key, value) in environment { variables[key] = value }
        process.environment = variables
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read standard output until the URL line (the server writes it unbuffered).
        var seen = ""
        while !seen.contains("Ctrl-C") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        banner = seen
        guard let line = seen.split(separator: "\n").first(where: { $0.contains("http://") }) else {
            process.waitUntilExit()
            let error = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ServeTestError.noURL(output: seen, error: error)
        }
        url = line.trimmingCharacters(in: .whitespaces)
        token = String(url[url.range(of: "token=")!.upperBound...].prefix { $0.isHexDigit })
        let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
        port = UInt16(authority.split(separator: ":").last!)!
    }

    /// Sends SIGINT (Ctrl-C) and waits: the exit status and what was printed on standard error.
    func interrupt() -> (status: Int32, error: String) {
        kill(process.processIdentifier, SIGINT)
        let error = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, error)
    }

    /// A client for this server on 127.0.0.1.
    var client: HTTPTestClient { HTTPTestClient(port: port) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            for _ in 0..<300 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}

enum ServeTestError: Error {
    case noURL(output: String, error: String)
    case connect(Int32)
    case malformed(String)
}

/// One HTTP/1.1 exchange, as sent and received on the wire.
struct HTTPReply {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: String

    /// The first header named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The `error.message` of a JSON error body.
    var errorMessage: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return nil }
        return error["message"] as? String
    }

    /// The body parsed as a JSON object.
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
}

/// A raw HTTP/1.1 client over a loopback socket: every header is the test's to choose
/// (Host, Origin, Cookie…), which a browser or URLSession would not allow.
struct HTTPTestClient {
    let port: UInt16
    /// How long to wait for each part of the reply; nil waits as long as it takes.
    var timeout: Double? = nil

    /// Sends one request (with `Connection: close`) and reads the whole reply.
    func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [], host: String? = nil
    ) throws -> HTTPReply {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let reply = try exchange(Array(head.utf8) + body)
        return try Self.parse(reply)
    }

    /// `send` with `Authorization: Bearer TOKEN`.
    func bearer(_ token: String, _ method: String, _ target: String, json: String? = nil, headers: [(String, String)] = []) throws -> HTTPReply {
        var all = headers + [("Authorization", "Bearer \(token)")]
        if json != nil { all.append(("Content-Type", "application/json")) }
        return try send(method, target, headers: all, body: Array((json ?? "").utf8))
    }

    private func exchange(_ request: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServeTestError.connect(errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServeTestError.connect(errno) }
        if let timeout {
            var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413, say) and close before reading a large body whole.
            if written <= 0 { break }
            sent += written
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply += buffer[..<count]
        }
        return reply
    }

    static func parse(_ bytes: [UInt8]) throws -> HTTPReply {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw ServeTestError.malformed(text) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ServeTestError.malformed(lines[0]) }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPReply(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// A TCP connection to 127.0.0.1 that sends what a test says and otherwise stays idle.
final class LoopbackSocket {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServeTestError.connect(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw ServeTestError.connect(errno)
        }
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What the server sends until it closes the connection (end of file, or a reset), and
    /// whether it did within `seconds`.
    func readUntilClosed(within seconds: Double) -> (bytes: [UInt8], closed: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&entry, 1, remaining) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (bytes, true) }
            bytes += buffer[..<count]
        }
        return (bytes, false)
    }

    /// Whether the server closes the connection (end of file, or a reset) within `seconds`.
    func closedByPeer(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&entry, 1, remaining) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return true }
        }
        return false
    }

    deinit { close(fd) }
}
