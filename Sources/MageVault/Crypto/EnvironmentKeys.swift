import CSodium

/// The keys of one environment (or scope): the 32-byte key from its key file and the
/// sub-keys derived from it with `crypto_kdf_derive_from_key`, one per purpose.
///
/// | sub-key id | length | purpose |
/// |---|---|---|
/// | 1 | 32 | `crypto_secretbox` key that seals record bodies |
/// | 2 | 32 | BLAKE2b key that turns a secret's name into its tag |
/// | 3 | 16 | key identifier: its first 4 bytes name the key in every record header |
/// | 4 | 32 | `crypto_secretbox` key that seals the retired keys file (`<key file>.retired`) |
/// | 5 | 32 | BLAKE2b key of the check that ends each line of the access file |
/// | 6 | 32 | revocation id: names the key as revoked in an access bundle without giving it |
///
/// The context string is `mgvault1`. `vault-format.md` specifies the same.
public final class EnvironmentKeys: Sendable {
    /// Bytes in an environment key (`crypto_kdf_KEYBYTES`).
    public static let keyByteCount = 32
    static let context = "mgvault1"

    let sealing: SecureBytes
    let tagging: SecureBytes
    let wrapping: SecureBytes
    /// The key itself, kept (in secure memory) for one purpose: a rekey seals it into the
    /// new key's retired keys file.
    let master: SecureBytes
    /// Names the key without revealing it, so that a record sealed under another key is
    /// recognised as such ("wrong key") rather than as damage.
    public let keyID: UInt32

