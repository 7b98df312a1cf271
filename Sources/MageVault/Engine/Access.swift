/// Team access: each environment key wrapped to each teammate's recipient, in the access
/// file beside the log (`<log>.access`, committed, merged as a union of lines), so that no
/// key file is passed around (`vault-format.md`, *Access*).
///
/// Trust: anyone who can write to the repository can write a line, so a line is believed
/// only as far as keys vouch for it. An entry counts when it opens with one of our
/// identities, its bundle's first key is the key id it names and that key made its check.
/// A bundle `[K, P, …]` is a rotation to `K` from each `P` at which its author was a member;
/// it counts unless another rotation from `P` (or from a key whose bundle retires `P`: holds it
/// or names its revocation id) left its author out, or, being a removal, has no line for that
/// author at its key. With a key already held
/// (a key file, `$MAGE_VAULT_KEY`), the reader walks counted rotations from it; with none,
/// from each grant's own key, and the walks must agree; otherwise it refuses, naming two
/// keys, never guessing between them. Only keys reached by counted rotations are read with.
public enum Access {
    /// The access file of a log: `<log>.access`.
    public static func file(of location: EnvironmentLocation) -> String { location.logFile + ".access" }

    /// The entries of the access file, in file order; lines that are not entries are passed
    /// over (anyone can write the file). No file: none.
    public static func entries(_ location: EnvironmentLocation) throws(VaultError) -> [AccessEntry] {
        settlePending(location)
        return parse(try currentBytes(location))
    }

    /// The entries among `bytes`, an access file's; lines that are not entries are passed over.
    static func parse(_ bytes: [UInt8]) -> [AccessEntry] {
        var canonical = AccessEntry.CanonicalRecipients()
        return lines(of: bytes).compactMap { AccessEntry.parse($0, canonical: &canonical) }
    }

