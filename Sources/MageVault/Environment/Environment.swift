/// One environment as Mage has it: a uuid (Mage's `secrets/uuid`, adopted when it exists)
/// and MageVault's key for it (`secrets/vault.key`, 32 random bytes, `0600` in a `0700`
/// folder), plus where its log is.
public final class Environment: Sendable {
    /// Where the files are.
    public let location: EnvironmentLocation
    /// The environment's uuid.
    public let id: EnvironmentID
    /// Its keys, derived from the key file.
    public let keys: EnvironmentKeys

    /// Makes an environment from parts already at hand (tests, embedding programs).
    public init(location: EnvironmentLocation, id: EnvironmentID, keys: EnvironmentKeys) {
        self.location = location
        self.id = id
        self.keys = keys
    }

    /// Opens the environment at `location`. With `create`, a missing uuid or key file is
    /// created (a uuid file that exists is always adopted, never replaced); without it, a
    /// missing file is an error and nothing is written.
    public static func open(_ location: EnvironmentLocation, create: Bool) throws(VaultError) -> Environment {
        if create {
            try system { () throws(SystemError) in
                try FileSystem.makeDirectories(location.secretsDirectory, mode: 0o700)
                try FileSystem.makeDirectories(location.scopeDirectory, mode: 0o700)
            }
            // A key file's temporary copy left by a process killed while creating it holds key
            // material: remove it once it is surely not another process's creation in flight.
            FileSystem.removeStaleTemporaries(beside: location.keyFile, olderThan: 60)
            FileSystem.removeStaleTemporaries(beside: location.uuidFile, olderThan: 60)
        }
        let id = try readOrCreateUUID(location, create: create)
        let key = try readOrCreateKey(location, create: create)
        return Environment(location: location, id: id, keys: EnvironmentKeys(key: key))
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
        for scope in location.scope.resolutionOrder.dropFirst() {
            let parent = location.with(scope: scope)
            guard FileSystem.exists(parent.uuidFile), FileSystem.exists(parent.keyFile) else { continue }
            chain.append(try open(parent, create: false))
        }
        guard !chain.isEmpty else { throw .noScope(location.scope, uuidFile: location.uuidFile) }
        return chain
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
        let path = location.keyFile
        if !FileSystem.exists(path) {
            guard create else { throw .missingKey(keyFile: path) }
            let key = EnvironmentKeys.generateKey()
            // false when another process created it first: then we read theirs below.
            _ = try system { () throws(SystemError) in
                try key.withUnsafeBytes { bytes throws(SystemError) in
                    try FileSystem.createExclusively(path, mode: 0o600, contents: bytes)
                }
            }
        }
        let (key, mode) = try system { () throws(SystemError) in try FileSystem.readSecretFile(path, maximumBytes: 4096) }
        guard mode & 0o077 == 0 else { throw .insecureKeyFile(path: path, mode: UInt32(mode)) }
        guard key.count == EnvironmentKeys.keyByteCount else { throw .invalidKeyFile(path: path, bytes: key.count) }
        return key
    }
}

/// Runs a file-system step, reporting its failure as a `VaultError`.
func system<T>(_ body: () throws(SystemError) -> T) throws(VaultError) -> T {
    do { return try body() } catch { throw .system(error) }
}
