import MageVault
import MageVaultCommandLine

struct History: Command {
    static let spec = CommandSpec(
        name: "history",
        abstract: "List a secret's versions (time, set or deleted); values only with --show-values.",
        discussion: """
            Versions are numbered from 1, the oldest still in the log; compaction keeps the \
            newest 10 (or --history) and drops older ones, so numbers can shift after it.
            """,
        arguments: [ArgumentSpec("name", help: "The secret's name.")],
        options: [.flag("show-values", help: "Print each version's value too.")]
    )

    let name: String
    let showValues: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        showValues = parsed.flag("show-values")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        let versions = try vault.history(named: name)
        printWarnings(of: vault)
        guard !versions.isEmpty else {
            throw CommandFailure(message: "no secret named '\(name)' in environment \(vault.environment.id)", code: ExitStatus.notFound)
        }
        print("VERSION  TIME                      CHANGE" + (showValues ? "   VALUE" : ""))
        for version in versions {
            let change = version.operation == .set ? "set" : "deleted"
            var line = "\(String(version.number).leftPadded(to: 7))  \(version.timestamp.iso8601)  \(change)"
            if showValues, version.operation == .set {
                line += "      " + (try vault.secretValue(named: name, version: version.number) ?? "")
            }
            print(line)
        }
    }
}

struct Rollback: Command {
    static let spec = CommandSpec(
        name: "rollback",
        abstract: "Bring back an earlier value of a secret, as a new version.",
        discussion: "mage-vault history NAME shows the version numbers.",
        arguments: [ArgumentSpec("name", help: "The secret's name.")],
        options: [OptionSpec("to", value: .integer, help: "The version whose value becomes current again.", isRequired: true)]
    )

    let name: String
    let to: Int
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        to = parsed.integer("to") ?? 0
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openVault(create: false)
        try vault.rollback(named: name, to: to)
        print("\(name) now has the value of version \(to)")
    }
}
