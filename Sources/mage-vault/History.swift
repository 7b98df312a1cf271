import ArgumentParser
import MageVault
import MageVaultCommandLine

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List a secret's versions (time, set or deleted); values only with --show-values.",
        discussion: """
            Versions are numbered from 1, the oldest still in the log; compaction keeps the \
            newest 10 (or --history) and drops older ones, so numbers can shift after it.
            """
    )

    @Argument(help: "The secret's name.")
    var name: String

    @Flag(name: .customLong("show-values"), help: "Print each version's value too.")
    var showValues = false

    @OptionGroup var options: LocationOptions

    func run() throws {
        let vault = try options.openVault(create: false)
        let versions = try vault.history(named: name)
        for skipped in vault.skippedRecords { printError("mage-vault: warning: \(skipped)") }
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

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Bring back an earlier value of a secret, as a new version.",
        discussion: "mage-vault history NAME shows the version numbers."
    )

    @Argument(help: "The secret's name.")
    var name: String

    @Option(help: "The version whose value becomes current again.")
    var to: Int

    @OptionGroup var options: LocationOptions

    func run() throws {
        let vault = try options.openVault(create: false)
        try vault.rollback(named: name, to: to)
        print("\(name) now has the value of version \(to)")
    }
}
