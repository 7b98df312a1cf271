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

    /// The visible secrets of `scope` (through its parents) and what the page says of it.
    func list(_ scope: Scope) async throws(VaultError) -> (EnvironmentInfo, [SecretSummary]) {
        try await run { () throws(VaultError) in try self.read(scope, listing: true) }
    }

    /// What the page says of `scope`, without listing (or decrypting) anything.
    func info(_ scope: Scope) async throws(VaultError) -> EnvironmentInfo {
        try await run { () throws(VaultError) in try self.read(scope, listing: false).0 }
    }

    private func read(_ scope: Scope, listing: Bool) throws(VaultError) -> (EnvironmentInfo, [SecretSummary]) {
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
        return (info(location, uuid: uuid), try Vault(resolution: chain, history: history).secrets())
    }

    /// Sets `name` in `scope` (creating the scope's uuid and key when missing). Returns
    /// whether the name had no value before, and when the new value was written.
    func set(_ scope: Scope, name: String, value: String) async throws(VaultError) -> (created: Bool, updated: Timestamp?) {
        try await run { () throws(VaultError) in
            try Self.validate(name)
            var bytes = Array(value.utf8)
            defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            let checked = bytes.withUnsafeBytes { raw in Result { () throws(InputError) in try SecretValue.validate(raw) } }
            if case .failure(let error) = checked { throw .invalidInput(error) }
            let vault = try Vault(resolution: Environment.resolutionChain(self.location(of: scope), create: true), history: self.history)
            let before = try vault.ownSecretUpdated(named: name)
            try vault.setSecret(named: name, value: value)
            return (before == nil, try vault.ownSecretUpdated(named: name))
        }
    }

    /// Deletes `name` from `scope`; false when the scope has no such secret.
    func delete(_ scope: Scope, name: String) async throws(VaultError) -> Bool {
        try await run { () throws(VaultError) in
            try Self.validate(name)
            let location = self.location(of: scope)
            guard Environment.exists(location) else { return false }
            let vault = try Vault(resolution: Environment.resolutionChain(location, create: false), history: self.history)
            return try vault.deleteSecret(named: name)
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
