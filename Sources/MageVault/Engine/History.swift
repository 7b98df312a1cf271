/// One version of a secret, as `history` lists it.
public struct SecretVersion: Sendable, Equatable {
    /// 1 for the oldest version still in the log, counting up to the current one.
    /// Compaction drops the oldest versions, so numbers can shift after it.
    public let number: Int
    /// When it was written.
    public let timestamp: Timestamp
    /// A value, or a delete.
    public let operation: Operation
    let offset: UInt64
    let length: Int
    let header: RecordHeader
}

extension Vault {
    /// Every version of `name` in this environment that the log still holds and that
    /// authenticates (under the current key or a retired one), oldest first. Records that do
    /// not open are not versions: they are listed in `skippedRecords`. Values are not
    /// decrypted.
    public func history(named name: String) throws(VaultError) -> [SecretVersion] {
        let secret = try validName(name)
        try refresh()
        try requireOurKey()
        skippedRecords = []
        let keys = Set(environment.ring.map { IndexKey(environment: environment.id, tag: $0.tag(of: secret)) })
        let bytes = Array(secret.string.utf8)
        var found: [(header: RecordHeader, offset: UInt64, length: Int)] = []
        for candidate in try scanCandidates(keys)[environment.id] ?? [] {
            guard
                Authentication.newest(
                    [candidate], in: environment, named: bytes, vault: vaultID, path: log.path, wholeValue: false,
                    skipped: &skippedRecords, read: lineOf) != nil
            else { continue }
            found.append((candidate.header, candidate.offset, candidate.length))
        }
        found.sort { ($0.header.timestamp, $0.header.id) < ($1.header.timestamp, $1.header.id) }
        var versions: [SecretVersion] = []
        for record in found where versions.last?.header.id != record.header.id || versions.last?.timestamp != record.header.timestamp {
            versions.append(
                SecretVersion(
                    number: versions.count + 1, timestamp: record.header.timestamp, operation: record.header.operation,
                    offset: record.offset, length: record.length, header: record.header))
        }
        return versions
    }

    /// The value `name` had at `version` (a number from `history`); nil when that version
    /// is a delete.
    public func secretValue(named name: String, version: Int) throws(VaultError) -> String? {
        let versions = try history(named: name)
        guard let chosen = versions.first(where: { $0.number == version }) else {
            throw .noSuchVersion(version: version, available: versions.count)
        }
        guard chosen.operation == .set else { return nil }
        let entry = IndexEntry(newest: chosen.header, offset: chosen.offset, length: UInt32(chosen.length), records: 1)
        guard let keys = environment.keys(for: chosen.header.keyID) else { throw .wrongKey(keyFile: environment.location.keySource.description) }
        return try open(entry, in: Environment(location: environment.location, id: environment.id, keys: keys)).value()
    }

    /// Sets `name` back to the value of `version`, as a new record (history is never
    /// rewritten). Refuses a version that is a delete.
    public func rollback(named name: String, to version: Int) throws(VaultError) {
        guard let value = try secretValue(named: name, version: version) else {
            throw .noSuchVersion(version: version, available: try history(named: name).count)
        }
        try setSecret(named: name, value: value)
    }
}
