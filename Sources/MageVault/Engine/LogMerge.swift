/// One secret that both sides of a merge changed differently.
public struct MergeConflict: Sendable, Equatable, CustomStringConvertible {
    /// The environment (scope) of the secret.
    public let environment: EnvironmentID
    /// Its scope, when this machine holds that environment's key.
    public let scope: Scope?
    /// Its name, when this machine holds the key (else only the tag is known).
    public let name: String?
    /// Its keyed tag.
    public let tag: NameTag
    /// Whether one side deleted it (and the other changed it).
    public let deletedOnOneSide: Bool

    public var description: String {
        let what = name.map { "'\($0)'" } ?? "a secret (tag \(tag.description.prefix(12))…; no key for this environment here)"
        let scopeText = scope.map { "\($0)" } ?? "uuid \(environment)"
        return "\(what) in \(scopeText): " + (deletedOnOneSide ? "changed on one side, deleted on the other" : "changed on both sides to different values")
    }
}

/// How conflicts are settled.
public struct MergeResolution: Sendable {
    /// Names (of the merging environment's scope) whose value on our side wins.
    public var ours: Set<String> = []
    /// Names whose value on their side wins.
    public var theirs: Set<String> = []
    /// Settle every conflict by the newest write (the vault's own rule), reporting nothing.
    public var lastWriterWins = false

    /// No resolution: every conflict fails the merge.
    public init(ours: Set<String> = [], theirs: Set<String> = [], lastWriterWins: Bool = false) {
        self.ours = ours
        self.theirs = theirs
        self.lastWriterWins = lastWriterWins
    }
}

/// What a merge did.
public struct MergeReport: Sendable, Equatable {
    /// Records in the merged log.
    public let records: Int
    /// Conflicts left unresolved (the merge fails when there is any).
    public let conflicts: [MergeConflict]
    /// Conflicts settled by `--ours` / `--theirs`.
    public let resolved: Int
}

/// A three-way merge of vault logs, for git's merge driver. The merged log is the union
/// of both sides' records (each once, ours in our order, then theirs'), which is a valid
/// log whose state follows the newest-record rule for every environment, keys or not.
/// On top, it finds secrets that both sides changed differently since the base.
public enum LogMerge {
    struct Side {
        var header: FileHeader?
        var lines: [[UInt8]] = []
        var identities: [RecordIdentity] = []
        var newest: [IndexKey: (header: RecordHeader, line: Int)] = [:]
        var headers: [RecordHeader] = []
        var offsets: [UInt64] = []
        var recordsPerEnvironment: [EnvironmentID: Int] = [:]
    }

    struct RecordIdentity: Hashable {
        let timestamp: Timestamp
        let id: RecordID
    }

