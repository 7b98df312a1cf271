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
    /// How many retired keys a rekey keeps, newest first (about 44 bytes each in the retired
    /// keys file, which readers accept up to 1 MiB): a scope rotated every day keeps almost
    /// three years of old keys. Older ones are forgotten.
    public static let retiredKeysKept = 1000

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
        return try locked(exclusive: true) { () throws(VaultError) -> RekeyReport in try rekeyLocked(to: material, progress: progress) }
    }

    /// `rekey`'s work; the caller holds the exclusive lock (`Access.remove` does, around
    /// its own step before it).
    /// `beforeReplacing` runs just before the log is replaced, `afterReplacing` after the key
    /// files are in place: a rotation's access file goes in between (see `Access.rotate`).
    func rekeyLocked(
        to material: KeyMaterial, progress: (UInt64, UInt64) -> Void = { _, _ in },
        beforeReplacing: () throws(VaultError) -> Void = {}, afterReplacing: () throws(VaultError) -> Void = {},
        keepingRetiredKeys: Bool = true
    ) throws(VaultError) -> RekeyReport {
        let location = environment.location
        guard location.keySource != .environmentVariable else { throw .rekeyNeedsKeyFile }
        do {
            try refreshLocked()
            try requireOurKey()
            skippedRecords = []
            let keyFile = location.keyFile
            let pending = keyFile + ".new"
            let retiredFile = Environment.retiredKeysFile(location)
            let pendingRetired = retiredFile + ".new"
            try system { () throws(SystemError) in
                try FileSystem.remove(pending)
                try FileSystem.remove(pendingRetired)
            }
            try material.write(to: pending)
            // Every key the scope held is retired under the new one (newest first), so that
            // records still sealed under them (on another branch, in an old backup) open.
            // Unless the rotation left someone out (`keepingRetiredKeys` false): then every key
            // before it is one the removed member holds, and none is kept (`Access.rotate`).
            let retired = keepingRetiredKeys ? Array(environment.ring.filter { $0.keyID != material.keys.keyID }.prefix(Self.retiredKeysKept)) : []
            if !retired.isEmpty {
                try Environment.ignoreInGit(keyFile: retiredFile)
                try Environment.ignoreInGit(keyFile: pendingRetired)
                let contents = Environment.retiredKeysFileContents(retired.map(\.master), current: material.keys)
                try system { () throws(SystemError) in _ = try FileSystem.createExclusively(pendingRetired, mode: 0o600, contents: contents) }
            }
            func removePending() {
                try? FileSystem.remove(pending)
                try? FileSystem.remove(pendingRetired)
            }
            var resealedIDs: Set<RecordIdentity> = []
            var pieces: [VaultLog.Piece] = []
            var resealed = 0
            var untouched = 0
            if log.exists {
                do {
                    _ = try log.scan(from: 0, limit: scannedTo) { line in
                        let range = line.offset..<(line.offset + UInt64(line.length) + 1)
                        guard case .success(.record(let header)) = line.parsed, header.environment == environment.id else {
                            if case .success(.record) = line.parsed { untouched += 1 }
                            pieces.append(.range(range))
                            return
                        }
                        // Twins (one record sealed under two keys, as a merge after a rekey leaves)
                        // become one record again.
                        // A record under a key id the scope does not hold may be a rekey's made
                        // elsewhere: it is carried over as it is, never dropped.
                        guard let keys = environment.keys(for: header.keyID) else {
                            pieces.append(.range(range))
                            untouched += 1
                            return
                        }
                        do {
                            let opened = try RecordCodec.open(line: line.bytes, header: header, keys: keys, vault: vaultID)
                            guard resealedIDs.insert(RecordIdentity(timestamp: header.timestamp, id: header.id, tag: material.keys.tag(of: try SecretName(opened.name)))).inserted else {
                                return
                            }
                            let name = try SecretName(opened.name)
                            let value = Array(opened.value().utf8)
                            let (_, sealed) = value.withUnsafeBytes { bytes in
                                RecordCodec.seal(
                                    header.operation, name: name, value: bytes, environment: header.environment, keys: material.keys,
                                    timestamp: header.timestamp, id: header.id, vault: vaultID)
                            }
                            pieces.append(.bytes(sealed))
                            resealed += 1
                        } catch {
                            // Damaged or forged: not the scope's to re-seal, nor the rekey's to drop.
                            // Kept as it is, as every rewrite keeps such lines (`recover` sets them aside).
                            let reason =
                                switch error as? OpenError {
                                case .notAuthentic(let reason)?: reason
                                case .wrongKey?: "sealed under another key"
                                case nil: "sealed name is not a valid name"
                                }
                            skippedRecords.append(SkippedRecord(path: log.path, offset: line.offset, reason: reason))
                            pieces.append(.range(range))
                            untouched += 1
                        }
                    }
                } catch {
                    throw Self.translate(error)
                }
                do {
                    try beforeReplacing()
                } catch {
                    removePending()
                    throw error
                }
                do {
                    try log.writeCopy(pieces: pieces, to: log.path, mode: (try? log.mode()) ?? 0o600, progress: progress)
                } catch {
                    removePending()
                    throw Self.translate(error)
                }
            } else {
                try beforeReplacing()
            }
            try system { () throws(SystemError) in try Environment.finishKeySwitch(location, newKeys: material.keys) }
            try afterReplacing()
            let renewed = Environment(location: location, id: environment.id, keys: material.keys, retiredKeys: retired)
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
                let inLog = Set(index.tallies[scope.id]?.keyIDs ?? [])
                let retiredFile = Environment.retiredKeysFile(scope.location), pendingRetired = retiredFile + ".new"
                // The retired keys file goes in first, sealed under the new key: once it is in
                // place (it opens under the pending key), the switch was under way even
                // when the log holds no record under the new key (a scope with no records, a
                // followed rotation kept by `Access.persist`), and rolling back would leave a
                // retired keys file no key here opens.
                let retiredRenamed = !FileSystem.exists(pendingRetired)
                    && (Environment.pendingKeys(scope.location).map { Environment.retiredKeysOpen(scope.location, under: $0) } ?? false)
                if inLog.contains(pendingID) || retiredRenamed {
                    try system { () throws(SystemError) in
                        try Environment.finishKeySwitch(scope.location, newKeys: Environment.pendingKeys(scope.location))
                    }
                    let reopened = try Environment.open(scope.location, create: false)
                    resolution[position] = reopened
                    if position == 0 { environment = reopened }
                    rekeyRecoveries.append(.completed(keyFile: keyFile))
                } else {
                    try system { () throws(SystemError) in
                        try FileSystem.remove(pendingRetired)
                        try FileSystem.remove(keyFile + ".new")
                    }
                    rekeyRecoveries.append(.rolledBack(keyFile: keyFile))
                }
            }
        }
    }
}

