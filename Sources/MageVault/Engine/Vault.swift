/// A secret's name and when its value was last set, as `list` shows it: never the value.
public struct SecretSummary: Sendable, Equatable {
    /// The secret's name.
    public let name: String
    /// When the current value was written.
    public let updated: Timestamp
    /// The scope the value comes from (the nearest one that has it).
    public let scope: Scope
}

/// A value and the scope it was found in.
public struct ResolvedSecret: Sendable, Equatable {
    /// The value.
    public let value: String
    /// The nearest scope that has it.
    public let scope: Scope
}

/// What the log holds for one environment (uuid), known without its key.
public struct EnvironmentSummary: Sendable, Equatable {
    /// The environment's uuid.
    public let id: EnvironmentID
    /// Lines in the log for this environment (every version and tombstone).
    public let records: Int
    /// Names whose newest record sets a value.
    public let liveSecrets: Int
}

/// The state of a vault file, for `env`.
public struct VaultStatus: Sendable, Equatable {
    /// The log file.
    public let logFile: String
    /// Whether the log file exists yet.
    public let exists: Bool
    /// Its vault id, once created.
    public let vaultID: VaultID?
    /// One summary per uuid found in the log, by uuid.
    public let environments: [EnvironmentSummary]
    /// Damaged lines found.
    public let damagedLines: Int
    /// Bytes of torn tail (an append that did not complete), 0 when clean.
    public let tornBytes: UInt64
}

/// A vault: one environment's view of a log that may hold many environments' records.
///
/// Opening scans the clear headers into an index and decrypts nothing; `secretValue`
/// decrypts one record; `secrets` authenticates records and decrypts names only. Every call
/// first reads what other processes appended since the last call (and starts over if the
/// file was replaced), so a long-lived `Vault` stays current.
///
/// ```swift
/// let vault = try Vault(dataDirectory: "/home/me/.mage_data")
/// try vault.setSecret(named: "secret1", value: "sooper dooper secret string")
/// let value = try vault.secretValue(named: "secret1")  // "sooper dooper secret string"
/// ```
///
/// A `Vault` is not safe to share between threads; give each thread (or an actor) its own.
public final class Vault {
    /// The environment (scope) whose secrets this vault writes, and reads first.
    public internal(set) var environment: Environment
    /// The environments reads resolve through, nearest first: `environment`, then its
    /// parent scopes (pipeline → project → global) that exist here.
    public internal(set) var resolution: [Environment]
    /// What opening found of a rekey that a crash interrupted, and did about it.
    public internal(set) var rekeyRecoveries: [RekeyRecovery] = []
    /// How many versions of each secret compaction keeps (at least 1).
    public let history: Int
    let log: VaultLog
    var index: Index
    var scannedTo: UInt64 = 0
    var tornBytes: UInt64 = 0
    /// How many `locked` calls are running: a nested step must not take the lock again
    /// (flock on the same file would convert it, not stack it).
    var lockDepth = 0
    /// Scopes whose key was shown right by a record that opened, though records under key ids
    /// they do not hold exist (by uuid: the key id shown right).
    var confirmedKeys: [EnvironmentID: UInt32] = [:]
    let clock: () -> UInt64
    /// Records the last call passed over because they did not open (newest first per
    /// secret): damage or forgery to report, never a reason to change an answer.
    public internal(set) var skippedRecords: [SkippedRecord] = []
    /// Secrets the last `secrets()` left out because they have records and none of them
    /// opens (the newest of each): damage to report, never an absent secret.
    public internal(set) var damagedSecrets: [SkippedRecord] = []
    /// What `withSecretValue` opened since the log last changed, by name (nil for a name
    /// found in no scope); nil unless `keepsOpenedValues`.
    var openedValues: [String: OpenedRecord?]? = nil

    /// Versions kept per secret unless chosen otherwise: 10, as HashiCorp Vault's KV store.
    public static let defaultHistory = 10

    /// The windows of the file `list` reads and opens at a time (`Parallel` hands them out
    /// one by one): about 60 records each, a tenth of a millisecond of work.
    static let listWindowBytes = 16 << 10
    /// Records worth starting a helper thread for: it costs tens of microseconds, opening a
    /// record about one and a half.
    static let recordsWorthAHelper = 256

