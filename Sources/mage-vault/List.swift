import MageVault
import MageVaultCommandLine

struct List: Command {
    static let spec = CommandSpec(
        name: "list",
        abstract: "List the visible secret names with their last update and scope (never values).",
        discussion: """
            With --project (and --pipeline), names of the parent scopes are listed too; each \
            shows the scope its value comes from, the nearest one: pipeline, then project, \
            then global. A secret that has records of which none opens (damaged or forged) \
            is left out, and list then exits with 4 naming where, after listing the others.
            """,
        options: [.flag("json", help: "Print a JSON array of {\"name\", \"updated\", \"scope\"} objects.")]
    )

    let json: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        json = parsed.flag("json")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try options.openForReading()
        let secrets = try vault.secrets()
        for skipped in vault.skippedRecords { printError("mage-vault: warning: \(skipped)") }
        if json {
            let items = secrets.map {
                "{\"name\":\(JSONText.quoted($0.name)),\"updated\":\"\($0.updated.iso8601)\",\"scope\":\(JSONText.quoted($0.scope.description))}"
            }
            print("[" + items.joined(separator: ",") + "]")
        } else {
            let width = max(4, secrets.map(\.name.count).max() ?? 0)
            print("NAME".padding(to: width) + "  UPDATED                   SCOPE")
            for secret in secrets {
                print(secret.name.padding(to: width) + "  " + secret.updated.iso8601 + "  " + secret.scope.description)
            }
        }
        // The names that open are listed; a secret none of whose records opens is damage
        // (exit 4, as `get` of it), not a name to leave out in silence.
        try vault.requireNoDamagedSecrets()
    }
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
