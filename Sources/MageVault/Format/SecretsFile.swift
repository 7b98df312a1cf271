/// Why an import file was refused. Messages give the line, never a value.
public enum SecretsFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `.env` line that is not `NAME=value`.
    case malformedLine(Int)
    /// A quoted `.env` value without its closing quote.
    case unterminatedQuote(Int)
    /// JSON that is not an object of string values.
    case notAJSONObjectOfStrings
    /// The file is not UTF-8 text.
    case notUTF8
    /// Names given more than once (readers disagree on which value wins).
    case repeatedNames([String])

    public var description: String {
        switch self {
        case .malformedLine(let line): "line \(line) is not NAME=value"
        case .unterminatedQuote(let line): "line \(line): the quoted value has no closing quote"
        case .notAJSONObjectOfStrings: "the JSON is not an object whose values are all strings"
        case .notUTF8: "the file is not UTF-8 text"
        case .repeatedNames(let names):
            "the file gives \(names.map { "'\($0)'" }.joined(separator: ", ")) more than once; readers disagree on which value wins (the first or the last), so keep exactly one of each"
        }
    }
}

/// A file of secrets to import: a `.env` file (`NAME=value` lines, as dotenv reads them)
/// or a JSON object of name → value.
public enum SecretsFile {
    /// The two accepted formats.
    public enum Format: String, Sendable, CaseIterable {
        /// `NAME=value` lines.
        case env
        /// `{"NAME": "value", …}`.
        case json
    }

    /// Parses `bytes`; with no `format`, a file whose first non-blank character is `{` is
    /// JSON, anything else `.env`. Entries come in file order (JSON: sorted by name). A name
    /// given twice is refused, naming it (dotenv keeps the last value, some JSON readers
    /// the first: whichever we kept, some file would import a value its author did
    /// not mean).
    public static func parse(_ bytes: [UInt8], format: Format? = nil) throws(SecretsFileError) -> [(name: String, value: String)] {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
        let chosen = format ?? (text.first { !$0.isWhitespace } == "{" ? .json : .env)
        let entries = chosen == .json ? try parseJSON(bytes) : try parseEnv(text)
        var seen = Set<String>()
        var repeated: [String] = []
        for entry in entries where !seen.insert(entry.name).inserted && !repeated.contains(entry.name) {
            repeated.append(entry.name)
        }
        guard repeated.isEmpty else { throw .repeatedNames(repeated) }
        return entries
    }

    /// Writes `entries` in `format` so that `parse` reads them back exactly: `.env` values
    /// double-quoted with JSON's escapes; JSON an object.
    public static func encode(_ entries: [(name: String, value: String)], format: Format) -> String {
        switch format {
        case .json:
            return "{" + entries.map { "\n  " + JSONText.quoted($0.name) + ": " + JSONText.quoted($0.value) }.joined(separator: ",")
                + (entries.isEmpty ? "}\n" : "\n}\n")
        case .env:
            // JSON's string escapes are a superset of dotenv's double-quoted ones; the parser
            // reads \uXXXX too, so every value, control characters included, comes back exactly.
            return entries.map { "\($0.name)=\(JSONText.quoted($0.value))\n" }.joined()
        }
    }

    private static func parseJSON(_ bytes: [UInt8]) throws(SecretsFileError) -> [(name: String, value: String)] {
        guard case .object(let members)? = JSONText.parse(bytes) else { throw .notAJSONObjectOfStrings }
        var entries: [(name: String, value: String)] = []
        for (name, member) in members {
            guard case .string(let value) = member else { throw .notAJSONObjectOfStrings }
            entries.append((name, value))
        }
        // Of two same-named members one would be kept silently; find them in the text.
        let repeated = JSONText.repeatedMemberNames(in: bytes)
        guard repeated.isEmpty else { throw .repeatedNames(repeated) }
        return entries.sorted { $0.name < $1.name }
    }

    /// dotenv's rules: blank lines and `#` comments skipped; an optional `export `; the
    /// value unquoted (trimmed, a ` #` starts a comment), in single quotes (literal), or in
    /// double quotes (`\n`, `\r`, `\t`, `\"`, `\\` and `\uXXXX` escapes, may span lines).
    private static func parseEnv(_ text: String) throws(SecretsFileError) -> [(name: String, value: String)] {
        var entries: [(name: String, value: String)] = []
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var index = 0
        while index < lines.count {
            let number = index + 1
            var line = lines[index].drop { $0 == " " || $0 == "\t" }
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).drop { $0 == " " } }
            guard let equals = line.firstIndex(of: "=") else { throw .malformedLine(number) }
            let name = trimmed(line[..<equals])
            guard !name.isEmpty, !name.contains(" ") else { throw .malformedLine(number) }
            var rest = line[line.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            let value: String
            if let quote = rest.first, quote == "'" || quote == "\"" {
                rest = rest.dropFirst()
                var collected = ""
                var closed = false
                var escaped = false
                var unicodeEscape: String? = nil  // the hex digits of a \uXXXX read so far
                while !closed {
                    for character in rest {
                        if closed { break }
                        if let digits = unicodeEscape {
                            unicodeEscape = digits + String(character)
                            if unicodeEscape!.count == 4 {
                                guard let value = UInt32(unicodeEscape!, radix: 16), let scalar = Unicode.Scalar(value) else {
                                    throw .malformedLine(number)
                                }
                                collected.unicodeScalars.append(scalar)
                                unicodeEscape = nil
                            }
                        } else if quote == "\"" && escaped {
                            switch character {
                            case "n": collected.append("\n")
                            case "r": collected.append("\r")
                            case "t": collected.append("\t")
                            case "u": unicodeEscape = ""
                            default: collected.append(character)
                            }
                            escaped = false
                        } else if quote == "\"" && character == "\\" {
                            escaped = true
                        } else if character == quote {
                            closed = true
                        } else {
                            collected.append(character)
                        }
                    }
                    if !closed {
                        guard index < lines.count else { throw .unterminatedQuote(number) }
                        collected.append("\n")
                        rest = lines[index]
                        index += 1
                    }
                }
                value = collected
            } else {
                var unquoted = rest
                if let hash = unquoted.indices.first(where: { unquoted[$0] == "#" && $0 > unquoted.startIndex && unquoted[unquoted.index(before: $0)] == " " }) {
                    unquoted = unquoted[..<hash]
                }
                value = trimmed(unquoted)
            }
            entries.append((name: name, value: value))
        }
        return entries
    }

    private static func trimmed(_ text: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
