// The wrong-key rule: when is a key file the scope's own? Records under a key id the
// scope does not hold prove nothing (anyone can write such a line); the key is wrong
// only when none of the scope's records opens with the keys it holds.

extension Vault {
    /// Refuses to write when this environment's key is not the one its records were sealed
    /// with (see `confirmKey`); the caller holds the lock.
    func requireOurKey() throws(VaultError) {
        try confirmKey(at: 0)
    }

    /// Makes sure a value written now reaches no one a removal left out: refused while two
    /// removals merged from two branches leave the current key with one of them.
    func requireWritableKey() throws(VaultError) {
        try requireOurKey()
        if let exposure = environment.exposure {
            throw .removalsMerged(environment: environment.id, removed: exposure.removed.map(\.name), removedBy: exposure.removed.map(\.removedBy))
        }
    }

    /// Makes sure the keys of `resolution[position]` are this environment's. Records under a
    /// key id the scope does not hold prove nothing by themselves (anyone can write such a
    /// line): the key is wrong only when none of the scope's records opens with the keys it
    /// holds. First, a key file replaced by a rekey since it was read is read again, so that
    /// readers and writers carry on across another process's rekey.
    func confirmKey(at position: Int) throws(VaultError) {
        try confirmKeyOnce(at: position)
        // Records under key ids the scope does not hold are never read: say so on every read,
        // since they may be a rekey's made elsewhere, holding newer values.
        let scope = resolution[position]
        guard let tally = index.tallies[scope.id], let first = tally.firstSample,
            tally.hasSeveralKeyIDs || scope.keys(for: first.keyID) == nil
        else {
            return
        }
        for sample in tally.samples.sorted(by: { $0.offset < $1.offset }) where scope.keys(for: sample.keyID) == nil {
            skippedRecords.append(
                SkippedRecord(
                    path: log.path, offset: sample.offset,
                    reason: "sealed under key id \(Hex.string(sample.keyID, width: 8)), which this environment does not hold",
                    unknownKeyRecords: tally.recordsUnder[sample.keyID] ?? 1))
        }
    }

    func confirmKeyOnce(at position: Int) throws(VaultError) {
        var scope = resolution[position]
        guard var tally = index.tallies[scope.id], tally.keyIDs.contains(where: { scope.keys(for: $0) == nil }) else { return }
        if confirmedKeys[scope.id] == scope.keys.keyID { return }
        // Read the key files again under the log's lock (taken shared unless a caller holds it):
        // a rekey holds it exclusively from the new log to the new key file, so what is read
        // under it is one consistent state of log, key and retired keys.
        let reloaded: Environment?
        if lockDepth > 0 {
            reloaded = Environment.reloaded(scope)
        } else {
            reloaded = try locked(exclusive: false) { () throws(VaultError) -> Environment? in
                try refreshLocked()
                return Environment.reloaded(scope)
            }
        }
        if let reloaded, reloaded.ring.map(\.keyID) != scope.ring.map(\.keyID) {
            resolution[position] = reloaded
            if position == 0 { environment = reloaded }
            scope = reloaded
        }
        guard let current = index.tallies[scope.id], current.keyIDs.contains(where: { scope.keys(for: $0) == nil }) else { return }
        tally = current
        // One record of each held key id, then (should those be forged) every record of the scope.
        var samples: [Candidate] = []
        for sample in tally.samples where scope.keys(for: sample.keyID) != nil {
            let offset: UInt64 = sample.offset
            let line: [UInt8]
            do { line = try log.readLine(at: offset, length: Int(sample.length)) } catch { throw Self.translate(error) }
            let parsed = Result { () throws(FormatError) -> LogLine in try line.withBytes { bytes throws(FormatError) in try LogLine.parse(bytes) } }
            if case .success(.record(let header)) = parsed {
                samples.append(Candidate(header: header, offset: offset, line: line))
            }
        }
        var ignored: [SkippedRecord] = []
        func opens(_ candidate: Candidate) -> Bool {
            guard let line = lineOf(candidate) else { return false }
            return Authentication.open(
                candidate, line: line, in: scope, named: nil, vault: vaultID, path: log.path, wholeValue: false, skipped: &ignored) != nil
        }
        if samples.contains(where: opens) {
            confirmedKeys[scope.id] = scope.keys.keyID
            return
        }
        var all: [Candidate] = []
        do {
            _ = try log.scan(from: 0, limit: scannedTo) { line in
                guard case .success(.record(let header)) = line.parsed, header.environment == scope.id, scope.keys(for: header.keyID) != nil
                else { return }
                all.append(Candidate(header: header, offset: line.offset, length: line.length))
            }
        } catch {
            throw Self.translate(error)
        }
        if all.contains(where: opens) {
            confirmedKeys[scope.id] = scope.keys.keyID
            return
        }
        if case .scopeFile = scope.location.keySource, FileSystem.exists(Access.file(of: scope.location)) {
            throw .staleAccess(accessFile: Access.file(of: scope.location), keyFile: scope.location.keyFile)
        }
        throw .wrongKey(keyFile: scope.location.keySource.description)
    }
}
