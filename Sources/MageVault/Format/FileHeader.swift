/// The first line of a vault log: `mage-vault 1 <vault-id> <crc32c>`.
public struct FileHeader: Hashable, Sendable {
    /// The only version this code reads and writes.
    public static let version = 1
    static let magic = Array("mage-vault ".utf8)
    /// Length of the line without its newline.
    static let length = 54

    /// The vault this file is.
    public let vaultID: VaultID

    /// A header for `vaultID`.
    public init(vaultID: VaultID) { self.vaultID = vaultID }

    /// The header line, newline included.
    public func encoded() -> [UInt8] {
        var line = Self.magic
        line.reserveCapacity(Self.length + 1)
        line.append(contentsOf: "\(Self.version) ".utf8)
        Hex.append(vaultID.rawValue, width: 32, to: &line)
        appendChecksum(to: &line)
        return line
    }

    /// True when `line` starts like a header line of any version.
    static func looksLikeHeader(_ line: UnsafeRawBufferPointer) -> Bool {
        // The first byte alone tells a record ("set", "del") from a header, once per line scanned.
        line.count >= magic.count && line[0] == UInt8(ascii: "m") && zip(line.prefix(magic.count), magic).allSatisfy { $0 == $1 }
    }

    /// Parses a header line (without its newline).
    public static func parse(_ line: UnsafeRawBufferPointer) throws(FormatError) -> FileHeader {
        guard looksLikeHeader(line) else { throw .notAVault }
        let versionField = line[magic.count...].prefix { $0 != UInt8(ascii: " ") }
        let versionText = String(decoding: versionField.prefix(16), as: UTF8.self)
        guard versionText == "\(version)" else {
            // Another version only when spelled as one above 1: ASCII digits, no leading zero.
            let isNumber = (versionField.first.map { $0 != UInt8(ascii: "0") } ?? false)
                && versionField.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            throw isNumber ? .unsupportedVersion(versionText) : .malformed("header version '\(versionText)'")
        }
        guard line.count == length, line[12] == UInt8(ascii: " ") else { throw .malformed("header length") }
        try verifyChecksum(line)
        guard let id = Hex.parse(line, at: 13, count: 32, as: UInt128.self) else {
            throw .malformed("vault id is not 32 lowercase hex digits")
        }
        return FileHeader(vaultID: VaultID(rawValue: id))
    }
}

/// Appends ` <crc32c of everything so far>\n`.
func appendChecksum(to line: inout [UInt8]) {
    let crc = line.withUnsafeBytes { CRC32C.checksum($0) }
    line.append(UInt8(ascii: " "))
    Hex.append(crc, width: 8, to: &line)
    line.append(UInt8(ascii: "\n"))
}

/// Checks the trailing ` <crc32c>` of a line given without its newline.
func verifyChecksum(_ line: UnsafeRawBufferPointer) throws(FormatError) {
    let count = line.count
    guard count > 9, line[count - 9] == UInt8(ascii: " "),
        let stored = Hex.parse(line, at: count - 8, count: 8, as: UInt32.self)
    else { throw .malformed("missing checksum") }
    guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: line[..<(count - 9)])) == stored else {
        throw .checksumMismatch
    }
}
