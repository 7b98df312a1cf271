import ArgumentParser
import MageVault

/// Parses `Command`'s arguments (the program's own, unless `arguments` is given), runs it,
/// and exits with the code the README documents for each kind of failure (usage errors exit
/// with 2, like most Unix tools, not ArgumentParser's 64).
public func runWithExitCodes<Command: ParsableCommand>(_ command: Command.Type, arguments: (() throws -> [String])? = nil) -> Never {
    exitReporting(as: Command.self) {
        var parsed = try Command.parseAsRoot(arguments.map { try $0() })
        try parsed.run()
    }
}

/// Runs `body` and exits: 0 when it returns, else with the documented code for what it
/// threw, its message on standard error (ArgumentParser's errors as `Command` words them).
/// An argument that is not UTF-8 is refused before `body` runs (`RawArguments`).
public func exitReporting<Command: ParsableCommand>(as command: Command.Type, _ body: () throws -> Void) -> Never {
    func fail(_ message: String, code: Int32) -> Never {
        printError(message.hasPrefix("Error:") || message.hasPrefix("Usage:") ? message : "mage-vault: \(message)")
        Command.exit(withError: ExitCode(code))
    }
    do {
        // Before anything reads CommandLine.arguments' repaired strings.
        if let notUTF8 = RawArguments.firstNotUTF8() { throw CommandFailure(message: "\(notUTF8)", code: ExitStatus.usage) }
        try body()
        Command.exit()
    } catch let error as VaultError {
        fail(error.description, code: ExitStatus.code(for: error.kind))
    } catch let error as CommandFailure {
        fail(error.message, code: error.code)
    } catch {
        let code = Command.exitCode(for: error)
        if code == .success { Command.exit(withError: error) }  // --help, --version: printed, exit 0.
        fail(Command.fullMessage(for: error), code: code == .validationFailure ? ExitStatus.usage : code.rawValue)
    }
}

/// The exit codes the README documents.
public enum ExitStatus {
    /// No such secret, version or environment.
    public static let notFound: Int32 = 1
    /// Bad arguments or bad input; nothing was written.
    public static let usage: Int32 = 2
    /// Wrong key or passphrase.
    public static let wrongKey: Int32 = 3
    /// A damaged vault or record.
    public static let damaged: Int32 = 4
    /// A key file others can read, or a file we may not use.
    public static let permission: Int32 = 5
    /// Any other I/O failure.
    public static let io: Int32 = 6

    /// The code for a `VaultError` of `kind`.
    public static func code(for kind: VaultError.Kind) -> Int32 {
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
public struct CommandFailure: Error {
    /// What to print (after "mage-vault: ").
    public let message: String
    /// The exit code.
    public let code: Int32

    /// A failure that prints `message` and exits with `code`.
    public init(message: String, code: Int32) {
        self.message = message
        self.code = code
    }
}

/// Where the environment and its log are: shared by every subcommand.
public struct LocationOptions: ParsableArguments {
    /// Options as ArgumentParser fills them in.
    public init() {}

    /// `--data-dir`.
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory (default: $MAGE_DATA_DIR, else ~/.mage_data).", valueName: "dir"))
    public var dataDirectory: String?

    /// `--vault`.
    @Option(name: .customLong("vault"), help: ArgumentHelp("A log file shared on purpose (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log).", valueName: "file"))
    public var vaultFile: String?

    /// `--key-file`.
    @Option(name: .customLong("key-file"), help: ArgumentHelp("The scope's key file (default: $MAGE_VAULT_KEY_FILE, else <scope>/vault.key; $MAGE_VAULT_KEY, the key's base64, comes first).", valueName: "file"))
    public var keyFile: String?

    /// `--project`.
    @Option(help: ArgumentHelp("A project scope (secrets/projects/<project>/).", valueName: "project"))
    public var project: String?

    /// `--pipeline`.
    @Option(help: ArgumentHelp("A pipeline scope of --project (…/pipelines/<pipeline>/).", valueName: "pipeline"))
    public var pipeline: String?

    /// Refuses a bad project or pipeline name before anything runs.
    public func validate() throws {
        do { _ = try Scope(project: project, pipeline: pipeline) } catch { throw ValidationError("\(error)") }
    }

    /// These options as command-line arguments, for a program run in our place (`serve`).
    public var arguments: [String] {
        [("--data-dir", dataDirectory), ("--vault", vaultFile), ("--key-file", keyFile), ("--project", project), ("--pipeline", pipeline)]
            .flatMap { option, value in value.map { [option, $0] } ?? [] }
    }

    /// The location these options name.
    public var location: EnvironmentLocation {
        EnvironmentLocation(
            dataDirectory: dataDirectory, vaultFile: vaultFile, scope: (try? Scope(project: project, pipeline: pipeline)) ?? .global,
            keyFile: keyFile)
    }

    /// Opens the vault of the chosen scope, reading through its parents (pipeline →
    /// project → global); `create` makes a missing uuid or key file (writers do, readers
    /// don't). `history` (else `$MAGE_VAULT_HISTORY`, else 10) is what compaction keeps.
    public func openVault(create: Bool, history: Int? = nil) throws -> Vault {
        let chosen = history ?? FileSystem.environmentVariables()["MAGE_VAULT_HISTORY"].flatMap { Int($0) } ?? Vault.defaultHistory
        let location = location
        let keyHere = location.keySource == .environmentVariable || FileSystem.exists(location.keyFile)
        if create, !Environment.exists(location) || !keyHere {
            try Vault.requireWritableLog(location)  // a write that will be refused creates no uuid or key first
        }
        return try reported(Vault(resolution: Environment.resolutionChain(location, create: create), history: chosen))
    }

    /// Says on standard error what opening did about an interrupted rekey.
    public func reported(_ vault: Vault) -> Vault {
        for recovery in vault.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
        return vault
    }

    /// Opens the vault for reading only (get, list, render, exec): a scope that does not
    /// exist yet is skipped, so its parents' secrets are still seen.
    public func openForReading() throws -> Vault {
        try reported(Vault(resolution: Environment.resolutionChain(location, create: false, readOnly: true)))
    }
}

/// `--quiet` and the progress line that long operations draw on a terminal.
public struct ProgressOptions: ParsableArguments {
    /// Options as ArgumentParser fills them in.
    public init() {}

    /// `--quiet`.
    @Flag(name: .shortAndLong, help: "Show no progress (it is shown only on a terminal anyway).")
    public var quiet = false

    /// A progress reporter labelled `label`: silent unless standard error is a terminal.
    public func reporter(_ label: String) -> ProgressReporter {
        ProgressReporter(label: label, enabled: !quiet && Output.standardErrorIsTerminal)
    }
}

/// Draws `label 42%` on one terminal line and erases it when done.
public final class ProgressReporter {
    /// What the line says before the percentage.
    public let label: String
    /// Whether anything is drawn.
    public let enabled: Bool
    private var shown = -1

    public init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    /// Redraws the line when the percentage changed.
    public func update(_ done: UInt64, _ total: UInt64) {
        guard enabled, total > 0 else { return }
        let percent = Int(done * 100 / total)
        guard percent != shown else { return }
        shown = percent
        Output.standardError("\r\(label) \(percent)%")
    }

    /// Erases the line.
    public func finish() {
        if enabled, shown >= 0 { Output.standardError("\r\u{1B}[K") }
    }
}

/// Writes `message` and a newline to standard error.
public func printError(_ message: String) {
    Output.standardError(line: message)
}
