import MageVault
import MageVaultCommandLine

struct Delete: Command {
    static let spec = CommandSpec(
        name: "delete",
        abstract: "Delete a secret (appends a tombstone; exits with 1 when there is no such secret).",
        arguments: [ArgumentSpec("name", help: "The secret's name.")]
    )

    let name: String
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        do { _ = try SecretName(name) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        let deleted = try vault.deleteSecret(named: name)
        printWarnings(of: vault)
        guard deleted else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(vault.environment.id)", code: ExitStatus.notFound)
        }
    }
}
