/// One line of the access file (`<log>.access`, committed beside the log): an environment's
/// key bundle sealed to one teammate's recipient, with who it is for, who added them and
/// when, and a check only a holder of the wrapped key can make (`vault-format.md`, *Access*).
///
/// `mage-vault-access 2 <uuid> <key-id> <name> <recipient> <added-by> <author> <time> <sealed> <auth> <check> LF`
///
/// Version 2 lines are written; version 1 lines (whose bundle holds keys only, no
/// revocation ids) are still read.
public struct AccessEntry: Sendable {
    /// The version written: its bundle names the keys removals revoked (`EnvironmentKeys.bundle`).
    static let currentVersion = 2

    /// The line's version, 1 or 2: how its bundle is laid out (`EnvironmentKeys.parts(ofBundle:version:)`).
    let version: Int

    /// The scope whose key is wrapped.
    public let environment: EnvironmentID
    /// The key id of the bundle's first (current) key.
    public let keyID: UInt32
    /// Whom it is for, as the team calls them (`alice@laptop`).
    public let name: String
    /// The recipient it is sealed to, in the access file's spelling (`Recipient.text`).
    public let recipient: String
    /// Who added them (their name in this file), or `-`.
    public let addedBy: String
    /// The recipient of the identity that wrote it (`Recipient.text`), or `-`.
    public let author: String
    /// When, as UTC ISO 8601 with milliseconds.
    public let time: String
    /// `crypto_box_seal(key || retired keys…)` to the recipient.
    let sealed: [UInt8]
    /// BLAKE2b-256 of the line up to `sealed`, keyed with the key the author and the
    /// recipient share (`Identity.sharedKey`); empty (`-`) when the author is `-`.
    let auth: [UInt8]
    /// BLAKE2b-256 of the line up to its last space, keyed with sub-key 5 of the wrapped key.
    let check: [UInt8]

    /// Whether `text` may be a name or an adder in the file: 1 to 64 of `A-Z a-z 0-9 . _ @ + -`.
    public static func isValidName(_ text: String) -> Bool {
        let allowed = Array("._@+-".utf8)
        return (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || allowed.contains($0) }
    }

