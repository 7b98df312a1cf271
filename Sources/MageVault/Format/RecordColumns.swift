/// The uuid, key-id and tag columns of one secret's records, compared against raw lines
/// without parsing them: how a process that reads one secret finds its records among a
/// million others (a few word compares a line instead of a checksum and a hundred hex
/// digits). A match says where to look; the caller still parses and checks the line.
public struct RecordColumns: Sendable {
    /// How a raw line relates to the secret.
    public enum Match: Sendable, Equatable {
        /// Not a record of this environment (or too short to be a record).
        case otherEnvironment
        /// A record of this environment under the same key, for another name.
        case otherName
        /// A record of this environment under another key id.
        case otherKey
        /// A record of this environment, key and name (if the line checks out).
        case candidate
    }

    private let environment: (UInt64, UInt64, UInt64, UInt64)
    private let keyID: UInt64
    private let tag: (UInt64, UInt64, UInt64, UInt64)

    /// The columns of records of `environment` sealed under `keyID` for the name `tag`.
    public init(environment: EnvironmentID, keyID: UInt32, tag: NameTag) {
        func words(_ hex: [UInt8]) -> [UInt64] {
            hex.withUnsafeBytes { raw in (0..<hex.count / 8).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) } }
        }
        var uuid: [UInt8] = [], id: [UInt8] = [], name: [UInt8] = []
        Hex.append(environment.rawValue, width: 32, to: &uuid)
        Hex.append(keyID, width: 8, to: &id)
        Hex.append(tag.rawValue, width: 32, to: &name)
        let u = words(uuid), t = words(name)
        self.environment = (u[0], u[1], u[2], u[3])
        self.keyID = words(id)[0]
        self.tag = (t[0], t[1], t[2], t[3])
    }

    /// Compares the columns of `line` (a whole line, newline excluded).
    public func match(_ line: UnsafeRawBufferPointer) -> Match {
        guard line.count > RecordHeader.prefixLength else { return .otherEnvironment }
        func word(_ offset: Int) -> UInt64 { line.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        // Columns (vault-format.md): uuid at 4, key id at 37, tag at 46.
        let sameEnvironment =
            (word(4) ^ environment.0) | (word(12) ^ environment.1) | (word(20) ^ environment.2) | (word(28) ^ environment.3) == 0
        guard sameEnvironment else { return .otherEnvironment }
        guard word(37) == keyID else { return .otherKey }
        let sameName = (word(46) ^ tag.0) | (word(54) ^ tag.1) | (word(62) ^ tag.2) | (word(70) ^ tag.3) == 0
        return sameName ? .candidate : .otherName
    }
}
