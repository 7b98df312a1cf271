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
    ///
    /// Opening a log parses about a hundred digits per record, so whole groups of 8 digits
    /// are decoded at once inside one 64-bit word (SWAR), and checked by encoding the result
    /// back: the spelling is canonical, so only a valid group survives the round trip.
    /// Inlined: each call site passes a constant count, and the loops then unroll.
    @inline(__always)
    static func parse<T: FixedWidthInteger & UnsignedInteger>(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int, as: T.Type = T.self
    ) -> T? {
        guard offset >= 0, count >= 0, count * 4 <= T.bitWidth, offset + count <= bytes.count else { return nil }
        var value: T = 0
        var index = offset
        let end = offset + count
        while end - index >= 16 {
            let first = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
            let second = bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self).littleEndian
            let high = decodeGroup(first), low = decodeGroup(second)
            // One branch for both groups: each round trip is exact only for valid digits.
            guard (encodeGroup(high) ^ first) | (encodeGroup(low) ^ second) == 0 else { return nil }
            value = value << 64 | T(truncatingIfNeeded: UInt64(high) << 32 | UInt64(low))
            index += 16
        }
        if end - index >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
            let group = decodeGroup(word)
            guard encodeGroup(group) == word else { return nil }
            value = value << 32 | T(truncatingIfNeeded: group)
            index += 8
        }
        while index < end {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            value = value << 4 | T(nibble)
            index += 1
        }
        return value
    }

    /// The value of 8 hex digits loaded little-endian (the first digit in the lowest byte).
    /// Any byte gives some value; only valid digits give the right one.
    @inline(__always)
    static func decodeGroup(_ word: UInt64) -> UInt32 {
        // '0'-'9' are 0x30-0x39 and 'a'-'f' 0x61-0x66: low nibble, plus 9 for letters (bit 6).
        let nibbles = (word & 0x0F0F_0F0F_0F0F_0F0F) &+ ((word >> 6) & 0x0101_0101_0101_0101) &* 9
        // Pairs of digits into bytes: the earlier digit is the high nibble.
        let bytes = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles & 0x0F00_0F00_0F00_0F00) >> 8)
        let halves = (bytes | (bytes >> 8)) & 0x0000_FFFF_0000_FFFF
        let packed = UInt32(truncatingIfNeeded: halves | (halves >> 16))
        return packed.byteSwapped  // the first digits are the most significant
    }

    /// The 8 lowercase hex digits of `group`, as `decodeGroup` reads them.
    @inline(__always)
    static func encodeGroup(_ group: UInt32) -> UInt64 {
        var spread = UInt64(group.byteSwapped)
        spread = (spread | (spread << 16)) & 0x0000_FFFF_0000_FFFF
        spread = (spread | (spread << 8)) & 0x00FF_00FF_00FF_00FF
        // Each byte now holds two digits; the high nibble goes first (into the lower byte).
        let nibbles = ((spread & 0x00F0_00F0_00F0_00F0) >> 4) | ((spread & 0x000F_000F_000F_000F) << 8)
        let letters = ((nibbles &+ 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080) >> 7  // 1 where a nibble is 10-15
        return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// Parses a whole string of exactly `count` lowercase hex digits, or `nil`.
    static func parse<T: FixedWidthInteger & UnsignedInteger>(_ text: some StringProtocol, count: Int, as: T.Type = T.self) -> T? {
        var utf8 = Array(text.utf8)
        guard utf8.count == count else { return nil }
        return utf8.withUnsafeMutableBytes { parse(UnsafeRawBufferPointer($0), at: 0, count: count) }
    }
}
