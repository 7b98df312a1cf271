// Listing: every visible name of the scopes, authenticated whole and only the name
// opened, in windows of the file shared with one helper thread; and the vault's status.

extension Vault {
    /// Every visible name, sorted by its UTF-8 bytes, with its last update and the scope its
    /// value comes from (the nearest scope that has the name). Values are never decrypted:
    /// each newest record (tombstones too) is authenticated whole and only its name is
    /// opened; a record that does not open is passed over for the newest one that does.
    /// Names are compared as bytes, as their tags are.
    /// A secret whose records all fail to open is left out and listed in `damagedSecrets`
    /// (see `requireNoDamagedSecrets`).
    public func secrets() throws(VaultError) -> [SecretSummary] {
        try refresh()
        skippedRecords = []
        damagedSecrets = []
        var listed: [(name: String, updated: Timestamp, scope: Int)] = []
        // The UTF-8 of every listed name, one after another (the `i`th ends at `ends[i]`): the
        // sort compares these bytes, with no copy or retain per comparison.
        var names: [UInt8] = []
        var ends: [Int] = []
        var seen: Set<[UInt8]> = []  // names of nearer scopes, which hide a parent's
        for position in resolution.indices {
            try confirmKey(at: position)
            let scope = resolution[position]
            let hidden = seen
            let heads = newestPerName(try authenticHeads(of: scope), in: scope)
            listed.reserveCapacity(listed.count + heads.count)
            ends.reserveCapacity(ends.count + heads.count)
            for record in heads where record.operation == .set {
                if resolution.count > 1 {
                    let name = Array(record.name.utf8)
                    if hidden.contains(name) { continue }
                    seen.insert(name)
                }
                var name = record.name
                name.withUTF8 { names.append(contentsOf: $0) }
                ends.append(names.count)
                listed.append((record.name, record.timestamp, position))
            }
        }
        let order = names.withUnsafeBytes { all in
            positionsSortedByBytes(listed.count) { UnsafeRawBufferPointer(rebasing: all[($0 == 0 ? 0 : ends[$0 - 1])..<ends[$0]]) }
        }
        let scopes = resolution.map(\.location.scope)
        return order.map { SecretSummary(name: listed[$0].name, updated: listed[$0].updated, scope: scopes[listed[$0].scope]) }
    }

    /// `heads` (the newest authentic record of each `(uuid, tag)` of `scope`) with one record
    /// per name. A scope with retired keys has one tag per key for a name, and the newest of
    /// its heads counts. With one key, the heads are of different names already: different
    /// tags under one key are different names, and a record opens only when the tag of its
    /// sealed name is its header's.
    func newestPerName(_ heads: [AuthenticHead], in scope: Environment) -> [AuthenticHead] {
        guard !scope.retiredKeys.isEmpty else { return heads }
        var newest: [[UInt8]: AuthenticHead] = [:]
        for record in heads {
            let name = Array(record.name.utf8)
            if let current = newest[name], !record.isNewer(than: current) { continue }
            newest[name] = record
        }
        return Array(newest.values)
    }

    /// What the last call passed over, one line each to show a user (naming no secret and no
    /// value): records that did not open, secrets none of whose records opens (which `list`
    /// and `export` leave out), and lines of the log that do not parse. Every everyday read
    /// and write passes over such lines; `verify` reports them and `recover` sets them aside.
    public var warnings: [String] {
        var lines = skippedRecords.map(\.description) + damagedSecrets.map(\.description)
        if index.damagedCount > 0, let first = index.damagedOffsets.first {
            lines.append(
                "\(log.path): \(index.damagedCount) line(s), the first at byte offset \(first), do not parse as records; "
                    + "they were passed over. Run 'mage-vault verify' to see them, then 'mage-vault recover' to set them aside")
        }
        return lines
    }


    /// The newest authentic record of every `(uuid, tag)` of `scope` (names only), in no
    /// particular order.
    func authenticHeads(of scope: Environment) throws(VaultError) -> [AuthenticHead] {
        let entries = index.entries(of: scope.id)
        guard !entries.isEmpty else { return [] }  // no record (perhaps no log yet): nothing to open
        var heads: [AuthenticHead] = []
        heads.reserveCapacity(entries.count)
        var retry: Set<IndexKey> = []
        let vault = vaultID
        let (names, lines) = try openNames(entries, of: scope, keepingLines: !scope.retiredKeys.isEmpty)
        for position in entries.indices {
            let key = entries[position].key
            guard let name = names[position] else {
                retry.insert(key)
                continue
            }
            heads.append(AuthenticHead(header: entries[position].stored.entry(key).newest, line: lines.isEmpty ? [] : lines[position], name: name))
        }
        if !retry.isEmpty {
            var byKey: [IndexKey: [Candidate]] = [:]
            for candidate in try scanCandidates(retry)[scope.id] ?? [] {
                byKey[IndexKey(environment: candidate.header.environment, tag: candidate.header.tag), default: []].append(candidate)
            }
            for (_, candidates) in byKey.sorted(by: { $0.value[0].offset < $1.value[0].offset }) {
                let skippedBefore = skippedRecords.count
                if let head = Authentication.newest(
                    candidates, in: scope, named: nil, vault: vault, path: log.path, wholeValue: false, skipped: &skippedRecords,
                    read: lineOf)
                {
                    heads.append(AuthenticHead(header: head.header, line: head.line, name: head.name))
                } else if skippedRecords.count > skippedBefore {
                    skippedRecords.removeSubrange(skippedBefore...)
                    // None opens: no older record was used instead, so not a warning but damage,
                    // unless every record is under a key id the scope does not hold (another
                    // machine's rekey, perhaps): the scope-wide notice already says so.
                    if let held = candidates.first(where: { scope.keys(for: $0.header.keyID) != nil }) {
                        var reason: [SkippedRecord] = []
                        _ = Authentication.newest(
                            [held], in: scope, named: nil, vault: vault, path: log.path, wholeValue: false, skipped: &reason, read: lineOf)
                        var damaged = reason.first ?? SkippedRecord(path: log.path, offset: held.offset, reason: "does not open")
                        damaged.noneOpens = true
                        damagedSecrets.append(damaged)
                    }
                }
            }
        }
        return heads
    }

