// Reading one secret: resolve a name through the scopes (pipeline → project → global),
// open the newest authentic record, and keep what a long-lived embedder opened.

extension Vault {
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
}
