/// Where this process's identities come from, first found first:
///
/// 1. `$MAGE_VAULT_IDENTITY`: the identity itself (for machines: CI, a production Mage);
/// 2. `$MAGE_VAULT_IDENTITY_FILE`: a file holding it (an age identity file, an unencrypted
///    OpenSSH `ssh-ed25519` private key);
/// 3. `$XDG_CONFIG_HOME/mage-vault/identity`, else `~/.config/mage-vault/identity`: the one
///    `mage-vault identity` makes.
///
/// Files must be regular and private (`0600`), as key files. An identity is never inside a
/// data dir or repository: it is the person's, not the project's.
public enum Identities {
    /// The variable holding an identity itself.
    public static let variable = "MAGE_VAULT_IDENTITY"
    /// The variable naming an identity file.
    public static let fileVariable = "MAGE_VAULT_IDENTITY_FILE"

    /// The default identity file.
    public static var defaultFile: String {
        let config = FileSystem.environmentVariable("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? FileSystem.homeDirectory() + "/.config"
        return config + "/mage-vault/identity"
    }

    /// Where the identities come from: the variable's name, or a file's path; nil when none.
    public static var source: String? {
        if FileSystem.environmentVariable(variable) != nil { return "$" + variable }
        if let path = FileSystem.environmentVariable(fileVariable) { return path }
        return FileSystem.exists(defaultFile) ? defaultFile : nil
    }

    /// The identities at hand ([] when there are none).
    public static func load() throws(VaultError) -> [Identity] {
        if let text = FileSystem.environmentVariable(variable) {
            guard let identities = Identity.parse(text) else { throw .invalidIdentity(source: "$" + variable) }
            return identities
        }
        let path: String
        if let named = FileSystem.environmentVariable(fileVariable) {
            guard FileSystem.exists(named) else { throw .invalidIdentity(source: named) }
            path = named
        } else {
            path = defaultFile
            guard FileSystem.exists(path) else { return [] }
        }
        let (contents, mode) = try system { () throws(SystemError) in try FileSystem.readSecretFile(path, maximumBytes: 64 << 10) }
        guard mode & 0o077 == 0 else { throw .insecureKeyFile(path: path, mode: UInt32(mode)) }
        guard let identities = contents.withUnsafeBytes({ Identity.parse(String(decoding: $0, as: UTF8.self)) }) else {
            throw .invalidIdentity(source: path)
        }
        return identities
    }

    /// The identity in use, made (and written to `defaultFile`, mode 0600) when there is
    /// none; and whether it was made now.
    public static func findOrCreate(now: String) throws(VaultError) -> (identity: Identity, created: Bool, source: String) {
        if let first = try load().first, let source { return (first, false, source) }
        let identity = Identity.generate()
        let path = defaultFile
        var text = identity.fileText(created: now)
        defer { text.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        try system { () throws(SystemError) in
            try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path), mode: 0o700)
            _ = try FileSystem.createExclusively(path, mode: 0o600, contents: text)  // another process's, if it won the race
        }
        guard let written = try load().first else { throw .invalidIdentity(source: path) }
        return (written, written.recipient == identity.recipient, path)
    }
}
