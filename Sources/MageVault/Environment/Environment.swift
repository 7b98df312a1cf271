/// One environment as Mage has it: a uuid (Mage's `secrets/uuid`, adopted when it exists)
/// and MageVault's key for it (`secrets/vault.key`, 32 random bytes, `0600` in a `0700`
/// folder), plus where its log is.
public final class Environment: Sendable {
    /// Where the files are.
    public let location: EnvironmentLocation
    /// The environment's uuid.
    public let id: EnvironmentID
    /// Its keys, derived from the key file: every record it writes is sealed under them.
    public let keys: EnvironmentKeys
    /// Keys it used before its rekeys (`<key file>.retired`), newest first: records sealed
    /// under them still open, so a branch that wrote with an old key merges without loss.
    public let retiredKeys: [EnvironmentKeys]
    /// Keys a removal retired (see `Access.Granted`): no record under them is believed; they
    /// only check the access file's lines.
    public let revokedKeys: [EnvironmentKeys]
    /// The revocation ids of every key known to be revoked, `revokedKeys`' and those of keys
    /// never held (see `Access.Granted`): the bundles this member writes pass them on.
    public let revokedIDs: [[UInt8]]
    /// Set when two removals made on two branches were merged and the current key is still
    /// held by someone one of them removed: writes are refused until a rotation settles it.
    public let exposure: Access.Exposure?
    /// A rotation this process followed but could not keep in the key files yet, because it
    /// held the log's lock at the time (see `keepFollowedRotation`).
    let unkept: Access.Followed?

    /// Makes an environment from parts already at hand (tests, embedding programs).
    public init(
        location: EnvironmentLocation, id: EnvironmentID, keys: EnvironmentKeys, retiredKeys: [EnvironmentKeys] = [],
        revokedKeys: [EnvironmentKeys] = [], revokedIDs: [[UInt8]] = [], exposure: Access.Exposure? = nil
    ) {
        self.location = location
        self.id = id
        self.keys = keys
        self.retiredKeys = retiredKeys
        self.revokedKeys = revokedKeys
        self.revokedIDs = revokedIDs
        self.exposure = exposure
        self.unkept = nil
    }

    /// The environment the access file's grant describes.
    init(location: EnvironmentLocation, id: EnvironmentID, granted: Access.Granted, unkept: Access.Followed? = nil) {
        self.location = location
        self.id = id
        self.keys = granted.current
        self.retiredKeys = granted.retired
        self.revokedKeys = granted.revoked
        self.revokedIDs = granted.revokedIDs
        self.exposure = granted.exposure
        self.unkept = unkept
    }

    /// Keeps in the key files a rotation followed while this process held the log's lock
    /// (`Vault.openForReading` opens the environment while a thread scans the log).
    func keepFollowedRotation() {
        if let unkept { Access.persist(unkept.granted, held: unkept.held, location: location) }
    }

    /// A key of id `keyID` for checking access file lines: current, retired or revoked.
    public func accessKeys(for keyID: UInt32) -> EnvironmentKeys? {
        keys(for: keyID) ?? revokedKeys.first { $0.keyID == keyID }
    }

    /// Every key this environment holds, the current one first.
    public var ring: [EnvironmentKeys] { [keys] + retiredKeys }

    /// The held key whose id is `keyID`, if any.
    public func keys(for keyID: UInt32) -> EnvironmentKeys? {
        if keys.keyID == keyID { return keys }
        return retiredKeys.first { $0.keyID == keyID }
    }

    /// `scope` read again from its files when its key file now names another key than the
    /// one it holds (another process rekeyed it); nil when the key file is unchanged or
    /// cannot be read now. Reading the key id costs nothing: a raw key's is derived, a
    /// passphrase file names it.
    public static func reloaded(_ scope: Environment) -> Environment? {
        guard let keyID = currentKeyID(scope.location), keyID != scope.keys.keyID else { return nil }
        return try? open(scope.location, create: false)
    }

    /// The retired keys file of a location: beside the key file in use.
    public static func retiredKeysFile(_ location: EnvironmentLocation) -> String { location.keyFile + ".retired" }

    /// Opens the environment at `location`. With `create`, a missing uuid or key file is
    /// created (a uuid file that exists is always adopted, never replaced); without it, a
    /// missing file is an error and nothing is written.
    public static func open(_ location: EnvironmentLocation, create: Bool) throws(VaultError) -> Environment {
        try open(location, create: create, newKey: nil)
    }

