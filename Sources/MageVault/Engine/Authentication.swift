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
    /// True when no record of that secret opens, so nothing of it was used (`list` and
    /// `export` leave the secret out).
    public var noneOpens = false

    public var description: String {
        if let count = unknownKeyRecords {
            return "\(path): \(count) record(s) of this environment, the first at byte offset \(offset), are \(reason); they were not read. If this environment was rekeyed elsewhere (another branch or machine), get its new key file: newer values may be among them"
        }
        if noneOpens {
            return "\(path): the record at byte offset \(offset) was not used (\(reason)), nor any other record of its secret: that secret was left out. Run 'mage-vault verify', then 'mage-vault recover' to set it aside"
        }
        return "\(path): the record at byte offset \(offset) was not used (\(reason)); an older record that opens was used instead. Run 'mage-vault verify', then 'mage-vault recover' to set it aside"
    }
}

/// One record line found for a secret: where it is and, when already at hand, its bytes
/// (else they are read when the record's turn comes, so that a reader never holds every
/// candidate line at once: a forger can write many long ones).
struct Candidate {
    let header: RecordHeader
    let offset: UInt64
    let length: Int
    var line: [UInt8]? = nil

    init(header: RecordHeader, offset: UInt64, line: [UInt8]) {
        self.header = header
        self.offset = offset
        self.length = line.count
        self.line = line
    }

    init(header: RecordHeader, offset: UInt64, length: Int) {
        self.header = header
        self.offset = offset
        self.length = length
    }
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

/// The newest authentic record of one `(uuid, tag)` as `list` needs it: of its header, the
/// operation, time and record id; its name; and its line when a scope with retired keys
/// must compare the heads of one name by their bytes (`RecordOrder`; empty otherwise). 48
/// bytes, where the whole header alone takes 80: `list` holds one per name.
struct AuthenticHead {
    let operation: Operation
    let timestamp: Timestamp
    let id: RecordID
    let line: [UInt8]
    let name: String

    init(header: RecordHeader, line: [UInt8], name: String) {
        operation = header.operation
        timestamp = header.timestamp
        id = header.id
        self.line = line
        self.name = name
    }

    /// True when this record is newer than `other` (`RecordOrder`).
    func isNewer(than other: AuthenticHead) -> Bool {
        line.withUnsafeBytes { mine in
            other.line.withUnsafeBytes { theirs in RecordOrder.isNewer((timestamp, id), mine, than: (other.timestamp, other.id), theirs) }
        }
    }
}

enum Authentication {
    /// Opens `candidates` newest first (`RecordOrder`) with the held key each names, and
    /// returns the first that authenticates (for `name`, when given); the others tried are
    /// added to `skipped`. `wholeValue` opens the value; otherwise only the name is
    /// decrypted (the whole body is authenticated either way).
    static func newest(
        _ candidates: [Candidate], in scope: Environment, named name: [UInt8]?, vault: VaultID, path: String, wholeValue: Bool,
        skipped: inout [SkippedRecord], read: (Candidate) -> [UInt8]? = { $0.line }
    ) -> AuthenticRecord? {
        // Newest first by (time, record-id); lines are read one tie group at a time, and a
        // group's lines are ordered by their bytes (`RecordOrder`).
        let ordered = candidates.sorted { ($0.header.timestamp, $0.header.id) > ($1.header.timestamp, $1.header.id) }
        var start = 0
        while start < ordered.count {
            var end = start + 1
            while end < ordered.count, (ordered[end].header.timestamp, ordered[end].header.id) == (ordered[start].header.timestamp, ordered[start].header.id) {
                end += 1
            }
            var group: [(candidate: Candidate, line: [UInt8])] = ordered[start..<end].compactMap { candidate in
                (candidate.line ?? read(candidate)).map { (candidate, $0) }
            }
            if group.count > 1 { group.sort { $1.line.lexicographicallyPrecedes($0.line) } }
            var previous: [UInt8]? = nil
            for (candidate, line) in group {
                if let previous, previous == line { continue }  // the same line twice (concatenated copies)
                previous = line
                if let found = open(candidate, line: line, in: scope, named: name, vault: vault, path: path, wholeValue: wholeValue, skipped: &skipped) {
                    return found
                }
            }
            start = end
        }
        return nil
    }

    /// Opens one candidate with the held key its header names; nil (and a skip) otherwise.
    static func open(
        _ candidate: Candidate, line: [UInt8], in scope: Environment, named name: [UInt8]?, vault: VaultID, path: String,
        wholeValue: Bool, skipped: inout [SkippedRecord]
    ) -> AuthenticRecord? {
        guard let keys = scope.keys(for: candidate.header.keyID) else {
            skipped.append(
                SkippedRecord(
                    path: path, offset: candidate.offset,
                    reason: "sealed under key id \(Hex.string(candidate.header.keyID, width: 8)), which this environment does not hold"))
            return nil
        }
        // A typed `do`, not a `Result`: a `Result<…, OpenError>` costs the program's first
        // conformance lookup for `OpenError: Error` on every cold get (ARCHITECTURE.md, the start-up rule).
        let opened: (name: String, record: OpenedRecord?)
        do throws(OpenError) {
            opened = try line.withBytes { bytes throws(OpenError) -> (name: String, record: OpenedRecord?) in
                if wholeValue {
                    let record = try RecordCodec.open(line: bytes, header: candidate.header, keys: keys, vault: vault)
                    return (record.name, record)
                }
                return (try RecordCodec.openName(line: bytes, header: candidate.header, keys: keys, vault: vault), nil)
            }
        } catch {
            switch error {
            case .wrongKey: skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: "sealed under another key"))
            case .notAuthentic(let reason): skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: reason))
            }
            return nil
        }
        if let name, !opened.name.utf8.elementsEqual(name) {
            skipped.append(SkippedRecord(path: path, offset: candidate.offset, reason: "sealed for another name"))
            return nil
        }
        return AuthenticRecord(header: candidate.header, offset: candidate.offset, line: line, name: opened.name, opened: opened.record)
    }
}
