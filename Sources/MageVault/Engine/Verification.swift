/// A damaged line: where it is and what is wrong with it.
public struct DamagedLine: Sendable, Equatable {
    /// Byte offset of the line in the file.
    public let offset: UInt64
    /// What is wrong.
    public let reason: String
}

/// What `verify` found.
public struct VerifyReport: Sendable, Equatable {
    /// Counts for one uuid.
    public struct Counts: Sendable, Equatable {
        /// The environment's uuid.
        public let id: EnvironmentID
        /// Records in the log.
        public var records = 0
        /// Names whose newest record sets a value.
        public var liveSecrets = 0
        /// Records opened and found authentic (only for the environment whose key we hold).
        public var opened = 0
        /// Records under our key that did not open: forged, altered or damaged below the checksum.
        public var failed = 0
        /// Records of this uuid sealed under a key id this environment does not hold (a rekey
        /// made elsewhere whose key is not here, or a forged line): listed in `unknownKey`,
        /// not among the damaged lines.
        public var otherKey = 0
        /// Records that opened only with a retired key (see `Vault.rekey`).
        public var retiredKey = 0
        /// Whether we hold this environment's key.
        public var keyHeld = false
    }

    /// The file verified.
    public let path: String
    /// Its vault id.
    public let vaultID: VaultID?
    /// Per uuid, sorted.
    public let environments: [Counts]
    /// Lines that fail the framing or checksum, and records that fail to open.
    public let damaged: [DamagedLine]
    /// Records of a held environment under a key id it does not hold. They are not damage:
    /// no key here can tell a forged one from one a rekey made elsewhere (whose new key
    /// this machine lacks), so they are reported, never read, and kept.
    public var unknownKey: [DamagedLine] = []
    /// Bytes of torn tail.
    public let tornBytes: UInt64
    /// True when the last line is whole but lacks its LF (an editor dropped the file's final
    /// newline): not damage; the line counts, and the next write adds the LF.
    public var lastLineLacksNewline = false

    /// No damaged line: none that fails its framing or checksum, no record of a held
    /// environment that fails to open (under its key, a retired one, or no key held here),
    /// no record from the far future that no key here authenticates. (A torn tail alone is
    /// healthy: it is an interrupted write, cut by the next writer.)
    public var isHealthy: Bool { damaged.isEmpty }
}

/// What `recover` did.
public struct RecoverReport: Sendable, Equatable {
    /// Records kept.
    public let keptRecords: Int
    /// Lines dropped (damaged, or failing to open), and whether a torn tail was cut.
    public let droppedLines: Int
    /// Bytes of torn tail dropped.
    public let tornBytes: UInt64
    /// Where the original was kept; nil when there was nothing to repair.
    public let originalKeptAt: String?
}

/// What `restore` did.
public struct RestoreReport: Sendable, Equatable {
    /// The restored file's verification.
    public let verification: VerifyReport
    /// Where the replaced log was kept; nil when there was none.
    public let replacedKeptAt: String?
}

