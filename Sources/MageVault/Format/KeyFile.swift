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

    /// The costs a passphrase file may name: libsodium's limits for Argon2id on a 64-bit
    /// system (`crypto_pwhash_argon2id_opslimit_min()` and so on). Outside them
    /// `crypto_pwhash` fails whatever the passphrase, so the file is refused as it is read,
    /// and a memory cost past `Int.max` never reaches the conversion libsodium's `size_t` needs.
    static let operationsRange: ClosedRange<UInt64> = 1...4_294_967_295
    static let memoryRange: ClosedRange<UInt64> = 8192...4_398_046_510_080

    /// Recognises a key file's contents: exactly 32 bytes is a raw key, the header line a
    /// passphrase file; anything else is nil. The line is read as `vault-format.md` spells
    /// it and nothing else: the two costs in decimal without a sign or leading zeros (one
    /// spelling per value), the salt and key id in lowercase hex, single spaces, one LF.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> KeyFile? {
        if bytes.count == EnvironmentKeys.keyByteCount { return .raw }
        let prefix = Array((magic + " ").utf8)
        guard bytes.count > prefix.count, bytes.starts(with: prefix), bytes.last == 0x0A else { return nil }
        let fields = bytes[prefix.count..<(bytes.count - 1)].split(separator: 0x20, omittingEmptySubsequences: false)
        let saltDigits = 2 * Passphrase.saltByteCount
        guard fields.count == 4, let operations = decimal(fields[0]), operationsRange.contains(operations),
            let memory = decimal(fields[1]), memoryRange.contains(memory),
            fields[2].count == saltDigits, fields[3].count == 8,
            let keyID = Hex.parse(bytes, at: fields[3].startIndex, count: 8, as: UInt32.self)
        else { return nil }
        var salt: [UInt8] = []
        for offset in stride(from: fields[2].startIndex, to: fields[2].endIndex, by: 2) {
            guard let byte = Hex.parse(bytes, at: offset, count: 2, as: UInt8.self) else { return nil }
            salt.append(byte)
        }
        return .passphrase(operations: operations, memory: memory, salt: salt, keyID: keyID)
    }

    /// The value of `digits` when they are a decimal number spelled canonically: ASCII
    /// digits only, no sign, no leading zero (but "0" itself), no overflow.
    static func decimal(_ digits: Slice<UnsafeRawBufferPointer>) -> UInt64? {
        guard let first = digits.first, first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
        }
        return value
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
