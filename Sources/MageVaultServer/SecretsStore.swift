import Dispatch
import MageVault

/// What the page shows about the environment it serves.
struct EnvironmentInfo: Sendable {
    /// The scope served.
    let scope: Scope
    /// Its uuid, or nil while the scope has no uuid file yet (the first save creates it).
    let uuid: EnvironmentID?
    /// The data directory.
    let dataDirectory: String
    /// The log file.
    let logFile: String
}

/// The vault work of `serve`, done one request at a time on a queue of its own.
///
/// Each request opens the vault afresh (a header scan, no decryption), so what the page
/// shows is what the file holds, whoever wrote it; writes take the log's lock like every
/// other writer, so the page and the command line can write at the same moment. Running
/// on a dedicated serial queue keeps blocking file locks off Swift's cooperative threads.
final class SecretsStore: Sendable {
    /// The location `serve` was started with: its scope is the default one, and its key
    /// source (`$MAGE_VAULT_KEY`, `--key-file`) applies to that scope only.
    let base: EnvironmentLocation
    /// How many versions per secret compaction keeps.
    let history: Int
    private let queue = DispatchQueue(label: "mage-vault.serve.vault")

    init(base: EnvironmentLocation, history: Int) {
        self.base = base
        self.history = history
    }

    /// The location of `scope`: the base one for its own scope, else the scope's own files.
    func location(of scope: Scope) -> EnvironmentLocation {
        scope == base.scope ? base : base.with(scope: scope)
    }

    /// The visible secrets of `scope` (through its parents), each with its record id, and
    /// what the page says of it.
    func list(_ scope: Scope) async throws(VaultError) -> (EnvironmentInfo, [(SecretSummary, id: String)]) {
        try await run { () throws(VaultError) in try self.read(scope, listing: true) }
    }

    /// A secret's `id` in the API: its name's keyed tag in the scope that holds it (32 hex
    /// digits). It stays the same when the value changes, reveals nothing of the name
    /// without the scope's key, and is what the log's clear header already shows.
    static func id(of name: String, in environment: Environment) -> String? {
        (try? SecretName(name)).map { environment.keys.tag(of: $0).description }
    }

    /// What the page says of `scope`, without listing (or decrypting) anything.
    func info(_ scope: Scope) async throws(VaultError) -> EnvironmentInfo {
        try await run { () throws(VaultError) in try self.read(scope, listing: false).0 }
    }

    private func read(_ scope: Scope, listing: Bool) throws(VaultError) -> (EnvironmentInfo, [(SecretSummary, id: String)]) {
        let location = self.location(of: scope)
        let chain: [Environment]
        do throws(VaultError) {
            chain = try Environment.resolutionChain(location, create: false, readOnly: true)
        } catch {
            switch error {
            case .noScope, .noEnvironment: return (info(location, uuid: nil), [])  // Nothing here yet.
            default: throw error
            }
        }
        let uuid = chain[0].location.scope == scope ? chain[0].id : nil
        guard listing else { return (info(location, uuid: uuid), []) }
        let secrets = try Vault(resolution: chain, history: history).secrets()
        return (
            info(location, uuid: uuid),
            secrets.map { secret in
                let holder = chain.first { $0.location.scope == secret.scope } ?? chain[0]
                return (secret, Self.id(of: secret.name, in: holder) ?? "")
            }
        )
    }

    /// Sets `name` in `scope` (creating the scope's uuid and key when missing). Returns
    /// whether the name had no value before, when the new value was written, and its id.
    func set(_ scope: Scope, name: String, value: String) async throws(VaultError) -> (created: Bool, updated: Timestamp?, id: String?) {
        try await run { () throws(VaultError) in
            try Self.validate(name)
            var bytes = Array(value.utf8)
            defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            let checked = bytes.withUnsafeBytes { raw in Result { () throws(InputError) in try SecretValue.validate(raw) } }
            if case .failure(let error) = checked { throw .invalidInput(error) }
            let vault = try Vault(resolution: Environment.resolutionChain(self.location(of: scope), create: true), history: self.history)
            let before = try vault.ownSecretUpdated(named: name)
            try vault.setSecret(named: name, value: value)
            return (before == nil, try vault.ownSecretUpdated(named: name), Self.id(of: name, in: vault.environment))
        }
    }

    /// Deletes the secret of `scope` named `nameOrID`, or, when no secret has that name,
    /// the one whose record `id` it is (as Mage's API deletes by id). Returns the name
    /// deleted; nil when the scope has no such secret.
    func delete(_ scope: Scope, nameOrID: String) async throws(VaultError) -> String? {
        try await run { () throws(VaultError) in
            try Self.validate(nameOrID)
            let location = self.location(of: scope)
            guard Environment.exists(location) else { return nil }
            let vault = try Vault(resolution: Environment.resolutionChain(location, create: false), history: self.history)
            if try vault.deleteSecret(named: nameOrID) { return nameOrID }
            guard nameOrID.utf8.count == 32, nameOrID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                return nil
            }
            let own = try vault.secrets().filter { $0.scope == vault.environment.location.scope }
            guard let match = own.first(where: { Self.id(of: $0.name, in: vault.environment) == nameOrID }) else { return nil }
            return try vault.deleteSecret(named: match.name) ? match.name : nil
        }
    }

    /// Refuses a bad name before any file is opened or created.
    private static func validate(_ name: String) throws(VaultError) {
        do { _ = try SecretName(name) } catch { throw .invalidInput(error) }
    }

    private func info(_ location: EnvironmentLocation, uuid: EnvironmentID?) -> EnvironmentInfo {
        EnvironmentInfo(scope: location.scope, uuid: uuid, dataDirectory: location.dataDirectory, logFile: location.logFile)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws(VaultError) -> T) async throws(VaultError) -> T {
        let outcome: Result<T, VaultError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(VaultError) { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try outcome.get()
    }
}
