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
    let clock: () -> UInt64

    /// Versions kept per secret unless chosen otherwise: 10, as HashiCorp Vault's KV store.
    public static let defaultHistory = 10

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
    public init(
        resolution: [Environment], history: Int = Vault.defaultHistory,
        clock: @escaping () -> UInt64 = wallClockMilliseconds
    ) throws(VaultError) {
        guard history >= 1 else { throw .invalidInput(.historyTooShort) }
        guard let environment = resolution.first else { preconditionFailure("a vault reads at least one environment") }
        self.environment = environment
        self.resolution = resolution
        self.history = history
        self.index = Index(history: history)
        self.clock = clock
        do { log = try VaultLog(path: environment.location.logFile) } catch { throw Self.translate(error) }
        try refresh()
        try finishInterruptedRekeys()
    }

    // MARK: Reading

    /// The value of the secret `name`, or nil when there is none (Mage's `get_secret_value`
    /// returns None): from this scope, else the nearest parent scope that has it.
    /// Decrypts exactly one record.
    public func secretValue(named name: String) throws(VaultError) -> String? {
        try resolvedSecret(named: name)?.value
    }

    /// The value of `name` and the scope it comes from, resolving pipeline → project →
    /// global; nil when no scope has it.
    public func resolvedSecret(named name: String) throws(VaultError) -> ResolvedSecret? {
        let secret = try validName(name)
        try refresh()
        for scope in resolution {
            try requireKey(of: scope)
            guard let entry = index.entry(environment: scope.id, tag: scope.keys.tag(of: secret)),
                entry.newest.operation == .set
            else { continue }
            return ResolvedSecret(value: try open(entry, in: scope).value(), scope: scope.location.scope)
        }
        return nil
    }

    /// Every visible name, sorted, with its last update and the scope its value comes from
    /// (the nearest scope that has the name). Values are never decrypted: each record is
    /// authenticated whole and only its name is opened.
    public func secrets() throws(VaultError) -> [SecretSummary] {
        try refresh()
        var summaries: [SecretSummary] = []
        var seen: Set<String> = []  // names of nearer scopes, which hide a parent's
        for scope in resolution {
            try requireKey(of: scope)
            let entries = index.liveEntries(of: scope.id)
            // Lines are read in file order, many per read: listing is bound by the decryption.
            var names = [Result<String, OpenError>?](repeating: nil, count: entries.count)
            let vault = vaultID
            do {
                try log.readLines(entries.map { ($0.offset, Int($0.length)) }) { position, line in
                    let entry = entries[position]
                    names[position] = Result { () throws(OpenError) in
                        try RecordCodec.openName(line: line, header: entry.newest, keys: scope.keys, vault: vault)
                    }
                }
            } catch {
                throw Self.translate(error)
            }
            let hidden = seen
            for (entry, name) in zip(entries, names) {
                switch name {
                case .success(let name)?:
                    // One scope's names are distinct (their tags are); only parents can repeat them.
                    guard !hidden.contains(name) else { continue }
                    summaries.append(SecretSummary(name: name, updated: entry.newest.timestamp, scope: scope.location.scope))
                    if resolution.count > 1 { seen.insert(name) }
                case .failure(let error)?: throw translate(error, offset: entry.offset, keyFile: scope.location.keySource.description)
                case nil: preconditionFailure("every line asked for is visited")
                }
            }
        }
        // Sorting positions rather than the summaries themselves saves copying each one (and
        // retaining its strings) at every move of the sort.
        let order = summaries.indices.sorted { summaries[$0].name < summaries[$1].name }
        return order.map { summaries[$0] }
    }

    /// When this vault's own scope (not a parent) last set `name`, or nil when the scope
    /// has no value for it. Decrypts nothing.
    public func ownSecretUpdated(named name: String) throws(VaultError) -> Timestamp? {
        let secret = try validName(name)
        try refresh()
        try requireKey(of: environment)
        guard let entry = index.entry(environment: environment.id, tag: environment.keys.tag(of: secret)),
            entry.newest.operation == .set
        else { return nil }
        return entry.newest.timestamp
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
        let secret = try validName(name)
        do { try SecretValue.validate(value) } catch { throw .invalidInput(error) }
        try append(.set, name: secret, value: value)
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
                try requireUndamaged()
                try requireOurKey()
                let tag = environment.keys.tag(of: name)
                if operation == .delete {
                    guard let entry = index.entry(environment: environment.id, tag: tag), entry.newest.operation == .set else {
                        return false
                    }
                }
                let timestamp = Timestamp.next(after: index.latest, wallClock: clock())
                let (header, line) = RecordCodec.seal(
                    operation, name: name, value: value, environment: environment.id, keys: environment.keys,
                    timestamp: timestamp, id: RecordID.random(), vault: vaultID)
                do { try log.append(line, after: scannedTo) } catch { throw Self.translate(error) }
                index.apply(header, offset: scannedTo, length: line.count - 1)
                scannedTo += UInt64(line.count)
                tornBytes = 0
                compactIfWorthIt()
                return true
        }
    }

    /// Runs `body` holding the log's lock (shared or exclusive), typed errors kept.
    func locked<R>(exclusive: Bool, _ body: () throws(VaultError) -> R) throws(VaultError) -> R {
        let outcome: Result<R, VaultError>
        do { outcome = try log.withLock(exclusive: exclusive, body) } catch { throw Self.translate(error) }
        return try outcome.get()
    }

    /// Refuses to write to a log with damaged lines: the caller holds the lock and refreshed.
    func requireUndamaged() throws(VaultError) {
        guard index.damagedCount == 0 else {
            throw .damagedLog(path: log.path, offsets: index.damagedOffsets, count: index.damagedCount)
        }
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
                scannedTo = 0
            }
            if scannedTo == 0, log.exists { index.reserveCapacity(forLogBytes: try log.size()) }
            let end = try log.scan(from: scannedTo) { index.apply($0) }
            scannedTo = end.end
            tornBytes = end.tornBytes
        } catch {
            throw Self.translate(error)
        }
    }

    // MARK: Helpers

    var vaultID: VaultID {
        guard let id = index.vaultID else { preconditionFailure("a log with records has a header") }
        return id
    }

    /// Refuses to go on when records of the written environment were sealed under another
    /// key: with the wrong key even the names' tags differ, so "not found" would be a lie
    /// and a write would mix keys in one environment.
    func requireOurKey() throws(VaultError) {
        try requireKey(of: environment)
    }

    /// `requireOurKey` for any environment of the resolution chain.
    func requireKey(of scope: Environment) throws(VaultError) {
        if let keyIDs = index.tallies[scope.id]?.keyIDs, keyIDs.contains(where: { $0 != scope.keys.keyID }) {
            throw .wrongKey(keyFile: scope.location.keySource.description)
        }
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
