import CSodium

/// Argon2id (`crypto_pwhash`) cost presets, libsodium's own.
public enum KDFLimits: String, Sendable, CaseIterable {
    /// 2 passes, 64 MiB: for keys unlocked often on small machines.
    case interactive
    /// 3 passes, 256 MiB: the default.
    case moderate
    /// 4 passes, 1 GiB: for keys unlocked rarely.
    case sensitive

    /// Argon2id passes.
    public var operations: UInt64 {
        _ = Sodium.ready
        switch self {
        case .interactive: return UInt64(crypto_pwhash_opslimit_interactive())
        case .moderate: return UInt64(crypto_pwhash_opslimit_moderate())
        case .sensitive: return UInt64(crypto_pwhash_opslimit_sensitive())
        }
    }

    /// Argon2id memory in bytes.
    public var memory: UInt64 {
        _ = Sodium.ready
        switch self {
        case .interactive: return UInt64(crypto_pwhash_memlimit_interactive())
        case .moderate: return UInt64(crypto_pwhash_memlimit_moderate())
        case .sensitive: return UInt64(crypto_pwhash_memlimit_sensitive())
        }
    }
}

/// Turns a passphrase into an environment key with Argon2id, so that no key material needs
/// to be stored: only the salt and the cost, which are not secret.
public enum Passphrase {
    /// Bytes of salt (`crypto_pwhash_SALTBYTES`).
    public static var saltByteCount: Int { _ = Sodium.ready; return Int(crypto_pwhash_saltbytes()) }

    /// Derives the 32-byte environment key from `passphrase` (UTF-8 bytes, not empty) and
    /// `salt`. Returns nil when the system cannot provide the memory the cost asks for.
    public static func deriveKey(
        _ passphrase: SecureBytes, salt: [UInt8], operations: UInt64, memory: UInt64
    ) -> SecureBytes? {
        _ = Sodium.ready
        var failed = false
        let key = SecureBytes(count: EnvironmentKeys.keyByteCount) { out in
            passphrase.withUnsafeBytes { secret in
                guard let base = secret.baseAddress else {  // an empty passphrase is refused above us
                    failed = true
                    return
                }
                failed = crypto_pwhash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                    base.assumingMemoryBound(to: CChar.self), UInt64(secret.count),
                    salt, operations, Int(memory), crypto_pwhash_alg_argon2id13()) != 0
            }
        }
        return failed ? nil : key
    }
}

extension EnvironmentKeys {
    /// The key id a raw 32-byte key would have, without keeping the keys around.
    public static func keyID(of key: SecureBytes) -> UInt32 { EnvironmentKeys(key: key).keyID }
}
