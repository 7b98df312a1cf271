extension Vault {
    /// Sets every `(name, value)` in one commit: all are validated first, then the new log
    /// (the current records followed by the new ones) is written beside the old one, synced
    /// once and renamed over it. A crash leaves either none or all of them; a refused entry
    /// leaves the vault byte-for-byte as it was. Returns how many secrets were set.
    @discardableResult
    public func importSecrets(_ secrets: [(name: String, value: String)], progress: (UInt64, UInt64) -> Void = { _, _ in })
        throws(VaultError) -> Int
    {
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
        guard !validated.isEmpty else { return 0 }
        return try locked(exclusive: true) { () throws(VaultError) -> Int in
            try refreshLocked()
            try createLogLocked()
            try requireUndamaged()
            try requireOurKey()
            var lines: [UInt8] = []
            var latest = index.latest
            for (name, value) in validated {
                let timestamp = Timestamp.next(after: latest, wallClock: clock())
                latest = timestamp
                let (_, line) = value.withUnsafeBytes { bytes in
                    RecordCodec.seal(
                        .set, name: name, value: bytes, environment: environment.id, keys: environment.keys,
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
            return validated.count
        }
    }
}