    /// The lines of an access file's bytes, split on the byte 0x0A (not on `Character`s, whose
    /// grapheme breaking cost milliseconds per read on a team's file).
    static func lines(of bytes: [UInt8]) -> [Substring] {
        var lines: [Substring] = []
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                // A loop over the bytes, not the generic `split` of a `String.UTF8View`, which
                // cost a team member's cold get a twentieth of its time.
                let end = buffer[start...].firstIndex(of: 0x0A) ?? buffer.count
                if end > start { lines.append(Substring(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))) }
                start = end + 1
            }
        }
        return lines
    }

    /// A rotation's new access file, written before the log is re-sealed and put in place
    /// after it (`rotate`): lines wrapping a new key appear only with the records under it.
    static func pendingFile(of location: EnvironmentLocation) -> String { file(of: location) + ".pending" }

    /// Settles a rotation a crash interrupted (or waits for one under way in another process):
    /// under the log's exclusive lock, a pending access file whose new key the log's records
    /// are sealed under goes in place; one whose re-seal never happened is removed. Our own
    /// rotation under way (this process holds the lock) is left alone. Best effort: a log
    /// that cannot be locked here (read-only media) is read as it stands.
    static func settlePending(_ location: EnvironmentLocation) {
        let pending = pendingFile(of: location)
        guard FileSystem.exists(pending), let log = try? VaultLog(path: location.logFile), !log.isLockedByThisProcess else { return }
        _ = try? log.withLock(exclusive: true) { () throws(any Error) -> Void in
            guard FileSystem.exists(pending) else { return }  // the rotation finished while we waited
            func keyIDs(_ path: String) -> [UInt32] {
                guard !FileSystem.isSymbolicLink(path), let bytes = try? FileSystem.readSmallFile(path, maximumBytes: maximumBytes) else { return [] }
                return lines(of: bytes).compactMap { AccessEntry.parse($0)?.keyID }
            }
            // A key switch a crash interrupted is the vault's to finish first (it decides by
            // the log and the retired keys file); this waits for its outcome.
            guard Environment.pendingKeyID(location) == nil else { return }
            let before = keyIDs(file(of: location))
            let new = keyIDs(pending).filter { !before.contains($0) }
            // The key file already holds the new key (the switch completed), or records are under it.
            var resealed = Environment.currentKeyID(location).map { new.contains($0) } ?? false
            _ = try log.reopenIfReplaced()
            _ = try log.scan(from: 0) { line in
                if case .success(.record(let header)) = line.parsed, new.contains(header.keyID) { resealed = true }
            }
            if resealed {
                try FileSystem.renameReplacing(pending, to: file(of: location))
                try FileSystem.syncDirectory(containing: pending)
            } else {
                try FileSystem.remove(pending)
            }
        }
    }

    /// The largest access file read: 4 MiB, some 10,000 lines (a team's, with every rotation).
    static let maximumBytes = 4 << 20

    /// An entry opened with one of our identities and checked by the key it wraps.
    struct Grant {
        let entry: AccessEntry
        /// The bundle: the entry's key first, then the keys retired before it.
        let keys: [EnvironmentKeys]
        /// The revocation ids the bundle lists (version 2): keys removals revoked, which its
        /// author may never have held.
        let revoking: [[UInt8]]
        /// Whether the line's author (named in it) wrote it, as our identity can tell.
        let authored: Bool
        /// Whether the bundle holds `key` itself: the same bytes, not only the same key id
        /// (4 public bytes, which a forger can match by trying keys).
        func holds(_ key: EnvironmentKeys) -> Bool { keys.contains { $0.keyID == key.keyID && $0.master.constantTimeEquals(key.master) } }
    }

    /// The grants of the scope `id` to `identities`.
    static func grants(_ entries: [AccessEntry], id: EnvironmentID, identities: [Identity]) -> [Grant] {
        var grants: [Grant] = []
        for entry in entries where entry.environment == id {
            for identity in identities where identity.recipient.text == entry.recipient {
                guard let opened = identity.open(entry.sealed), let bundle = EnvironmentKeys.parts(ofBundle: opened, version: entry.version),
                    entry.isChecked(by: bundle.keys[0])
                else { continue }
                grants.append(Grant(entry: entry, keys: bundle.keys, revoking: bundle.revoking, authored: entry.isAuthored(for: identity)))
            }
        }
        return grants
    }

    /// What the access file gives a scope: its current key, the keys to read older records
    /// with, and the keys a removal retired: a removed member holds them, so no record under
    /// them is believed any more (the removal re-sealed every record it could read); they
    /// still check the access file's lines.
    public struct Granted: Sendable {
        public let current: EnvironmentKeys
        public let retired: [EnvironmentKeys]
        public let revoked: [EnvironmentKeys]
        /// The revocation ids of every key known to be revoked, held or not: what bundles this
        /// member writes pass on (`EnvironmentKeys.revocationID`).
        public let revokedIDs: [[UInt8]]
        /// Set when the current key is still held by someone a removal on another branch left
        /// out (two removals merged); nil otherwise.
        public let exposure: Exposure?
    }

    /// A grant followed from keys held: what `persist` keeps.
    struct Followed: Sendable {
        let granted: Granted
        let held: [EnvironmentKeys]
    }

    /// Two removals made on two branches and merged: each branch's key is still held by the
    /// member the other branch removed. Reads go on (both branches' records open); writes are
    /// refused until a member both branches kept rotates the key (`rekey`, or `access
    /// remove`), leaving out every `removed` member and keeping the members of `heads`.
    public struct Exposure: Sendable, Equatable {
        /// One member a removal on another branch left out, who holds our current key.
        public struct Removed: Sendable, Equatable {
            public let name: String
            public let recipient: String
            /// The member who removed them (named in the rotation's lines).
            public let removedBy: String
        }
        public let removed: [Removed]
        /// The recipients the rotation that settles it leaves out: those `removed`, and those
        /// our own branch removed, who hold another branch's key.
        public let excluded: [String]
        /// The other branches' newest keys.
        public let heads: [EnvironmentKeys]

        public static func == (a: Exposure, b: Exposure) -> Bool {
            a.removed == b.removed && a.excluded == b.excluded && a.heads.map(\.keyID) == b.heads.map(\.keyID)
        }
    }

    /// The keys the access file grants this process's identities for the scope `id`; nil
    /// when it changes nothing (`held`: the keys already held, a key file's current key first,
    /// which anchor the trust; see the type's notes and the spec's *Team access*).
    ///
    /// From the anchor (the held key, else each grant's own key), rotations are followed: a
    /// bundle `[K, P, …]` moves a reader at `P` to `K` when its line is authenticated by its
    /// author and that author was a member at `P` (a line checked under `P` for them), unless
    /// another rotation from `P` left that author out (a removed member rotating on his own).
    /// Two rotations from `P` that each left out the other's author are a conflict for people
    /// to settle.
    public static func grantedKeys(
        _ location: EnvironmentLocation, id: EnvironmentID, held heldKeys: [EnvironmentKeys]
    ) throws(VaultError) -> Granted? {
        guard FileSystem.exists(file(of: location)) else { return nil }
        settlePending(location)
        let bytes = try currentBytes(location)  // read once, for the check below and the parse
        // The everyday read of a member with one key: no line of this scope names another key,
        // so nothing can change; said from two fields of each line, before any is parsed whole.
        if heldKeys.count == 1, !FileSystem.exists(pendingFile(of: location)) {
            let uuid = Array(id.description.utf8), held = Array(Hex.string(heldKeys[0].keyID, width: 8).utf8)
            // Over the bytes, field by field: no `String` per line, and no generic collection
            // code the runtime would look conformances up for on every start.
            var other = false, field = 0, start = 0
            for (index, byte) in bytes.enumerated() where byte == 0x20 || byte == 0x0A {
                if byte == 0x20 {
                    if field == 2, !bytes[start..<index].elementsEqual(uuid) { field = -1 }  // another scope's line
                    if field == 3, !bytes[start..<index].elementsEqual(held) { other = true }
                    if field >= 0 { field += 1 }
                } else {
                    field = 0
                }
                start = index + 1
                if other { break }
            }
            if !other { return nil }
        }
        let lines = parse(bytes).filter { $0.environment == id }
        guard !lines.isEmpty else { return nil }
        // With keys held, a line for a retired key we hold wraps nothing new: those are not
        // opened; they still count as membership lines below. Our line for the current key is
        // opened (one X25519): its bundle tells the keys before ours, which our key files
        // may no longer hold (revoked keys are dropped from them).
        let unopened = lines.filter { line in !heldKeys.dropFirst().contains { $0.keyID == line.keyID } }
        let identities = unopened.isEmpty ? [] : (heldKeys.isEmpty ? try Identities.load() : ((try? Identities.load()) ?? []))
        let all = grants(unopened, id: id, identities: identities)
        // The members at a key: the recipients of the lines under it that it checks; `until`, of
        // those written no later (a rotation's own lines carry its time: someone added back
        // afterwards was still left out by it).
        var membersCache: [(key: EnvironmentKeys, lines: [AccessEntry])] = []
        func membersAt(_ key: EnvironmentKeys, until time: String? = nil) -> [String] {
            let checked: [AccessEntry]
            if let cached = membersCache.first(where: { same($0.key, key) }) {
                checked = cached.lines
            } else {
                checked = lines.filter { $0.keyID == key.keyID && $0.isChecked(by: key) }
                membersCache.append((key, checked))
            }
            return checked.filter { line in time.map { line.time <= $0 } ?? true }.map(\.recipient)
        }
        // Every authenticated rotation: a bundle `[K, P1, P2, …]` rotates to K from each key
        // it holds whose members its author was one of (so a rekey that settles two merged
        // branches, holding both of their keys, moves the readers of each).
        struct Rotation {
            let parent: EnvironmentKeys, child: EnvironmentKeys
            /// The line's author, who removed whom (`addedBy`), and when.
            let grant: AccessEntry
            let leftOut: [String]
            /// The keys retired before `parent` (after it in the bundle): a removed member was
            /// given them too.
            let older: [EnvironmentKeys]
            /// The revocation ids its bundle lists: keys revoked before it, which its author may
            /// never have held (someone who joined after a removal).
            let revoking: [[UInt8]]
        }
        // Revocation ids, derived once per key (only when some bundle lists ids).
        let anyRevoking = all.contains { !$0.revoking.isEmpty }
        var revocationIDs: [(key: EnvironmentKeys, id: [UInt8])] = []
        func revocationID(_ key: EnvironmentKeys) -> [UInt8] {
            if let known = revocationIDs.first(where: { same($0.key, key) }) { return known.id }
            let id = key.revocationID
            revocationIDs.append((key, id))
            return id
        }
        // Whether a bundle retires `key`: holds it after its first key, or lists its id.
        func retires(_ keys: ArraySlice<EnvironmentKeys>, _ revoking: [[UInt8]], _ key: EnvironmentKeys) -> Bool {
            keys.contains { same($0, key) } || (!revoking.isEmpty && revoking.contains(revocationID(key)))
        }
        var rotations: [Rotation] = []
        for grant in all where grant.keys.count >= 2 && grant.authored {
            let child = grant.keys[0]
            let after = membersAt(child, until: grant.entry.time)
            for (position, parent) in grant.keys.enumerated().dropFirst() where membersAt(parent).contains(grant.entry.author) {
                // A bundle holding its own key again is no rotation from it (a genuine one never does).
                guard !same(parent, child), !rotations.contains(where: { same($0.parent, parent) && same($0.child, child) }) else { continue }
                rotations.append(
                    Rotation(
                        parent: parent, child: child, grant: grant.entry, leftOut: membersAt(parent).filter { !after.contains($0) },
                        older: Array(grant.keys[(position + 1)...]), revoking: grant.revoking))
            }
        }
        // The keys the rotations `along` lead to from `starts` (the starts included, once each),
        // never through `avoiding`; `reached` is whether one of them is a key `goal` accepts (the
        // search stops there). One search for every question the walk asks of the rotations.
        func search(
            from starts: [EnvironmentKeys], along edges: [Rotation], avoiding: [EnvironmentKeys] = [],
            goal: (EnvironmentKeys) -> Bool = { _ in false }
        ) -> (keys: [EnvironmentKeys], reached: Bool) {
            var found: [EnvironmentKeys] = []
            for key in starts where !found.contains(where: { same($0, key) }) {
                found.append(key)
                if goal(key) { return (found, true) }
            }
            var grew = true
            while grew {
                grew = false
                for rotation in edges
                where found.contains(where: { same($0, rotation.parent) }) && !found.contains(where: { same($0, rotation.child) })
                    && !avoiding.contains(where: { same($0, rotation.child) })
                {
                    found.append(rotation.child)
                    if goal(rotation.child) { return (found, true) }
                    grew = true
                }
            }
            return (found, false)
        }
        // Whether rotations (counted or not) lead from `start` to `goal`, never through `avoiding`.
        func leads(from start: EnvironmentKeys, to goal: EnvironmentKeys, avoiding: [EnvironmentKeys] = []) -> Bool {
            search(from: [start], along: rotations, avoiding: avoiding) { same($0, goal) }.reached
        }
        // Our own way: the keys we hold and the older keys our current key's bundles hold
        // (written by someone holding the current key). A rotation between two of them is one
        // we already followed: it counts whatever else was written since.
        var vouched = heldKeys
        if let first = heldKeys.first { for grant in all where same(grant.keys[0], first) { vouched += Array(grant.keys.dropFirst()) } }
        // Only to a key we hold: whoever holds our current key could write any key into a
        // bundle, so a bundle's keys are parents here, never children.
        // Never a step back (rotations lead from its new key to its parent): when the key we
        // hold is an old one, a removed member holds it too, and can write a line under it that
        // calls a later key older, to make his rotation from there back into ours count.
        func isAlreadyFollowed(_ rotation: Rotation) -> Bool {
            heldKeys.contains { same($0, rotation.child) } && vouched.contains { same($0, rotation.parent) }
                && !leads(from: rotation.child, to: rotation.parent)
        }
        // Any other rotation counts unless another from the same key, or from a later one whose
        // bundle retires that key (holds it, or lists its revocation id), left its author out: a
        // removed member rotating on his own from a key he held (including one retired before
        // he was removed, which whoever removed him may never have held: a revocation id tells
        // it without the key). Any contester stops it, counted or not: a key named "later" by a
        // bundle is only the bundle's word, and a removed member can write one (a key of his
        // own, holding the key he was removed from, with lines under it for the remover) that
        // contests the genuine removal. So two rotations that each left out the other's author
        // stay a conflict, never a choice.
        func retires(_ rotation: Rotation, _ key: EnvironmentKeys) -> Bool { retires(rotation.older[...], rotation.revoking, key) }
        func contests(_ other: Rotation, _ rotation: Rotation) -> Bool {
            // From a key the other retires: a competitor, unless this rotation is a step on the
            // way to the other: its new key is the other's parent, or one the other retires from
            // which rotations lead on to the other's parent without coming back through this
            // one's parent. Not merely one it retires: a removed member's rotation back into an
            // older key he held is retired by the later removal's bundle too (and from that older
            // key the genuine rotations lead on, through the key he rotated from).
            let isStep = same(rotation.child, other.parent)
                || (retires(other, rotation.child) && leads(from: rotation.child, to: other.parent, avoiding: [rotation.parent]))
            let fromRetired = retires(other, rotation.parent) && !isStep
            // Its author was left out by the other, or (when the other left anyone out: a removal)
            // is no member at the other's key: a removed member holding an old key can make
            // members of his own there (lines under it for identities of his), whom the
            // removal could not leave out by name.
            return (same(other.parent, rotation.parent) || fromRetired) && !same(other.child, rotation.child)
                && (other.leftOut.contains(rotation.grant.author) || (!other.leftOut.isEmpty && !membersAt(other.child).contains(rotation.grant.author)))
        }
        let accepted = rotations.filter { rotation in isAlreadyFollowed(rotation) || !rotations.contains { contests($0, rotation) } }
        // A key a counted rotation that left someone out revokes: its parent, and the keys its
        // bundle retired before it (see `revoked` below).
        var revokedByRotations: [EnvironmentKeys] = []
        for rotation in accepted where !rotation.leftOut.isEmpty {
            for key in [rotation.parent] + rotation.older where !revokedByRotations.contains(where: { same($0, key) }) {
                revokedByRotations.append(key)
            }
        }
        // Whether counted rotations lead from `start`, never through `way`, to a key no removal
        // revoked: a way on to a key members hold now.
        func leadsOn(from start: EnvironmentKeys, avoiding way: [EnvironmentKeys]) -> Bool {
            search(from: [start], along: accepted, avoiding: way) { key in !revokedByRotations.contains { same($0, key) } }.reached
        }
        // The walk: from a key, along counted rotations. Never back to a key already on the way
        // (genuine rotations go to new keys; a step back is a removed member's rotation into a
        // key he held). Where several lead on, those that reach a key no removal revoked first
        // (a removed member's rotation back into an older key leads nowhere else), then the
        // newest.
        func walk(from start: EnvironmentKeys) throws(VaultError) -> [EnvironmentKeys] {
            var way = [start]
            while way.count < 10_000 {
                let at = way[way.count - 1]
                let from = rotations.filter { same($0.parent, at) }
                guard !from.isEmpty else { break }
                let counted = accepted.filter { same($0.parent, at) }
                guard !counted.isEmpty else {
                    let shown = Array(from.prefix(2))
                    throw .accessConflict(environment: id, keyIDs: shown.map(\.child.keyID), addedBy: shown.map(\.grant.addedBy))
                }
                let onward = counted.filter { rotation in !way.contains { same($0, rotation.child) } }
                let leading = onward.filter { leadsOn(from: $0.child, avoiding: way) }
                // Only steps back count from here: no genuine history makes that, so a conflict.
                guard let next = (leading.isEmpty ? onward : leading).max(by: { ($0.grant.time, $0.child.keyID) < ($1.grant.time, $1.child.keyID) })
                else {
                    throw .accessConflict(environment: id, keyIDs: [at.keyID, counted[0].child.keyID], addedBy: ["-", counted[0].grant.addedBy])
                }
                way.append(next.child)
            }
            return way
        }
        // Every key counted rotations lead to from `starts` (the starts included, once each).
        func reach(from starts: [EnvironmentKeys]) -> [EnvironmentKeys] { search(from: starts, along: accepted).keys }
        var lineage: [EnvironmentKeys]
        if let held = heldKeys.first {
            lineage = try walk(from: held)
        } else {
            // No key held: each grant's own key is a place to start, unless the grant claims a
            // rotation that does not count (a removed member's key, ours inside). The walks
            // must agree: all end at one key, or one start reaches every other (two branches'
            // keys, merged: the walk from their common key chooses). Otherwise a bundle
            // unrelated to the others is a conflict, never a guess.
            var starts: [EnvironmentKeys] = []
            var passedOver: [Grant] = []
            for grant in all where !starts.contains(where: { same($0, grant.keys[0]) }) {
                let claimed = rotations.contains { same($0.child, grant.keys[0]) }
                if claimed, !accepted.contains(where: { same($0.child, grant.keys[0]) }) {
                    passedOver.append(grant)
                    continue
                }
                starts.append(grant.keys[0])
            }
            guard !starts.isEmpty else { return nil }
            let walks = try starts.map { start throws(VaultError) in try walk(from: start) }
            let end = walks[0][walks[0].count - 1]
            if walks.allSatisfy({ same($0[$0.count - 1], end) }) {
                lineage = walks.max { $0.count < $1.count }!
            } else if let root = starts.first(where: { start in let found = reach(from: [start]); return starts.allSatisfy { key in found.contains { same($0, key) } } }) {
                lineage = try walk(from: root)
            } else {
                let other = walks.first { !same($0[$0.count - 1], end) }!
                let ends = [end, other[other.count - 1]]
                throw .accessConflict(
                    environment: id, keyIDs: ends.map(\.keyID),
                    addedBy: ends.map { key in all.first { same($0.keys[0], key) }?.entry.addedBy ?? "-" })
            }
            // A grant passed over must be one the chosen walk knows of: its key, or one its bundle
            // retires, is a key the walk reaches or one their bundles retire (held or named), or
            // it lists the id of one. Otherwise the keys passed over may be the genuine ones (a
            // removed member's rotations contesting every rotation into them) and the walk his:
            // refused, never guessed. Not proof against a removed member who also writes into his
            // bare key's bundle an old key he holds (vault-format.md, *Not protected yet*).
            let reachedHere = reach(from: lineage)
            var knownKeys = reachedHere, knownIDs: [[UInt8]] = []
            for grant in all where reachedHere.contains(where: { same($0, grant.keys[0]) }) {
                knownKeys += grant.keys.dropFirst()
                knownIDs += grant.revoking
            }
            for grant in passedOver {
                let known = grant.keys.contains { key in knownKeys.contains { same($0, key) } || (!knownIDs.isEmpty && knownIDs.contains(revocationID(key))) }
                    || (!grant.revoking.isEmpty && knownKeys.contains { grant.revoking.contains(revocationID($0)) })
                if !known {
                    let end = lineage[lineage.count - 1]
                    throw .accessConflict(
                        environment: id, keyIDs: [end.keyID, grant.keys[0].keyID],
                        addedBy: [all.first { same($0.keys[0], end) }?.entry.addedBy ?? "-", grant.entry.addedBy])
                }
            }
        }
        let current = lineage[lineage.count - 1]
        // The keys before ours: the walk's, and the older keys our current key's own bundles
        // hold (written by someone holding the current key, so vouched for). Not our retired
        // keys as such: a retired keys file may hold another branch's key (read, not followed).
        var behind = Array(lineage.dropLast())
        for grant in all where same(grant.keys[0], current) { behind += Array(grant.keys.dropFirst()) }
        // Keys to read with: those reached from a key of ours by counted rotations, the walk's
        // and those of other branches from the same keys (two rotations on two branches,
        // merged: both branches' records read).
        let reached = reach(from: lineage + heldKeys + behind)
        // Two removals on two branches, merged: a counted rotation off our way, from a key behind
        // ours, left out someone who holds our current key. Writes wait for a rotation that
        // leaves them out (`Exposure`).
        let ours = membersAt(current)
        // A rotation on our way: from a key behind ours to ours or one behind it.
        func isOurWay(_ rotation: Rotation) -> Bool {
            behind.contains { same($0, rotation.parent) } && (same(rotation.child, current) || behind.contains { same($0, rotation.child) })
        }
        var removed: [Exposure.Removed] = []
        var heads: [EnvironmentKeys] = []
        for rotation in accepted
        where behind.contains(where: { same($0, rotation.parent) }) && !same(rotation.child, current)
            && !behind.contains(where: { same($0, rotation.child) })
        {
            // Someone it left out holds our key; or someone our way left out holds its key
            // (a removal here, a plain rekey there).
            var exposed = rotation.leftOut.filter { ours.contains($0) }.map { ($0, rotation) }
            let theirs = membersAt(rotation.child)
            for ourRotation in accepted where isOurWay(ourRotation) {
                exposed += ourRotation.leftOut.filter { theirs.contains($0) && !ours.contains($0) }.map { ($0, ourRotation) }
            }
            guard !exposed.isEmpty else { continue }
            for (recipient, by) in exposed where !removed.contains(where: { $0.recipient == recipient }) {
                let name = lines.first { $0.recipient == recipient && $0.keyID == by.parent.keyID }?.name ?? recipient
                removed.append(Exposure.Removed(name: name, recipient: recipient, removedBy: by.grant.addedBy))
            }
            // The other branch's newest key: its members are kept by the rotation that settles it.
            if !accepted.contains(where: { same($0.parent, rotation.child) }), !heads.contains(where: { same($0, rotation.child) }) {
                heads.append(rotation.child)
            }
        }
        // Who the rotation that settles it leaves out: everyone a rotation off our way left out,
        // and everyone one on our way left out and nobody added back to our key.
        var excluded: [String] = []
        if !removed.isEmpty {
            for rotation in accepted where behind.contains(where: { same($0, rotation.parent) }) {
                let onOurWay = isOurWay(rotation)
                for recipient in rotation.leftOut where !excluded.contains(recipient) && (!onOurWay || !ours.contains(recipient)) {
                    excluded.append(recipient)
                }
            }
        }
        let exposure = removed.isEmpty ? nil : Exposure(removed: removed, excluded: excluded, heads: heads)
        // A key a counted rotation from it left someone out of is revoked: that member holds it,
        // so no record under it is believed any more (the rotation re-sealed what it read).
        // Wherever it is: a bundle given to us may carry it.
        // Never the current key: a walk that ends at a key a counted rotation revoked (or one
        // a believed bundle names as revoked, below) was led back into a key a removed member
        // holds, by a rotation of his own into it; refused, as a conflict for people to settle.
        func refuseRevokedCurrent(by key: EnvironmentKeys, addedBy: String) throws(VaultError) {
            let ours = all.first { same($0.keys[0], current) }?.entry.addedBy ?? "-"
            throw .accessConflict(environment: id, keyIDs: [current.keyID, key.keyID], addedBy: [ours, addedBy])
        }
        if revokedByRotations.contains(where: { same($0, current) }) {
            let by = accepted.first { rotation in !rotation.leftOut.isEmpty && ([rotation.parent] + rotation.older).contains { same($0, current) } }
            try refuseRevokedCurrent(by: by?.child ?? current, addedBy: by?.grant.addedBy ?? "-")
        }
        var revoked = revokedByRotations
        // The revocation ids the bundles of keys reached and not revoked list (only someone
        // holding such a key can write its lines), gathered once, revoke the keys they name
        // too: a key a removal revoked, which this reader holds but whose revoking rotation it
        // cannot see (someone added back was left out of it). Not while two removals merged
        // are unsettled (`Exposure`): our own key is then held by someone removed, and lines he
        // writes under it must not take records away from the reader who settles it. Never the
        // current key: a believed bundle naming it means the walk was led back (refused).
        var revokedIDs: [[UInt8]] = []
        if exposure == nil {
            let currentID = anyRevoking ? revocationID(current) : []
            for grant in all
            where reached.contains(where: { same($0, grant.keys[0]) }) && !revoked.contains(where: { same($0, grant.keys[0]) }) {
                if grant.revoking.contains(currentID) { try refuseRevokedCurrent(by: grant.keys[0], addedBy: grant.entry.addedBy) }
                for id in grant.revoking where !revokedIDs.contains(id) { revokedIDs.append(id) }
            }
        }
        func revokeNamed(_ keys: [EnvironmentKeys]) {
            guard !revokedIDs.isEmpty else { return }
            for key in keys where !same(key, current) && !revoked.contains(where: { same($0, key) }) && revokedIDs.contains(revocationID(key)) {
                revoked.append(key)
            }
        }
        revokeNamed(lineage + reached + heldKeys)
        // Older keys a bundle carries (records merged in from before a rotation) are believed
        // from the bundles of keys reached and not revoked: only someone holding such a key
        // can write its lines. A bundle for a key no counted rotation reaches is not ours to
        // believe, whatever older keys it holds (a removed member's own key, with ours inside).
        var known = reached
        for grant in all
        where reached.contains(where: { same($0, grant.keys[0]) }) && !revoked.contains(where: { same($0, grant.keys[0]) }) {
            for key in grant.keys where !known.contains(where: { same($0, key) }) { known.append(key) }
        }
        revokeNamed(known)
        for key in revoked where !revokedIDs.contains(revocationID(key)) { revokedIDs.append(revocationID(key)) }
        var retired: [EnvironmentKeys] = []
        for key in lineage.reversed() + known
        where !same(key, current) && !revoked.contains(where: { same($0, key) }) && !retired.contains(where: { same($0, key) }) {
            retired.append(key)
        }
        if let held = heldKeys.first, same(held, current), revoked.isEmpty, revokedIDs.isEmpty, exposure == nil, retired.count == heldKeys.count - 1 {
            return nil
        }
        return Granted(current: current, retired: retired, revoked: revoked, revokedIDs: revokedIDs, exposure: exposure)
    }

    /// Keeps what the access file taught a reader with a key file in its own key files: the
    /// current key in the key file, the keys to read older records with in the retired keys
    /// file, revoked keys dropped. From then on a rotation it followed cannot be undone by
    /// lines taken out of the access file (anyone who can push can take lines out), and a key
    /// a removed member holds is not the reader's any more. Written as a rekey writes them
    /// (`.new` files, renamed retired first; a crash is completed by whoever opens the vault
    /// next, as for a rekey), under the log's exclusive lock, and only while the key file
    /// still holds `held[0]` (another process may have moved it first). Best effort: a log
    /// that cannot be locked (read-only media), a passphrase-protected key file (its key is
    /// the passphrase's), a symbolic link or a key in a variable keep what they hold, and the
    /// grant is used from memory. Returns false when it could not be done now because this
    /// process holds the log's lock (a rekey under way here, or `Vault.openForReading`
    /// scanning the log in a thread while it opens the environment): the caller may try again
    /// once the lock is released.
    @discardableResult
    static func persist(_ granted: Granted, held: [EnvironmentKeys], location: EnvironmentLocation) -> Bool {
        guard case .scopeFile(let keyFile) = location.keySource, let first = held.first, !FileSystem.isSymbolicLink(keyFile) else { return true }
        let moved = !same(granted.current, first)
        let dropped = held.dropFirst().contains { key in granted.revoked.contains { same($0, key) } }
        guard moved || dropped, !isPassphraseProtected(keyFile), let log = try? VaultLog(path: location.logFile) else { return true }
        guard !log.isLockedByThisProcess else { return false }
        _ = try? log.withLock(exclusive: true) { () throws(any Error) -> Void in
            let pending = keyFile + ".new"
            guard Environment.currentKeyID(location) == first.keyID, !FileSystem.exists(pending) else { return }
            let retiredFile = Environment.retiredKeysFile(location), pendingRetired = retiredFile + ".new"
            try Environment.ignoreInGit(keyFile: retiredFile)
            try Environment.ignoreInGit(keyFile: pendingRetired)
            let retired = Array(granted.retired.prefix(Vault.retiredKeysKept))
            let contents = retired.isEmpty ? nil : Environment.retiredKeysFileContents(retired.map(\.master), current: granted.current)
            if !moved {
                // The same key: only the retired keys file changes, replaced whole.
                if let contents { try FileSystem.replaceAtomically(retiredFile, mode: 0o600, contents: contents) } else { try FileSystem.remove(retiredFile) }
                return
            }
            try FileSystem.remove(pendingRetired)
            if let contents { _ = try FileSystem.createExclusively(pendingRetired, mode: 0o600, contents: contents) }
            guard try KeyMaterial(keys: granted.current, fileContents: granted.current.master, isPassphrase: false).write(to: pending) else { return }
            try Environment.finishKeySwitch(location, newKeys: granted.current)
            try FileSystem.syncDirectory(containing: keyFile)
        }
        return true
    }

    /// The same key: id and bytes.
    static func same(_ a: EnvironmentKeys, _ b: EnvironmentKeys) -> Bool { a.keyID == b.keyID && a.master.constantTimeEquals(b.master) }

    /// Whether the access file grants this process's identities a key for `id` (errors
    /// count as no).
    public static func grants(_ location: EnvironmentLocation, id: EnvironmentID) -> Bool {
        ((try? grantedKeys(location, id: id, held: [])) ?? nil) != nil
    }

    /// Writes the key the access file grants our identity for `environment` (opened
    /// through that grant) to the scope's key file, and its other keys to the retired keys
    /// file, as `init` does in a teammate's clone: from then on the key file anchors our
    /// trust, and lines written later without the key can never change which key we use.
    public static func adopt(_ environment: Environment) throws(VaultError) {
        guard case .scopeFile(let path) = environment.location.keySource, !FileSystem.exists(path) else { return }
        if !environment.retiredKeys.isEmpty {
            let sealed = Environment.retiredKeysFileContents(environment.retiredKeys.map(\.master), current: environment.keys)
            try system { () throws(SystemError) in
                try FileSystem.replaceAtomically(Environment.retiredKeysFile(environment.location), mode: 0o600, contents: sealed)
            }
        }
        try KeyMaterial(keys: environment.keys, fileContents: environment.keys.master, isPassphrase: false).write(to: path)
    }

    // MARK: Changing who has access

    /// One member of a scope as the access file has them.
    public struct Member: Sendable {
        public let name: String
        public let recipient: String
        public let fingerprint: String
        public let addedBy: String
        public let time: String
        /// Whether an entry wraps the scope's current key for them (else only older keys:
        /// they read what was written before the rotation that left them out). With two
        /// removals merged (`Exposure`), the other branches' newest keys count as current too.
        public let hasCurrentKey: Bool
    }

    /// The scope's members: every name with an entry whose check a key we hold made, newest
    /// entry of each; entries no key of ours checks are counted in `unverified`.
    public static func members(of environment: Environment) throws(VaultError) -> (members: [Member], unverified: Int) {
        members(of: environment, among: try entries(environment.location))
    }

    /// `members(of:)` from the access file's `entries`, read already.
    static func members(of environment: Environment, among entries: [AccessEntry]) -> (members: [Member], unverified: Int) {
        var newest: [(AccessEntry, Bool)] = []
        var unverified = 0
        let heads = [environment.keys] + (environment.exposure?.heads ?? [])
        for entry in entries where entry.environment == environment.id {
            guard let keys = environment.accessKeys(for: entry.keyID), entry.isChecked(by: keys) else {
                unverified += 1
                continue
            }
            let current = heads.contains { same($0, keys) }
            if let index = newest.firstIndex(where: { $0.0.name == entry.name && $0.0.recipient == entry.recipient }) {
                newest[index] = (current || !newest[index].1) ? (entry, current) : newest[index]
            } else {
                newest.append((entry, current))
            }
        }
        let members = newest.map { entry, current in
            Member(
                name: entry.name, recipient: entry.recipient, fingerprint: Recipient.parse(entry.recipient, checkingUsable: false)?.recipient.fingerprint ?? entry.recipient,
                addedBy: entry.addedBy, time: entry.time, hasCurrentKey: current)
        }
        return (members.sorted { $0.name < $1.name }, unverified)
    }

    /// Our own name among `members` (the member whose recipient is one of `identities`), or `-`.
    static func ownName(among members: [Member], identities: [Identity]) -> String {
        members.first { member in identities.contains { $0.recipient.text == member.recipient } }?.name ?? "-"
    }

    /// Appends entries to the access file under the log's exclusive lock: the file is
    /// replaced whole (a temporary beside it, synced, renamed), so a crash leaves the old
    /// file or the new one.
    static func append(_ added: [AccessEntry], to location: EnvironmentLocation) throws(VaultError) {
        var bytes = try currentBytes(location)
        for entry in added { bytes += entry.line }
        try system { () throws(SystemError) in try FileSystem.replaceAtomically(file(of: location), mode: 0o644, contents: bytes) }
    }

    /// The access file's bytes now, ending with a line end (none when there is no file).
    static func currentBytes(_ location: EnvironmentLocation) throws(VaultError) -> [UInt8] {
        let path = file(of: location)
        guard FileSystem.exists(path) else { return [] }
        // Never followed: a link committed in its place could point at anything of the reader's
        // (an identity file), which a write would then copy into the repository.
        guard !FileSystem.isSymbolicLink(path) else { throw .invalidAccessFile(path: path, reason: "it is a symbolic link") }
        var bytes = try system { () throws(SystemError) in try FileSystem.readSmallFile(path, maximumBytes: maximumBytes) }
        if let last = bytes.last, last != 0x0A { bytes.append(0x0A) }
        return bytes
    }

    /// Wraps the scope's keys to `recipient` as `name`. Needs the scope's key (a read of it
    /// must work); a name already given to another recipient is refused.
    public static func add(
        _ recipient: Recipient, name: String, to vault: Vault, now: String
    ) throws(VaultError) -> Bool {
        guard AccessEntry.isValidName(name) else { throw .invalidMemberName(name) }
        return try vault.locked(exclusive: true) { () throws(VaultError) -> Bool in
            try vault.refreshLocked()
            try vault.requireOurKey()
            let environment = vault.environment
            let all = try entries(environment.location)  // read once: the members, and the lines of whoever is added back
            let current = members(of: environment, among: all).members
            // A name is taken by a member holding the current key: lines under an older key
            // (a removed member can write those) hold no name.
            if let other = current.first(where: { $0.name == name && $0.recipient != recipient.text && $0.hasCurrentKey }) {
                throw .memberNameTaken(name: name, fingerprint: other.fingerprint)
            }
            if let same = current.first(where: { $0.recipient == recipient.text && $0.hasCurrentKey }) {
                guard same.name == name else { throw .memberNameTaken(name: same.name, fingerprint: recipient.fingerprint) }
                return false
            }
            // Someone added back is given again the revoked keys they were a member at (they
            // hold them anyway), so their line is a rotation from the key their key file may
            // still hold to ours, and they read at once. Nobody else is given a revoked key: a
            // bundle holding a key its author was never a member at would carry it to readers
            // who cannot see the rotation that revoked it, and they would read with it.
            let before = all.filter { entry in
                entry.environment == environment.id && entry.recipient == recipient.text
                    && environment.revokedKeys.contains { $0.keyID == entry.keyID && entry.isChecked(by: $0) }
            }
            let given = environment.revokedKeys.filter { key in before.contains { $0.keyID == key.keyID } }
            // Every key known to be revoked is named in it, held or not: whoever they remove later
            // contests with it a removed member's rotation from a key they never held.
            let bundle = EnvironmentKeys.bundle(environment.keys, retired: environment.retiredKeys + given, revoking: environment.revokedIDs)
            let identities = (try? Identities.load()) ?? []
            let entry = AccessEntry.make(
                environment: environment.id, keys: environment.keys, bundle: bundle, name: name, recipient: recipient,
                addedBy: ownName(among: current, identities: identities), author: identities.first, time: now)
            try append([entry], to: environment.location)
            return true
        }
    }

    /// Removes `name`: rotates the scope's key (`Vault.rekey`: records re-sealed, the old keys
    /// kept as retired) and wraps the new key for every other member with the current key,
    /// in one step. The entries for the others are written first, then the rekey runs, all
    /// under the log's exclusive lock: a crash between leaves the old key working for all
    /// and entries for a key no record uses yet (members who read them move to it; the
    /// removed member holds no entry for it). Returns the members kept.
    public static func remove(name: String, from vault: Vault, newKey: KeyMaterial, now: String) throws(VaultError) -> [Member] {
        // Checked before anything is written: a refused removal changes nothing.
        if case .scopeFile(let path) = vault.environment.location.keySource, isPassphraseProtected(path) {
            throw .removalNeedsRawKey(keyFile: path)
        }
        return try rotate(vault, excluding: name, newKey: newKey, now: now)
    }

    /// A rekey that keeps the team: the new key wrapped for every member with the current key
    /// (all of them, or all but `excluding`), then the rekey, under one lock. What `rekey`
    /// runs when the scope has members, so that no one is cut off by a rotation.
    public static func rotate(_ vault: Vault, excluding name: String? = nil, newKey: KeyMaterial, now: String) throws(VaultError) -> [Member] {
        guard vault.environment.location.keySource != .environmentVariable else { throw .rekeyNeedsKeyFile }
        return try vault.locked(exclusive: true) { () throws(VaultError) -> [Member] in
            // The scope's keys read again first: two rotations at once run one after the
            // other, the second from the first one's key.
            try vault.refreshLocked()
            if let reopened = Environment.reloaded(vault.environment) {
                vault.environment = reopened
                vault.resolution[0] = reopened
            }
            try vault.requireOurKey()
            let environment = vault.environment
            let list = try members(of: environment).members
            let identities = try Identities.load()  // a rotation is authored: an unreadable identity is the error
            let adder = ownName(among: list, identities: identities)
            if let name {
                guard list.contains(where: { $0.name == name && $0.hasCurrentKey }) else { throw .notAMember(name: name) }
                guard adder != name else { throw .cannotRemoveYourself(name: name) }
            }
            // Two removals merged: everyone either branch removed stays out.
            let removed = environment.exposure?.excluded ?? []
            let kept = list.filter { $0.name != name && $0.hasCurrentKey && !removed.contains($0.recipient) }
            // Members follow a rotation only when a member wrote it (authenticated to each).
            guard let author = identities.first, list.contains(where: { $0.recipient == author.recipient.text && $0.hasCurrentKey }) else {
                throw .rotationNeedsMemberIdentity
            }
            // A rotation that leaves someone out keeps no older key in the key files: the removed
            // member holds them all (a member is given the retired keys when added).
            let leavesSomeoneOut = list.contains { member in member.hasCurrentKey && !kept.contains { $0.recipient == member.recipient } }
            // Every key the scope used, revoked ones too: the history lets each member check
            // older lines and tell which rotations it has already passed. Named as revoked: every
            // key known to be (held or not), and, when it leaves someone out, every key it holds.
            var revoking = environment.revokedIDs
            if leavesSomeoneOut { for key in environment.ring where !revoking.contains(key.revocationID) { revoking.append(key.revocationID) } }
            let bundle = EnvironmentKeys.bundle(newKey.keys, retired: environment.ring + environment.revokedKeys, revoking: revoking)
            var entries: [AccessEntry] = []
            for member in kept {
                guard let recipient = Recipient.parse(member.recipient)?.recipient else { continue }
                entries.append(
                    AccessEntry.make(
                        environment: environment.id, keys: newKey.keys, bundle: bundle, name: member.name, recipient: recipient,
                        addedBy: adder, author: author, time: now))
            }
            // The new lines go in with the re-sealed log, never before it: a line for the new key
            // with the old records still in place would strand them (the old key is revoked).
            let location = environment.location
            let pending = pendingFile(of: location)
            do throws(VaultError) {
                _ = try vault.rekeyLocked(
                    to: newKey,
                    beforeReplacing: { () throws(VaultError) in
                        guard !entries.isEmpty else { return }
                        var bytes = try currentBytes(location)
                        for entry in entries { bytes += entry.line }
                        try system { () throws(SystemError) in try FileSystem.replaceAtomically(pending, mode: 0o644, contents: bytes) }
                    },
                    afterReplacing: { () throws(VaultError) in
                        guard FileSystem.exists(pending) else { return }
                        try system { () throws(SystemError) in
                            try FileSystem.renameReplacing(pending, to: file(of: location))
                            try FileSystem.syncDirectory(containing: pending)
                        }
                    },
                    keepingRetiredKeys: !leavesSomeoneOut)
            } catch {
                try? FileSystem.remove(pending)
                throw error
            }
            return kept
        }
    }

    /// Whether the key file at `path` holds a passphrase's parameters (no key material).
    static func isPassphraseProtected(_ path: String) -> Bool {
        guard let (contents, _) = try? FileSystem.readSecretFile(path, maximumBytes: 4096) else { return false }
        if case .passphrase? = contents.withUnsafeBytes({ KeyFile.parse($0) }) { return true }
        return false
    }
}
