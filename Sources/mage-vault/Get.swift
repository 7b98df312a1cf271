import MageVault
import MageVaultCommandLine

struct Get: Command {
    static let spec = CommandSpec(
        name: "get",
        abstract: "Print a secret's value (what Mage's get_secret_value returns).",
        discussion: """
            Prints the value exactly as stored; a newline is added only when standard output \
            is a terminal. A name with no value in this environment exits with 1, as Mage \
            returns None.
            """,
        arguments: [ArgumentSpec("name", help: "The secret's name.")],
        // Not `--version`: that is the tool's own option, which prints the tool's version.
        options: [OptionSpec("at-version", value: .integer, valueName: "n", help: "An earlier version (see 'mage-vault history').")]
    )

    let name: String
    let version: Int?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        version = parsed.integer("at-version")
        options = try LocationOptions(parsed)
    }

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
        if resolution[0].location.scope != location.scope {
            // `--project salse`: a typo would otherwise read the parent's value without a word.
            printError(
                "mage-vault: note: there is no \(location.scope) scope here (no \(location.uuidFile)); "
                    + "reading from the \(resolution[0].location.scope) scope")
        }
        let read = try Vault.readOnce(named: name, resolution: resolution)
        for recovery in read.rekeyRecoveries { printError("mage-vault: note: \(recovery)") }
        for skipped in read.skippedRecords { printError("mage-vault: warning: \(skipped)") }
        try print(read.secret?.value, named: name, environment: resolution[0].id, resolution: resolution)
    }

    private static func print(_ found: String?, named name: String, environment: EnvironmentID, resolution: [Environment]? = nil) throws {
        guard let value = found else {
            let hint = resolution.map { nearName(to: name, in: $0) } ?? ""
            throw CommandFailure(message: "no secret named '\(name)' in environment \(environment)\(hint)", code: ExitStatus.notFound)
        }
        var bytes = Array(value.utf8)
        if SecretInput.standardOutputIsTerminal { bytes.append(UInt8(ascii: "\n")) }
        bytes.withUnsafeBytes { Output.standardOutput($0) }
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// "; did you mean 'Secret2'?" when a name the scopes hold is what `name` nearly says (the
    /// same letters in another case, or a typo away), else "". Names only, never values; read
    /// only on this failure path, so a found secret costs nothing for it.
    static func nearName(to name: String, in resolution: [Environment]) -> String {
        guard let names = try? Vault(resolution: resolution).secrets().map(\.name), !names.isEmpty else { return "" }
        if let other = names.first(where: { $0.lowercased() == name.lowercased() }) {
            return "; did you mean '\(other)'? (names are case-sensitive)"
        }
        return CommandWords.nearest(to: name, in: names).map { "; did you mean '\($0)'?" } ?? ""
    }
}
