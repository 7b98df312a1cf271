import ArgumentParser
import MageVault
import MageVaultCommandLine

struct GitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git",
        abstract: "Keep the vault log in a git repository: merge driver and readable diffs.",
        subcommands: [GitSetup.self, GitMerge.self, GitDiffText.self]
    )
}

struct GitSetup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Register the merge driver and the diff text converter for the vault log (idempotent).",
        discussion: """
            Run inside the checkout. Sets merge.mage-vault and diff.mage-vault in .git/config \
            (with this data dir, so the driver finds the keys) and marks the log in \
            .gitattributes. Prints what it did.
            """
    )

    @OptionGroup var options: LocationOptions

    func run() throws {
        let location = options.location
        guard let root = Environment.gitWorkTree(containing: EnvironmentLocation.absolute(FileSystem.currentDirectory())) else {
            throw CommandFailure(message: "not inside a git work tree: run 'mage-vault git setup' in your checkout", code: ExitStatus.usage)
        }
        guard location.logFile.hasPrefix(root + "/") else {
            throw CommandFailure(message: "the log \(location.logFile) is not inside the checkout \(root); point --vault or --data-dir at it", code: ExitStatus.usage)
        }
        let relative = String(location.logFile.dropFirst(root.count + 1))
        let dataDirectory = "--data-dir '\(location.dataDirectory)' --vault '\(location.logFile)'"
        let settings = [
            ("merge.mage-vault.name", "MageVault vault log"),
            ("merge.mage-vault.driver", "mage-vault git merge %O %A %B \(dataDirectory)"),
            ("diff.mage-vault.textconv", "mage-vault git diff-text \(dataDirectory)"),
        ]
        for (key, value) in settings {
            guard ProgramRunner.status(of: ["git", "-C", root, "config", key, value]) == 0 else {
                throw CommandFailure(message: "git config \(key) failed", code: ExitStatus.io)
            }
            print("set \(key) in \(root)/.git/config")
        }
        let attributes = root + "/.gitattributes"
        let line = "\(relative) merge=mage-vault diff=mage-vault"
        let existing = (try? FileSystem.readSmallFile(attributes, maximumBytes: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if existing.split(separator: "\n").contains(where: { $0 == line }) {
            print("\(attributes) already marks \(relative)")
        } else {
            let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + line + "\n"
            do { try FileSystem.replaceAtomically(attributes, mode: 0o644, contents: Array(text.utf8)) } catch { throw VaultError.system(error) }
            print("marked \(relative) in \(attributes) (commit it, so every clone merges the log safely)")
        }
    }
}

struct GitMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "git's merge driver for the vault log: a three-way merge of records.",
        discussion: """
            mage-vault git merge BASE OURS THEIRS writes the merged log to OURS: both sides' \
            records, for every environment (keys or not). A secret changed on both sides to \
            different values, or changed on one and deleted on the other, is a conflict: the \
            merge fails and lists them (names only), leaving a valid log in which the newest \
            write wins. Settle them with --ours NAME / --theirs NAME, or --last-writer-wins, \
            for instance: git -c merge.mage-vault.driver="mage-vault git merge %O %A %B \
            --theirs db_password" merge feature. Or set the value you want with \
            'mage-vault set', then 'git add' the log.
            """
    )

    @OptionGroup var options: LocationOptions

    @Argument(help: "The common ancestor (%O).") var base: String
    @Argument(help: "Our version (%A); the result is written here.") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String

    @Option(name: .customLong("ours"), help: "Keep our value of this secret (repeatable).") var oursNames: [String] = []
    @Option(name: .customLong("theirs"), help: "Keep their value of this secret (repeatable).") var theirsNames: [String] = []
    @Flag(name: .customLong("last-writer-wins"), help: "Settle every conflict by the newest write.") var lastWriterWins = false

    func run() throws {
        var environments = Environment.allScopes(options.location)
        if let selected = try? Environment.open(options.location, create: false) {
            environments.removeAll { $0.id == selected.id }
            environments.insert(selected, at: 0)
        }
        let report = try LogMerge.merge(
            base: base, ours: ours, theirs: theirs, environments: environments,
            resolution: MergeResolution(ours: Swift.Set(oursNames), theirs: Swift.Set(theirsNames), lastWriterWins: lastWriterWins))
        guard report.conflicts.isEmpty else {
            printError("mage-vault: the vault log has \(report.conflicts.count) conflict(s):")
            for conflict in report.conflicts { printError("  \(conflict)") }
            throw CommandFailure(
                message: "the merged log is valid (the newest write wins); settle each name with 'mage-vault set' (or --ours/--theirs, see 'mage-vault help git merge'), then git add the log",
                code: ExitStatus.notFound)
        }
    }
}

struct GitDiffText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff-text",
        abstract: "git's textconv for the vault log: names and states per environment, never values."
    )

    @OptionGroup var options: LocationOptions

    @Argument(help: "The log file git hands over.") var file: String

    func run() throws {
        print(try LogSummary.text(of: file, environments: Environment.allScopes(options.location)), terminator: "")
    }
}
