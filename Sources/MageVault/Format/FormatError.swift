/// One way a line of a vault log can be wrong. Parsing never guesses: a line is either
/// exactly canonical or rejected with the reason.
public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not begin with a MageVault header line.
    case notAVault
    /// The file was written by a newer MageVault whose format this one cannot read.
    case unsupportedVersion(String)
    /// The line's CRC-32C does not match its contents: accidental damage.
    case checksumMismatch
    /// A field is not spelled as the format requires.
    case malformed(String)
    /// A header line naming another vault, in the middle of this one.
    case foreignVault(VaultID)

    public var description: String {
        switch self {
        case .notAVault: "not a MageVault log (the first line is not a 'mage-vault' header)"
        case .unsupportedVersion(let version):
            "vault format version \(version) is newer than this mage-vault understands (1); upgrade mage-vault"
        case .checksumMismatch: "checksum mismatch (the line was damaged or edited)"
        case .malformed(let what): "malformed line: \(what)"
        case .foreignVault(let id): "header line of another vault (\(id)) inside this one"
        }
    }
}