    /// Opens the vault of the environment in `dataDirectory` (else `$MAGE_DATA_DIR`, else
    /// `~/.mage_data`), reading `vaultFile` (else `$MAGE_VAULT_FILE`, else
    /// `secrets/vault.log`). With `create` (the default, as Mage creates its uuid on first
    /// use) a missing uuid or key file is created; the log is created by the first write.
    public convenience init(
        dataDirectory: String? = nil, vaultFile: String? = nil, scope: Scope = .global, create: Bool = true,
        history: Int = Vault.defaultHistory
    ) throws(VaultError) {
        let location = EnvironmentLocation(dataDirectory: dataDirectory, vaultFile: vaultFile, scope: scope)
        try self.init(resolution: Environment.resolutionChain(location, create: create), history: history)
    }

    /// Opens the vault of `environment` alone (no parent scopes), keeping `history`
    /// versions per secret when compacting. `clock` gives wall-clock milliseconds.
    public convenience init(
        environment: Environment, history: Int = Vault.defaultHistory,
        clock: @escaping () -> UInt64 = wallClockMilliseconds
    ) throws(VaultError) {
        try self.init(resolution: [environment], history: history, clock: clock)
    }

    /// Opens a vault that writes to `resolution[0]` and reads through every environment of
    /// `resolution` in order (see `Environment.resolutionChain`). All share one log.
    public convenience init(
        resolution: [Environment], history: Int = Vault.defaultHistory,
        clock: @escaping () -> UInt64 = wallClockMilliseconds
    ) throws(VaultError) {
        guard history >= 1 else { throw .invalidInput(.historyTooShort) }
        guard let environment = resolution.first else { preconditionFailure("a vault reads at least one environment") }
        let log: VaultLog
        do { log = try VaultLog(path: environment.location.logFile) } catch { throw Self.translate(error) }
        try self.init(resolution: resolution, log: log, index: Index(history: history), scanned: nil, history: history, clock: clock)
    }

    /// Opens the vault of `location` for reading, as `Vault(resolution:
    /// Environment.resolutionChain(location, create: false, readOnly: true))` does, but with
    /// the environments' files read and their keys derived on another CPU (`Parallel`) while
    /// this thread reads the log into the index: neither needs the other, and a `list` or a
    /// `render` waits for the longer of the two instead of both. Reading takes the shared
    /// lock only, which creates nothing, and an environment that does not open is reported
    /// first, as it is without the log.
    public static func openForReading(_ location: EnvironmentLocation, history: Int = Vault.defaultHistory) throws(VaultError) -> Vault {
        guard history >= 1 else { throw .invalidInput(.historyTooShort) }
        /// What the two threads found, each writing its own fields (a class of plain fields:
        /// nothing about it has to be worked out at run time, as an optional `Result` of a
        /// tuple would).
        final class Found {
            var resolution: [Environment] = []
            var environmentError: VaultError? = nil
            var log: VaultLog? = nil
            var index: Index
            var end = ScanEnd(end: 0, tornBytes: 0)
            var logError: (any Error)? = nil

            init(history: Int) { index = Index(history: history) }
        }
        let found = Found(history: history)
        Parallel.alongside({
            do throws(VaultError) {
                found.resolution = try Environment.resolutionChain(location, create: false, readOnly: true)
            } catch {
                found.environmentError = error
            }
        }) {
            do {
                let log = try VaultLog(path: location.logFile)
                found.end = try log.withLock(exclusive: false) { () throws -> ScanEnd in
                    _ = try log.reopenIfReplaced()
                    return try scan(log, from: 0, into: &found.index, clock: wallClockMilliseconds)
                }.get()
                found.log = log
            } catch {
                found.logError = error
            }
        }
        if let error = found.environmentError { throw error }
        guard found.resolution[0].location.logFile == location.logFile else { return try Vault(resolution: found.resolution, history: history) }
        if let error = found.logError { throw translate(error) }
        return try Vault(
            resolution: found.resolution, log: found.log!, index: found.index, scanned: found.end, history: history, clock: wallClockMilliseconds)
    }

