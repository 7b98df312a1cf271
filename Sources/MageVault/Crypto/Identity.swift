import CSodium

/// A person's or a machine's key pair for team access: an X25519 secret key, kept outside
/// every repository and data dir, and its public half, the *recipient* that teammates wrap
/// environment keys to (`vault-format.md`, *Access*).
///
/// An identity is written as age writes one (`AGE-SECRET-KEY-1…`, Bech32), so an existing
/// age identity works as it is; an unencrypted OpenSSH `ssh-ed25519` private key works too,
/// converted to X25519 as libsodium converts Ed25519 keys (and as age accepts them).
public final class Identity: Sendable {
    /// The X25519 secret key.
    let secretKey: SecureBytes
    /// The recipient that names this identity.
    public let recipient: Recipient

    init(secretKey: SecureBytes, recipient: Recipient) {
        self.secretKey = secretKey
        self.recipient = recipient
    }

    /// A new random identity (an age X25519 identity).
    public static func generate() -> Identity {
        var publicKey = [UInt8](repeating: 0, count: 32)
        let secret = SecureBytes(count: 32) { out in
            _ = crypto_box_keypair(&publicKey, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return Identity(secretKey: secret, recipient: Recipient(kind: .age, key: publicKey, sshBlob: nil))
    }

    /// The identity of an X25519 secret key (32 bytes).
    static func x25519(_ secret: SecureBytes) -> Identity {
        var publicKey = [UInt8](repeating: 0, count: 32)
        secret.withUnsafeBytes { _ = crypto_scalarmult_base(&publicKey, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        return Identity(secretKey: secret, recipient: Recipient(kind: .age, key: publicKey, sshBlob: nil))
    }

    /// The identities in the text of an identity file or variable: every `AGE-SECRET-KEY-1…`
    /// line (lines starting with `#` and blank lines are comments, as in age's files), or
    /// one unencrypted OpenSSH `ssh-ed25519` private key. Nil when the text is neither.
    public static func parse(_ text: String) -> [Identity]? {
        if text.split(separator: "\n").contains(where: { $0.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----") }) {
            return openSSH(text).map { [$0] }
        }
        var found: [Identity] = []
        // "\r\n" is one Character in Swift: split on it too, so a file saved with CRLF reads.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("AGE-SECRET-KEY-1"), let decoded = Bech32.decode(String(line), expecting: "age-secret-key-"),
                decoded.count == 32
            else { return nil }
            found.append(x25519(decoded.withUnsafeBytes { SecureBytes(copying: $0) }))
        }
        return found.isEmpty ? nil : found
    }

    /// The identity file text of this identity (age's layout), for a new identity only.
    public func fileText(created: String) -> [UInt8] {
        let secret = secretKey.withUnsafeBytes { Bech32.encode(Array($0), prefix: "age-secret-key-").uppercased() }
        return Array("# created: \(created)\n# public key: \(recipient.text)\n\(secret)\n".utf8)
    }

    /// An unencrypted OpenSSH private key holding one `ssh-ed25519` key.
    static func openSSH(_ text: String) -> Identity? {
        let body = text.split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.hasPrefix("-----") }.joined()
        guard let blob = Array(body.utf8).withUnsafeBytes({ Base64.decode($0) }) else { return nil }
        var reader = SSHReader(blob)
        guard reader.take(15) == Array("openssh-key-v1\0".utf8), reader.string() == Array("none".utf8),
            reader.string() == Array("none".utf8), reader.string() != nil, reader.uint32() == 1,
            let publicBlob = reader.string(), var inner = reader.string().map(SSHReader.init)
        else { return nil }
        guard let check = inner.uint32(), inner.uint32() == check, inner.string() == Array("ssh-ed25519".utf8),
            let edPublic = inner.string(), edPublic.count == 32, let edSecret = inner.string(), edSecret.count == 64,
            Array(edSecret[32...]) == edPublic
        else { return nil }
        var x25519Secret = [UInt8](repeating: 0, count: 32)
        defer { sodium_memzero(&x25519Secret, 32) }
        guard crypto_sign_ed25519_sk_to_curve25519(&x25519Secret, edSecret) == 0,
            let recipient = Recipient.sshEd25519(blob: publicBlob)
        else { return nil }
        return Identity(secretKey: x25519Secret.withUnsafeBytes { SecureBytes(copying: $0) }, recipient: recipient)
    }

    /// The key an author and a recipient share (X25519 between the one's secret key and
    /// the other's public key, hashed with both public keys, the author's first): what
    /// authenticates an access line to its recipient as its author's. nil for a key of small
    /// order.
    func sharedKey(author: Recipient, recipient: Recipient) -> [UInt8]? {
        let peer = self.recipient == author ? recipient : author
        var shared = [UInt8](repeating: 0, count: 32)
        defer { sodium_memzero(&shared, 32) }
        let status = secretKey.withUnsafeBytes { secret in
            crypto_scalarmult(&shared, secret.baseAddress!.assumingMemoryBound(to: UInt8.self), peer.key)
        }
        guard status == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        let input = shared + author.key + recipient.key
        _ = crypto_generichash(&out, 32, input, UInt64(input.count), nil, 0)
        return out
    }

    /// BLAKE2b-256 of `bytes` keyed with `sharedKey`.
    func authenticate(_ bytes: [UInt8], author: Recipient, recipient: Recipient) -> [UInt8]? {
        guard let key = sharedKey(author: author, recipient: recipient) else { return nil }
        return bytes.withUnsafeBytes { bytes in key.withUnsafeBytes { keyedBLAKE2b256(bytes, key: $0) } }
    }

    /// Whether `tag` is `authenticate(bytes, …)`, compared in constant time.
    func isAuthentic(_ tag: [UInt8], of bytes: [UInt8], author: Recipient, recipient: Recipient) -> Bool {
        guard let expected = authenticate(bytes, author: author, recipient: recipient) else { return false }
        return equalMACs(tag, expected)
    }

    /// Opens a bundle sealed to this identity (`crypto_box_seal_open`); nil when it was
    /// sealed to another one or altered.
    func open(_ sealed: [UInt8]) -> SecureBytes? {
        let overhead = crypto_box_sealbytes()
        guard sealed.count > overhead else { return nil }
        var publicKey = recipient.key
        var opened = false
        let plaintext = SecureBytes(count: sealed.count - overhead) { out in
            secretKey.withUnsafeBytes { secret in
                opened = crypto_box_seal_open(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), sealed, UInt64(sealed.count), &publicKey,
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
            }
        }
        return opened ? plaintext : nil
    }
}

/// Whom an environment key is wrapped to: an X25519 public key, named as age names it
/// (`age1…`) or as OpenSSH does (`ssh-ed25519 AAAA…`, converted to X25519).
public struct Recipient: Sendable, Equatable {
    /// How the recipient is written.
    public enum Kind: Sendable { case age, sshEd25519 }
    public let kind: Kind
    /// The X25519 public key bundles are sealed to.
    let key: [UInt8]
    /// The OpenSSH public key blob, for an `ssh-ed25519` recipient.
    let sshBlob: [UInt8]?

    /// The recipient as the access file writes it: `age1…`, or `ssh-ed25519:` and the
    /// base64 of the OpenSSH blob (one field, no space).
    public var text: String {
        switch kind {
        case .age: return Bech32.encode(key, prefix: "age")
        case .sshEd25519: return "ssh-ed25519:" + String(decoding: sshBlob!.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        }
    }

    /// A short name for people: the age recipient itself, or OpenSSH's `SHA256:` fingerprint.
    public var fingerprint: String {
        switch kind {
        case .age: return text
        case .sshEd25519:
            var digest = [UInt8](repeating: 0, count: 32)
            _ = crypto_hash_sha256(&digest, sshBlob!, UInt64(sshBlob!.count))
            var encoded = String(decoding: digest.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
            while encoded.hasSuffix("=") { encoded.removeLast() }
            return "ssh-ed25519 SHA256:" + encoded
        }
    }

    /// Parses what a person pastes (`age1…`, a whole `ssh-ed25519 AAAA… comment` line) or
    /// the access file's field (`ssh-ed25519:AAAA…`); nil when it is neither. Returns the
    /// comment of an OpenSSH line too.
    ///
    /// `checkingUsable` (the default) also seals a byte to it, refusing a key of small order:
    /// an X25519 operation, which reading an access file's lines skips (a line's recipient
    /// is only compared with ours there, never sealed to).
    public static func parse(_ text: String, checkingUsable: Bool = true) -> (recipient: Recipient, comment: String?)? {
        let trimmed = text.trimmingSpaces
        if trimmed.hasPrefix("age1") {
            guard let key = Bech32.decode(trimmed, expecting: "age"), key.count == 32 else { return nil }
            let recipient = Recipient(kind: .age, key: key, sshBlob: nil)
            return !checkingUsable || recipient.isUsable ? (recipient, nil) : nil
        }
        let words: [Substring]
        if trimmed.hasPrefix("ssh-ed25519:") {
            words = ["ssh-ed25519", trimmed.dropFirst("ssh-ed25519:".count)]
        } else {
            words = trimmed.split(separator: " ", maxSplits: 2)
        }
        guard words.count >= 2, words[0] == "ssh-ed25519", let blob = Array(words[1].utf8).withUnsafeBytes({ Base64.decode($0) }),
            let recipient = sshEd25519(blob: blob), !checkingUsable || recipient.isUsable
        else { return nil }
        return (recipient, words.count == 3 ? String(words[2]).trimmingSpaces : nil)
    }

    /// The recipient of an OpenSSH `ssh-ed25519` public key blob.
    static func sshEd25519(blob: [UInt8]) -> Recipient? {
        var reader = SSHReader(blob)
        guard reader.string() == Array("ssh-ed25519".utf8), let edPublic = reader.string(), edPublic.count == 32, reader.isAtEnd else {
            return nil
        }
        var key = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_pk_to_curve25519(&key, edPublic) == 0 else { return nil }
        return Recipient(kind: .sshEd25519, key: key, sshBlob: blob)
    }

    /// Whether a bundle can be sealed to it (libsodium refuses keys of small order).
    var isUsable: Bool { seal(SecureBytes(count: 1) { $0[0] = 0 }) != nil }

    /// `bundle` sealed to this recipient (`crypto_box_seal`): anyone can seal, only the
    /// identity opens.
    /// libsodium refuses a key of small order, which no identity has: nil then.
    func seal(_ bundle: SecureBytes) -> [UInt8]? {
        var sealed = [UInt8](repeating: 0, count: bundle.count + crypto_box_sealbytes())
        let status = bundle.withUnsafeBytes { plain in
            crypto_box_seal(&sealed, plain.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(plain.count), key)
        }
        return status == 0 ? sealed : nil
    }

    public static func == (a: Recipient, b: Recipient) -> Bool { a.key == b.key }
}

/// Reads OpenSSH's wire format: big-endian `uint32` lengths before each string.
struct SSHReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - position >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func uint32() -> UInt32? {
        take(4).map { $0.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    }

    mutating func string() -> [UInt8]? {
        guard let count = uint32() else { return nil }
        return take(Int(count))
    }
}

/// Bech32 (BIP 173), as age writes its keys: lowercase, a prefix, `1`, the data in 5-bit
/// groups and a six-character checksum.
enum Bech32 {
    static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { check ^= generator[bit] }
        }
        return check
    }

    static func expanded(_ prefix: [UInt8]) -> [UInt8] {
        prefix.map { $0 >> 5 } + [0] + prefix.map { $0 & 31 }
    }

    static func regrouped(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var out: [UInt8] = []
        let mask = (1 << to) - 1
        for value in data {
            accumulator = accumulator << from | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> bits) & mask))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || (accumulator << (to - bits)) & mask != 0 {
            return nil
        }
        return out
    }

    static func encode(_ data: [UInt8], prefix: String) -> String {
        let hrp = Array(prefix.utf8)
        let groups = regrouped(data, from: 8, to: 5, pad: true)!
        let check = polymod(expanded(hrp) + groups + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((check >> UInt32(5 * (5 - $0))) & 31) }
        return prefix + "1" + String(decoding: (groups + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The data of `text` when it is valid Bech32 with the prefix `expecting` (compared
    /// ignoring case; mixed case is refused, as BIP 173 says).
    static func decode(_ text: String, expecting prefix: String) -> [UInt8]? {
        let lower = text.lowercased()
        guard lower == text || text.uppercased() == text, lower.hasPrefix(prefix + "1") else { return nil }
        var groups: [UInt8] = []
        for character in lower.utf8.dropFirst(prefix.utf8.count + 1) {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            groups.append(UInt8(value))
        }
        guard groups.count >= 6, polymod(expanded(Array(prefix.utf8)) + groups) == 1 else { return nil }
        return regrouped(Array(groups.dropLast(6)), from: 5, to: 8, pad: false)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
