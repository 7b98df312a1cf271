/// A record passed over because it did not open: a reader reports it and uses the newest
/// record of the secret that does open. It never changes what a reader believes.
public struct SkippedRecord: Sendable, Equatable, CustomStringConvertible {
    /// The log.
    public let path: String
    /// Byte offset of the line.
    public let offset: UInt64
    /// Why it did not open.
    public let reason: String
    /// Records of the scope under key ids it does not hold (this one's among them), when
    /// that is why: a notice for the whole scope rather than one record.
    public var unknownKeyRecords: Int? = nil

    public var description: String {
        if let count = unknownKeyRecords {
            return "\(path): \(count) record(s) of this environment, the first at byte offset \(offset), are \(reason); they were not read. If this environment was rekeyed elsewhere (another branch or machine), get its new key file: newer values may be among them"
        }
        return "\(path): the record at byte offset \(offset) was not used (\(reason)); an older record that opens was used instead. Run 'mage-vault verify', then 'mage-vault recover' to set it aside"
    }
}

/// One record line found for a secret.
struct Candidate {
    let header: RecordHeader
    let offset: UInt64
    let line: [UInt8]
}

/// The newest record of a secret that authenticates: its header and where it is, its
/// name, and (when the value was asked for) the opened record.
struct AuthenticRecord {
    let header: RecordHeader
    let offset: UInt64
    let line: [UInt8]
    let name: String
    let opened: OpenedRecord?

    /// True when this record is newer than `other` (`RecordOrder`).
    func isNewer(than other: AuthenticRecord) -> Bool {
        RecordOrder.isNewer(header, line, than: other.header, other.line)
    }
}

enum Authentication {
    /// Opens `candidates` newest first (`RecordOrder`) with the held key each names, and
    /// returns the first that authenticates (for `name`, when given); the others tried are
    /// added to `skipped`. `wholeValue` opens the value; otherwise only the name is
    /// decrypted (the whole body is authenticated either way).
    static func newest(
        _ candidates: [Candidate], in scope: Environment, named name: [UInt8]?, vault: VaultID, path: String, wholeValue: Bool,
        skipped: inout [SkippedRecord]
    ) -> AuthenticRecord? {
        let ordered = candidates.sorted { RecordOrder.isNewer($0.header, $0.line, than: $1.header, $1.line) }
        var previous: [UInt8]? = nil
        for candidate in ordered {
            if let previous, previous == candidate.line { continue }  // the same line twice (concatenated copies)
            previous = candidate.line
            guard let keys = scope.keys(for: candidate.header.keyID) else {
                skipped.append(
                    SkippedRecord(
                        path: path, offset: candidate.offset,
                        reason: "sealed under key id \(Hex.string(candidate.header.keyID, width: 8)), which this environment does not hold"))
                continue
            }
            let result = Result { () throws(OpenError) -> (String, OpenedRecord?) in
                try candidate.line.withBytes { line throws(OpenError) -> (String, OpenedRecord?) in
                    if wholeValue {
                        let opened = try RecordCodec.open(line: line, header: candidate.header, keys: keys, vault: vault)
                        return (opened.name, opened)
                    }
                    return (try RecordCodec.openName(line: line, header: candidate.header, keys: keys, vault: vault), nil)
                }
            }
            switch result {
            case .success(let (opened, record)):
                if let name, !opened.utf8.elementsEqual(name) {
                    skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: "sealed for another name"))
                    continue
                }
                return AuthenticRecord(
                    header: candidate.header, offset: candidate.offset, line: candidate.line, name: opened, opened: record)
            case .failure(.wrongKey):
                skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: "sealed under another key"))
            case .failure(.notAuthentic(let reason)):
                skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: reason))
            }
        }
        return nil
    }
}