    /// A vault over `log`, its index already read to `scanned` (else read now).
    private init(
        resolution: [Environment], log: VaultLog, index: Index, scanned: ScanEnd?, history: Int, clock: @escaping () -> UInt64
    ) throws(VaultError) {
        self.environment = resolution[0]
        self.resolution = resolution
        self.history = history
        self.index = index
        self.clock = clock
        self.log = log
        if let scanned {
            scannedTo = scanned.end
            tornBytes = scanned.tornBytes
        } else {
            try refresh()
        }
        try finishInterruptedRekeys()
    }

    /// Refuses what a write to `location`'s log would refuse before a writer creates
    /// anything, so that a `set` that would create a scope's uuid or key first is refused
    /// with nothing created, as every refused command changes nothing: a file that is not a
    /// vault or is of a newer format; and, when the scope has a uuid but its key file is
    /// missing here, records of that uuid in the log. Those were sealed under the scope's
    /// key: a new key would open none of them, and the scope would read as "wrong key" from
    /// then on (a teammate's clone without the key file is the usual way there). (Damaged
    /// lines refuse no write: writers pass over them, as readers do.)
    public static func requireWritableLog(_ location: EnvironmentLocation) throws(VaultError) {
        let log: VaultLog
        do { log = try VaultLog(path: location.logFile) } catch { throw translate(error) }
        guard log.exists else { return }
        var orphaned: EnvironmentID? = nil
        if case .scopeFile(let keyFile) = location.keySource, !FileSystem.exists(keyFile), let id = Environment.existingID(location),
            !Access.grants(location, id: id)
        {
            orphaned = id
        }
        var records = 0
        do {
            let scanned = try log.withLock(exclusive: false) { () throws(any Error) -> Void in
                guard let orphaned else {
                    _ = try log.scanLines(from: 0, limit: 4096) { _, _ in }  // far enough for the header line
                    return
                }
                _ = try log.scan(from: 0) { line in
                    if case .success(.record(let header)) = line.parsed, header.environment == orphaned { records += 1 }
                }
            }
            if case .failure(let error) = scanned { throw error }
        } catch {
            throw translate(error)
        }
        if let orphaned, records > 0 {
            throw .keyMissingForRecords(environment: orphaned, keyFile: location.keyFile, logFile: log.path, records: records)
        }
    }

    // MARK: Reading

    /// The value of the secret `name`, or nil when there is none (Mage's `get_secret_value`
    /// returns None): from this scope, else the nearest parent scope that has it.
    /// Decrypts exactly one record (more only when newer ones fail to open).
    public func secretValue(named name: String) throws(VaultError) -> String? {
        try resolvedSecret(named: name)?.value
    }

    /// The value of `name` and the scope it comes from, resolving pipeline → project →
    /// global; nil when no scope has it. In each scope the newest record that
    /// authenticates counts, a tombstone too: a record that does not open is passed over
    /// (and listed in `skippedRecords`), so a line forged without the key can neither
    /// delete a secret nor hide it behind a parent scope's value.
    public func resolvedSecret(named name: String) throws(VaultError) -> ResolvedSecret? {
        try resolvedRecord(named: name).map { ResolvedSecret(value: $0.record.value(), scope: $0.scope) }
    }

    /// Calls `body` with the value of `name` (resolved as `resolvedSecret`) as bytes in
    /// secure memory, or with nil when no scope has it: for embedders that copy the value
    /// out themselves (the C interface), without an intermediate `String`.
    ///
    /// With `keepsOpenedValues`, a value opened once is kept until the log changes, so the
    /// next read of the name costs one `fstat` and a lookup instead of a read and a decryption.
    public func withSecretValue<R>(named name: String, _ body: (UnsafeRawBufferPointer?) -> R) throws(VaultError) -> R {
        guard openedValues != nil else {
            guard let found = try resolvedRecord(named: name) else { return body(nil) }
            return found.record.withValueBytes { body($0) }
        }
        try refresh()  // a log that changed empties the cache (see `locked`)
        if let kept = openedValues?[name] {
            guard let kept else { return body(nil) }
            return kept.withValueBytes { body($0) }
        }
        let found = try resolvedRecord(named: name)?.record
        if openedValues!.count >= Self.openedValuesKept { openedValues!.removeAll(keepingCapacity: true) }
        openedValues!.updateValue(found, forKey: name)
        guard let found else { return body(nil) }
        return found.withValueBytes { body($0) }
    }

