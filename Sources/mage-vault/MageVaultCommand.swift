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
                Subcommand("init", Init.self), Subcommand("set", SetCommand.self), Subcommand("get", Get.self),
                Subcommand("list", List.self), Subcommand("delete", Delete.self), Subcommand("env", Env.self),
                Subcommand("import", Import.self), Subcommand("history", History.self), Subcommand("rollback", Rollback.self),
                Subcommand("render", Render.self), Subcommand("exec", Exec.self), Subcommand("export", Export.self),
                Subcommand("verify", Verify.self), Subcommand("recover", Recover.self), Subcommand("compact", Compact.self),
                Subcommand("backup", Backup.self), Subcommand("restore", Restore.self), Subcommand("scope") { ScopeCommand.entry },
                Subcommand("rekey", Rekey.self), Subcommand("git") { GitCommand.entry }, Subcommand("serve", Serve.self),
                Subcommand("migrate", Migrate.self), Subcommand("identity", IdentityCommand.self),
                Subcommand("access") { AccessCommand.entry },
            ]
        )
    }

    /// Parses, runs, and exits with the documented code for each kind of failure.
    static func main() {
        // Location options before `serve` or `migrate` go after its word, where its program reads them.
        runCommandLine(spec, version: version, arguments: SiblingProgram.handingOver(Array(CommandLine.arguments.dropFirst())))
    }
}