    /// `open`, and when the scope has no key file yet, create it from `newKey` (a
    /// passphrase's, say) instead of a random key, without asking for it again.
    public static func open(_ location: EnvironmentLocation, create: Bool, newKey: KeyMaterial?) throws(VaultError) -> Environment {
        if create {
            try system { () throws(SystemError) in
                try FileSystem.makeDirectories(location.secretsDirectory, mode: 0o700)
                try FileSystem.makeDirectories(location.scopeDirectory, mode: 0o700)
            }
            // A uuid file's temporary copy left by a process killed while creating it.
            FileSystem.removeStaleTemporaries(beside: location.uuidFile, olderThan: 60)
            // In a git work tree, the rules that keep keys out of commits come before the key.
            if case .scopeFile(let path) = location.keySource, !FileSystem.exists(path) {
                try ignoreKeyFilesInGit(location)
            }
        }
        // A key file's temporary copy left by a process killed while writing it (a key being
        // created, a rekey's `vault.key.new` or `vault.key.retired.new`) holds key bytes, raw
        // or sealed: remove it once it is surely not another process's write in flight.
        let retired = retiredKeysFile(location)
        FileSystem.removeStaleTemporaries(beside: location.keyFile, location.keyFile + ".new", retired, retired + ".new", olderThan: 60)
        let id = try readOrCreateUUID(location, create: create)
        // No key file here, and the access file grants one of our identities this scope's key
        // (a teammate's clone after 'access add'): read with it; never make a key of our own.
        if case .scopeFile(let path) = location.keySource, !FileSystem.exists(path),
            let granted = try Access.grantedKeys(location, id: id, held: [])
        {
            return Environment(location: location, id: id, granted: granted)
        }
        if create, let newKey, case .scopeFile(let path) = location.keySource, !FileSystem.exists(path), try newKey.write(to: path) {
            return Environment(location: location, id: id, keys: newKey.keys)
        }
        // A rekey in another process may replace the key file and the retired keys file between
        // our two reads: when the retired file does not open, the key file is read again.
        var attempts = 0
        while true {
            let keys = EnvironmentKeys(key: try readOrCreateKey(location, create: create))
            do throws(VaultError) {
                let retired = try readRetiredKeys(location, current: keys)
                // A rotation made by a teammate after removing someone: the access file wraps
                // the new key for us, in a bundle that holds the key we have; what it taught is
                // kept in our key files. Rotations that conflict (a removed member's own,
                // leaving out the remover) are an error, never a fall back to the keys held,
                // which would undo the removal for a member who had not followed it yet. An
                // access file that cannot be read at all (a symbolic link, too large) reads on
                // with the keys held: anyone can commit one, and it must lock no one out.
                var granted: Access.Granted?
                do throws(VaultError) {
                    granted = try Access.grantedKeys(location, id: id, held: [keys] + retired)
                } catch {
                    if case .accessConflict = error { throw error }
                }
                if let granted {
                    let held = [keys] + retired
                    let kept = Access.persist(granted, held: held, location: location)
                    return Environment(location: location, id: id, granted: granted, unkept: kept ? nil : Access.Followed(granted: granted, held: held))
                }
                return Environment(location: location, id: id, keys: keys, retiredKeys: retired)
            } catch .invalidRetiredKeys(let path) {
                attempts += 1
                guard attempts < 3, currentKeyID(location) != keys.keyID else { throw .invalidRetiredKeys(path: path) }
            }
        }
    }

    /// The key id the key file names now (derived for a raw key, read from a passphrase
    /// file), without asking for any passphrase; nil when it cannot be read.
    static func currentKeyID(_ location: EnvironmentLocation) -> UInt32? {
        guard location.keySource != .environmentVariable,
            let (contents, _) = try? FileSystem.readSecretFile(location.keyFile, maximumBytes: 4096)
        else { return nil }
        switch contents.withUnsafeBytes({ KeyFile.parse($0) }) {
        case .raw?: return EnvironmentKeys.keyID(of: contents)
        case .passphrase(_, _, _, let named)?: return named
        case nil: return nil
        }
    }

