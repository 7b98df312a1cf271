/// Lowercase hexadecimal of fixed-width integers, the encoding of every clear header field.
/// Exactly one spelling is valid: uppercase digits are rejected, so each value has one
/// encoding and a changed byte is never "the same" field.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the `width` lowest hex digits of `value`, most significant first.
    static func append<T: FixedWidthInteger & UnsignedInteger>(_ value: T, width: Int, to out: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
            out.append(digits[Int(truncatingIfNeeded: value >> T(shift)) & 0xF])
        }
    }

    /// `value` as `width` hex digits.
    static func string<T: FixedWidthInteger & UnsignedInteger>(_ value: T, width: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(width)
        append(value, width: width, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses exactly `count` lowercase hex digits at `offset`, or `nil`.
    static func parse<T: FixedWidthInteger & UnsignedInteger>(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int, as: T.Type = T.self
    ) -> T? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        var value: T = 0
        for index in offset..<offset + count {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            value = value << 4 | T(nibble)
        }
        return value
    }

    /// Parses a whole string of exactly `count` lowercase hex digits, or `nil`.
    static func parse<T: FixedWidthInteger & UnsignedInteger>(_ text: some StringProtocol, count: Int, as: T.Type = T.self) -> T? {
        var utf8 = Array(text.utf8)
        guard utf8.count == count else { return nil }
        return utf8.withUnsafeMutableBytes { parse(UnsafeRawBufferPointer($0), at: 0, count: count) }
    }
}
