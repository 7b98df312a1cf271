/// What a key file holds: the 32 raw key bytes, or (for a passphrase-protected scope) the
/// Argon2id parameters, one text line:
/// `mage-vault-passphrase 1 argon2id13 <opslimit> <memlimit> <salt hex> <key-id hex>`.
/// The key id lets a wrong passphrase be told apart from damage at once, and an interrupted
/// rekey be resolved without any passphrase.
public enum KeyFile: Equatable, Sendable {
    /// 32 raw key bytes (not kept here: they stay in secure memory).
    case raw
    /// Argon2id parameters.
    case passphrase(operations: UInt64, memory: UInt64, salt: [UInt8], keyID: UInt32)

    static let magic = "mage-vault-passphrase 1 argon2id13"

    /// Recognises a key file's contents: exactly 32 bytes is a raw key, the header line a
    /// passphrase file; anything else is nil.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> KeyFile? {
        if bytes.count == EnvironmentKeys.keyByteCount { return .raw }
        guard let text = String(validating: bytes, as: UTF8.self), text.hasPrefix(magic + " "), text.hasSuffix("\n") else { return nil }
        let fields = text.dropLast().split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 7, let operations = UInt64(fields[3]), let memory = UInt64(fields[4]),
            fields[5].count == 2 * Passphrase.saltByteCount, let keyID = Hex.parse(fields[6], count: 8, as: UInt32.self)
        else { return nil }
        var salt: [UInt8] = []
        var index = fields[5].startIndex
        while index < fields[5].endIndex {
            let next = fields[5].index(index, offsetBy: 2)
            guard let byte = Hex.parse(fields[5][index..<next], count: 2, as: UInt8.self) else { return nil }
            salt.append(byte)
            index = next
        }
        return .passphrase(operations: operations, memory: memory, salt: salt, keyID: keyID)
    }

    /// The passphrase file's line.
    public func encoded() -> [UInt8] {
        guard case .passphrase(let operations, let memory, let salt, let keyID) = self else { return [] }
        var line = Array("\(Self.magic) \(operations) \(memory) ".utf8)
        for byte in salt { Hex.append(byte, width: 2, to: &line) }
        line.append(UInt8(ascii: " "))
        Hex.append(keyID, width: 8, to: &line)
        line.append(UInt8(ascii: "\n"))
        return line
    }
}
