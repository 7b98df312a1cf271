import MageVault
import MageVaultCommandLine
import MageVaultMigration

/// `mage-vault migrate`, a program of its own: SQLite and AES stay out of the `mage-vault`
/// binary, whose every start (a cold `get` in a pipeline step) would pay for them.
/// `mage-vault migrate ARGS` runs `mage-vault-migrate ARGS` from the same folder.
struct MigrateCommand: Command {
    static let spec = CommandSpec(
        name: "mage-vault migrate",
        abstract: "Carry every secret Mage returns in every scope into the vault, byte for byte.",
        discussion: """
            Reads Mage's SQLite database (default: the one <data dir>/<repo>/mage-ai.db) and the \
            Fernet key and uuid files of every scope of the data dir (global, projects, \
            pipelines), read-only, and writes each value Mage's get_secret_value returns into \
            the vault under the same uuid and scope, one all-or-nothing commit per scope. \
            Values the vault already holds are left alone: a second run writes nothing. Every \
            row not carried over is listed with the reason. --dry-run lists scope, name and \
            size of what would move (never a value) and writes nothing.
            """,
        options: [
            OptionSpec("data-dir", valueName: "dir", help: "Mage's data directory (default: $MAGE_DATA_DIR, else ~/.mage_data).", isFile: true),
            OptionSpec("vault", valueName: "file", help: "The vault's log (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log).", isFile: true),
            OptionSpec("database", valueName: "file", help: "Mage's SQLite database (default: the one mage-ai.db in a folder of the data dir).", isFile: true),
            OptionSpec(
                "repo", valueName: "repo",
                help: "The repo_name (Mage's repository path) whose legacy rows (no key_uuid) the global scope reads (default: the only one)."),
            OptionSpec(
                "rename", valueName: "OLD=NEW", help: "Carry Mage's secret OLD as NEW (for a name the vault cannot hold). Repeatable.", isRepeatable: true),
            .flag("dry-run", help: "List what would move (scope, name, size; never a value) and write nothing."),
        ],
        takesLocationOptions: false
    )

    let dataDirectory: String?
    let vaultFile: String?
    let database: String?
    let repo: String?
    let rename: [String]
    let dryRun: Bool

    init(_ parsed: ParsedArguments) {
        dataDirectory = parsed.value("data-dir")
        vaultFile = parsed.value("vault")
        database = parsed.value("database")
        repo = parsed.value("repo")
        rename = parsed.values("rename")
        dryRun = parsed.flag("dry-run")
    }

    func run() throws {
        do {
            try migrate()
        } catch let error as MigrationError {
            throw CommandFailure(message: error.description, code: error.exitCode)
        }
    }

    private func migrate() throws(MigrationError) {
        let location = EnvironmentLocation(dataDirectory: dataDirectory, vaultFile: vaultFile, scope: .global)
        var renames: [String: String] = [:]
        for pair in rename {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw .invalidRename("--rename takes OLD=NEW, not \(pair)")
            }
            renames[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let databasePath = try MageInstall.databasePath(explicit: database, dataDirectory: location.dataDirectory)
        let rows = try MageDatabase.secretRows(path: databasePath)
        let scopes = try MageScope.all(dataDirectory: location.dataDirectory)
        let repository = MigrationPlan.legacyRepository(explicit: repo, rows: rows, databasePath: databasePath)
        let plan = try MigrationPlan.make(scopes: scopes, rows: rows, repository: repository, renames: renames)
        let results = try Migration.apply(plan, to: location, dryRun: dryRun)
        print(MigrationReport.text(plan: plan, results: results, database: databasePath, dryRun: dryRun), terminator: "")
    }
}

runCommandLine(MigrateCommand.entry, version: "0.1.0")