    /// The name sealed in the line of each of `entries` (nil when it does not open, or ties
    /// with another line), and with `keepingLines` the line of each that opened (a scope with
    /// retired keys compares the heads of one name by their bytes too).
    ///
    /// The lines are read a window of the file at a time (one `pread` for the lines that
    /// start in it) and opened by this thread and a helper on another CPU (`Parallel`), each
    /// with a buffer and secure memory of its own: listing is bound by the cryptography, and
    /// no record needs another. Each writes only the results of its own windows' lines.
    func openNames(
        _ entries: [(key: IndexKey, stored: StoredEntry)], of scope: Environment, keepingLines: Bool
    ) throws(VaultError) -> (names: [String?], lines: [[UInt8]]) {
        let windows = LineWindows(entries.map { ($0.stored.offset, Int($0.stored.length)) }, windowBytes: Self.listWindowBytes)
        let ties = index.ties
        let vault = vaultID
        let log = log
        var names = [String?](repeating: nil, count: entries.count)
        var lines = [[UInt8]](repeating: [], count: keepingLines ? entries.count : 0)
        var failures = [(any Error)?](repeating: nil, count: windows.count)
        var buffers: [[UInt8]] = [[], []]  // one per thread
        names.withUnsafeMutableBufferPointer { names in
            lines.withUnsafeMutableBufferPointer { lines in
                failures.withUnsafeMutableBufferPointer { failures in
                    buffers.withUnsafeMutableBufferPointer { buffers in
                        Parallel.forEachChunk(windows.count, chunk: 1, helper: entries.count >= Self.recordsWorthAHelper) { range, thread in
                            SecureBytes.withScratch(count: RecordCodec.nameScratchCount) { scratch in
                                // The current key's sub-keys, borrowed once for every record it sealed.
                                scope.keys.withOpeningKeys { current in
                                    for window in range {
                                        do {
                                            try log.readWindow(window, of: windows, into: &buffers[thread]) { position, line in
                                                let key = entries[position].key
                                                let header = entries[position].stored.entry(key).newest
                                                guard ties.isEmpty || !ties.contains(key) else { return }
                                                if header.keyID == current.keyID {
                                                    names[position] = try? RecordCodec.openName(
                                                        line: line, header: header, keys: current, vault: vault, scratch: scratch)
                                                } else if let retired = scope.keys(for: header.keyID) {
                                                    names[position] = try? RecordCodec.openName(
                                                        line: line, header: header, keys: retired, vault: vault, scratch: scratch)
                                                } else {
                                                    return
                                                }
                                                if keepingLines, names[position] != nil { lines[position] = Array(line) }
                                            }
                                        } catch {
                                            failures[window] = error
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw Self.translate(failure) }
        return (names, lines)
    }

    /// Every record of the given `(uuid, tag)`s in the log, by uuid, without their bytes
    /// (`lineOf` reads one when its turn comes): the slow path, taken when a newest record
    /// does not open or ties with another line.
    func lineOf(_ candidate: Candidate) -> [UInt8]? {
        candidate.line ?? (try? log.readLine(at: candidate.offset, length: candidate.length))
    }

    func scanCandidates(_ keys: Set<IndexKey>) throws(VaultError) -> [EnvironmentID: [Candidate]] {
        var found: [EnvironmentID: [Candidate]] = [:]
        do {
            _ = try log.scan(from: 0, limit: scannedTo) { line in
                guard case .success(.record(let header)) = line.parsed,
                    keys.contains(IndexKey(environment: header.environment, tag: header.tag))
                else { return }
                found[header.environment, default: []].append(Candidate(header: header, offset: line.offset, length: line.length))
            }
        } catch {
            throw Self.translate(error)
        }
        return found
    }

    /// Counts per environment, damage and torn tail: what `env` and `verify` report.
    public func status() throws(VaultError) -> VaultStatus {
        try refresh()
        let live = index.liveCounts()
        let environments = index.tallies.map { id, tally in
            EnvironmentSummary(id: id, records: tally.records, liveSecrets: live[id] ?? 0)
        }.sorted { $0.id < $1.id }
        return VaultStatus(
            logFile: log.path, exists: log.exists, vaultID: index.vaultID, environments: environments,
            damagedLines: index.damagedCount, tornBytes: tornBytes)
    }
}
