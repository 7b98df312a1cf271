import ArgumentParser
import MageVault
import MageVaultCommandLine

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a secret (appends a tombstone; exits with 1 when there is no such secret)."
    )

    @Argument(help: "The secret's name.")
    var name: String

    @OptionGroup var options: LocationOptions

    func validate() throws {
        do { _ = try SecretName(name) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        guard try vault.deleteSecret(named: name) else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(vault.environment.id)", code: ExitStatus.notFound)
        }
    }
}
