import ArgumentParser
import MageVault
import MageVaultCommandLine


@main
struct MageVaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mage-vault",
        abstract: "Mage secrets in an encrypted, append-only vault file.",
        discussion: """
            Secrets live in one log per data directory (--data-dir, else $MAGE_DATA_DIR, else \
            ~/.mage_data), sealed with libsodium under the environment's key. The location \
            options go before the subcommand or after it. Exit codes: \
            0 success, 1 not found, 2 usage or bad input, 3 wrong key, 4 damaged vault, \
            5 permission problem, 6 other I/O failure.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Set.self, Get.self, List.self, Delete.self, Env.self, Import.self, History.self, Rollback.self,
            Render.self, Exec.self, Export.self, Verify.self, Recover.self, Compact.self, Backup.self, Restore.self,
            ScopeCommand.self, Rekey.self, GitCommand.self, Serve.self, Migrate.self,
        ]
    )

    /// The location options, accepted before the subcommand too (`mage-vault --data-dir X
    /// get NAME`), as git and kubectl take theirs. Each subcommand declares the same group and
    /// receives these values (ArgumentParser hands a group parsed by a parent to a child's
    /// group of the same type).
    @OptionGroup var options: LocationOptions

    /// Parses, runs, and exits with the documented code for each kind of failure.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `get` runs at every pipeline step: a plain one is recognised without building
        // ArgumentParser's command tree (see QuickGet); anything else is parsed as always.
        if let get = QuickGet(arguments) {
            exitReporting(as: Self.self) { try get.run() }
        }
        runWithExitCodes(Self.self) {
            SiblingProgram.handingOver(try CommandWords.check(arguments, root: Self.self, helpElsewhere: ["serve"]))
        }
    }
}
