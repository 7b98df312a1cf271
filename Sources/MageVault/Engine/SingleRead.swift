/// What `Vault.readOnce` found: the value and its scope (nil when no scope has the name),
/// and what it did about a rekey a crash interrupted.
public struct SingleRead: Sendable {
    /// The value and the scope it comes from, or nil.
    public let secret: ResolvedSecret?
    /// Interrupted rekeys completed or rolled back on the way (usually none).
    public let rekeyRecoveries: [RekeyRecovery]
    /// Records passed over because they did not open (usually none).
    public var skippedRecords: [SkippedRecord] = []
}

extension Vault {
    /// Reads one secret through `resolution` (pipeline → project → global) straight from
    /// the log, without building the index: the read of a process that reads one value and
    /// exits, such as a `mage-vault get` in a pipeline step.
    ///
    /// Same answers and errors as `Vault(resolution:).resolvedSecret(named:)`: the newest
    /// record of the name that authenticates wins in each scope (tombstones included),
    /// damaged lines and a torn tail are ignored. Lines are told apart by their uuid, key-id
    /// and tag columns (`RecordColumns`); only the name's own records, and records under
    /// another key id, are parsed and checked. What needs the index goes through the vault:
    /// an interrupted rekey, retired keys, and records under a key id the scope does not
    /// hold (which call for the wrong-key rule of `Vault.confirmKey`).
    public static func readOnce(named name: String, resolution: [Environment]) throws(VaultError) -> SingleRead {
        let secret: SecretName
        do { secret = try SecretName(name) } catch { throw .invalidInput(error) }
        guard let first = resolution.first else { preconditionFailure("a read resolves through at least one environment") }
        func throughVault() throws(VaultError) -> SingleRead {
            let vault = try Vault(resolution: resolution)
            let secret = try vault.resolvedSecret(named: name)
            return SingleRead(secret: secret, rekeyRecoveries: vault.rekeyRecoveries, skippedRecords: vault.skippedRecords)
        }
        if resolution.contains(where: {
            !$0.retiredKeys.isEmpty || ($0.location.keySource != .environmentVariable && Environment.pendingKeyID($0.location) != nil)
        }) {
            return try throughVault()
        }
        let log: VaultLog
        do { log = try VaultLog(path: first.location.logFile) } catch { throw translate(error) }
        guard log.exists else { return SingleRead(secret: nil, rekeyRecoveries: []) }

        let columns = resolution.map { RecordColumns(environment: $0.id, keyID: $0.keys.keyID, tag: $0.keys.tag(of: secret)) }
        var candidates: [[Candidate]] = Array(repeating: [], count: resolution.count)
        var otherKey = Array(repeating: false, count: resolution.count)
        let path = log.path
        let scanned: Result<Void, any Error>
        do {
            scanned = try log.withLock(exclusive: false) { () throws(any Error) -> Void in
                _ = try log.scanLines(from: 0) { offset, line in
                    if offset == 0 { return }  // the header: scanLines checked it
                    for (position, column) in columns.enumerated() {
                        let match = column.match(line)
                        if match == .otherEnvironment { continue }
                        // A line is one environment's: once its uuid matched, no other scope can.
                        guard match != .otherName,
                            case .success(.record(let header)) = Result(catching: { () throws(FormatError) in try LogLine.parse(line) })
                        else { break }
                        if match == .otherKey {
                            otherKey[position] = true
                        } else {
                            candidates[position].append(Candidate(header: header, offset: offset, length: line.count))
                        }
                        break
                    }
                }
            }
        } catch {
            throw translate(error)
        }
        if case .failure(let error) = scanned { throw translate(error) }
        let vaultID = log.header?.vaultID

        if otherKey.contains(true) { return try throughVault() }
        var skipped: [SkippedRecord] = []
        for (position, scope) in resolution.enumerated() {
            guard !candidates[position].isEmpty, let vaultID else { continue }
            let skippedBefore = skipped.count
            guard
                let found = Authentication.newest(
                    candidates[position], in: scope, named: Array(secret.string.utf8), vault: vaultID, path: path, wholeValue: true,
                    skipped: &skipped, read: { try? log.readLine(at: $0.offset, length: $0.length) })
            else {
                throw damaged(skipped[skippedBefore])
            }
            guard found.header.operation == .set, let opened = found.opened else { continue }
            return SingleRead(
                secret: ResolvedSecret(value: opened.value(), scope: scope.location.scope), rekeyRecoveries: [], skippedRecords: skipped)
        }
        return SingleRead(secret: nil, rekeyRecoveries: [], skippedRecords: skipped)
    }
}
