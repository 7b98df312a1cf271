import CSodium

/// A random credential for a local web session (the token in the URL `serve` prints, the
/// session cookie, the page's CSRF token): 32 bytes from the secure random source, written
/// as 64 lowercase hex digits, and compared in constant time.
public struct AccessToken: Sendable {
    /// The token as 64 lowercase hex digits.
    public let text: String

    /// Bytes of randomness in a token: 256 bits, beyond guessing over any number of requests.
    public static let byteCount = 32

    /// A fresh token.
    public static func random() -> AccessToken {
        _ = Sodium.ready
        var bytes = [UInt8](repeating: 0, count: byteCount)
        var hex = [CChar](repeating: 0, count: byteCount * 2 + 1)
        bytes.withUnsafeMutableBytes { randomFill($0) }
        _ = sodium_bin2hex(&hex, hex.count, bytes, bytes.count)
        sodium_memzero(&bytes, bytes.count)
        let text = hex.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return AccessToken(text: text)
    }

    /// Whether `candidate` is this token. Its length is not secret; its bytes are compared
    /// in time that does not depend on where they first differ.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        var given = Array(candidate.utf8)
        var expected = Array(text.utf8)
        guard given.count == expected.count else { return false }
        return sodium_memcmp(&given, &expected, expected.count) == 0
    }
}
