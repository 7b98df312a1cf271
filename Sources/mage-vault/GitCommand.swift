import MageVault
import MageVaultCommandLine

/// `git setup`, `git merge` and `git diff-text`.
enum GitCommand {
    static var entry: CommandSpec {
        CommandSpec(
            name: "git",
            abstract: "Keep the vault log in a git repository: merge driver and readable diffs.",
            takesLocationOptions: false,
            subcommands: [Subcommand("setup", GitSetup.self), Subcommand("merge", GitMerge.self), Subcommand("diff-text", GitDiffText.self)]
        )
    }
}

struct GitSetup: Command {
    static let spec = CommandSpec(
        name: "setup",
        abstract: "Register the merge driver and the diff text converter for the vault log (idempotent).",
        discussion: """
            Run inside the checkout. Sets merge.mage-vault and diff.mage-vault in .git/config \
            (with this data dir, so the driver finds the keys) and marks the log in \
            .gitattributes. Prints what it did.
            """
    )

    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let program = FileSystem.executablePath().map {
            GitWorkTree.driverProgram(executable: $0, searchPath: FileSystem.environmentVariable("PATH"))
        } ?? "mage-vault"
        let report = try GitWorkTree.setup(options.location, currentDirectory: FileSystem.currentDirectory(), program: program)
        for line in report.lines { print(line) }
    }
}

struct GitMerge: Command {
    static let spec = CommandSpec(
        name: "merge",
        abstract: "git's merge driver for the vault log: a three-way merge of records.",
        discussion: """
            mage-vault git merge BASE OURS THEIRS writes the merged log to OURS: both sides' \
            records, for every environment (keys or not). A secret changed on both sides to \
            different values, or changed on one and deleted on the other, is a conflict: the \
            merge fails and lists them (names only), leaving a valid log in which the newest \
            write wins. Settle them with --ours NAME / --theirs NAME (each must name a \
            conflict), or --last-writer-wins, added to the driver that 'git setup' \
            registered, for instance: git -c merge.mage-vault.driver="$(git config \
            merge.mage-vault.driver) --theirs db_password" merge feature. Or set the value \
            you want with 'mage-vault set', then 'git add' the log.
            """,
        arguments: [
            ArgumentSpec("base", help: "The common ancestor (%O).", isFile: true),
            ArgumentSpec("ours", help: "Our version (%A); the result is written here.", isFile: true),
            ArgumentSpec("theirs", help: "Their version (%B).", isFile: true),
        ],
        options: [
            OptionSpec("ours", help: "Keep our value of this secret (repeatable).", isRepeatable: true),
            OptionSpec("theirs", help: "Keep their value of this secret (repeatable).", isRepeatable: true),
            .flag("last-writer-wins", help: "Settle every conflict by the newest write."),
        ]
    )

    let base: String
    let ours: String
    let theirs: String
    let oursNames: [String]
    let theirsNames: [String]
    let lastWriterWins: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        base = parsed.argument("base")
        ours = parsed.argument("ours")
        theirs = parsed.argument("theirs")
        oursNames = parsed.values("ours")
        theirsNames = parsed.values("theirs")
        lastWriterWins = parsed.flag("last-writer-wins")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        var environments = Environment.allScopes(options.location)
        switch Result(catching: { () throws(VaultError) in try Environment.open(options.location, create: false) }) {
        case .success(let selected):
            environments.removeAll { $0.id == selected.id }
            environments.insert(selected, at: 0)
        case .failure(let error):
            // Names are settled in the merging environment: without its key, none can be found.
            if !oursNames.isEmpty || !theirsNames.isEmpty { throw error }
        }
        let report = try LogMerge.merge(
            base: base, ours: ours, theirs: theirs, environments: environments,
            resolution: MergeResolution(ours: Set(oursNames), theirs: Set(theirsNames), lastWriterWins: lastWriterWins))
        guard report.conflicts.isEmpty else {
            printError("mage-vault: the vault log has \(report.conflicts.count) conflict(s):")
            for conflict in report.conflicts { printError("  \(conflict)") }
            throw CommandFailure(
                message: "the merged log is valid (the newest write wins); settle each name with 'mage-vault set' and git add the log, or merge again with --ours NAME or --theirs NAME added to the driver (see 'mage-vault help git merge')",
                code: ExitStatus.notFound)
        }
    }
}

struct GitDiffText: Command {
    static let spec = CommandSpec(
        name: "diff-text",
        abstract: "git's textconv for the vault log: names and states per environment, never values.",
        arguments: [ArgumentSpec("file", help: "The log file git hands over.", isFile: true)]
    )

    let file: String
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        file = parsed.argument("file")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        print(try LogSummary.text(of: file, environments: Environment.allScopes(options.location)), terminator: "")
    }
}