    /// The line up to `sealed`: what `auth` covers.
    var authenticatedText: String {
        let sealedText = String(decoding: sealed.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        // Concatenated, not `joined`: that generic path costs a conformance lookup per start.
        return "mage-vault-access " + (version == 1 ? "1" : "2") + " " + environment.description + " " + Hex.string(keyID, width: 8) + " "
            + name + " " + recipient + " " + addedBy + " " + author + " " + time + " " + sealedText
    }

    /// The line up to its last space: what the check covers.
    var checkedText: String {
        authenticatedText + " " + (auth.isEmpty ? "-" : String(decoding: auth.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self))
    }

    /// A new entry: `bundle` sealed to `recipient`, authenticated by `author` (our identity,
    /// when we have one) and checked under `keys` (the bundle's first key).
    static func make(
        environment: EnvironmentID, keys: EnvironmentKeys, bundle: SecureBytes, name: String, recipient: Recipient, addedBy: String,
        author: Identity?, time: String
    ) -> AccessEntry {
        var entry = AccessEntry(
            version: currentVersion, environment: environment, keyID: keys.keyID, name: name, recipient: recipient.text, addedBy: addedBy,
            author: author?.recipient.text ?? "-", time: time, sealed: recipient.seal(bundle) ?? [], auth: [], check: [])  // a parsed recipient seals
        if let author, let tag = author.authenticate(Array(entry.authenticatedText.utf8), author: author.recipient, recipient: recipient) {
            entry = entry.with(auth: tag)
        }
        return entry.with(check: Array(entry.checkedText.utf8).withUnsafeBytes { keys.accessCheck(of: $0) })
    }

    init(
        version: Int, environment: EnvironmentID, keyID: UInt32, name: String, recipient: String, addedBy: String, author: String,
        time: String, sealed: [UInt8], auth: [UInt8], check: [UInt8]
    ) {
        self.version = version
        self.environment = environment
        self.keyID = keyID
        self.name = name
        self.recipient = recipient
        self.addedBy = addedBy
        self.author = author
        self.time = time
        self.sealed = sealed
        self.auth = auth
        self.check = check
    }

    func with(auth: [UInt8]? = nil, check: [UInt8]? = nil) -> AccessEntry {
        AccessEntry(
            version: version, environment: environment, keyID: keyID, name: name, recipient: recipient, addedBy: addedBy, author: author,
            time: time, sealed: sealed, auth: auth ?? self.auth, check: check ?? self.check)
    }

    /// Whether the line is `identity`'s (its recipient) and its author, named in it, wrote it.
    func isAuthored(for identity: Identity) -> Bool {
        guard !auth.isEmpty, identity.recipient.text == recipient, let author = Recipient.parse(self.author, checkingUsable: false)?.recipient else { return false }
        return identity.isAuthentic(auth, of: Array(authenticatedText.utf8), author: author, recipient: identity.recipient)
    }

    /// The whole line, `LF` included.
    public var line: [UInt8] {
        Array((checkedText + " " + String(decoding: check.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self) + "\n").utf8)
    }

    /// Whether `keys` (the key the entry names) made its check.
    func isChecked(by keys: EnvironmentKeys) -> Bool {
        keys.keyID == keyID && Array(checkedText.utf8).withUnsafeBytes { keys.isAccessCheck(check, of: $0) }
    }

    /// Parses one line (without its `LF`); nil for anything that is not exactly an entry.
    /// Such lines are passed over by readers, never an error: anyone can write the file.
    public static func parse(_ line: Substring) -> AccessEntry? {
        var canonical = CanonicalRecipients()
        return parse(line, canonical: &canonical)
    }

    /// The recipients found written canonically so far in one file: a team's file names the
    /// same few recipients on every line (each member, each author), and checking one means a
    /// Bech32 or base64 decode and an encode back.
    struct CanonicalRecipients {
        private var known: [[UInt8]] = []

        /// Whether `text` is a recipient written canonically (as the access file writes one).
        /// Compared byte for byte: `String` equality is Unicode's canonical equivalence, under
        /// which a KELVIN SIGN equals a `K` of base64, so a line could pass as one checked.
        mutating func contains(_ text: Substring) -> Bool {
            let bytes = Array(text.utf8)
            for recipient in known where recipient.elementsEqual(bytes) { return true }
            guard let canonical = Recipient.parse(String(text), checkingUsable: false)?.recipient.text,
                Array(canonical.utf8).elementsEqual(bytes)
            else { return false }
            known.append(bytes)
            return true
        }
    }

    /// `parse`, sharing `canonical` across the lines of one file.
    static func parse(_ line: Substring, canonical: inout CanonicalRecipients) -> AccessEntry? {
        // Split on the byte 0x20, by hand: a `Character` split walks grapheme clusters, and the
        // generic one of `utf8` was a tenth of a team member's cold get.
        var fields: [Substring] = []
        fields.reserveCapacity(12)
        var start = line.utf8.startIndex, index = start
        while index != line.utf8.endIndex {
            if line.utf8[index] == 0x20 {
                fields.append(line[start..<index])
                guard fields.count < 12 else { return nil }
                start = line.utf8.index(after: index)
            }
            line.utf8.formIndex(after: &index)
        }
        fields.append(line[start...])
        guard fields.count == 12, fields[0] == "mage-vault-access", fields[1] == "1" || fields[1] == "2",
            let environment = EnvironmentID(fields[2]), fields[3].utf8.count == 8,
            let keyID = Hex.parse(fields[3], count: 8, as: UInt32.self),
            isValidName(String(fields[4])), canonical.contains(fields[5]),
            isValidName(String(fields[6])) || fields[6] == "-",
            fields[7] == "-" || canonical.contains(fields[7]),
            fields[8].utf8.count == 24,
            let sealed = Array(fields[9].utf8).withUnsafeBytes({ Base64.decode($0) }),
            let auth = fields[10] == "-" ? [] : Array(fields[10].utf8).withUnsafeBytes({ Base64.decode($0) }),
            auth.count == (fields[7] == "-" ? 0 : 32),
            let check = Array(fields[11].utf8).withUnsafeBytes({ Base64.decode($0) }), check.count == 32
        else { return nil }
        return AccessEntry(
            version: fields[1] == "1" ? 1 : 2, environment: environment, keyID: keyID, name: String(fields[4]), recipient: String(fields[5]),
            addedBy: String(fields[6]), author: String(fields[7]), time: String(fields[8]), sealed: sealed, auth: auth, check: check)
    }
}
