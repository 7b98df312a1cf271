extension Vault {
    /// Sets every `(name, value)` in one commit: all are validated first, then the new log
    /// (the current records followed by the new ones) is written beside the old one, synced
    /// once and renamed over it. A crash leaves either none or all of them; a refused entry
    /// leaves the vault byte-for-byte as it was. Returns how many secrets were set.
    @discardableResult
    public func importSecrets(_ secrets: [(name: String, value: String)], progress: (UInt64, UInt64) -> Void = { _, _ in })
        throws(VaultError) -> Int
    {
        let validated = try Self.validatedImport(secrets)
        guard !validated.isEmpty else { return 0 }
        try commit(validated.map { (.set, $0.0, $0.1) }, progress: progress)
        return validated.count
    }

    /// Checks every entry of an import as `importSecrets` does, without a vault: a caller
    /// that would create the environment first (`mage-vault import`) refuses a bad file
    /// before anything is created.
    public static func checkImport(_ secrets: [(name: String, value: String)]) throws(VaultError) {
        _ = try validatedImport(secrets)
    }

    static func validatedImport(_ secrets: [(name: String, value: String)]) throws(VaultError) -> [(SecretName, [UInt8])] {
        var validated: [(SecretName, [UInt8])] = []
        validated.reserveCapacity(secrets.count)
        for (position, secret) in secrets.enumerated() {
            let value = Array(secret.value.utf8)
            do {
                let name = try SecretName(secret.name)
                try value.withBytes { bytes throws(InputError) in try SecretValue.validate(bytes) }
                validated.append((name, value))
            } catch {
                throw .invalidImportEntry(position: position + 1, error)
            }
        }
        return validated
    }

    /// Forgets every secret of this vault's own scope in one commit (a delete of each, so
    /// that merging an older copy does not bring them back), then removes the scope's uuid
    /// and key files. The global scope cannot be forgotten this way. Returns how many
    /// secrets were deleted.
    @discardableResult
    public func forgetScope() throws(VaultError) -> Int {
        guard environment.location.scope != .global else {
            throw .invalidScope("the global scope cannot be deleted; delete its secrets one by one")
        }
        let names = try secrets().filter { $0.scope == environment.location.scope }.map(\.name)
        let deletes = try names.map { (name: String) throws(VaultError) -> (Operation, SecretName, [UInt8]) in
            (.delete, try validName(name), [])
        }
        if !deletes.isEmpty { try commit(deletes, progress: { _, _ in }) }
        try system { () throws(SystemError) in
            try FileSystem.remove(environment.location.keyFile)
            try FileSystem.remove(environment.location.uuidFile)
            FileSystem.removeDirectoryIfEmpty(environment.location.scopeDirectory)
        }
        return deletes.count
    }

    /// Appends `records` to this vault's own scope in one commit: the current log and the new
    /// lines are written to a new file, synced once, and renamed over the log.
    private func commit(_ records: [(Operation, SecretName, [UInt8])], progress: (UInt64, UInt64) -> Void) throws(VaultError) {
        try locked(exclusive: true) { () throws(VaultError) in
            try refreshLocked()
            try createLogLocked()
            try requireWritableKey()
            var lines: [UInt8] = []
            var latest = index.latest
            for (operation, name, value) in records {
                let current = try newestAuthentic(named: name, in: environment, wholeValue: false)?.header.timestamp
                guard let timestamp = Timestamp.next(after: [latest, current].compactMap { $0 }.max(), wallClock: clock()) else {
                    throw .clockExhausted(path: log.path)
                }
                latest = timestamp
                let (_, line) = value.withUnsafeBytes { bytes in
                    RecordCodec.seal(
                        operation, name: name, value: bytes, environment: environment.id, keys: environment.keys,
                        timestamp: timestamp, id: RecordID.random(), vault: vaultID)
                }
                lines.append(contentsOf: line)
            }
            let mode = (try? log.mode()) ?? 0o600
            do {
                try log.writeCopy(ranges: [0..<scannedTo], extra: lines, to: log.path, mode: mode, progress: progress)
            } catch {
                throw Self.translate(error)
            }
            try refreshLocked()
        }
    }
}
