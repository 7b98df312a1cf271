/// The environment variables MageVault reads a key from, or a passphrase, or the path of a
/// key file: the one list every part of the tool consults. A program MageVault starts
/// (`exec`, `git`, any `ProgramRunner` child) never inherits them, a secret cannot be
/// exported under their names, and a template's `env_var` cannot print them.
public enum KeyVariable: String, CaseIterable, Sendable {
    /// `$MAGE_VAULT_KEY`: the base64 of the selected scope's 32 key bytes.
    case key = "MAGE_VAULT_KEY"
    /// `$MAGE_VAULT_KEY_FILE`: the path of the selected scope's key file.
    case keyFile = "MAGE_VAULT_KEY_FILE"
    /// `$MAGE_VAULT_PASSPHRASE`: the passphrase a passphrase-protected key file needs.
    case passphrase = "MAGE_VAULT_PASSPHRASE"
    /// `$MAGE_VAULT_NEW_PASSPHRASE`: the new passphrase of a `rekey --passphrase`.
    case newPassphrase = "MAGE_VAULT_NEW_PASSPHRASE"

    /// The variable's name.
    public var name: String { rawValue }

    /// Whether `name` is one of these variables.
    public static func contains(_ name: String) -> Bool { KeyVariable(rawValue: name) != nil }

    /// `variables` without any of these: what a child process may inherit.
    public static func withheld(from variables: [String: String]) -> [String: String] {
        variables.filter { !contains($0.key) }
    }
}
