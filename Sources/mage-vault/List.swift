import ArgumentParser
import MageVault

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List this environment's secret names with their last update (never values)."
    )

    @OptionGroup var options: LocationOptions

    @Flag(help: "Print a JSON array of {\"name\", \"updated\"} objects.")
    var json = false

    func run() throws {
        let vault = try options.openVault(create: false)
        let secrets = try vault.secrets()
        if json {
            let items = secrets.map { "{\"name\":\(jsonString($0.name)),\"updated\":\"\($0.updated.iso8601)\"}" }
            print("[" + items.joined(separator: ",") + "]")
            return
        }
        let width = max(4, secrets.map(\.name.count).max() ?? 0)
        print("NAME".padding(to: width) + "  UPDATED")
        for secret in secrets { print(secret.name.padding(to: width) + "  " + secret.updated.iso8601) }
    }
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// A JSON string literal for `text` (RFC 8259 escaping).
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