/// One record, whatever key sealed it: its time, id and (under the new key) tag.
struct RecordIdentity: Hashable {
    let timestamp: Timestamp
    let id: RecordID
    let tag: NameTag
}

/// What retiring keys did.
public struct RetireReport: Sendable, Equatable {
    /// Key ids forgotten.
    public let retired: [UInt32]
    /// Key ids kept because records of the log are still sealed under them, with how many.
    public let stillNeeded: [UInt32: Int]
}

extension Vault {
    /// Forgets the retired keys of this vault's own scope that no record of the log needs
    /// (run `rekey` first to re-seal records still under them). Keys of records on other
    /// branches or in old backups cannot be seen from here: retire a key once every copy
    /// that matters has been merged and re-sealed.
    @discardableResult
    public func retireUnusedKeys() throws(VaultError) -> RetireReport {
        try locked(exclusive: true) { () throws(VaultError) -> RetireReport in
            try refreshLocked()
            try requireOurKey()
            let retired = environment.retiredKeys
            guard !retired.isEmpty else { return RetireReport(retired: [], stillNeeded: [:]) }
            var needed: [UInt32: Int] = [:]
            do {
                _ = try log.scan(from: 0, limit: scannedTo) { line in
                    if case .success(.record(let header)) = line.parsed, header.environment == environment.id,
                        retired.contains(where: { $0.keyID == header.keyID })
                    {
                        needed[header.keyID, default: 0] += 1
                    }
                }
            } catch {
                throw Self.translate(error)
            }
            let keep = retired.filter { needed[$0.keyID] != nil }
            let path = Environment.retiredKeysFile(environment.location)
            if !keep.isEmpty { try Environment.ignoreInGit(keyFile: path) }
            try system { () throws(SystemError) in
                if keep.isEmpty {
                    try FileSystem.remove(path)
                } else {
                    try FileSystem.replaceAtomically(
                        path, mode: 0o600, contents: Environment.retiredKeysFileContents(keep.map(\.master), current: environment.keys))
                }
            }
            let renewed = Environment(location: environment.location, id: environment.id, keys: environment.keys, retiredKeys: keep)
            environment = renewed
            resolution[0] = renewed
            return RetireReport(retired: retired.filter { needed[$0.keyID] == nil }.map(\.keyID), stillNeeded: needed)
        }
    }
}
