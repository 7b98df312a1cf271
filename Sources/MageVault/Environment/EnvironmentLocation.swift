/// Where an environment's files are: the data directory (`--data-dir`, else
/// `$MAGE_DATA_DIR`, else `~/.mage_data`), Mage's `uuid` file of the scope, our key file
/// beside it, and the log (`secrets/vault.log`, unless `--vault` or `$MAGE_VAULT_FILE`
/// points this environment at a log shared on purpose). Every scope of a data directory
/// shares its log.
public struct EnvironmentLocation: Sendable, Equatable {
    /// The data directory, absolute.
    public let dataDirectory: String
    /// The log file, absolute.
    public let logFile: String
    /// The scope: global, a project, or a pipeline.
    public let scope: Scope

    /// The folder Mage keeps the data directory's secrets in.
    public var secretsDirectory: String { dataDirectory + "/secrets" }
    /// The scope's folder: `secrets/`, `secrets/projects/P/` or `secrets/projects/P/pipelines/Q/`.
    public var scopeDirectory: String {
        scope == .global ? secretsDirectory : secretsDirectory + "/" + scope.relativeDirectory
    }
    /// Mage's uuid file of the scope.
    public var uuidFile: String { scopeDirectory + "/uuid" }
    /// MageVault's key file for the scope (never Mage's own `key`).
    public var keyFile: String { scopeDirectory + "/vault.key" }

    /// The same data directory and log, another scope.
    public func with(scope: Scope) -> EnvironmentLocation {
        EnvironmentLocation(dataDirectory: dataDirectory, logFile: logFile, scope: scope)
    }

    private init(dataDirectory: String, logFile: String, scope: Scope) {
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.scope = scope
    }

    /// Resolves the location from explicit choices, then the process environment, then the defaults.
    /// Relative paths are made absolute against the current directory.
    public init(
        dataDirectory: String? = nil, vaultFile: String? = nil, scope: Scope = .global,
        variables: [String: String] = FileSystem.environmentVariables()
    ) {
        self.scope = scope
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
