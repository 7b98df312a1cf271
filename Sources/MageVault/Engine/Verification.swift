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
        /// Records of this uuid sealed under another key than ours.
        public var otherKey = 0
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
    /// Bytes of torn tail.
    public let tornBytes: UInt64

    /// No damaged line, no record that fails to open, no record under a wrong key.
    /// (A torn tail alone is healthy: it is an interrupted write, cut by the next writer.)
    public var isHealthy: Bool { damaged.isEmpty && environments.allSatisfy { $0.otherKey == 0 } }
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
    /// of this environment whole. Reports counts per uuid, damaged offsets and any torn
    /// tail. Changes nothing.
    public func verify(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> VerifyReport {
        try refresh()
        return try Self.verify(log, keys: resolution, limit: nil, progress: progress)
    }

    /// Verifies the log at `log`, opening the records of every environment in `keys`.
    static func verify(
        _ log: VaultLog, keys environments: [Environment], limit: UInt64?, progress: (UInt64, UInt64) -> Void
    ) throws(VaultError) -> VerifyReport {
        let held = Dictionary(environments.map { ($0.id, $0.keys) }, uniquingKeysWith: { first, _ in first })
        var counts: [EnvironmentID: VerifyReport.Counts] = [:]
        var damaged: [DamagedLine] = []
        var replay = Index(history: 1)
        let total = (try? log.size()) ?? 0
        var vaultID: VaultID? = nil
        let end: ScanEnd
        do {
            end = try log.scan(from: 0, limit: limit) { line in
                replay.apply(line)
                progress(line.offset + UInt64(line.length) + 1, total)
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
                    if let keys = held[header.environment], let vaultID {
                        count.keyHeld = true
                        let opened = Result { () throws(OpenError) in
                            try RecordCodec.open(line: line.bytes, header: header, keys: keys, vault: vaultID)
                        }
                        switch opened {
                        case .success: count.opened += 1
                        case .failure(.wrongKey): count.otherKey += 1
                        case .failure(.notAuthentic(let reason)):
                            count.failed += 1
                            damaged.append(DamagedLine(offset: line.offset, reason: "record does not open: \(reason)"))
                        }
                    }
                    counts[header.environment] = count
                }
            }
        } catch {
            throw translate(error)
        }
        for (environment, live) in replay.liveCounts() { counts[environment]?.liveSecrets += live }
        return VerifyReport(
            path: log.path, vaultID: vaultID, environments: counts.values.sorted { $0.id < $1.id }, damaged: damaged,
            tornBytes: end.tornBytes)
    }

    /// Writes a new log holding every line that still verifies (the header, every
    /// well-formed record of environments whose key is absent byte for byte, every record
    /// of the environments whose keys this vault holds that opens) and keeps the damaged original beside it as `<log>.damaged-<time>`.
    /// Does nothing when the log is healthy and has no torn tail.
    @discardableResult
    public func recover(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> RecoverReport {
        try locked(exclusive: true) { () throws(VaultError) -> RecoverReport in
            try refreshLocked()
            guard log.exists else { throw .noLog(path: log.path) }
            let report = try Self.verify(log, keys: resolution, limit: scannedTo, progress: { _, _ in })
            let dropped = Set(report.damaged.map(\.offset))
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
        let report = try Self.verify(backup, keys: resolution, limit: nil, progress: progress)
        if !report.damaged.isEmpty {
            let offsets = report.damaged.prefix(Index.damagedOffsetsKept).map(\.offset)
            throw .damagedLog(path: source, offsets: Array(offsets), count: report.damaged.count)
        }
        if report.environments.contains(where: { $0.otherKey > 0 }) {
            throw .wrongKey(keyFile: environment.location.keySource.description)
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
