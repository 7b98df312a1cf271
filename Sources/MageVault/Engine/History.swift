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
    /// Every version of `name` in this environment that the log still holds, oldest first.
    /// Reads clear headers only.
    public func history(named name: String) throws(VaultError) -> [SecretVersion] {
        let secret = try validName(name)
        try refresh()
        try requireOurKey()
        let tag = environment.keys.tag(of: secret)
        var found: [(header: RecordHeader, offset: UInt64, length: Int)] = []
        do {
            _ = try log.scan(from: 0, limit: scannedTo) { line in
                if case .success(.record(let header)) = line.parsed, header.environment == environment.id, header.tag == tag {
                    found.append((header, line.offset, line.length))
                }
            }
        } catch {
            throw Self.translate(error)
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
        return try open(entry, in: environment).value()
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
