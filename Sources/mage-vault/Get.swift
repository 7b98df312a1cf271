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

    @Argument(help: "The secret's name.")
    var name: String

    // Not `--version`: that is the tool's own option, which prints the tool's version.
    @Option(name: .customLong("at-version"), help: ArgumentHelp("An earlier version (see 'mage-vault history').", valueName: "n"))
    var version: Int?

    @OptionGroup var options: LocationOptions

    func run() throws {
        guard let version else { return try Self.printValue(named: name, location: options.location) }
        // A version belongs to one scope exactly.
        let vault = try options.openVault(create: false)
        try Self.print(try vault.secretValue(named: name, version: version), named: name, environment: vault.environment.id)
    }

    /// A plain `get`: one value read straight from the log (no index), resolved through the
    /// scope's parents, printed.
    static func printValue(named name: String, location: EnvironmentLocation) throws {
        let resolution = try Environment.resolutionChain(location, create: false, readOnly: true)
        let read = try Vault.readOnce(named: name, resolution: resolution)
        for recovery in read.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
        for skipped in read.skippedRecords { printError("mage-vault: warning: \(skipped)") }
        try print(read.secret?.value, named: name, environment: resolution[0].id)
    }

    private static func print(_ found: String?, named name: String, environment: EnvironmentID) throws {
        guard let value = found else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(environment)", code: ExitStatus.notFound)
        }
        var bytes = Array(value.utf8)
        if SecretInput.standardOutputIsTerminal { bytes.append(UInt8(ascii: "\n")) }
        bytes.withUnsafeBytes { Output.standardOutput($0) }
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}

/// `mage-vault [location options] get NAME [location options]`, recognised without
/// ArgumentParser: a pipeline runs it at every step, and ArgumentParser's reflection over
/// the command's options costs about a millisecond of a five-millisecond get. It accepts
/// only what `Get` would accept with the same meaning (each option once, before or after
/// `get`, as `--opt value` or `--opt=value`, values and the name not starting with `-`, a
/// valid name and scope); anything else, help included, is left to ArgumentParser, which
/// words the help or the error as always.
/// `CommandLineTests` checks both paths print the same for the same arguments.
struct QuickGet {
    let name: String
    let location: EnvironmentLocation

    static let options: Swift.Set = ["--data-dir", "--vault", "--key-file", "--project", "--pipeline"]

    /// The command when `arguments` (without the program's path) are a plain get.
    init?(_ arguments: [String]) {
        var values: [String: String] = [:]
        var name: String?
        var command = false
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if !command, !argument.hasPrefix("-") {
                guard argument == "get" else { return nil }
                command = true
                continue
            }
            if argument.hasPrefix("-") {
                let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard Self.options.contains(parts[0]), values[parts[0]] == nil else { return nil }
                let value = parts.count == 2 ? parts[1] : rest.popFirst()
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
                values[parts[0]] = value
            } else {
                guard name == nil else { return nil }
                name = argument
            }
        }
        guard command, let name, (try? SecretName(name)) != nil,
            let scope = try? Scope(project: values["--project"], pipeline: values["--pipeline"])
        else { return nil }
        self.name = name
        location = EnvironmentLocation(
            dataDirectory: values["--data-dir"], vaultFile: values["--vault"], scope: scope, keyFile: values["--key-file"])
    }

    func run() throws { try Get.printValue(named: name, location: location) }
}
