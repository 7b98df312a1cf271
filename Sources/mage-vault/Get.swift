import ArgumentParser
import MageVault
import MageVaultCommandLine

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        // A version belongs to one scope exactly; a plain get resolves through the parents.
        let vault = try version == nil ? options.openForReading() : options.openVault(create: false)
        let found = try version.map { try vault.secretValue(named: name, version: $0) } ?? vault.secretValue(named: name)
        guard let value = found else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(vault.environment.id)", code: ExitStatus.notFound)
        }
        var bytes = Array(value.utf8)
        if SecretInput.standardOutputIsTerminal { bytes.append(UInt8(ascii: "\n")) }
        bytes.withUnsafeBytes { Output.standardOutput($0) }
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
