/// One line of the access file (`<log>.access`, committed beside the log): an environment's
/// key bundle sealed to one teammate's recipient, with who it is for, who added them and
/// when, and a check only a holder of the wrapped key can make (`vault-format.md`, *Access*).
///
/// `mage-vault-access 1 <uuid> <key-id> <name> <recipient> <added-by> <time> <sealed> <check> LF`
public struct AccessEntry: Sendable {
    static let magic = "mage-vault-access 1"

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
    /// When, as UTC ISO 8601 with milliseconds.
    public let time: String
    /// `crypto_box_seal(key || retired keys…)` to the recipient.
    let sealed: [UInt8]
    /// BLAKE2b-256 of the line up to its last space, keyed with sub-key 5 of the wrapped key.
    let check: [UInt8]

    /// Whether `text` may be a name or an adder in the file: 1 to 64 of `A-Z a-z 0-9 . _ @ + -`.
    public static func isValidName(_ text: String) -> Bool {
        let allowed = Array("._@+-".utf8)
        return (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || allowed.contains($0) }
    }

    /// The line up to its last space: what the check covers.
    var checkedText: String {
        let sealedText = String(decoding: sealed.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        return [Self.magic, environment.description, Hex.string(keyID, width: 8), name, recipient, addedBy, time, sealedText]
            .joined(separator: " ")
    }

    /// A new entry: `bundle` sealed to `recipient`, checked under `keys` (the bundle's first key).
    static func make(
        environment: EnvironmentID, keys: EnvironmentKeys, bundle: SecureBytes, name: String, recipient: Recipient, addedBy: String,
        time: String
    ) -> AccessEntry {
        let unchecked = AccessEntry(
            environment: environment, keyID: keys.keyID, name: name, recipient: recipient.text, addedBy: addedBy, time: time,
            sealed: recipient.seal(bundle) ?? [], check: [])  // a parsed recipient is usable: it seals
        let check = Array(unchecked.checkedText.utf8).withUnsafeBytes { keys.accessCheck(of: $0) }
        return AccessEntry(
            environment: environment, keyID: keys.keyID, name: name, recipient: recipient.text, addedBy: addedBy, time: time,
            sealed: unchecked.sealed, check: check)
    }

    init(
        environment: EnvironmentID, keyID: UInt32, name: String, recipient: String, addedBy: String, time: String, sealed: [UInt8],
        check: [UInt8]
    ) {
        self.environment = environment
        self.keyID = keyID
        self.name = name
        self.recipient = recipient
        self.addedBy = addedBy
        self.time = time
        self.sealed = sealed
        self.check = check
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
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 10, fields[0] == "mage-vault-access", fields[1] == "1",
            let environment = EnvironmentID(fields[2]), fields[3].utf8.count == 8,
            let keyID = Hex.parse(fields[3], count: 8, as: UInt32.self),
            isValidName(String(fields[4])), Recipient.parse(String(fields[5]))?.recipient.text == String(fields[5]),
            isValidName(String(fields[6])) || fields[6] == "-", fields[7].utf8.count == 24,
            let sealed = Array(fields[8].utf8).withUnsafeBytes({ Base64.decode($0) }),
            let check = Array(fields[9].utf8).withUnsafeBytes({ Base64.decode($0) }), check.count == 32
        else { return nil }
        return AccessEntry(
            environment: environment, keyID: keyID, name: String(fields[4]), recipient: String(fields[5]), addedBy: String(fields[6]),
            time: String(fields[7]), sealed: sealed, check: check)
    }
}