extension Vault {
    /// Checks every line of the log: framing and checksum for all, and opens every record
    /// of every scope whose key is here (this vault's chain, and every project and pipeline
    /// scope of its data directory). Reports counts per uuid, damaged offsets and any torn
    /// tail. Changes nothing. A scope of this vault's chain whose records, though some are
    /// under another key id, none opens with its keys is a wrong key (thrown), not damage;
    /// for the data directory's other scopes the counts say so.
    public func verify(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> VerifyReport {
        try refresh()
        let report = try Self.verify(log, keys: heldScopes(), limit: nil, wallClock: clock(), progress: progress)
        try Self.requireRightKeys(report, scopes: resolution)
        return report
    }

    /// This vault's scopes and every other scope of its data directory whose key is here.
    func heldScopes() -> [Environment] {
        var scopes = resolution
        for scope in Environment.allScopes(environment.location) where !scopes.contains(where: { $0.id == scope.id }) {
            scopes.append(scope)
        }
        return scopes
    }

    /// Throws `wrongKey` for a held scope none of whose records opens while some are under
    /// a key id it does not hold.
    static func requireRightKeys(_ report: VerifyReport, scopes: [Environment]) throws(VaultError) {
        for counts in report.environments where counts.keyHeld && counts.opened == 0 && counts.otherKey > 0 {
            guard let scope = scopes.first(where: { $0.id == counts.id }) else { continue }
            throw .wrongKey(keyFile: scope.location.keySource.description)
        }
    }

    /// Verifies the log at `log`, opening the records of every environment in `keys`.
    static func verify(
        _ log: VaultLog, keys environments: [Environment], limit: UInt64?, wallClock: UInt64, progress: (UInt64, UInt64) -> Void
    ) throws(VaultError) -> VerifyReport {
        let held = Dictionary(environments.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let futureBound = Timestamp.futureBound(wallClock: wallClock)
        var counts: [EnvironmentID: VerifyReport.Counts] = [:]
        var damaged: [DamagedLine] = []
        var unknownKey: [DamagedLine] = []
        var replay = Index(history: 1)
        let total = (try? log.size()) ?? 0
        var vaultID: VaultID? = nil
        let end: ScanEnd
        do {
            end = try log.scan(from: 0, limit: limit) { line in
                progress(line.offset + UInt64(line.length) + 1, total)
                // A body outside canonical base64 is damage anyone can see, key or not (readers
                // find it only when they open the line, which refuses it the same way).
                if case .success(.record) = line.parsed,
                    case .failure(let error) = Result(catching: { () throws(FormatError) in try LogLine.checkRecordBody(line.bytes) })
                {
                    damaged.append(DamagedLine(offset: line.offset, reason: "\(error)"))
                    return
                }
                replay.apply(line)
                switch line.parsed {
                case .failure(let error):
                    damaged.append(DamagedLine(offset: line.offset, reason: "\(error)"))
                case .success(.fileHeader(let header)):
                    if vaultID == nil { vaultID = header.vaultID }
                    if header.vaultID != vaultID {
                        damaged.append(DamagedLine(offset: line.offset, reason: "\(FormatError.foreignVault(header.vaultID))"))
                    }
                case .success(.record(let header)):
                    var count = counts[header.environment] ?? VerifyReport.Counts(id: header.environment)
                    count.records += 1
                    var authentic = false
                    if let scope = held[header.environment], let vaultID {
                        count.keyHeld = true
                        if let keys = scope.keys(for: header.keyID) {
                            let opened = Result { () throws(OpenError) in
                                try RecordCodec.open(line: line.bytes, header: header, keys: keys, vault: vaultID)
                            }
                            switch opened {
                            case .success:
                                count.opened += 1
                                if keys.keyID != scope.keys.keyID { count.retiredKey += 1 }
                                authentic = true
                            case .failure(.wrongKey): count.otherKey += 1
                            case .failure(.notAuthentic(let reason)):
                                count.failed += 1
                                damaged.append(DamagedLine(offset: line.offset, reason: "record does not open: \(reason)"))
                            }
                        } else {
                            count.otherKey += 1
                            unknownKey.append(
                                DamagedLine(
                                    offset: line.offset,
                                    reason: "sealed under key id \(Hex.string(header.keyID, width: 8)), which this environment does not hold (a rekey made elsewhere, or a forged line)"
                                ))
                        }
                    }
                    if !authentic, header.timestamp > futureBound, !damaged.contains(where: { $0.offset == line.offset }),
                        held[header.environment]?.keys(for: header.keyID) != nil || held[header.environment] == nil
                    {
                        damaged.append(
                            DamagedLine(
                                offset: line.offset,
                                reason: "its time \(header.timestamp.iso8601) is more than a day ahead of this machine's clock, and no key here authenticates it"
                            ))
                    }
                    counts[header.environment] = count
                }
            }
        } catch {
            throw translate(error)
        }
        for (environment, live) in replay.liveCounts() { counts[environment]?.liveSecrets += live }
        var report = VerifyReport(
            path: log.path, vaultID: vaultID, environments: counts.values.sorted { $0.id < $1.id }, damaged: damaged,
            tornBytes: end.tornBytes)
        report.unknownKey = unknownKey
        report.lastLineLacksNewline = end.unterminated
        return report
    }

    /// Writes a new log holding every line that still verifies (the header, every
    /// well-formed record of environments whose key is absent byte for byte, every record
    /// of the environments whose keys this vault holds that opens) and keeps the damaged original beside it as `<log>.damaged-<time>`.
    /// Does nothing when the log is healthy and has no torn tail.
    @discardableResult
    ///
    /// Records under a key id their environment does not hold are kept: they may be a
    /// rekey's made elsewhere. With `settingAsideUnknownKeys`, those of this vault's own
    /// scope are set aside too (only when no rekey elsewhere needs them: a line written
    /// without any key under an unknown key id makes an empty scope read as a wrong key
    /// until it is gone), and the wrong-key verdict is not given for that scope.
    public func recover(settingAsideUnknownKeys: Bool = false, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError)
        -> RecoverReport
    {
        try locked(exclusive: true) { () throws(VaultError) -> RecoverReport in
            try refreshLocked()
            guard log.exists else { throw .noLog(path: log.path) }
            let scopes = heldScopes()
            let report = try Self.verify(log, keys: scopes, limit: scannedTo, wallClock: clock(), progress: { _, _ in })
            try Self.requireRightKeys(report, scopes: settingAsideUnknownKeys ? Array(resolution.dropFirst()) : resolution)
            var dropped = Set(report.damaged.map(\.offset))
            if settingAsideUnknownKeys {
                let own = environment
                do {
                    _ = try log.scan(from: 0, limit: scannedTo) { line in
                        if case .success(.record(let header)) = line.parsed, header.environment == own.id, own.keys(for: header.keyID) == nil {
                            dropped.insert(line.offset)
                        }
                    }
                } catch {
                    throw Self.translate(error)
                }
            }
            guard !dropped.isEmpty || tornBytes > 0 else {
                return RecoverReport(keptRecords: index.recordCount, droppedLines: 0, tornBytes: 0, originalKeptAt: nil)
            }
            var kept: [Range<UInt64>] = []
            var keptRecords = 0
            var sawHeader = false
            do {
                _ = try log.scan(from: 0, limit: scannedTo) { line in
                    guard !dropped.contains(line.offset) else { return }
                    if case .success(.fileHeader) = line.parsed {
                        if sawHeader { return }
                        sawHeader = true
                    } else {
                        keptRecords += 1
                    }
                    kept.append(line.offset..<(line.offset + UInt64(line.length) + 1))
                }
            } catch {
                throw Self.translate(error)
            }
            let torn = tornBytes
            let original = "\(log.path).damaged-\(Self.fileStamp(clock()))"
            let mode = (try? log.mode()) ?? 0o600
            do {
                try log.writeCopy(ranges: kept, to: log.path, mode: mode, keepingReplacedAs: original, progress: progress)
            } catch {
                throw Self.translate(error)
            }
            try refreshLocked()
            return RecoverReport(keptRecords: keptRecords, droppedLines: dropped.count, tornBytes: torn, originalKeptAt: original)
        }
    }

    /// Replaces the log with the vault file `source` (a backup), after checking that it is
    /// a vault and verifying it: damaged lines, or records of the environments whose keys
    /// this vault holds that do not open, refuse the restore, and nothing changes. The replaced log is kept as
    /// `<log>.replaced-<time>`.
    @discardableResult
    public func restore(from source: String, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> RestoreReport {
        let backup: VaultLog
        do { backup = try VaultLog(path: source) } catch { throw Self.translate(error) }
        guard backup.exists else { throw .system(SystemError("open", source, code: 2)) }
        let report = try Self.verify(backup, keys: resolution, limit: nil, wallClock: clock(), progress: progress)
        try Self.requireRightKeys(report, scopes: resolution)
        if !report.damaged.isEmpty {
            let offsets = report.damaged.prefix(Index.damagedOffsetsKept).map(\.offset)
            throw .damagedLog(path: source, offsets: Array(offsets), count: report.damaged.count)
        }
        return try locked(exclusive: true) { () throws(VaultError) -> RestoreReport in
            try refreshLocked()
            let replaced = log.exists ? "\(log.path).replaced-\(Self.fileStamp(clock()))" : nil
            do {
                let end = try backup.scan(from: 0) { _ in }.end
                try FileSystem.makeDirectories(FileSystem.parentDirectory(of: log.path), mode: 0o700)
                try backup.writeCopy(ranges: [0..<end], to: log.path, mode: 0o600, keepingReplacedAs: replaced)
            } catch {
                throw Self.translate(error)
            }
            try refreshLocked()
            return RestoreReport(verification: report, replacedKeptAt: replaced)
        }
    }

    /// A time for file names: `20261126T160324.443Z`.
    static func fileStamp(_ milliseconds: UInt64) -> String {
        Timestamp(milliseconds: milliseconds).iso8601.filter { $0 != "-" && $0 != ":" }
    }
}
