extension JSONText {
    /// The member names that occur more than once in one object of the JSON `bytes`, as
    /// dotted paths from the top (`secret.name`; array elements as `[n]`), each once, in the
    /// order they are first repeated; empty when there are none. JSON readers disagree on
    /// which of two same-named members wins (most keep the last, some the first), so a
    /// reader of secrets refuses such input rather than guess. Names are compared after
    /// unescaping (`"a"` and `"\u0061"` are one name). Text that is not JSON yields what was
    /// found before the fault.
    public static func repeatedMemberNames(in bytes: [UInt8]) -> [String] {
        var parser = JSONParser(bytes: bytes)
        _ = parser.document()
        return parser.repeated
    }

    /// The JSON value of `bytes` (RFC 8259, strictly: UTF-8, no trailing commas, comments,
    /// leading zeros or lone surrogates, nothing after the value); nil when it is not JSON.
    /// Of repeated member names the last is kept; callers that must not guess ask
    /// `repeatedMemberNames` as well.
    static func parse(_ bytes: [UInt8]) -> Value? {
        var parser = JSONParser(bytes: bytes)
        return parser.document()
    }
}

/// A strict RFC 8259 reader, by hand so that reading JSON does not bring Foundation (and
/// its start-up cost) into every `mage-vault` process. It notes repeated member names on
/// the way.
private struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    var repeated: [String] = []

    /// Deeper nesting than this is refused (as Foundation's reader does), so that hostile
    /// input cannot exhaust the stack.
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipSpace() {
        while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// One value and nothing but white space after it.
    mutating func document() -> JSONText.Value? {
        guard String(validating: bytes, as: UTF8.self) != nil, let found = value(path: "", depth: 0) else { return nil }
        skipSpace()
        return position == bytes.count ? found : nil
    }

    mutating func value(path: String, depth: Int) -> JSONText.Value? {
        skipSpace()
        guard let first = next, depth < Self.maximumDepth else { return nil }
        switch first {
        case UInt8(ascii: "{"): return object(path: path, depth: depth)
        case UInt8(ascii: "["): return array(path: path, depth: depth)
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func object(path: String, depth: Int) -> JSONText.Value? {
        position += 1
        var members: [String: JSONText.Value] = [:]
        skipSpace()
        if next == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard let name = string() else { return nil }
            let member = path.isEmpty ? name : path + "." + name
            skipSpace()
            guard next == UInt8(ascii: ":") else { return nil }
            position += 1
            guard let item = value(path: member, depth: depth + 1) else { return nil }
            if members.updateValue(item, forKey: name) != nil, !repeated.contains(member) { repeated.append(member) }
            skipSpace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default: return nil
            }
        }
    }

    mutating func array(path: String, depth: Int) -> JSONText.Value? {
        position += 1
        var items: [JSONText.Value] = []
        skipSpace()
        if next == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            guard let item = value(path: path + "[\(items.count)]", depth: depth + 1) else { return nil }
            items.append(item)
            skipSpace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(items)
            default: return nil
            }
        }
    }

    mutating func literal(_ word: StaticString, _ result: JSONText.Value) -> JSONText.Value? {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
            word.withUTF8Buffer({ bytes[position..<(position + count)].elementsEqual($0) })
        else { return nil }
        position += count
        return result
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer when it is one
    /// that fits 64 bits (or a fraction or exponent that comes out whole, as Foundation
    /// reads `1.0`), else a double.
    mutating func number() -> JSONText.Value? {
        let start = position
        func digits() -> Int {
            let from = position
            while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
            return position - from
        }
        if next == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
        var whole = true
        if next == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { return nil }
            whole = false
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            position += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { return nil }
            whole = false
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if whole, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { return nil }
        if double == double.rounded(), let integer = Int64(exactly: double) { return .integer(integer) }
        return .number(double)
    }

    /// A string literal, escapes decoded; nil at a fault (an unescaped control character,
    /// an unknown escape, a lone surrogate, the end of the text).
    mutating func string() -> String? {
        guard next == UInt8(ascii: "\"") else { return nil }
        position += 1
        var text: [UInt8] = []
        while let byte = next {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: text, as: UTF8.self)  // the whole text was checked to be UTF-8
            case UInt8(ascii: "\\"):
                guard let escape = next else { return nil }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code) {
                        guard next == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else { return nil }
                        position += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }  // a lone low surrogate
                    text.append(contentsOf: UTF8.encode(scalar)!)
                default: return nil
                }
            case 0x00..<0x20:
                return nil
            default:
                text.append(byte)
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var code: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): code = code << 4 | UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): code = code << 4 | UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): code = code << 4 | UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        position += 4
        return code
    }
}