    /// Whether `withSecretValue` keeps the values it opened (and the names it found absent)
    /// until the log changes: for a long-lived embedder that reads the same few secrets
    /// again and again (the C interface turns it on; nothing else does). Kept values stay in
    /// `sodium_malloc` memory, locked and out of core dumps, and are wiped when dropped: when
    /// any change to the log is seen (an append, by anyone, or a new file in its place), when
    /// this vault takes the log's lock for any reason, past `openedValuesKept` names, and
    /// when the vault is released. A process that can read this memory holds the key too,
    /// so keeping the values exposes nothing the key did not.
    public var keepsOpenedValues: Bool {
        get { openedValues != nil }
        set { openedValues = newValue ? (openedValues ?? [:]) : nil }
    }

    /// The most names `keepsOpenedValues` keeps; past it, all are dropped and kept afresh.
    static let openedValuesKept = 4096

    /// The opened record of `name`'s value and its scope; see `resolvedSecret`.
    func resolvedRecord(named name: String) throws(VaultError) -> (record: OpenedRecord, scope: Scope)? {
        let secret = try validName(name)
        try refresh()
        skippedRecords = []
        for position in resolution.indices {
            try confirmKey(at: position)
            let scope = resolution[position]
            let skippedBefore = skippedRecords.count
            guard let found = try newestAuthentic(named: secret, in: scope, wholeValue: true) else {
                // Records of the name, and none opens: damage to report, not an absent secret.
                if skippedRecords.count > skippedBefore { throw Self.damaged(skippedRecords[skippedBefore]) }
                continue
            }
            guard found.header.operation == .set, let opened = found.opened else { continue }
            return (opened, scope.location.scope)
        }
        return nil
    }

    /// The error for a secret whose records all fail to open.
    static func damaged(_ skipped: SkippedRecord) -> VaultError {
        .damagedRecord(path: skipped.path, offset: skipped.offset, reason: skipped.reason)
    }

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

    /// When this vault's own scope (not a parent) last set `name`, or nil when the scope
    /// has no value for it. Authenticates the record; decrypts no value.
    public func ownSecretUpdated(named name: String) throws(VaultError) -> Timestamp? {
        let secret = try validName(name)
        try refresh()
        skippedRecords = []
        try confirmKey(at: 0)
        guard let found = try newestAuthentic(named: secret, in: environment, wholeValue: false), found.header.operation == .set
        else { return nil }
        return found.header.timestamp
    }