    /// The keys `<key file>.retired` holds, sealed under `current`. A file that does not
    /// open while a rekey is pending (`<key file>.new`) belongs to that rekey: the vault
    /// completes or rolls it back on opening and reads the file again.
    static func readRetiredKeys(_ location: EnvironmentLocation, current: EnvironmentKeys) throws(VaultError) -> [EnvironmentKeys] {
        let path = retiredKeysFile(location)
        guard FileSystem.exists(path) else { return [] }
        let (contents, mode) = try system { () throws(SystemError) in try FileSystem.readSecretFile(path, maximumBytes: 1 << 20) }
        guard mode & 0o077 == 0 else { throw .insecureKeyFile(path: path, mode: UInt32(mode)) }
        guard let box = contents.withUnsafeBytes({ RetiredKeysFile.parse($0) }),
            let keys = box.withUnsafeBytes({ current.openRetired($0) })
        else {
            if location.keySource != .environmentVariable, FileSystem.exists(location.keyFile + ".new") { return [] }
            throw .invalidRetiredKeys(path: path)
        }
        return keys.map { EnvironmentKeys(key: $0) }
    }

    /// The keys of a pending raw key file (`<key file>.new`, a key switch under way), if any.
    static func pendingKeys(_ location: EnvironmentLocation) -> EnvironmentKeys? {
        guard let contents = pendingKeyFile(location), case .raw? = contents.withUnsafeBytes({ KeyFile.parse($0) }) else { return nil }
        return EnvironmentKeys(key: contents)
    }

    /// The bytes of `<key file>.new` when it is a key switch of ours: private, as every key
    /// file this tool writes, and not tracked by git (one a commit brought, which git checked
    /// out, is no switch of ours to finish: see `GitIndex`).
    private static func pendingKeyFile(_ location: EnvironmentLocation) -> SecureBytes? {
        let path = location.keyFile + ".new"
        guard FileSystem.exists(path), let (contents, mode) = try? FileSystem.readSecretFile(path, maximumBytes: 4096), mode & 0o077 == 0,
            GitIndex.trackingWorkTree(of: EnvironmentLocation.absolute(path)) == nil
        else { return nil }
        return contents
    }

    /// Puts a staged key switch in place (a rekey's, or a rotation kept by `Access.persist`):
    /// the retired keys file first, then the key file. With no `<retired file>.new`, a retired
    /// keys file that does not open under `newKeys` is the old one, sealed under the old key,
    /// and is removed (none is kept); one that does was already renamed in. `newKeys` nil (a
    /// passphrase's pending key, not known here) leaves it as it is.
    static func finishKeySwitch(_ location: EnvironmentLocation, newKeys: EnvironmentKeys?) throws(SystemError) {
        let retiredFile = retiredKeysFile(location), pendingRetired = retiredFile + ".new"
        if FileSystem.exists(pendingRetired) {
            try FileSystem.renameReplacing(pendingRetired, to: retiredFile)
        } else if let newKeys, FileSystem.exists(retiredFile), !retiredKeysOpen(location, under: newKeys) {
            try FileSystem.remove(retiredFile)
        }
        try FileSystem.renameReplacing(location.keyFile + ".new", to: location.keyFile)
    }

    /// Whether the retired keys file exists and opens under `keys`.
    static func retiredKeysOpen(_ location: EnvironmentLocation, under keys: EnvironmentKeys) -> Bool {
        guard let (contents, _) = try? FileSystem.readSecretFile(retiredKeysFile(location), maximumBytes: 1 << 20),
            let box = contents.withUnsafeBytes({ RetiredKeysFile.parse($0) })
        else { return false }
        return box.withUnsafeBytes({ keys.openRetired($0) }) != nil
    }

    /// The bytes of a retired keys file holding `retired` sealed under `current`.
    static func retiredKeysFileContents(_ retired: [SecureBytes], current: EnvironmentKeys) -> [UInt8] {
        RetiredKeysFile.encode(box: current.sealRetired(retired))
    }

    /// The environments a read in `location`'s scope resolves through, nearest first: the
    /// scope itself (opened with `create`), then each parent scope that has a uuid and a key
    /// here (a parent without them has no secrets for us to read). With `readOnly`, a
    /// scope that does not exist yet is skipped too (a new pipeline still sees its project's
    /// and the global secrets); the first environment is then not necessarily the scope
    /// asked for, so such a chain must not be written through.
    public static func resolutionChain(_ location: EnvironmentLocation, create: Bool, readOnly: Bool = false) throws(VaultError) -> [Environment] {
        var chain: [Environment] = []
        do {
            chain.append(try open(location, create: create))
        } catch {
            guard readOnly, location.scope != .global, case .noScope = error else { throw error }
        }
        // Parent by parent (`Scope.resolutionOrder` without building its array: a start that
        // makes no array of scopes leaves that type's metadata unbuilt).
        var next = location.scope.parent
        while let scope = next {
            next = scope.parent
            let parent = location.with(scope: scope)
            guard FileSystem.exists(parent.uuidFile), FileSystem.exists(parent.keyFile) else { continue }
            chain.append(try open(parent, create: false))
        }
        guard !chain.isEmpty else { throw .noScope(location.scope, uuidFile: location.uuidFile) }
        return chain
    }

