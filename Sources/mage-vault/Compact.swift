import MageVault
import MageVaultCommandLine

struct Compact: Command {
    static let spec = CommandSpec(
        name: "compact",
        abstract: "Rewrite the log to the records that still matter, without decrypting.",
        discussion: """
            Keeps, for every secret of every environment (keys or not), the newest --history \
            versions (a deleted secret's delete is its newest), byte for byte; writes a new file, syncs it and \
            renames it over the log. Other processes keep working across it. It also runs by \
            itself when at least 1,000 records are dead and they are half the log or more.
            """,
        options: [.quiet, .history]
    )

    let progress: ProgressOptions
    let history: Int?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        history = parsed.integer("history")
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        if let history, history < 1 { throw ValidationError("--history must be at least 1") }
    }

    func run() throws {
        let vault = try options.openVault(create: false, history: history)
        let reporter = progress.reporter("compacting")
        let report = try vault.compact(progress: reporter.update)
        printWarnings(of: vault)
        reporter.finish()
        print("compacted \(report.recordsBefore) records to \(report.recordsAfter) (\(report.bytesBefore) to \(report.bytesAfter) bytes), keeping \(vault.history) version(s) per secret")
    }
}

struct Backup: Command {
    static let spec = CommandSpec(
        name: "backup",
        abstract: "Write a consistent, compacted snapshot of the log to one file (mode 0600).",
        discussion: """
            Other writers keep writing while it copies. The backup holds every environment's \
            records but no key: keep the key files (secrets/vault.key) elsewhere, never in \
            the clear beside the backup.
            """,
        arguments: [ArgumentSpec("file", help: "The backup file to create.", isFile: true)],
        options: [
            .quiet, .flag("force", help: "Replace the file if it exists."),
            .history,
        ]
    )

    let progress: ProgressOptions
    let file: String
    let force: Bool
    let history: Int?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        file = parsed.argument("file")
        force = parsed.flag("force")
        history = parsed.integer("history")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openVault(create: false, history: history)
        let reporter = progress.reporter("backing up")
        let report = try vault.backup(to: file, overwrite: force, progress: reporter.update)
        reporter.finish()
        print("backed up \(report.recordsAfter) record\(report.recordsAfter == 1 ? "" : "s") (\(report.bytesAfter) bytes) to \(file)")
        print("to restore elsewhere, copy alongside it: \(options.location.uuidFile) and, separately and safely, \(options.location.keyFile)")
    }
}

struct Restore: Command {
    static let spec = CommandSpec(
        name: "restore",
        abstract: "Replace the log with a backup, after verifying it; keep the replaced log.",
        discussion: """
            Refuses a file that is not a vault, has damaged lines, or holds records of this \
            environment that do not open with its key; then replaces the log atomically and \
            keeps the old one as <log>.replaced-<time>.
            """,
        arguments: [ArgumentSpec("file", help: "The backup file.", isFile: true)],
        options: [.quiet]
    )

    let progress: ProgressOptions
    let file: String
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        file = parsed.argument("file")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        let reporter = progress.reporter("verifying backup")
        let report = try vault.restore(from: file, progress: reporter.update)
        reporter.finish()
        let records = report.verification.environments.reduce(0) { $0 + $1.records }
        print("restored \(records) record\(records == 1 ? "" : "s") from \(file) into \(options.location.logFile)")
        if let kept = report.replacedKeptAt { print("the replaced log is kept as \(kept)") }
        if !report.verification.environments.contains(where: { $0.id == vault.environment.id }) {
            printError("mage-vault: warning: \(file) holds no record of this environment (uuid \(vault.environment.id)): was it another data dir's backup? The replaced log is kept beside the restored one")
        }
    }
}
