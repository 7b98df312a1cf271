import Crypto
import CryptoExtras
import Foundation

/// A Fernet key as Mage keeps it in a scope's `key` file: the URL-safe base64 of 32 bytes,
/// the first 16 signing (HMAC-SHA256), the last 16 encrypting (AES-128-CBC).
///
/// See the Fernet specification (github.com/fernet/spec); Mage uses Python's
/// `cryptography.fernet.Fernet`, whose `decrypt` this type's ``open(_:)`` follows.
public struct FernetKey: Sendable {
    private let signingKey: SymmetricKey
    private let encryptionKey: SymmetricKey

    /// Parses the text of a key file; nil when it is not the URL-safe base64 of 32 bytes.
    /// Surrounding white space is ignored, as Mage strips the file before using it.
    public init?(keyFileText text: some StringProtocol) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = URLSafeBase64.decode(trimmed), bytes.count == 32 else { return nil }
        signingKey = SymmetricKey(data: bytes[0..<16])
        encryptionKey = SymmetricKey(data: bytes[16..<32])
    }

    /// Why a token does not open.
    public enum OpenError: Error, Equatable, Sendable {
        /// Not a Fernet token at all: not URL-safe base64, too short, not version 0x80, or
        /// a ciphertext that is not whole AES blocks. Mage's `PUT` with authentication off
        /// stores values this way, in plain text.
        case notAToken
        /// A token whose HMAC does not verify under this key: another key's, or altered.
        case authenticationFailed
        /// The HMAC verified but the padding did not (only a key holder could write it).
        case badPadding
    }

    /// The plaintext of `token`: the HMAC is checked (in constant time) before anything is
    /// decrypted. No time-to-live is applied, as Mage applies none.
    public func open(_ token: some StringProtocol) -> Result<[UInt8], OpenError> {
        guard let bytes = URLSafeBase64.decode(token.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count >= 1 + 8 + 16 + 16 + 32, bytes[0] == 0x80, (bytes.count - 57) % 16 == 0
        else { return .failure(.notAToken) }
        let signed = bytes[0..<(bytes.count - 32)]
        let mac = bytes[(bytes.count - 32)...]
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: signingKey) else {
            return .failure(.authenticationFailed)
        }
        do {
            let iv = try AES._CBC.IV(ivBytes: bytes[9..<25])
            let plaintext = try AES._CBC.decrypt(bytes[25..<(bytes.count - 32)], using: encryptionKey, iv: iv)
            return .success([UInt8](plaintext))
        } catch {
            return .failure(.badPadding)
        }
    }
}

/// URL-safe base64 (RFC 4648 §5) as Python's `base64.urlsafe_b64decode` reads it: `-` and
/// `_` for `+` and `/`, padding optional.
enum URLSafeBase64 {
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/") else { return nil }
        var standard = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard.append("=") }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }
}
