import ArgumentParser
import MageVault
import MageVaultCommandLine

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a secret's value (what Mage's get_secret_value returns).",
        discussion: """
            Prints the value exactly as stored; a newline is added only when standard output \
            is a terminal. A name with no value in this environment exits with 1, as Mage \
            returns None.
            """
    )

    @OptionGroup var options: LocationOptions

    @Argument(help: "The secret's name.")
    var name: String

    @Option(help: "An earlier version (see 'mage-vault history').")
    var version: Int?

    func run() throws {
        let found: String?
        let environment: EnvironmentID
        if let version {
            // A version belongs to one scope exactly.
            let vault = try options.openVault(create: false)
            found = try vault.secretValue(named: name, version: version)
            environment = vault.environment.id
        } else {
            // One value, read straight from the log (no index): resolves through the parents.
            let resolution = try Environment.resolutionChain(options.location, create: false, readOnly: true)
            let read = try Vault.readOnce(named: name, resolution: resolution)
            for recovery in read.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
            found = read.secret?.value
            environment = resolution[0].id
        }
        guard let value = found else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(environment)", code: ExitStatus.notFound)
        }
        var bytes = Array(value.utf8)
        if SecretInput.standardOutputIsTerminal { bytes.append(UInt8(ascii: "\n")) }
        bytes.withUnsafeBytes { Output.standardOutput($0) }
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
