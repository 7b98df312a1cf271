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
        for environment in found.resolution { environment.keepFollowedRotation() }  // the scan's lock is released
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
                try requireWritableKey()
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
