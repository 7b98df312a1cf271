import ArgumentParser
import MageVault
import MageVaultCommandLine

struct ScopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scope",
        abstract: "Rename a pipeline scope, or forget a project's or pipeline's secrets.",
        subcommands: [RenameScope.self, DeleteScope.self]
    )
}

struct RenameScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename",
        abstract: "Rename a pipeline scope; its secrets follow (Mage moves the folder on rename).",
        usage: "mage-vault scope rename --project <project> --pipeline <pipeline> <new-name> [--data-dir <dir>] [--vault <file>]",
        discussion: "--project and --pipeline (the pipeline to rename) are required."
    )

    @Argument(help: "The pipeline's new name.")
    var newName: String

    @OptionGroup var options: LocationOptions

    func run() throws {
        guard let project = options.project, let pipeline = options.pipeline else {
            throw ValidationError("scope rename needs --project and --pipeline (the pipeline to rename)")
        }
        try Environment.renamePipeline(in: options.location, project: project, from: pipeline, to: newName)
        print("renamed pipeline \(project)/\(pipeline) to \(project)/\(newName); its secrets moved with it")
    }
}

struct DeleteScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Forget every secret of a project or pipeline scope, after a confirmation.",
        usage: "mage-vault scope delete --project <project> [--pipeline <pipeline>] [--yes] [--data-dir <dir>] [--vault <file>] [--key-file <file>]",
        discussion: """
            --project is required (with --pipeline, a pipeline of it). Deletes each secret of \
            the scope (in one commit) and removes the scope's uuid and key files. Asks for \
            confirmation on a terminal; elsewhere pass --yes.
            """
    )

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var options: LocationOptions

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
