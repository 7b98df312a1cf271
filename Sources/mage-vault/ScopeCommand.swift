import MageVault
import MageVaultCommandLine

/// `scope rename` and `scope delete`.
enum ScopeCommand {
    static var entry: CommandSpec {
        CommandSpec(
            name: "scope",
            abstract: "Rename a pipeline scope, or forget a project's or pipeline's secrets.",
            takesLocationOptions: false,
            subcommands: [Subcommand("rename", RenameScope.self), Subcommand("delete", DeleteScope.self)]
        )
    }
}

struct RenameScope: Command {
    static let spec = CommandSpec(
        name: "rename",
        abstract: "Rename a pipeline scope; its secrets follow (Mage moves the folder on rename).",
        usage: "mage-vault scope rename --project <project> --pipeline <pipeline> <new-name> [--data-dir <dir>] [--vault <file>]",
        discussion: "--project and --pipeline (the pipeline to rename) are required.",
        arguments: [ArgumentSpec("new-name", help: "The pipeline's new name.")]
    )

    let newName: String
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        newName = parsed.argument("new-name")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        guard let project = options.project, let pipeline = options.pipeline else {
            throw ValidationError("scope rename needs --project and --pipeline (the pipeline to rename)")
        }
        try Environment.renamePipeline(in: options.location, project: project, from: pipeline, to: newName)
        print("renamed pipeline \(project)/\(pipeline) to \(project)/\(newName); its secrets moved with it")
    }
}

struct DeleteScope: Command {
    static let spec = CommandSpec(
        name: "delete",
        abstract: "Forget every secret of a project or pipeline scope, after a confirmation.",
        usage: "mage-vault scope delete --project <project> [--pipeline <pipeline>] [--yes] [--data-dir <dir>] [--vault <file>] [--key-file <file>]",
        discussion: """
            --project is required (with --pipeline, a pipeline of it). Deletes each secret of \
            the scope (in one commit) and removes the scope's uuid and key files. Asks for \
            confirmation on a terminal; elsewhere pass --yes.
            """,
        options: [.flag("yes", help: "Do not ask for confirmation.")]
    )

    let yes: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        yes = parsed.flag("yes")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let scope = options.location.scope
        guard scope != .global else { throw ValidationError("scope delete needs --project (and --pipeline)") }
        if !yes {
            guard SecretInput.standardInputIsTerminal else {
                throw CommandFailure(message: "deleting \(scope) forgets its secrets; pass --yes to confirm", code: ExitStatus.usage)
            }
            let answer = try SecretInput.prompt("Forget every secret of \(scope)? Type 'yes' to confirm: ", limit: 16, echo: true)
            guard answer.withUnsafeBytes({ Array($0) }) == Array("yes".utf8) else {
                throw CommandFailure(message: "not confirmed; nothing was deleted", code: ExitStatus.usage)
            }
        }
        let vault = try Vault(environment: Environment.open(options.location, create: false))
        let count = try vault.forgetScope()
        print("forgot \(count) secret\(count == 1 ? "" : "s") of \(scope)")
    }
}
