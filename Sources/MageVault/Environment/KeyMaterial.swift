/// A new key and the bytes of the key file that keeps it: the 32 key bytes themselves, or,
/// for a passphrase, only the Argon2id parameters (no key material on disk).
public struct KeyMaterial: Sendable {
    /// The keys derived from the new key.
    public let keys: EnvironmentKeys
    /// What the key file holds.
    let fileContents: SecureBytes
    /// Whether a passphrase protects it.
    public let isPassphrase: Bool

    /// A fresh random key, kept in the key file.
    public static func random() -> KeyMaterial {
        let key = EnvironmentKeys.generateKey()
        return KeyMaterial(keys: EnvironmentKeys(key: key), fileContents: key, isPassphrase: false)
    }

    /// A key derived from `passphrase` with Argon2id at `limits` and a fresh salt; the key
    /// file keeps the salt, the limits and the key id.
    public static func passphrase(_ passphrase: SecureBytes, limits: KDFLimits) throws(VaultError) -> KeyMaterial {
        guard passphrase.count > 0 else { throw .emptyPassphrase }
        let salt = randomBytes(Passphrase.saltByteCount)
        guard let key = Passphrase.deriveKey(passphrase, salt: salt, operations: limits.operations, memory: limits.memory) else {
            throw .system(SystemError("crypto_pwhash", "passphrase", code: 12))
        }
        let keys = EnvironmentKeys(key: key)
        let line = KeyFile.passphrase(operations: limits.operations, memory: limits.memory, salt: salt, keyID: keys.keyID).encoded()
        return KeyMaterial(keys: keys, fileContents: line.withUnsafeBytes { SecureBytes(copying: $0) }, isPassphrase: true)
    }

    /// Creates `path` (mode 0600) holding the key file, never replacing one: false when it
    /// already exists. Inside a git work tree, git is made to ignore the file and its
    /// temporary copies first (see `Environment.ignoreInGit(keyFile:)`); temporary copies
    /// that a killed writer left (they hold key bytes) are removed once a minute old.
    @discardableResult
    public func write(to path: String) throws(VaultError) -> Bool {
        FileSystem.removeStaleTemporaries(beside: path, olderThan: 60)
        try Environment.ignoreInGit(keyFile: path)
        return try system { () throws(SystemError) in
            try fileContents.withUnsafeBytes { bytes throws(SystemError) in
                try FileSystem.createExclusively(path, mode: 0o600, contents: bytes)
            }
        }
    }
}
