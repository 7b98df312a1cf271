/// A request as the Secrets server's logic sees it, whatever HTTP stack carried it: the
/// method, the target exactly as sent (still percent-encoded), the header fields, and a
/// way to read the body up to a limit.
struct WebRequest: Sendable {
    /// `GET`, `POST`, …
    let method: String
    /// The request target as sent: path and query, percent-encoded.
    let target: String
    /// Header fields, names lowercased, in the order received. `host` holds the authority.
    let headers: [(name: String, value: String)]
    /// Reads the body: nil when it is longer than the limit given.
    let readBody: @Sendable (_ limit: Int) async throws -> [UInt8]?

    init(method: String, target: String, headers: [(name: String, value: String)], readBody: @escaping @Sendable (Int) async throws -> [UInt8]? = { _ in [] }) {
        self.method = method
        self.target = target
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.readBody = readBody
    }

    /// The path, still percent-encoded (so a name holding `%2F` stays one path segment).
    var path: String { String(target.prefix { $0 != "?" && $0 != "#" }) }

    /// The query's name=value pairs, decoded (`+` is a space).
    var query: [(name: String, value: String)] {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        let text = target[target.index(after: mark)...].prefix { $0 != "#" }
        return text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in PercentEncoding.decode(String(part.map { $0 == "+" ? " " : $0 })) ?? "" }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of the query parameter `name`.
    func query(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// The first value of the header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    /// Every value of the header `name`.
    func headers(named name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name == wanted }.map(\.value)
    }
}

/// A response: status, header fields and body bytes.
struct WebResponse: Sendable {
    /// The status code.
    var status: Int
    /// Header fields, in order.
    var headers: [(name: String, value: String)]
    /// The body.
    var body: [UInt8]

    /// The first value of the header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Percent-encoding of URL components (RFC 3986), without Foundation.
enum PercentEncoding {
    /// `text` with `%XX` sequences decoded; nil when a sequence is malformed or the bytes
    /// are not UTF-8.
    static func decode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` with every byte but unreserved ones (`A-Z a-z 0-9 - . _ ~`) percent-encoded.
    static func encode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