    /// When the data directory, or the log, is inside a git work tree, makes sure git
    /// ignores what must never be committed: every key file under the data directory
    /// (`vault.key`, `vault.key.new`, the retired keys `vault.key.retired`), their temporary copies (`.vault.key.tmp-*`,
    /// `.vault.key.new.tmp-*`: they hold key bytes while they are written) and the log's
    /// lock file (`<log>.lock`, in the work tree that holds the log). The log itself may be
    /// committed. `init`, `git setup` and the creation of a scope's key call it. Returns the
    /// `.gitignore` files it changed.
    @discardableResult
    public static func ignoreKeyFilesInGit(_ location: EnvironmentLocation) throws(VaultError) -> [String] {
        var rules: [(root: String, patterns: [String])] = []
        if let root = gitWorkTree(containing: location.secretsDirectory) {
            let relative = String(location.secretsDirectory.dropFirst(root.count).drop { $0 == "/" })
            let base = relative.isEmpty ? "" : try GitWorkTree.ignorePattern(relative)
            rules.append((root, [
                "vault.key", "vault.key.new", "vault.key.retired", "vault.key.retired.new", ".vault.key.tmp-*", ".vault.key.new.tmp-*",
                ".vault.key.retired.new.tmp-*", ".vault.key.retired.tmp-*",
            ].map { base + "/**/" + $0 }))
        }
        let lock = location.logFile + ".lock"
        if let root = gitWorkTree(containing: FileSystem.parentDirectory(of: lock)) {
            let pattern = try GitWorkTree.ignorePattern(String(lock.dropFirst(root.count + 1)))
            if let same = rules.firstIndex(where: { $0.root == root }) { rules[same].patterns.append(pattern) } else { rules.append((root, [pattern])) }
        }
        var changed: [String] = []
        for (root, patterns) in rules where try addIgnoreRules(patterns, in: root) { changed.append(root + "/.gitignore") }
        return changed
    }

    /// Before a key file is created at `path`: inside a git work tree, makes sure git ignores
    /// it and its temporary copies, adding rules for exactly them when no rule covers them
    /// yet, and refuses (nothing is created) when git still would not ignore them.
    static func ignoreInGit(keyFile path: String) throws(VaultError) {
        let directory = FileSystem.parentDirectory(of: path)
        guard let root = gitWorkTree(containing: directory), path.hasPrefix(root + "/") else { return }
        let temporary = FileSystem.temporaryPath(beside: path)
        if gitIgnores(path, root: root) == true, gitIgnores(temporary, root: root) == true { return }
        let temporaryPrefix = directory + "/." + FileSystem.baseName(of: path) + ".tmp-"
        _ = try addIgnoreRules(
            [
                try GitWorkTree.ignorePattern(String(path.dropFirst(root.count + 1))),
                try GitWorkTree.ignorePattern(String(temporaryPrefix.dropFirst(root.count + 1))) + "*",
            ], in: root)
        if gitIgnores(path, root: root) == false || gitIgnores(temporary, root: root) == false {
            throw .git(
                "git would not ignore \(path) although \(root)/.gitignore lists it (a later '!' rule?); nothing was created. Make git ignore it, then try again: a key must never be committed")
        }
    }

    /// Whether git ignores `path` in the work tree `root`; nil without git.
    static func gitIgnores(_ path: String, root: String) -> Bool? {
        switch ProgramRunner.status(of: ["git", "-C", root, "check-ignore", "-q", "--no-index", path]) {
        case 0?: true
        case 1?: false
        default: nil
        }
    }

