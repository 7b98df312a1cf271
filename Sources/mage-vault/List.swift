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
            is left out with a warning on standard error naming where ('verify' reports it, \
            exit 4); the others are listed and list exits 0.
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
        printWarnings(of: vault)
        // The whole output is built as bytes and written at once.
        let output: [UInt8]
        if json {
            output = Self.jsonArray(secrets)
        } else {
            output = Self.table(secrets)
        }
        output.withUnsafeBytes { Output.standardOutput($0) }
    }

    /// The table: a heading, then a line per secret, each name padded with spaces to the
    /// longest name's length in characters (at least 4, "NAME"), then two spaces. Written
    /// straight into a buffer sized for it: a thousand lines are a thousand names copied,
    /// not several thousand appends.
    static func table(_ secrets: [SecretSummary]) -> [UInt8] {
        let space = UInt8(ascii: " ")
        // Every name's UTF-8, one after another (the `i`th ends at `ends[i]`), taken once, and
        // its length in characters: the byte count for a name of ASCII alone (nearly every
        // name; it holds no control character, so no "\r\n", the one ASCII pair that is a
        // single character).
        var names: [UInt8] = []
        var ends: [Int] = []
        var lengths: [Int] = []
        ends.reserveCapacity(secrets.count)
        lengths.reserveCapacity(secrets.count)
        for summary in secrets {
            let start = names.count
            var name = summary.name
            name.withUTF8 { names.append(contentsOf: $0) }
            ends.append(names.count)
            lengths.append(names[start...].allSatisfy { $0 < 0x80 } ? names.count - start : name.count)
        }
        let width = max(4, lengths.max() ?? 0)
        let heading = Array("NAME".utf8) + repeatElement(space, count: width - 4) + Array("  UPDATED                   SCOPE\n".utf8)
        // Each scope's text once: the scopes' texts in `scopes`, each line's in `scopeOf`.
        var scopes: [(Scope, [UInt8])] = []
        var scopeOf: [Int] = []
        scopeOf.reserveCapacity(secrets.count)
        var capacity = heading.count + names.count
        for index in secrets.indices {
            let scope = secrets[index].scope
            if scopes.last?.0 != scope {
                scopes.append(scopes.first { $0.0 == scope } ?? (scope, Array(scope.description.utf8)))
            }
            scopeOf.append(scopes.count - 1)
            capacity += width + 2 + Timestamp.iso8601MaximumByteCount + 2
            capacity += scopes[scopes.count - 1].1.count + 1
        }
        return names.withUnsafeBytes { names in
            [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                let out = UnsafeMutableRawBufferPointer(buffer)
                var at = 0
                func put(_ bytes: UnsafeRawBufferPointer) {
                    UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + bytes.count)]).copyMemory(from: bytes)
                    at += bytes.count
                }
                func pad(_ count: Int) {
                    UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + count)]).initializeMemory(as: UInt8.self, repeating: space)
                    at += count
                }
                heading.withUnsafeBytes(put)
                var times = Timestamp.ISO8601Writer()
                for index in secrets.indices {
                    put(UnsafeRawBufferPointer(rebasing: names[(index == 0 ? 0 : ends[index - 1])..<ends[index]]))
                    pad(width - lengths[index] + 2)
                    at += times.write(secrets[index].updated, to: UnsafeMutableRawBufferPointer(rebasing: out[at...]))
                    pad(2)
                    scopes[scopeOf[index]].1.withUnsafeBytes(put)
                    out[at] = UInt8(ascii: "\n")
                    at += 1
                }
                initialized = at
            }
        }
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
}
