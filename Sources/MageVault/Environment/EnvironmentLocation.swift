/// Where the selected scope's key comes from, in this order: `$MAGE_VAULT_KEY` (base64 of
/// the 32 bytes; for CI and containers), `--key-file` / `$MAGE_VAULT_KEY_FILE`, then the
/// scope's own key file. Parent scopes always use their own key files.
public enum KeySource: Sendable, Equatable, CustomStringConvertible {
    /// `$MAGE_VAULT_KEY`.
    case environmentVariable
    /// A key file named by `--key-file` or `$MAGE_VAULT_KEY_FILE`.
    case explicitFile(String)
    /// The scope's key file (`vault.key` beside its uuid).
    case scopeFile(String)

    public var description: String {
        switch self {
        case .environmentVariable: "$MAGE_VAULT_KEY"
        case .explicitFile(let path): "\(path) (--key-file or $MAGE_VAULT_KEY_FILE)"
        case .scopeFile(let path): path
        }
    }
}

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
    /// Where this scope's key comes from.
    public let keySource: KeySource
    /// The key file in use (the explicit one, else the scope's `vault.key`; also the file a
    /// rekey writes), never Mage's own `key`.
    public var keyFile: String {
        if case .explicitFile(let path) = keySource { return path }
        return scopeDirectory + "/vault.key"
    }

    /// The same data directory and log, another scope, with that scope's own key file.
    public func with(scope: Scope) -> EnvironmentLocation {
        EnvironmentLocation(dataDirectory: dataDirectory, logFile: logFile, scope: scope, keySource: nil)
    }

    private init(dataDirectory: String, logFile: String, scope: Scope, keySource: KeySource?) {
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.scope = scope
        let directory = scope == .global ? dataDirectory + "/secrets" : dataDirectory + "/secrets/" + scope.relativeDirectory
        self.keySource = keySource ?? .scopeFile(directory + "/vault.key")
    }

    /// Resolves the location from explicit choices, then the environment variables
    /// (`variables`, else the process's), then the defaults. Relative paths are made
    /// absolute against the current directory.
    public init(
        dataDirectory: String? = nil, vaultFile: String? = nil, scope: Scope = .global, keyFile: String? = nil,
        variables: [String: String]? = nil
    ) {
        func variable(_ name: String) -> String? {
            (variables.map { $0[name] } ?? FileSystem.environmentVariable(name)).flatMap { $0.isEmpty ? nil : $0 }
        }
        let data = Self.absolute(dataDirectory ?? variable("MAGE_DATA_DIR") ?? FileSystem.homeDirectory(environment: variables) + "/.mage_data")
        let log = (vaultFile ?? variable("MAGE_VAULT_FILE")).map(Self.absolute) ?? data + "/secrets/vault.log"
        let source: KeySource? =
            variable(KeyVariable.key.name) != nil ? .environmentVariable
            : (keyFile ?? variable(KeyVariable.keyFile.name)).map { .explicitFile(Self.absolute($0)) }
        self.init(dataDirectory: data, logFile: log, scope: scope, keySource: source)
    }

    /// `path` made absolute against the current directory and normalised (no `//`, `.`
    /// or `..` components), so that paths compare as the same file's paths do.
    public static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileSystem.currentDirectory() + "/" + path
        var components: [Substring] = []
        for component in full.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        // Appended one by one, as `String`s: `joined(separator:)` and appending a `Substring`
        // are generic code here that looks up protocol conformances at run time, a search of
        // the whole program on first use.
        var absolute = ""
        for component in components {
            absolute.append("/")
            absolute.append(String(component))
        }
        return absolute.isEmpty ? "/" : absolute
    }
}
