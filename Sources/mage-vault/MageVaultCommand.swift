import ArgumentParser
import MageVault


@main
struct MageVaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mage-vault",
        abstract: "Mage secrets in an encrypted, append-only vault file.",
        discussion: """
            Secrets live in one log per data directory (--data-dir, else $MAGE_DATA_DIR, else \
            ~/.mage_data), sealed with libsodium under the environment's key. Exit codes: \
            0 success, 1 not found, 2 usage or bad input, 3 wrong key, 4 damaged vault, \
            5 permission problem, 6 other I/O failure.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Set.self, Get.self, List.self, Delete.self, Env.self, Import.self, History.self, Rollback.self,
            Render.self, Exec.self, Export.self, Verify.self, Recover.self, Compact.self, Backup.self, Restore.self,
            ScopeCommand.self, Rekey.self, GitCommand.self, Serve.self,
        ]
    )

    /// Parses, runs, and exits with the documented code for each kind of failure.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as VaultError {
            fail(error.description, code: ExitStatus.code(for: error.kind))
        } catch let error as CommandFailure {
            fail(error.message, code: error.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version: printed, exit 0.
            // Usage errors exit with 2, like most Unix tools (ArgumentParser's default is 64).
            fail(fullMessage(for: error), code: code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }

    private static func fail(_ message: String, code: Int32) -> Never {
        printError(message.hasPrefix("Error:") || message.hasPrefix("Usage:") ? message : "mage-vault: \(message)")
        Self.exit(withError: ExitCode(code))
    }
}

/// The exit codes the README documents.
enum ExitStatus {
    static let notFound: Int32 = 1
    static let usage: Int32 = 2
    static let wrongKey: Int32 = 3
    static let damaged: Int32 = 4
    static let permission: Int32 = 5
    static let io: Int32 = 6

    static func code(for kind: VaultError.Kind) -> Int32 {
        switch kind {
        case .notFound: notFound
        case .usage: usage
        case .wrongKey: wrongKey
        case .damaged: damaged
        case .permission: permission
        case .io: io
        }
    }
}

/// A failure the tool reports itself (such as "not found"), with its exit code.
struct CommandFailure: Error {
    let message: String
    let code: Int32
}

/// Where the environment and its log are: shared by every subcommand.
struct LocationOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory (default: $MAGE_DATA_DIR, else ~/.mage_data).", valueName: "dir"))
    var dataDirectory: String?

    @Option(name: .customLong("vault"), help: ArgumentHelp("A log file shared on purpose (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log).", valueName: "file"))
    var vaultFile: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp("The scope's key file (default: $MAGE_VAULT_KEY_FILE, else <scope>/vault.key; $MAGE_VAULT_KEY, the key's base64, comes first).", valueName: "file"))
    var keyFile: String?

    @Option(help: ArgumentHelp("A project scope (secrets/projects/<project>/).", valueName: "project"))
    var project: String?

    @Option(help: ArgumentHelp("A pipeline scope of --project (…/pipelines/<pipeline>/).", valueName: "pipeline"))
    var pipeline: String?

    func validate() throws {
        do { _ = try Scope(project: project, pipeline: pipeline) } catch { throw ValidationError("\(error)") }
    }

    var location: EnvironmentLocation {
        EnvironmentLocation(
            dataDirectory: dataDirectory, vaultFile: vaultFile, scope: (try? Scope(project: project, pipeline: pipeline)) ?? .global,
            keyFile: keyFile)
    }

    /// Opens the vault of the chosen scope, reading through its parents (pipeline →
    /// project → global); `create` makes a missing uuid or key file (writers do, readers
    /// don't). `history` (else `$MAGE_VAULT_HISTORY`, else 10) is what compaction keeps.
    func openVault(create: Bool, history: Int? = nil) throws -> Vault {
        let chosen = history ?? FileSystem.environmentVariables()["MAGE_VAULT_HISTORY"].flatMap { Int($0) } ?? Vault.defaultHistory
        return try reported(Vault(resolution: Environment.resolutionChain(location, create: create), history: chosen))
    }

    /// Says on standard error what opening did about an interrupted rekey.
    func reported(_ vault: Vault) -> Vault {
        for recovery in vault.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
        return vault
    }

    /// Opens the vault for reading only (get, list, render, exec): a scope that does not
    /// exist yet is skipped, so its parents' secrets are still seen.
    func openForReading() throws -> Vault {
        try reported(Vault(resolution: Environment.resolutionChain(location, create: false, readOnly: true)))
    }
}

/// `--quiet` and the progress line that long operations draw on a terminal.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show no progress (it is shown only on a terminal anyway).")
    var quiet = false

    /// A progress reporter labelled `label`: silent unless standard error is a terminal.
    func reporter(_ label: String) -> ProgressReporter {
        ProgressReporter(label: label, enabled: !quiet && Output.standardErrorIsTerminal)
    }
}

/// Draws `label 42%` on one terminal line and erases it when done.
final class ProgressReporter {
    let label: String
    let enabled: Bool
    private var shown = -1

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    func update(_ done: UInt64, _ total: UInt64) {
        guard enabled, total > 0 else { return }
        let percent = Int(done * 100 / total)
        guard percent != shown else { return }
        shown = percent
        Output.standardError("\r\(label) \(percent)%")
    }

    func finish() {
        if enabled, shown >= 0 { Output.standardError("\r\u{1B}[K") }
    }
}

func printError(_ message: String) {
    Output.standardError(line: message)
}
