import MageVault
import MageVaultCommandLine

/// The program: its command tree, parsed by MageVaultCommandLine's own parser (no
/// reflection at start, so every command, `get` at each pipeline step included, starts fast).
@main
enum MageVaultCommand {
    /// The program's version (`mage-vault --version`).
    static let version = "0.1.0"

    /// The whole command line: every command with its options, help and subcommands.
    static var spec: CommandSpec {
        CommandSpec(
            name: "mage-vault",
            abstract: "Mage secrets in an encrypted, append-only vault file.",
            discussion: """
                Secrets live in one log per data directory (--data-dir, else $MAGE_DATA_DIR, else \
                ~/.mage_data), sealed with libsodium under the environment's key. The location \
                options go before the subcommand or after it. Exit codes: \
                0 success, 1 not found, 2 usage or bad input, 3 wrong key, 4 damaged vault, \
                5 permission problem, 6 other I/O failure.
                """,
            subcommands: [
                Init.entry, Set.entry, Get.entry, List.entry, Delete.entry, Env.entry, Import.entry, History.entry, Rollback.entry,
                Render.entry, Exec.entry, Export.entry, Verify.entry, Recover.entry, Compact.entry, Backup.entry, Restore.entry,
                ScopeCommand.entry, Rekey.entry, GitCommand.entry, Serve.entry, Migrate.entry,
            ]
        )
    }

    /// Parses, runs, and exits with the documented code for each kind of failure.
    static func main() {
        // Location options before `serve` or `migrate` go after its word, where its program reads them.
        runCommandLine(spec, version: version, arguments: SiblingProgram.handingOver(Array(CommandLine.arguments.dropFirst())))
    }
}
