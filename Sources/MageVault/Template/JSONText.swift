/// The little JSON that templates and output need: reading a value at a dotted path
/// (`json_value`), and quoting a string (`list --json`).
public enum JSONText {
    /// A JSON value as `parse` reads it.
    indirect enum Value {
        case null, bool(Bool), integer(Int64), number(Double), string(String)
        case array([Value]), object([String: Value])

        /// Text as a template shows it: a string as itself, anything else as JSON.
        var rendered: String {
            switch self {
            case .string(let text): text
            default: json
            }
        }

        var json: String {
            switch self {
            case .null: "null"
            case .bool(let value): value ? "true" : "false"
            case .integer(let value): String(value)
            case .number(let value): "\(value)"
            case .string(let text): JSONText.quoted(text)
            case .array(let values): "[" + values.map(\.json).joined(separator: ",") + "]"
            case .object(let members):
                "{" + members.sorted { $0.key < $1.key }.map { JSONText.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}"
            }
        }
    }

    /// The value at `path` (keys and array indexes separated by dots, as Mage's
    /// `json_value` takes them) in the JSON `text`; nil when the text is not JSON or the
    /// path leads nowhere.
    public static func value(in text: String, at path: String) -> String? {
        guard var current = parse(Array(text.utf8)) else { return nil }
        for component in path.split(separator: ".", omittingEmptySubsequences: false) where !path.isEmpty {
            switch current {
            case .object(let members):
                guard let next = members[String(component)] else { return nil }
                current = next
            case .array(let values):
                guard let position = Int(component), values.indices.contains(position) else { return nil }
                current = values[position]
            default:
                return nil
            }
        }
        return current.rendered
    }

    /// A JSON string literal for `text` (RFC 8259 escaping).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let hex = Hex.string(scalar.value, width: 4)
                out += "\\u" + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
