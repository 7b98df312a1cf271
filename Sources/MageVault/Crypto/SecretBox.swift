import CSodium

/// `crypto_secretbox` (XSalsa20-Poly1305) in the layout the vault stores:
/// `nonce (24) || mac (16) || ciphertext`.
public enum SecretBox {
    /// Bytes of nonce.
    public static let nonceByteCount = Int(crypto_secretbox_NONCEBYTES)
    /// Bytes of authenticator.
    public static let macByteCount = Int(crypto_secretbox_MACBYTES)
    /// Bytes a box adds to its plaintext.
    public static let overhead = nonceByteCount + macByteCount

    /// Seals `plaintext` under the sealing key of `keys` with a fresh random nonce.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, keys: EnvironmentKeys) -> [UInt8] {
        seal(plaintext, key: keys.sealing)
    }

    /// Seals under a secretbox key of its own (a sub-key other than the records').
    static func seal(_ plaintext: UnsafeRawBufferPointer, key: SecureBytes) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: nonceByteCount)
        nonce.withUnsafeMutableBytes { randomFill($0) }
        return seal(plaintext, key: key, nonce: nonce)
    }

    /// Seals with a given nonce. Only test vectors pass one: a nonce must never repeat
    /// under one key, and only a random nonce guarantees that without coordination.
    static func seal(_ plaintext: UnsafeRawBufferPointer, keys: EnvironmentKeys, nonce: [UInt8]) -> [UInt8] {
        seal(plaintext, key: keys.sealing, nonce: nonce)
    }

    static func seal(_ plaintext: UnsafeRawBufferPointer, key sealingKey: SecureBytes, nonce: [UInt8]) -> [UInt8] {
        precondition(nonce.count == nonceByteCount)
        var box = nonce + [UInt8](repeating: 0, count: macByteCount + plaintext.count)
        // crypto_secretbox_easy reads no plaintext byte when it is empty, but needs a valid pointer.
        let empty: [UInt8] = [0]
        empty.withUnsafeBufferPointer { fallback in
            box.withUnsafeMutableBufferPointer { out in
                sealingKey.withUnsafeBytes { key in
                    let status = crypto_secretbox_easy(
                        out.baseAddress! + nonceByteCount,
                        plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback.baseAddress!,
                        UInt64(plaintext.count), out.baseAddress!,
                        key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    precondition(status == 0, "crypto_secretbox_easy failed")
                }
            }
        }
        return box
    }

    /// Opens a whole box into secure memory; `nil` when the box does not authenticate
    /// under these keys (wrong key, altered or forged).
    public static func open(_ box: UnsafeRawBufferPointer, keys: EnvironmentKeys) -> SecureBytes? {
        open(box, key: keys.sealing)
    }

    /// Opens a box sealed under a secretbox key of its own.
    static func open(_ box: UnsafeRawBufferPointer, key sealingKey: SecureBytes) -> SecureBytes? {
        guard box.count >= overhead else { return nil }
        let nonce = box.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let sealed = nonce.advanced(by: nonceByteCount)
        var authentic = false
        let plaintext = SecureBytes(count: box.count - overhead) { out in
            sealingKey.withUnsafeBytes { key in
                // crypto_secretbox_open_easy needs a writable pointer even for an empty plaintext.
                var scratch: UInt8 = 0
                let destination = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
                authentic = withUnsafeMutablePointer(to: &scratch) { fallback in
                    crypto_secretbox_open_easy(
                        destination ?? fallback, sealed, UInt64(box.count - nonceByteCount), nonce,
                        key.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                }
            }
        }
        return authentic ? plaintext : nil
    }

    /// Opens a box into `plaintext` (at least `box.count - overhead` bytes, the caller's
    /// memory): true when it authenticates. The benchmark's floor, the cost of one
    /// `crypto_secretbox_open_easy` and nothing else; vault code opens into secure memory.
    public static func open(_ box: UnsafeRawBufferPointer, keys: EnvironmentKeys, into plaintext: UnsafeMutableRawBufferPointer) -> Bool {
        guard box.count >= overhead, plaintext.count >= box.count - overhead, let destination = plaintext.baseAddress else { return false }
        let nonce = box.baseAddress!.assumingMemoryBound(to: UInt8.self)
        return keys.sealing.withUnsafeBytes { key in
            crypto_secretbox_open_easy(
                destination.assumingMemoryBound(to: UInt8.self), nonce + nonceByteCount, UInt64(box.count - nonceByteCount), nonce,
                key.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
        }
    }

    /// Authenticates the whole box but decrypts only its first `count` plaintext bytes
    /// (fewer if the plaintext is shorter) and calls `body` with them, in secure memory that
    /// is wiped when `body` returns; `nil` when the box does not authenticate.
    public static func withOpenedPrefix<R>(
        _ box: UnsafeRawBufferPointer, count: Int, keys: EnvironmentKeys, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R? {
        withOpenedPrefix(box, keys: keys, length: { _ in count }, upTo: count, body)
    }

    /// Authenticates the whole box but decrypts only a prefix of its plaintext, whose length
    /// `length` reads from the first bytes (up to 32 of them, fewer if the plaintext is
    /// shorter; at most `maximum`, and never past the plaintext), and calls `body` with it,
    /// in secure memory wiped when `body` returns; `nil` when the box does not authenticate.
    ///
    /// A secretbox is Poly1305 over the ciphertext, keyed with the first 32 bytes of the
    /// XSalsa20 keystream, and the plaintext XORed with the keystream from byte 32 on. So the
    /// authenticator can be checked without decrypting, and a prefix decrypted alone: `list`
    /// reads names without ever turning values into plain text. XSalsa20 is Salsa20 under a
    /// sub-key HSalsa20 derives from the key and the nonce's first 16 bytes, so the keystream
    /// is made a 64-byte block at a time, as far as the prefix goes: one block (the Poly1305
    /// key and 32 bytes of plaintext) for a name of up to 15 bytes.
    public static func withOpenedPrefix<R>(
        _ box: UnsafeRawBufferPointer, keys: EnvironmentKeys, length: (UnsafeRawBufferPointer) -> Int, upTo maximum: Int,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R? {
        SecureBytes.withScratch(count: prefixScratchCount(upTo: maximum)) { scratch in
            keys.sealing.withUnsafeBytes { key in withOpenedPrefix(box, key: key, length: length, upTo: maximum, scratch: scratch, body) }
        }
    }

    /// The secure memory `withOpenedPrefix` works in for a prefix of at most `maximum`
    /// bytes: the sub-key, the first keystream block, then the plaintext.
    static func prefixScratchCount(upTo maximum: Int) -> Int {
        Int(crypto_stream_salsa20_KEYBYTES) + 64 + max(0, maximum)
    }

    /// `withOpenedPrefix` under the sealing sub-key `key` itself (lent by `SecureBytes` or
    /// `EnvironmentKeys.withOpeningKeys`), working in `scratch` (secure memory of at least
    /// `prefixScratchCount(upTo: maximum)` bytes, which the caller holds and wipes): for
    /// opening many boxes in a row in one region instead of taking and wiping one for each.
    /// What `body` sees stays in `scratch` until the next use overwrites it.
    static func withOpenedPrefix<R>(
        _ box: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, length: (UnsafeRawBufferPointer) -> Int, upTo maximum: Int,
        scratch: UnsafeMutableRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R? {
        precondition(key.count == Int(crypto_secretbox_KEYBYTES), "a secretbox key is 32 bytes")
        guard box.count >= overhead else { return nil }
        let nonce = box.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let mac = nonce.advanced(by: nonceByteCount)
        let ciphertext = mac.advanced(by: macByteCount)
        let ciphertextCount = box.count - overhead
        let limit = max(0, min(maximum, ciphertextCount))
        let subkeyCount = Int(crypto_stream_salsa20_KEYBYTES)
        let blockCount = 64
        let polyKeyCount = Int(crypto_onetimeauth_poly1305_KEYBYTES)
        precondition(scratch.count >= prefixScratchCount(upTo: limit), "scratch too small for the prefix")
        let subkey = scratch.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let block = subkey + subkeyCount
        let plaintext = block + blockCount
        let salsaNonce = nonce + 16
        _ = crypto_core_hsalsa20(subkey, nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self), nil)
        _ = crypto_stream_salsa20(block, UInt64(blockCount), salsaNonce, subkey)
        guard crypto_onetimeauth_poly1305_verify(mac, ciphertext, UInt64(ciphertextCount), block) == 0 else { return nil }
        let first = min(limit, blockCount - polyKeyCount)
        for index in 0..<first { plaintext[index] = ciphertext[index] ^ block[polyKeyCount + index] }
        let wanted = min(limit, max(0, length(UnsafeRawBufferPointer(start: plaintext, count: first))))
        if wanted > first {
            // Plaintext byte 32 meets keystream byte 64: block 1 on.
            _ = crypto_stream_salsa20_xor_ic(plaintext + first, ciphertext + first, UInt64(wanted - first), salsaNonce, 1, subkey)
        }
        return body(UnsafeRawBufferPointer(start: plaintext, count: wanted))
    }
}