    /// Merges `base`, `ours` and `theirs` (paths) into `ours`, opening records with the keys
    /// of `environments` to compare values and to settle conflicts by `resolution` (which
    /// appends a new record for the chosen value of the first environment, the writer). A
    /// name in `resolution` that is not a conflict of the first environment is refused
    /// (`VaultError.unmatchedResolution`) and nothing is written.
    public static func merge(
        base: String, ours: String, theirs: String, environments: [Environment], resolution: MergeResolution,
        clock: () -> UInt64 = wallClockMilliseconds
    ) throws(VaultError) -> MergeReport {
        var baseSide = try read(base, allowMissing: true)
        var ourSide = try read(ours, allowMissing: false)
        var theirSide = try read(theirs, allowMissing: false)
        guard let vault = ourSide.header?.vaultID ?? theirSide.header?.vaultID else { throw .noLog(path: ours) }
        if let other = theirSide.header?.vaultID, other != vault {
            throw .invalidScope("the two sides are different vaults (\(vault) and \(other)): they cannot be merged")
        }
        let keys = Dictionary(environments.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // No record of an environment whose key is here may come in unless it opens, and no
        // record nobody here can authenticate may come in from the far future: a hostile
        // branch cannot slip in a forged value, tombstone or clock through the merge.
        let bound = Timestamp.futureBound(wallClock: clock())
        for (side, which) in [(ourSide, "this branch's"), (theirSide, "the merged branch's")] {
            do {
                try check(side, path: ours, vault: vault, keys: keys, futureBound: bound)
            } catch .damagedLog(_, let offsets, let count) {
                throw .git(
                    "\(which) vault log has \(count) record(s) (at byte offset\(count == 1 ? "" : "s") \(offsets.map(String.init).joined(separator: ", "))) that do not open with the keys here or come from more than a day ahead: forged or damaged. The merge was refused and nothing was changed; look at that log with 'mage-vault verify --vault FILE'")
            }
        }
        // A secret is compared by name where its key is here: a rekey on one side changes
        // every tag, and the same name must still meet itself.
        baseSide.newest = newestByName(baseSide, keys: keys, vault: vault)
        ourSide.newest = newestByName(ourSide, keys: keys, vault: vault)
        theirSide.newest = newestByName(theirSide, keys: keys, vault: vault)

        // The union: ours in order, then theirs' lines that ours lacks (a line is the same
        // record only when its bytes are: two lines that tie on time and id are both kept, and
        // readers order them by `RecordOrder`).
        var merged: [UInt8] = FileHeader(vaultID: vault).encoded()
        var seen = Set<[UInt8]>()
        var count = 0
        var latest: Timestamp? = nil
        let clockBound = Timestamp.clockBound(wallClock: clock())
        for side in [ourSide, theirSide] {
            for (index, line) in side.lines.enumerated() where seen.insert(line).inserted {
                merged += line + [0x0A]
                count += 1
                let time = side.headers[index].timestamp
                if time <= clockBound, latest.map({ time > $0 }) ?? true { latest = time }
            }
        }

        // Conflicts: both sides moved a secret's newest record away from the base, differently.
        var conflicts: [MergeConflict] = []
        var conflictNames: Set<String> = []  // of the merging scope: what --ours and --theirs may name
        var settle: [(Environment, SecretName, Side, (header: RecordHeader, line: Int))] = []
        for key in Set(ourSide.newest.keys).union(theirSide.newest.keys) {
            let original = baseSide.newest[key].map { RecordIdentity(timestamp: $0.header.timestamp, id: $0.header.id) }
            guard let mine = ourSide.newest[key], let other = theirSide.newest[key] else { continue }
            let mineID = RecordIdentity(timestamp: mine.header.timestamp, id: mine.header.id)
            let otherID = RecordIdentity(timestamp: other.header.timestamp, id: other.header.id)
            guard mineID != original, otherID != original, mineID != otherID else { continue }
            let mineDeleted = mine.header.operation == .delete
            let otherDeleted = other.header.operation == .delete
            if mineDeleted && otherDeleted { continue }
            let environment = keys[key.environment]
            var name: String? = nil
            if let environment, !mineDeleted || !otherDeleted {
                let mineValue = try open(ourSide, mine.line, mine.header, environment, vault)
                let otherValue = try open(theirSide, other.line, other.header, environment, vault)
                name = mineValue?.name ?? otherValue?.name
                if !mineDeleted, !otherDeleted, mineValue?.value == otherValue?.value { continue }  // same value both sides
            }
            let conflict = MergeConflict(
                environment: key.environment, scope: environment?.location.scope, name: name, tag: key.tag,
                deletedOnOneSide: mineDeleted != otherDeleted)
            if let environment, environment.id == environments.first?.id, let name { conflictNames.insert(name) }
            if resolution.lastWriterWins { continue }
            if let environment, environment.id == environments.first?.id, let name, let secret = try? SecretName(name) {
                if resolution.ours.contains(name) {
                    settle.append((environment, secret, ourSide, mine))
                    continue
                }
                if resolution.theirs.contains(name) {
                    settle.append((environment, secret, theirSide, other))
                    continue
                }
            }
            conflicts.append(conflict)
        }

        // A name given to settle that matches no conflict is a typo, or a stale command line:
        // either way the merge must not pass as if it had been settled.
        for (option, names) in [("--ours", resolution.ours), ("--theirs", resolution.theirs)] {
            let unmatched = names.subtracting(conflictNames).sorted()
            if !unmatched.isEmpty {
                throw .unmatchedResolution(option: option, names: unmatched, conflicts: conflictNames.sorted())
            }
        }

        // A settled conflict gets a new record, newer than both sides, with the chosen value.
        for (environment, name, side, chosen) in settle {
            let key = IndexKey(environment: environment.id, tag: environment.keys.tag(of: name))
            let mineTime = ourSide.newest[key]?.header.timestamp
            let otherTime = theirSide.newest[key]?.header.timestamp
            guard let next = Timestamp.next(after: [latest, mineTime, otherTime].compactMap { $0 }.max(), wallClock: clock()) else {
                throw .clockExhausted(path: ours)
            }
            latest = next
            // The operation is carried, not inferred from the value: an empty value is a value.
            let value: [UInt8]
            let operation: Operation
            if chosen.header.operation == .set, let opened = try open(side, chosen.line, chosen.header, environment, vault) {
                (value, operation) = (Array(opened.value.utf8), .set)
            } else {
                (value, operation) = ([], .delete)
            }
            let (_, record) = value.withUnsafeBytes { raw in
                RecordCodec.seal(
                    operation, name: name, value: raw, environment: environment.id, keys: environment.keys,
                    timestamp: next, id: RecordID.random(), vault: vault)
            }
            merged += record
            count += 1
        }

        do { try FileSystem.replaceAtomically(ours, mode: 0o600, contents: merged) } catch { throw .system(error) }
        return MergeReport(records: count, conflicts: conflicts.sorted { ($0.name ?? "", $0.tag.rawValue) < ($1.name ?? "", $1.tag.rawValue) }, resolved: settle.count)
    }

    private static func open(_ side: Side, _ line: Int, _ header: RecordHeader, _ environment: Environment, _ vault: VaultID)
        throws(VaultError) -> (name: String, value: String)?
    {
        let opened = Result { () throws(OpenError) in
            try side.lines[line].withBytes { raw throws(OpenError) in
                try RecordCodec.open(line: raw, header: header, keys: environment.keys, vault: vault)
            }
        }
        switch opened {
        case .success(let record): return (record.name, record.value())
        case .failure(.wrongKey): return nil
        case .failure(.notAuthentic(let reason)): throw .damagedRecord(path: "a side of the merge", offset: 0, reason: reason)
        }
    }

    /// The newest record of every secret of `side`: keyed by the tag of its name under the
    /// environment's current key where a key here opens it (so records under a retired key
    /// and under the current one meet), else by its own tag.
    static func newestByName(_ side: Side, keys: [EnvironmentID: Environment], vault: VaultID) -> [IndexKey: (header: RecordHeader, line: Int)] {
        var newest: [IndexKey: (header: RecordHeader, line: Int)] = [:]
        for (index, header) in side.headers.enumerated() {
            var key = IndexKey(environment: header.environment, tag: header.tag)
            if let environment = keys[header.environment], let held = environment.keys(for: header.keyID),
                let name = side.lines[index].withUnsafeBytes({ try? RecordCodec.openName(line: $0, header: header, keys: held, vault: vault) }),
                let secret = try? SecretName(name)
            {
                key = IndexKey(environment: header.environment, tag: environment.keys.tag(of: secret))
            }
            if let current = newest[key], !RecordOrder.isNewer(header, side.lines[index], than: current.header, side.lines[current.line]) {
                continue
            }
            newest[key] = (header, index)
        }
        return newest
    }

    /// Refuses a side holding a record of an environment whose key is here that does not
    /// open (a record under a key id the environment does not hold is let through: it may be
    /// a rekey's, made on the other branch), or a record from past `futureBound` that no key
    /// here authenticates.
    static func check(
        _ side: Side, path: String, vault: VaultID, keys: [EnvironmentID: Environment], futureBound: Timestamp
    ) throws(VaultError) {
        var damaged: [UInt64] = []
        for (index, header) in side.headers.enumerated() {
            var authentic = false
            if let environment = keys[header.environment], let held = environment.keys(for: header.keyID) {
                let opened = side.lines[index].withUnsafeBytes { raw in
                    (try? RecordCodec.openName(line: raw, header: header, keys: held, vault: vault)) != nil
                }
                guard opened else {
                    damaged.append(side.offsets[index])
                    continue
                }
                authentic = true
            }
            if !authentic, header.timestamp > futureBound { damaged.append(side.offsets[index]) }
        }
        if !damaged.isEmpty { throw .damagedLog(path: path, offsets: Array(damaged.prefix(8)), count: damaged.count) }
    }

    /// Reads one side: its header, its record lines, and the newest record per secret.
    static func read(_ path: String, allowMissing: Bool) throws(VaultError) -> Side {
        var side = Side()
        if allowMissing, !FileSystem.exists(path) { return side }
        do {
            let log = try VaultLog(path: path)
            if allowMissing, (try? log.size()) == 0 { return side }
            var damaged: [UInt64] = []
            _ = try log.scan(from: 0) { line in
                switch line.parsed {
                case .success(.fileHeader(let header)):
                    if side.header == nil {
                        side.header = header
                    } else if side.header != header {
                        damaged.append(line.offset)  // another vault's header: two vaults spliced together
                    }
                case .success(.record(let header)):
                    let key = IndexKey(environment: header.environment, tag: header.tag)
                    let bytes = Array(line.bytes)
                    if let current = side.newest[key], !RecordOrder.isNewer(header, bytes, than: current.header, side.lines[current.line]) {
                    } else {
                        side.newest[key] = (header, side.lines.count)
                    }
                    side.identities.append(RecordIdentity(timestamp: header.timestamp, id: header.id))
                    side.recordsPerEnvironment[header.environment, default: 0] += 1
                    side.lines.append(bytes)
                    side.headers.append(header)
                    side.offsets.append(line.offset)
                case .failure:
                    damaged.append(line.offset)
                }
            }
            if !damaged.isEmpty { throw VaultError.damagedLog(path: path, offsets: Array(damaged.prefix(8)), count: damaged.count) }
        } catch let error as VaultError {
            throw error
        } catch {
            throw Vault.translate(error)
        }
        return side
    }
}
