#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import MageVault

/// Parses `arguments` (the program's own when nil) against `root`, then prints the help,
/// the version or a completion script, or runs the chosen command; exits with the code the
/// README documents for each kind of failure (usage errors exit with 2, like most Unix tools).
public func runCommandLine(_ root: CommandSpec, version: String, arguments: [String]? = nil) -> Never {
    exitReporting {
        let parser = CommandLineParser(root: root)
        switch try parser.parse(arguments ?? Array(CommandLine.arguments.dropFirst())) {
        case .help(let path):
            Array(HelpText.text(for: path).utf8).withUnsafeBytes { Output.standardOutput($0) }
        case .version:
            Output.standardOutput(line: version)
        case .completionScript(let shell):
            Array(CompletionScript.text(for: root, shell: shell).utf8).withUnsafeBytes { Output.standardOutput($0) }
        case .run(let path, let parsed):
            guard let perform = path[path.count - 1].perform else { preconditionFailure("\(path.map(\.name)) has nothing to run") }
            do {
                try perform(parsed)
            } catch let error as ValidationError {
                throw UsageError(message: error.message, path: path)
            }
        }
    }
}

/// Runs `body` and exits: 0 when it returns, else with the documented code for what it
/// threw, its message on standard error. An argument that is not UTF-8 is refused before
/// `body` runs (`RawArguments`).
public func exitReporting(_ body: () throws -> Void) -> Never {
    func fail(_ message: String, code: Int32) -> Never {
        printError(message.hasPrefix("Error:") || message.hasPrefix("Usage:") ? message : "mage-vault: \(message)")
        exit(code)
    }
    do {
        // Before anything reads CommandLine.arguments' repaired strings.
        if let notUTF8 = RawArguments.firstNotUTF8() { throw CommandFailure(message: "\(notUTF8)", code: ExitStatus.usage) }
        try body()
        exit(0)
    } catch let error as VaultError {
        fail(error.description, code: ExitStatus.code(for: error.kind))
    } catch let error as CommandFailure {
        fail(error.message, code: error.code)
    } catch let error as UsageError {
        fail(error.text, code: ExitStatus.usage)
    } catch let error as ValidationError {
        fail("Error: \(error.message)", code: ExitStatus.usage)
    } catch {
        fail("\(error)", code: EXIT_FAILURE)
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
/// Their spec is `OptionSpec.location`.
public struct LocationOptions: Sendable {
    /// `--data-dir`.
    public var dataDirectory: String?
    /// `--vault`.
    public var vaultFile: String?
    /// `--key-file`.
    public var keyFile: String?
    /// `--project`.
    public var project: String?
    /// `--pipeline`.
    public var pipeline: String?

    /// The options as parsed; refuses a bad project or pipeline name before anything runs.
    public init(_ parsed: ParsedArguments) throws {
        dataDirectory = parsed.value("data-dir")
        vaultFile = parsed.value("vault")
        keyFile = parsed.value("key-file")
        project = parsed.value("project")
        pipeline = parsed.value("pipeline")
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
        let chosen = history ?? FileSystem.environmentVariable("MAGE_VAULT_HISTORY").flatMap { Int($0) } ?? Vault.defaultHistory
        let location = location
        let keyHere = location.keySource == .environmentVariable || FileSystem.exists(location.keyFile)
        if create, !Environment.exists(location) || !keyHere {
            try Vault.requireWritableLog(location)  // a write that will be refused creates no uuid or key first
        }
        // A new environment is worth a line: a typo in --data-dir would otherwise make one silently.
        let global = location.with(scope: .global)
        let newEnvironment = create && !Environment.exists(global)
        if newEnvironment, FileSystem.exists(location.dataDirectory + "/mage-ai.db") {
            // A Mage project's database folder, not a data dir: a vault here would be a second, empty one.
            throw VaultError.noEnvironment(dataDirectory: location.dataDirectory)
        }
        let vault = try reported(Vault(resolution: Environment.resolutionChain(location, create: create), history: chosen))
        if newEnvironment, Environment.exists(global) {
            printError("mage-vault: created a new environment in \(location.dataDirectory) (\(global.uuidFile), key \(global.keySource))")
        }
        return vault
    }

    /// Says on standard error what opening did about an interrupted rekey.
    public func reported(_ vault: Vault) -> Vault {
        for recovery in vault.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
        return vault
    }

    /// Opens the vault for reading only (get, list, render, exec): a scope that does not
    /// exist yet is skipped, so its parents' secrets are still seen.
    public func openForReading() throws -> Vault {
        try reported(Vault.openForReading(location))
    }
}

/// `--quiet` and the progress line that long operations draw on a terminal.
/// Its spec is `OptionSpec.quiet`.
public struct ProgressOptions: Sendable {
    /// `--quiet`.
    public var quiet: Bool

    /// The option as parsed.
    public init(_ parsed: ParsedArguments) {
        quiet = parsed.flag("quiet")
    }

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

    /// A reporter drawing `label` when `enabled`.
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

/// Says on standard error what the vault's last call passed over (`Vault.warnings`).
public func printWarnings(of vault: Vault) {
    for warning in vault.warnings { printError("mage-vault: warning: \(warning)") }
}