    /// The newest authentic record of `secret` in `scope`, across every key the scope
    /// holds (a name has one tag per key). The index's newest record is opened first; only
    /// when it does not open (or ties with another line) are the other records read.
    func newestAuthentic(named secret: SecretName, in scope: Environment, wholeValue: Bool) throws(VaultError) -> AuthenticRecord? {
        // A name has one tag per key the scope holds: nearly always one.
        let keys =
            scope.retiredKeys.isEmpty
            ? [IndexKey(environment: scope.id, tag: scope.keys.tag(of: secret))]
            : scope.ring.map { IndexKey(environment: scope.id, tag: $0.tag(of: secret)) }
        let heads = keys.compactMap { key in index.entry(environment: key.environment, tag: key.tag).map { (key, $0) } }
        guard !heads.isEmpty else { return nil }
        let name = Array(secret.string.utf8)
        if heads.count == 1, !index.ties.contains(heads[0].0) {
            let head = heads[0].1
            var ignored: [SkippedRecord] = []  // the slow path below reports it, if it does not open
            if let found = Authentication.open(
                Candidate(header: head.newest, offset: head.offset, length: Int(head.length)), line: try readLine(head), in: scope,
                named: name, vault: vaultID, path: log.path, wholeValue: wholeValue, skipped: &ignored)
            {
                return found
            }
        }
        return Authentication.newest(
            try scanCandidates(Set(keys))[scope.id] ?? [], in: scope, named: name, vault: vaultID, path: log.path,
            wholeValue: wholeValue, skipped: &skippedRecords, read: lineOf)
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

    // MARK: Writing

    /// Sets the secret `name` to `value`. Returns after the record is on disk.
    public func setSecret(named name: String, value: String) throws(VaultError) {
        var bytes = Array(value.utf8)
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        try bytes.withBytes { raw throws(VaultError) in try setSecret(named: name, value: raw) }
    }

    /// Sets the secret `name` to the UTF-8 text in `value`. Returns after the record is on disk.
    public func setSecret(named name: String, value: UnsafeRawBufferPointer) throws(VaultError) {
        try append(.set, name: Self.validateSecret(named: name, value: value), value: value)
    }

    /// Refuses a name or value that `setSecret` would refuse (it calls this), before anything
    /// is opened or created: for a caller that would otherwise create a scope's files first
    /// (the C interface's writer), so that a refused write changes nothing. Returns the name.
    @discardableResult
    public static func validateSecret(named name: String, value: UnsafeRawBufferPointer) throws(VaultError) -> SecretName {
        do {
            let secret = try SecretName(name)
            try SecretValue.validate(value)
            return secret
        } catch {
            throw .invalidInput(error)
        }
    }

    /// Deletes the secret `name`: appends a tombstone. Returns false, writing nothing, when
    /// there is no such secret.
    @discardableResult
    public func deleteSecret(named name: String) throws(VaultError) -> Bool {
        let secret = try validName(name)
        return try append(.delete, name: secret, value: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    @discardableResult
    private func append(_ operation: Operation, name: SecretName, value: UnsafeRawBufferPointer) throws(VaultError) -> Bool {
        try locked(exclusive: true) { () throws(VaultError) -> Bool in
                try refreshLocked()
                try createLogLocked()
                try requireOurKey()
                skippedRecords = []
                let current = try newestAuthentic(named: name, in: environment, wholeValue: false)
                if operation == .delete, current?.header.operation != .set { return false }
                let timestamp = try nextTimestamp(after: current)
                let (header, line) = RecordCodec.seal(
                    operation, name: name, value: value, environment: environment.id, keys: environment.keys,
                    timestamp: timestamp, id: RecordID.random(), vault: vaultID)
                do { scannedTo = try log.append(line, after: scannedTo) } catch { throw Self.translate(error) }
                index.apply(
                    header, offset: scannedTo, length: line.count - 1,
                    fingerprint: line.withUnsafeBytes { StoredEntry.fingerprint(UnsafeRawBufferPointer(rebasing: $0.dropLast())) })
                scannedTo += UInt64(line.count)
                tornBytes = 0
                compactIfWorthIt()
                return true
        }
    }

    /// The time of a new record: past the wall clock, past every time in the log that a
    /// sane clock could have written (`Index.latest`), and past `current`, the newest
    /// authentic record of the secret written, whatever its time. Times of lines nobody
    /// authenticated beyond the clock bound move nothing.
    func nextTimestamp(after current: AuthenticRecord?) throws(VaultError) -> Timestamp {
        let latest = [index.latest, current?.header.timestamp].compactMap { $0 }.max()
        guard let timestamp = Timestamp.next(after: latest, wallClock: clock()) else { throw .clockExhausted(path: log.path) }
        return timestamp
    }

    /// Runs `body` holding the log's lock (shared or exclusive), typed errors kept.
    func locked<R>(exclusive: Bool, _ body: () throws(VaultError) -> R) throws(VaultError) -> R {
        // Whatever happens under the lock may change what a name reads as: kept values go.
        if openedValues?.isEmpty == false { openedValues = [:] }
        let outcome: Result<R, VaultError>
        lockDepth += 1
        defer { lockDepth -= 1 }
        do { outcome = try log.withLock(exclusive: exclusive, body) } catch { throw Self.translate(error) }
        return try outcome.get()
    }

    /// Creates the log file with a new vault id when it does not exist yet (what `init`
    /// does; a first write does it too). Returns true when it was created.
    @discardableResult
    public func createLogIfMissing() throws(VaultError) -> Bool {
        try locked(exclusive: true) { () throws(VaultError) -> Bool in
            try refreshLocked()
            return try createLogLocked()
        }
    }

    @discardableResult
    func createLogLocked() throws(VaultError) -> Bool {
        guard !log.exists else { return false }
        do { try log.create(header: FileHeader(vaultID: VaultID.random())) } catch { throw Self.translate(error) }
        try refreshLocked()
        return true
    }

    // MARK: Replay

    /// Reads what was appended since the last call, under the shared lock.
    func refresh() throws(VaultError) {
        if log.header != nil, log.isUnchanged(size: scannedTo + tornBytes) { return }  // scanned before, nothing new
        try locked(exclusive: false) { () throws(VaultError) in try refreshLocked() }
    }

    /// Reads what was appended since the last call; the caller holds the lock.
    func refreshLocked() throws(VaultError) {
        do {
            if try log.reopenIfReplaced() {
                index = Index(history: history)
                confirmedKeys = [:]
                scannedTo = 0
            }
            let end = try Self.scan(log, from: scannedTo, into: &index, clock: clock)
            scannedTo = end.end
            tornBytes = end.tornBytes
        } catch {
            throw Self.translate(error)
        }
    }

    /// Reads `log` from `offset` (a line start; 0 for a new index) to its end into `index`;
    /// the caller holds the lock.
    static func scan(_ log: VaultLog, from offset: UInt64, into index: inout Index, clock: () -> UInt64) throws -> ScanEnd {
        if offset == 0, log.exists { index.reserveCapacity(forLogBytes: try log.size()) }
        index.clockBound = Timestamp.clockBound(wallClock: clock())
        return try log.scan(from: offset) { index.apply($0) }
    }

    // MARK: Helpers

    var vaultID: VaultID {
        guard let id = index.vaultID else { preconditionFailure("a log with records has a header") }
        return id
    }

    /// Refuses to write when this environment's key is not the one its records were sealed
    /// with (see `confirmKey`); the caller holds the lock.
    func requireOurKey() throws(VaultError) {
        try confirmKey(at: 0)
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

    func validName(_ name: String) throws(VaultError) -> SecretName {
        do { return try SecretName(name) } catch { throw .invalidInput(error) }
    }

    func readLine(_ entry: IndexEntry) throws(VaultError) -> [UInt8] {
        do { return try log.readLine(at: entry.offset, length: Int(entry.length)) } catch { throw Self.translate(error) }
    }

    func open(_ entry: IndexEntry, in scope: Environment) throws(VaultError) -> OpenedRecord {
        let line = try readLine(entry)
        do {
            return try line.withBytes { bytes throws(OpenError) in
                try RecordCodec.open(line: bytes, header: entry.newest, keys: scope.keys, vault: vaultID)
            }
        } catch {
            throw translate(error, offset: entry.offset, keyFile: scope.location.keySource.description)
        }
    }

    func translate(_ error: OpenError, offset: UInt64, keyFile: String) -> VaultError {
        Self.translate(error, path: log.path, offset: offset, keyFile: keyFile)
    }

    static func translate(_ error: OpenError, path: String, offset: UInt64, keyFile: String) -> VaultError {
        switch error {
        case .wrongKey: .wrongKey(keyFile: keyFile)
        case .notAuthentic(let reason): .damagedRecord(path: path, offset: offset, reason: reason)
        }
    }

    static func translate(_ error: any Error) -> VaultError {
        switch error {
        case let error as VaultError: error
        case LogError.unreadable(let path, let format): .unreadableLog(path: path, format)
        case LogError.system(let system): .system(system)
        case let system as SystemError: .system(system)
        default: .system(SystemError("unexpected", "\(type(of: error))", code: 5))
        }
    }
}

extension Vault {
    /// Opens the vault of `location`'s scope for a program that embeds the library (the C
    /// interface, the Python package). With `create`, a missing uuid or key file of the scope
    /// is made (a writer's open); without it nothing is written, and a scope that does not
    /// exist yet reads through its parents. With `exactScope` reads look in the scope itself
    /// only, as Mage's `get_secret_value` does, and a scope that does not exist yet gives nil
    /// (it holds no secrets; open again later to see it once created). `writable` says
    /// whether `set` and `delete` may go through the vault (false when the scope itself does
    /// not exist and was not created, so that a write never lands in a parent scope).
    public static func open(_ location: EnvironmentLocation, create: Bool, exactScope: Bool) throws(VaultError) -> (vault: Vault, writable: Bool)? {
        if create { try requireWritableLog(location) }
        if exactScope {
            guard create || Environment.exists(location) else { return nil }
            return (try Vault(resolution: [Environment.open(location, create: create)]), true)
        }
        let chain = try Environment.resolutionChain(location, create: create, readOnly: !create)
        return (try Vault(resolution: chain), chain[0].location.scope == location.scope)
    }
}