    /// Appends the `patterns` that `root/.gitignore` lacks; whether it changed the file.
    private static func addIgnoreRules(_ patterns: [String], in root: String) throws(VaultError) -> Bool {
        let gitignore = root + "/.gitignore"
        let existing = (try? FileSystem.readSmallFile(gitignore, maximumBytes: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let lines = Set(existing.split(separator: "\n").map(String.init))
        let missing = patterns.filter { !lines.contains($0) }
        guard !missing.isEmpty else { return false }
        var text = existing
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        text += "# MageVault keys, their temporaries and the lock: never commit them (the vault log may be committed)\n"
            + missing.joined(separator: "\n") + "\n"
        try system { () throws(SystemError) in try FileSystem.replaceAtomically(gitignore, mode: 0o644, contents: Array(text.utf8)) }
        return true
    }

    /// Whether git tracks, and whether it ignores, `location`'s key file; nil outside a git
    /// work tree or without git.
    public static func keyFileInGit(_ location: EnvironmentLocation) -> (tracked: Bool, ignored: Bool)? {
        let keyFile = location.keyFile
        guard gitWorkTree(containing: FileSystem.parentDirectory(of: keyFile)) != nil else { return nil }
        let directory = FileSystem.parentDirectory(of: keyFile)
        guard let tracked = ProgramRunner.status(of: ["git", "-C", directory, "ls-files", "--error-unmatch", keyFile]),
            let ignored = ProgramRunner.status(of: ["git", "-C", directory, "check-ignore", "-q", keyFile])
        else { return nil }
        return (tracked == 0, ignored == 0)
    }

    /// Every scope of the data directory whose uuid and key are here (global, projects,
    /// pipelines), for tools that look at all of them (git's diff and merge).
    public static func allScopes(_ location: EnvironmentLocation) -> [Environment] {
        var scopes: [Scope] = [.global]
        for project in FileSystem.directoryNames(in: location.secretsDirectory + "/projects") {
            scopes.append(.project(project))
            for pipeline in FileSystem.directoryNames(in: location.secretsDirectory + "/projects/\(project)/pipelines") {
                scopes.append(.pipeline(project: project, pipeline: pipeline))
            }
        }
        return scopes.compactMap { scope in
            let scoped = scope == location.scope ? location : location.with(scope: scope)
            return try? open(scoped, create: false)
        }
    }

    /// The top of the git work tree holding `path`, if any.
    public static func gitWorkTree(containing path: String) -> String? {
        FileSystem.nearestFolder(from: path, holding: ".git")
    }

    /// Renames pipeline `old` of `project` to `new`, as Mage moves the folder when a
    /// pipeline is renamed: its uuid and key move with it, so its secrets follow.
    public static func renamePipeline(
        in location: EnvironmentLocation, project: String, from old: String, to new: String
    ) throws(VaultError) {
        let source = location.with(scope: try Scope(project: project, pipeline: old))
        let target = location.with(scope: try Scope(project: project, pipeline: new))
        guard FileSystem.exists(source.uuidFile) else { throw .noScope(source.scope, uuidFile: source.uuidFile) }
        guard !FileSystem.exists(target.scopeDirectory) else {
            throw .invalidScope("\(target.scope) already exists (\(target.scopeDirectory)); nothing was renamed")
        }
        try system { () throws(SystemError) in try FileSystem.renameWithoutReplacing(source.scopeDirectory, to: target.scopeDirectory) }
    }

    /// Whether the environment's uuid file exists.
    public static func exists(_ location: EnvironmentLocation) -> Bool {
        FileSystem.exists(location.uuidFile)
    }

    /// The uuid in the environment's uuid file, or nil when there is none (or it is not a
    /// uuid); creates nothing.
    public static func existingID(_ location: EnvironmentLocation) -> EnvironmentID? {
        guard exists(location) else { return nil }
        return try? readOrCreateUUID(location, create: false)
    }

    private static func readOrCreateUUID(_ location: EnvironmentLocation, create: Bool) throws(VaultError) -> EnvironmentID {
        let path = location.uuidFile
        if !FileSystem.exists(path) {
            guard create else {
                throw location.scope == .global
                    ? .noEnvironment(dataDirectory: location.dataDirectory) : .noScope(location.scope, uuidFile: path)
            }
            // Mage writes uuid4().hex with no newline; so do we, so that Mage adopts ours too.
            let text = Array(EnvironmentID.random().description.utf8)
            _ = try system { () throws(SystemError) in try FileSystem.createExclusively(path, mode: 0o600, contents: text) }
        }
        var text = try system { () throws(SystemError) in try FileSystem.readSmallFile(path, maximumBytes: 64) }
        if text.last == UInt8(ascii: "\n") { text.removeLast() }
        guard let id = EnvironmentID(String(decoding: text, as: UTF8.self)) else { throw .invalidUUIDFile(path: path) }
        return id
    }

    private static func readOrCreateKey(_ location: EnvironmentLocation, create: Bool) throws(VaultError) -> SecureBytes {
        switch location.keySource {
        case .environmentVariable:
            return try keyFromVariable()
        case .explicitFile(let path):
            guard FileSystem.exists(path) else { throw .missingExplicitKey(keyFile: path, scopeKeyFile: location.scopeDirectory + "/vault.key") }
            return try readKeyFile(path)
        case .scopeFile(let path):
            if !FileSystem.exists(path) {
                guard create else { throw .missingKey(keyFile: path) }
                // false when another process created it first: then we read theirs below.
                _ = try KeyMaterial.random().write(to: path)
            }
            return try readKeyFile(path)
        }
    }

    /// `$MAGE_VAULT_KEY`: the base64 of the 32 key bytes.
    private static func keyFromVariable() throws(VaultError) -> SecureBytes {
        var text = Array((FileSystem.environmentVariable(KeyVariable.key.name) ?? "").utf8)
        defer { text.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        guard let decoded = text.withUnsafeBytes({ Base64.decode($0) }), decoded.count == EnvironmentKeys.keyByteCount else {
            throw .invalidKeyVariable
        }
        var bytes = decoded
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return bytes.withUnsafeBytes { SecureBytes(copying: $0) }
    }

    /// A key file: 32 raw bytes, or Argon2id parameters and a passphrase to derive the key.
    static func readKeyFile(_ path: String) throws(VaultError) -> SecureBytes {
        let (contents, mode) = try system { () throws(SystemError) in try FileSystem.readSecretFile(path, maximumBytes: 4096) }
        // Before the mode: the advice to chmod a key file git checked out would be the wrong one.
        if let (workTree, relative) = GitIndex.trackingWorkTree(of: EnvironmentLocation.absolute(path)) {
            throw .keyFileTrackedByGit(path: path, workTree: workTree, relative: relative)
        }
        guard mode & 0o077 == 0 else { throw .insecureKeyFile(path: path, mode: UInt32(mode)) }
        switch contents.withUnsafeBytes({ KeyFile.parse($0) }) {
        case .raw?:
            return contents
        case .passphrase(let operations, let memory, let salt, let keyID)?:
            let passphrase = try readPassphrase(prompt: "Passphrase for \(path): ", variable: KeyVariable.passphrase.name)
            guard let key = Passphrase.deriveKey(passphrase, salt: salt, operations: operations, memory: memory) else {
                throw .system(SystemError("crypto_pwhash", path, code: 12))
            }
            guard EnvironmentKeys.keyID(of: key) == keyID else { throw .wrongPassphrase(keyFile: path) }
            return key
        case nil:
            throw .invalidKeyFile(path: path, bytes: contents.count)
        }
    }

    /// A passphrase from `$variable`, else typed at a no-echo prompt; never empty.
    public static func readPassphrase(prompt: String, variable: String) throws(VaultError) -> SecureBytes {
        if let value = FileSystem.environmentVariable(variable) {
            guard !value.isEmpty else { throw .emptyPassphrase }
            var bytes = Array(value.utf8)
            defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            return bytes.withUnsafeBytes { SecureBytes(copying: $0) }
        }
        guard SecretInput.standardInputIsTerminal else { throw .passphraseNeeded(variable: variable) }
        let typed = try SecretInput.prompt(prompt, limit: 1024)
        guard typed.count > 0 else { throw .emptyPassphrase }
        return typed
    }

    /// The key id of an interrupted rekey's new key file (`<key file>.new`), when there is one.
    /// Read without any passphrase: a passphrase file names its key id.
    static func pendingKeyID(_ location: EnvironmentLocation) -> UInt32? {
        guard let contents = pendingKeyFile(location) else { return nil }
        switch contents.withUnsafeBytes({ KeyFile.parse($0) }) {
        case .raw?: return EnvironmentKeys.keyID(of: contents)
        case .passphrase(_, _, _, let keyID)?: return keyID
        case nil: return nil
        }
    }
}

/// Runs a file-system step, reporting its failure as a `VaultError`.
func system<T>(_ body: () throws(SystemError) -> T) throws(VaultError) -> T {
    do { return try body() } catch { throw .system(error) }
}