    /// Derives the sub-keys of `key`, which must be exactly `keyByteCount` bytes.
    public init(key: SecureBytes) {
        precondition(key.count == Self.keyByteCount, "an environment key is 32 bytes")
        master = key
        sealing = Self.derive(from: key, id: 1, count: Int(crypto_secretbox_KEYBYTES))
        tagging = Self.derive(from: key, id: 2, count: 32)
        wrapping = Self.derive(from: key, id: 4, count: Int(crypto_secretbox_KEYBYTES))
        let identifier = Self.derive(from: key, id: 3, count: 16)
        keyID = identifier.withUnsafeBytes { bytes in
            bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }

    /// Seals `keys` (each 32 bytes: keys this environment used before a rekey) under
    /// sub-key 4: `nonce[24] || secretbox(key || key || …)`. Only the holder of this key can
    /// read which keys it retired.
    public func sealRetired(_ keys: [SecureBytes]) -> [UInt8] {
        let plaintext = SecureBytes(count: keys.count * Self.keyByteCount) { out in
            for (position, key) in keys.enumerated() {
                precondition(key.count == Self.keyByteCount, "an environment key is 32 bytes")
                key.withUnsafeBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: out[(position * Self.keyByteCount)...]).copyMemory(from: bytes)
                }
            }
        }
        return plaintext.withUnsafeBytes { SecretBox.seal($0, key: wrapping) }
    }

    /// `sealRetired` with a given nonce: for the spec's test vector only.
    func sealRetiredWithNonce(_ keys: [SecureBytes], nonce: [UInt8]) -> [UInt8] {
        let plaintext = keys.flatMap { key in key.withUnsafeBytes { Array($0) } }
        return plaintext.withUnsafeBytes { SecretBox.seal($0, key: wrapping, nonce: nonce) }
    }

    /// Opens what `sealRetired` sealed; nil when it does not authenticate under this key.
    public func openRetired(_ box: UnsafeRawBufferPointer) -> [SecureBytes]? {
        guard let plaintext = SecretBox.open(box, key: wrapping), plaintext.count % Self.keyByteCount == 0 else { return nil }
        return plaintext.withUnsafeBytes { bytes in
            stride(from: 0, to: bytes.count, by: Self.keyByteCount).map { start in
                SecureBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Self.keyByteCount)]))
            }
        }
    }

    /// The check of an access file line (`bytes`: the line up to its last space):
    /// BLAKE2b-256 keyed with sub-key 5. Only a holder of this key can make it.
    public func accessCheck(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Self.derive(from: master, id: 5, count: 32).withUnsafeBytes { keyedBLAKE2b256(bytes, key: $0) }
    }

    /// Whether `check` is `accessCheck(of: bytes)`, compared in constant time.
    public func isAccessCheck(_ check: [UInt8], of bytes: UnsafeRawBufferPointer) -> Bool {
        equalMACs(check, accessCheck(of: bytes))
    }

    /// The key's revocation id: sub-key 6. A version 2 access bundle lists the keys removals
    /// revoked by these ids, so that a member who never held such a key still passes on that
    /// it is revoked, and nobody learns the key from it.
    public var revocationID: [UInt8] { Self.derive(from: master, id: 6, count: 32).withUnsafeBytes { Array($0) } }

    /// What an access entry's sealed bundle holds: keys, the current one first, and the
    /// revocation ids of the keys removals revoked (version 2 bundles only).
    struct Bundle {
        let keys: [EnvironmentKeys]
        let revoking: [[UInt8]]
    }

    /// The bundle a version 2 access entry wraps: the number of keys (2 bytes, big-endian),
    /// this key, then `retired` (each 32 bytes), newest first, so that a teammate reads
    /// records under every key the environment used; then `revoking` (revocation ids, 32
    /// bytes each), the keys no record is believed under any more.
    public static func bundle(_ current: EnvironmentKeys, retired: [EnvironmentKeys], revoking: [[UInt8]] = []) -> SecureBytes {
        let keys = [current.master] + retired.map(\.master)
        precondition(keys.count <= Int(UInt16.max) && revoking.allSatisfy { $0.count == keyByteCount }, "a bundle's parts")
        return SecureBytes(count: 2 + (keys.count + revoking.count) * keyByteCount) { out in
            out[0] = UInt8(keys.count >> 8)
            out[1] = UInt8(keys.count & 0xFF)
            for (position, key) in keys.enumerated() {
                key.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(2 + position * keyByteCount)...]).copyMemory(from: $0) }
            }
            for (position, id) in revoking.enumerated() {
                id.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(2 + (keys.count + position) * keyByteCount)...]).copyMemory(from: $0) }
            }
        }
    }

    /// The parts of a bundle of access line `version`; nil unless it is exactly one. Version
    /// 1: a whole number (at least one) of keys. Version 2: a 2-byte count `n` (at least
    /// one), `n` keys, then a whole number of revocation ids.
    static func parts(ofBundle bundle: SecureBytes, version: Int) -> Bundle? {
        bundle.withUnsafeBytes { bytes -> Bundle? in
            let count: Int, start: Int
            switch version {
            case 1:
                guard bytes.count % keyByteCount == 0 else { return nil }
                (count, start) = (bytes.count / keyByteCount, 0)
            case 2:
                guard bytes.count >= 2, (bytes.count - 2) % keyByteCount == 0 else { return nil }
                (count, start) = (Int(bytes[0]) << 8 | Int(bytes[1]), 2)
                guard count * keyByteCount <= bytes.count - 2 else { return nil }
            default:
                return nil
            }
            guard count > 0 else { return nil }
            func piece(_ index: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: bytes[(start + index * keyByteCount)..<(start + (index + 1) * keyByteCount)])
            }
            let keys = (0..<count).map { EnvironmentKeys(key: SecureBytes(copying: piece($0))) }
            let revoking = (count..<((bytes.count - start) / keyByteCount)).map { Array(piece($0)) }
            return Bundle(keys: keys, revoking: revoking)
        }
    }

    /// A fresh random environment key.
    public static func generateKey() -> SecureBytes {
        SecureBytes.random(count: keyByteCount)
    }

    static func derive(from key: SecureBytes, id: UInt64, count: Int) -> SecureBytes {
        SecureBytes(count: count) { out in
            key.withUnsafeBytes { master in
                let status = context.withCString { ctx in
                    crypto_kdf_derive_from_key(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), count, id, ctx,
                        master.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
                precondition(status == 0, "crypto_kdf_derive_from_key rejected its parameters")
            }
        }
    }

    /// The keyed tag of a secret's name: BLAKE2b-128 keyed with sub-key 2. The clear
    /// header carries the tag, never the name.
    public func tag(ofName name: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        tagging.withUnsafeBytes { key in Self.tag(ofName: name, key: key) }
    }

    /// The keyed tag of `name` under the tag sub-key `key`.
    static func tag(ofName name: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var out: (UInt64, UInt64) = (0, 0)  // the 16 digest bytes, read big-endian below
        withUnsafeMutableBytes(of: &out) { digest in
            _ = crypto_generichash(
                digest.baseAddress!.assumingMemoryBound(to: UInt8.self), 16, name.baseAddress?.assumingMemoryBound(to: UInt8.self),
                UInt64(name.count), key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        }
        return (UInt64(bigEndian: out.0), UInt64(bigEndian: out.1))
    }

    /// Calls `body` with the two sub-keys opening a record takes (the secretbox key and the
    /// tag key), borrowed for the length of the call: for opening many records in a row.
    /// Reaching into the keys once per record instead changes their reference counts each
    /// time, and when two threads open records of one scope (`list`), those counts are one
    /// memory location that both CPUs write, passed back and forth at every record.
    func withOpeningKeys<R, E: Error>(_ body: (OpeningKeys) throws(E) -> R) throws(E) -> R {
        try sealing.withUnsafeBytes { sealing throws(E) in
            try tagging.withUnsafeBytes { tagging throws(E) in try body(OpeningKeys(keyID: keyID, sealing: sealing, tagging: tagging)) }
        }
    }
}

/// An environment key's sub-keys for opening records, valid only inside the
/// `EnvironmentKeys.withOpeningKeys` call that lends them (no pointer to a key escapes it).
struct OpeningKeys {
    /// The key id records sealed under this key name.
    let keyID: UInt32
    /// Sub-key 1: the `crypto_secretbox` key of record bodies.
    let sealing: UnsafeRawBufferPointer
    /// Sub-key 2: the BLAKE2b key of name tags.
    let tagging: UnsafeRawBufferPointer

    /// The keyed tag of the name whose UTF-8 is `bytes`.
    func tag(ofNameBytes bytes: UnsafeRawBufferPointer) -> NameTag {
        let (high, low) = EnvironmentKeys.tag(ofName: bytes, key: tagging)
        return NameTag(rawValue: UInt128(high) << 64 | UInt128(low))
    }
}
