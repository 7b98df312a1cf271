import CSodium

/// Unkeyed BLAKE2b (`crypto_generichash`) of the concatenation of `parts`, `count` bytes
/// long (16 to 64).
///
/// Used to bind a sealed body to its clear header and to its vault: the digest is sealed
/// inside the body, so a body moved under another header no longer matches.
public func blake2b(count: Int, _ parts: UnsafeRawBufferPointer...) -> [UInt8] {
    _ = Sodium.ready
    // The inputs are short (a clear header and an id), so one contiguous buffer is simpler than
    // libsodium's streaming state, which Swift imports as an opaque, specially aligned type.
    var input: [UInt8] = []
    input.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for part in parts { input.append(contentsOf: part) }
    var out = [UInt8](repeating: 0, count: count)
    _ = crypto_generichash(&out, count, input, UInt64(input.count), nil, 0)
    return out
}

/// BLAKE2b-256 of `bytes` keyed with `key` (`crypto_generichash`): the MACs of access file
/// lines (their check under sub-key 5, their author's tag).
func keyedBLAKE2b256(_ bytes: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> [UInt8] {
    _ = Sodium.ready
    var out = [UInt8](repeating: 0, count: 32)
    _ = crypto_generichash(
        &out, 32, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count),
        key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
    return out
}

/// Whether two MACs are equal, compared in constant time (the lengths are not secret).
func equalMACs(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count == b.count && sodium_memcmp(a, b, a.count) == 0
}

/// `blake2b(count:_:)` of `first || second`, `out.count` bytes long (16 to 64), written to
/// `out`: no allocation, for the binding a reader checks once per record it opens.
func blake2b(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
    _ = Sodium.ready
    withUnsafeTemporaryAllocation(byteCount: first.count + second.count, alignment: 8) { input in
        if let base = first.baseAddress { input.baseAddress!.copyMemory(from: base, byteCount: first.count) }
        if let base = second.baseAddress { (input.baseAddress! + first.count).copyMemory(from: base, byteCount: second.count) }
        _ = crypto_generichash(
            out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count, input.baseAddress!.assumingMemoryBound(to: UInt8.self),
            UInt64(input.count), nil, 0)
    }
}

/// Standard base64 (RFC 4648 §4, with padding), through libsodium's constant-time codec;
/// `decodePublic` decodes text that is no secret (sealed record bodies) faster.
public enum Base64 {
    /// Encodes `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        _ = Sodium.ready
        let variant = sodium_base64_VARIANT_ORIGINAL
        let length = sodium_base64_encoded_len(bytes.count, variant)  // includes the NUL
        var out = [UInt8](repeating: 0, count: length)
        out.withUnsafeMutableBytes { buffer in
            _ = sodium_bin2base64(
                buffer.baseAddress!.assumingMemoryBound(to: CChar.self), length,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, variant)
        }
        out.removeLast()
        return out
    }

    /// Decodes `text`, or `nil` unless it is canonical padded base64 with nothing else in it.
    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        _ = Sodium.ready
        guard text.count % 4 == 0 else { return nil }
        // libsodium (1.0.18) takes a byte past 0x7F for a base64 character (it reads a signed
        // char): "\u{80}UJD" decodes as "/UJD" would. Such bytes are refused first, without a
        // branch per byte (the text may be a key).
        var high: UInt8 = 0
        for byte in text { high |= byte }
        guard high & 0x80 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: text.count / 4 * 3)
        var decoded = 0
        var end: UnsafePointer<CChar>? = nil
        let status = out.withUnsafeMutableBytes { buffer in
            sodium_base642bin(
                buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count,
                text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count,
                nil, &decoded, &end, sodium_base64_VARIANT_ORIGINAL)
        }
        let consumedAll = end.map { UnsafeRawPointer($0) == text.baseAddress! + text.count } ?? false
        guard status == 0, consumedAll else { return nil }
        out.removeLast(out.count - decoded)
        return out
    }

    /// Decodes `text` into `out` (at least `text.count / 4 * 3` bytes) and returns how many
    /// bytes it wrote, or `nil` unless `text` is canonical padded base64 with nothing else in
    /// it: exactly what `decode` accepts (no byte outside the alphabet, padding only at the
    /// end, zero bits after the last byte). It is not constant-time, so it is only for text that
    /// is public anyway: the sealed body of a record, which anyone who reads the log sees
    /// (keys go through `decode`). `list` decodes every body it authenticates, and this is
    /// several times faster than libsodium's codec.
    public static func decodePublic(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let count = text.count
        guard count % 4 == 0, out.count >= count / 4 * 3 else { return nil }
        guard count > 0 else { return 0 }
        return sextets.withUnsafeBufferPointer { table -> Int? in
            let input = text.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let output = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var written = 0
            var position = 0
            // Every quad but the last: four alphabet characters, three bytes. Invalid
            // characters map to 0xFF, so one test of the ORed values finds any of them.
            while position < count - 4 {
                let a = table[Int(input[position])], b = table[Int(input[position + 1])]
                let c = table[Int(input[position + 2])], d = table[Int(input[position + 3])]
                guard (a | b | c | d) & 0x80 == 0 else { return nil }
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[written] = UInt8(truncatingIfNeeded: word >> 16)
                output[written + 1] = UInt8(truncatingIfNeeded: word >> 8)
                output[written + 2] = UInt8(truncatingIfNeeded: word)
                written += 3
                position += 4
            }
            // The last quad may end in "=" or "==", and then the bits it does not use must be
            // zero: one spelling per value.
            let padding = UInt8(ascii: "=")
            let a = table[Int(input[position])], b = table[Int(input[position + 1])]
            guard (a | b) & 0x80 == 0 else { return nil }
            if input[position + 3] == padding {
                if input[position + 2] == padding {
                    guard b & 0x0F == 0 else { return nil }
                    output[written] = a << 2 | b >> 4
                    return written + 1
                }
                let c = table[Int(input[position + 2])]
                guard c & 0x80 == 0, c & 0x03 == 0 else { return nil }
                output[written] = a << 2 | b >> 4
                output[written + 1] = b << 4 | c >> 2
                return written + 2
            }
            let c = table[Int(input[position + 2])], d = table[Int(input[position + 3])]
            guard (c | d) & 0x80 == 0 else { return nil }
            output[written] = a << 2 | b >> 4
            output[written + 1] = b << 4 | c >> 2
            output[written + 2] = c << 6 | d
            return written + 3
        }
    }

    /// The value of each base64 character, 0xFF for every other byte ("=" included).
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()
}
