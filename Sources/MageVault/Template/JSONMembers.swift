extension JSONText {
    /// The member names that occur more than once in one object of the JSON `bytes`, as
    /// dotted paths from the top (`secret.name`; array elements as `[n]`), each once, in the
    /// order they are first repeated; empty when there are none. JSON readers disagree on
    /// which of two same-named members wins (Foundation's keeps the first, dotenv-minded
    /// and most others the last), so a reader of secrets refuses such input rather than
    /// guess. Names are compared after unescaping (`"a"` and `"\u0061"` are one name). Text
    /// that is not JSON yields what was found before the fault: the decoder reports the fault.
    public static func repeatedMemberNames(in bytes: [UInt8]) -> [String] {
        var scanner = MemberScanner(bytes: bytes)
        _ = scanner.value(path: "", depth: 0)
        return scanner.repeated
    }
}

/// A JSON reader that keeps nothing but each object's member names, to find repeated ones.
private struct MemberScanner {
    let bytes: [UInt8]
    var position = 0
    var repeated: [String] = []

    /// Deeper nesting than this is left to the decoder to refuse.
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipSpace() {
        while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// Reads one value; false at the first fault.
    mutating func value(path: String, depth: Int) -> Bool {
        skipSpace()
        guard let first = next, depth < Self.maximumDepth else { return false }
        switch first {
        case UInt8(ascii: "{"):
            position += 1
            skipSpace()
            if next == UInt8(ascii: "}") {
                position += 1
                return true
            }
            var seen = Set<String>()
            while true {
                skipSpace()
                guard let name = string() else { return false }
                let member = path.isEmpty ? name : path + "." + name
                if !seen.insert(name).inserted, !repeated.contains(member) { repeated.append(member) }
                skipSpace()
                guard next == UInt8(ascii: ":") else { return false }
                position += 1
                guard value(path: member, depth: depth + 1) else { return false }
                skipSpace()
                if next == UInt8(ascii: ",") {
                    position += 1
                } else if next == UInt8(ascii: "}") {
                    position += 1
                    return true
                } else {
                    return false
                }
            }
        case UInt8(ascii: "["):
            position += 1
            skipSpace()
            if next == UInt8(ascii: "]") {
                position += 1
                return true
            }
            var index = 0
            while true {
                guard value(path: path + "[\(index)]", depth: depth + 1) else { return false }
                index += 1
                skipSpace()
                if next == UInt8(ascii: ",") {
                    position += 1
                } else if next == UInt8(ascii: "]") {
                    position += 1
                    return true
                } else {
                    return false
                }
            }
        case UInt8(ascii: "\""):
            return string() != nil
        default:
            // A number, true, false or null: up to the next delimiter.
            let start = position
            while let byte = next, !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
                || byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D)
            {
                position += 1
            }
            return position > start
        }
    }

    /// Reads a string literal, escapes decoded; nil at a fault.
    mutating func string() -> String? {
        guard next == UInt8(ascii: "\"") else { return nil }
        position += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while let byte = next {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                guard let escape = next else { return nil }
                position += 1
                switch escape {
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code), next == UInt8(ascii: "\\"), position + 1 < bytes.count,
                        bytes[position + 1] == UInt8(ascii: "u")
                    {
                        let save = position
                        position += 2
                        if let low = hex4(), (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            position = save
                        }
                    }
                    flush()
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: raw.append(escape)  // \" \\ \/ (and anything else: the decoder refuses it)
                }
            default:
                raw.append(byte)
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count,
            let code = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16)
        else { return nil }
        position += 4
        return code
    }
}
