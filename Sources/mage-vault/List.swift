import ArgumentParser
import MageVault
import MageVaultCommandLine

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the visible secret names with their last update and scope (never values).",
        discussion: """
            With --project (and --pipeline), names of the parent scopes are listed too; each \
            shows the scope its value comes from, the nearest one: pipeline, then project, \
            then global.
            """
    )

    @OptionGroup var options: LocationOptions

    @Flag(help: "Print a JSON array of {\"name\", \"updated\", \"scope\"} objects.")
    var json = false

    func run() throws {
        let vault = try options.openForReading()
        let secrets = try vault.secrets()
        for skipped in vault.skippedRecords { printError("mage-vault: warning: \(skipped)") }
        if json {
            let items = secrets.map {
                "{\"name\":\(JSONText.quoted($0.name)),\"updated\":\"\($0.updated.iso8601)\",\"scope\":\(JSONText.quoted($0.scope.description))}"
            }
            print("[" + items.joined(separator: ",") + "]")
            return
        }
        let width = max(4, secrets.map(\.name.count).max() ?? 0)
        print("NAME".padding(to: width) + "  UPDATED                   SCOPE")
        for secret in secrets {
            print(secret.name.padding(to: width) + "  " + secret.updated.iso8601 + "  " + secret.scope.description)
        }
    }
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
