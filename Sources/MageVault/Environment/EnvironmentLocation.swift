/// Where an environment's files are: the data directory (`--data-dir`, else
/// `$MAGE_DATA_DIR`, else `~/.mage_data`), Mage's `secrets/uuid` in it, our key file beside
/// it, and the log (`secrets/vault.log`, unless `--vault` or `$MAGE_VAULT_FILE` points this
/// environment at a log shared on purpose).
public struct EnvironmentLocation: Sendable, Equatable {
    /// The data directory, absolute.
    public let dataDirectory: String
    /// The log file, absolute.
    public let logFile: String

    /// The folder Mage keeps the environment's uuid (and its own Fernet key) in.
    public var secretsDirectory: String { dataDirectory + "/secrets" }
    /// Mage's uuid file.
    public var uuidFile: String { secretsDirectory + "/uuid" }
    /// MageVault's key file for this environment (never Mage's own `secrets/key`).
    public var keyFile: String { secretsDirectory + "/vault.key" }

    /// Resolves the location from explicit choices, then the process environment, then the defaults.
    /// Relative paths are made absolute against the current directory.
    public init(
        dataDirectory: String? = nil, vaultFile: String? = nil,
        variables: [String: String] = FileSystem.environmentVariables()
    ) {
        let data = dataDirectory ?? variables["MAGE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileSystem.homeDirectory(environment: variables) + "/.mage_data"
        self.dataDirectory = Self.absolute(data)
        let log = vaultFile ?? variables["MAGE_VAULT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        logFile = log.map(Self.absolute) ?? self.dataDirectory + "/secrets/vault.log"
    }

    private static func absolute(_ path: String) -> String {
        var result = path.hasPrefix("/") ? path : FileSystem.currentDirectory() + "/" + path
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
