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

/// Standard base64 (RFC 4648 §4, with padding), through libsodium's constant-time codec.
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
}
