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
        // The whole output is built as bytes and written at once.
        let output: [UInt8]
        if json {
            output = Self.jsonArray(secrets)
        } else {
            output = Self.table(secrets)
        }
        output.withUnsafeBytes { Output.standardOutput($0) }
        // The names that open are listed; a secret none of whose records opens is damage
        // (exit 4, as `get` of it), not a name to leave out in silence.
        try vault.requireNoDamagedSecrets()
    }

    /// The table: a heading, then a line per secret, each name padded with spaces to the
    /// longest name's length in characters (at least 4, "NAME"), then two spaces.
    static func table(_ secrets: [SecretSummary]) -> [UInt8] {
        let space = UInt8(ascii: " ")
        let lengths = secrets.map { characterCount($0.name) }
        let width = max(4, lengths.max() ?? 0)
        var out: [UInt8] = []
        out.reserveCapacity((secrets.count + 1) * (width + 48))
        out.append(contentsOf: "NAME".utf8)
        out.append(contentsOf: repeatElement(space, count: width - 4))
        out.append(contentsOf: "  UPDATED                   SCOPE\n".utf8)
        var scope: (Scope, [UInt8])? = nil  // the last scope's text: nearly every line repeats it
        for index in secrets.indices {
            out.append(contentsOf: secrets[index].name.utf8)
            out.append(contentsOf: repeatElement(space, count: width - lengths[index] + 2))
            secrets[index].updated.appendISO8601(to: &out)
            out.append(space)
            out.append(space)
            if scope?.0 != secrets[index].scope { scope = (secrets[index].scope, Array(secrets[index].scope.description.utf8)) }
            out.append(contentsOf: scope!.1)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// The JSON array, on one line: `[{"name":…,"updated":…,"scope":…},…]`.
    static func jsonArray(_ secrets: [SecretSummary]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(secrets.count * 80 + 2)
        var scope: (Scope, [UInt8])? = nil  // the last scope, quoted
        for index in secrets.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"name\":".utf8)
            appendQuoted(secrets[index].name, to: &out)
            out.append(contentsOf: ",\"updated\":\"".utf8)
            secrets[index].updated.appendISO8601(to: &out)
            out.append(contentsOf: "\",\"scope\":".utf8)
            if scope?.0 != secrets[index].scope {
                var quoted: [UInt8] = []
                appendQuoted(secrets[index].scope.description, to: &quoted)
                scope = (secrets[index].scope, quoted)
            }
            out.append(contentsOf: scope!.1)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]\n".utf8)
        return out
    }

    /// `JSONText.quoted(text)`, appended: text of printable ASCII without `"` or `\` (nearly
    /// every name) is its own quoted form; anything else goes through `quoted`.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        let plain = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        guard plain else { return out.append(contentsOf: JSONText.quoted(text).utf8) }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: text.utf8)
        out.append(UInt8(ascii: "\""))
    }

    /// `name.count`, the characters (grapheme clusters) the table has always padded names
    /// by: for a name of ASCII alone (nearly every name) that is its byte count, found
    /// without breaking graphemes. (A name holds no control character, so no "\r\n" pair.)
    static func characterCount(_ name: String) -> Int {
        name.utf8.allSatisfy { $0 < 0x80 } ? name.utf8.count : name.count
    }
}
