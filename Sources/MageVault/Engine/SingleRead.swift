/// What `Vault.readOnce` found: the value and its scope (nil when no scope has the name),
/// and what it did about a rekey a crash interrupted.
public struct SingleRead: Sendable {
    /// The value and the scope it comes from, or nil.
    public let secret: ResolvedSecret?
    /// Interrupted rekeys completed or rolled back on the way (usually none).
    public let rekeyRecoveries: [RekeyRecovery]
}

extension Vault {
    /// Reads one secret through `resolution` (pipeline → project → global) straight from
    /// the log, without building the index: the read of a process that reads one value and
    /// exits, such as a `mage-vault get` in a pipeline step.
    ///
    /// Same answers and errors as `Vault(resolution:).resolvedSecret(named:)`: the newest
    /// valid record of the name wins in each scope, damaged lines and a torn tail are
    /// ignored, and a scope holding records under another key is refused as a wrong key.
    /// Lines are told apart by their uuid, key-id and tag columns (`RecordColumns`); only
    /// the name's own records, and records under another key id, are parsed and checked.
    /// An interrupted rekey needs the index to be finished: then the vault is opened.
    public static func readOnce(named name: String, resolution: [Environment]) throws(VaultError) -> SingleRead {
        let secret: SecretName
        do { secret = try SecretName(name) } catch { throw .invalidInput(error) }
        guard let first = resolution.first else { preconditionFailure("a read resolves through at least one environment") }
        if resolution.contains(where: { $0.location.keySource != .environmentVariable && Environment.pendingKeyID($0.location) != nil }) {
            let vault = try Vault(resolution: resolution)
            return SingleRead(secret: try vault.resolvedSecret(named: name), rekeyRecoveries: vault.rekeyRecoveries)
        }
        let log: VaultLog
        do { log = try VaultLog(path: first.location.logFile) } catch { throw translate(error) }
        guard log.exists else { return SingleRead(secret: nil, rekeyRecoveries: []) }

        let columns = resolution.map { RecordColumns(environment: $0.id, keyID: $0.keys.keyID, tag: $0.keys.tag(of: secret)) }
        var newest: [(header: RecordHeader, offset: UInt64, line: [UInt8])?] = Array(repeating: nil, count: resolution.count)
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
                        } else if newest[position].map({ header.isNewer(than: $0.header) }) ?? true {
                            newest[position] = (header, offset, Array(line))
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

        for (position, scope) in resolution.enumerated() {
            if otherKey[position] { throw .wrongKey(keyFile: scope.location.keySource.description) }
            guard let found = newest[position], found.header.operation == .set, let vaultID else { continue }
            let opened: OpenedRecord
            do {
                opened = try found.line.withBytes { bytes throws(OpenError) in
                    try RecordCodec.open(line: bytes, header: found.header, keys: scope.keys, vault: vaultID)
                }
            } catch {
                throw translate(error, path: path, offset: found.offset, keyFile: scope.location.keySource.description)
            }
            return SingleRead(secret: ResolvedSecret(value: opened.value(), scope: scope.location.scope), rekeyRecoveries: [])
        }
        return SingleRead(secret: nil, rekeyRecoveries: [])
    }
}
