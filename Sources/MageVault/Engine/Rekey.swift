/// What opening a vault did about a rekey that a crash interrupted.
public enum RekeyRecovery: Sendable, Equatable, CustomStringConvertible {
    /// The new log was in place: the new key file was put in place too.
    case completed(keyFile: String)
    /// The old log was still in place: the new key file was removed.
    case rolledBack(keyFile: String)

    public var description: String {
        switch self {
        case .completed(let keyFile): "an interrupted rekey was completed: \(keyFile) now holds the new key"
        case .rolledBack(let keyFile): "an interrupted rekey was rolled back: \(keyFile) still holds the old key"
        }
    }
}

/// What a rekey did.
public struct RekeyReport: Sendable, Equatable {
    /// Records of this scope re-sealed under the new key.
    public let resealed: Int
    /// Records of other environments copied byte for byte.
    public let untouched: Int
    /// The key file now in use.
    public let keyFile: String
}

extension Vault {
    /// Gives this vault's own scope a new key (a random one in its key file, or a
    /// passphrase's) and re-seals the scope's records under it, keeping their time and id;
    /// every other environment's record is copied byte for byte, lines in their order.
    ///
    /// Crash safety: the new key file is written first as `<key file>.new`; then the new log
    /// replaces the old one (rename); then the new key file replaces the old one (rename).
    /// Whoever opens the vault next and finds a `.new` key file compares key ids with the
    /// log: the new log means "complete the rename", the old one "remove the new key".
    /// So after a kill at any moment the vault opens with the old key or the new one, and
    /// `rekeyRecoveries` says which.
    @discardableResult
    public func rekey(to material: KeyMaterial, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> RekeyReport {
        let location = environment.location
        guard location.keySource != .environmentVariable else { throw .rekeyNeedsKeyFile }
        return try locked(exclusive: true) { () throws(VaultError) -> RekeyReport in
            try refreshLocked()
            try requireUndamaged()
            try requireOurKey()
            let keyFile = location.keyFile
            let pending = keyFile + ".new"
            try system { () throws(SystemError) in try FileSystem.remove(pending) }
            try material.write(to: pending)
            var pieces: [VaultLog.Piece] = []
            var resealed = 0
            var untouched = 0
            if log.exists {
                var failure: VaultError? = nil
                do {
                    _ = try log.scan(from: 0, limit: scannedTo) { line in
                        let range = line.offset..<(line.offset + UInt64(line.length) + 1)
                        guard failure == nil, case .success(.record(let header)) = line.parsed, header.environment == environment.id else {
                            if case .success(.record) = line.parsed { untouched += 1 }
                            pieces.append(.range(range))
                            return
                        }
                        do {
                            let opened = try RecordCodec.open(line: line.bytes, header: header, keys: environment.keys, vault: vaultID)
                            let name = try SecretName(opened.name)
                            let value = Array(opened.value().utf8)
                            let (_, sealed) = value.withUnsafeBytes { bytes in
                                RecordCodec.seal(
                                    header.operation, name: name, value: bytes, environment: header.environment, keys: material.keys,
                                    timestamp: header.timestamp, id: header.id, vault: vaultID)
                            }
                            pieces.append(.bytes(sealed))
                            resealed += 1
                        } catch let error as OpenError {
                            failure = translate(error, offset: line.offset, keyFile: location.keySource.description)
                        } catch {
                            failure = .damagedRecord(path: log.path, offset: line.offset, reason: "sealed name is not a valid name")
                        }
                    }
                } catch {
                    throw Self.translate(error)
                }
                if let failure {
                    try system { () throws(SystemError) in try FileSystem.remove(pending) }
                    throw failure
                }
                do {
                    try log.writeCopy(pieces: pieces, to: log.path, mode: (try? log.mode()) ?? 0o600, progress: progress)
                } catch {
                    try? system { () throws(SystemError) in try FileSystem.remove(pending) }
                    throw Self.translate(error)
                }
            }
            try system { () throws(SystemError) in try FileSystem.renameReplacing(pending, to: keyFile) }
            let renewed = Environment(location: location, id: environment.id, keys: material.keys)
            environment = renewed
            resolution[0] = renewed
            try refreshLocked()
            return RekeyReport(resealed: resealed, untouched: untouched, keyFile: keyFile)
        }
    }

    /// Resolves a rekey that a crash interrupted, for every scope of the chain (see `rekey`).
    func finishInterruptedRekeys() throws(VaultError) {
        for (position, scope) in resolution.enumerated() {
            guard scope.location.keySource != .environmentVariable, Environment.pendingKeyID(scope.location) != nil else { continue }
            try locked(exclusive: true) { () throws(VaultError) in
                try refreshLocked()
                guard let pendingID = Environment.pendingKeyID(scope.location) else { return }  // another process resolved it
                let keyFile = scope.location.keyFile
                let inLog = index.tallies[scope.id]?.keyIDs ?? []
                if inLog.contains(pendingID) {
                    try system { () throws(SystemError) in try FileSystem.renameReplacing(keyFile + ".new", to: keyFile) }
                    let reopened = try Environment.open(scope.location, create: false)
                    resolution[position] = reopened
                    if position == 0 { environment = reopened }
                    rekeyRecoveries.append(.completed(keyFile: keyFile))
                } else {
                    try system { () throws(SystemError) in try FileSystem.remove(keyFile + ".new") }
                    rekeyRecoveries.append(.rolledBack(keyFile: keyFile))
                }
            }
        }
    }
}
