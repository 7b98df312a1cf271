import MageVault
import MageVaultCommandLine

/// Runs `mage-vault-migrate`, installed beside this binary, with the same arguments: Mage's
/// SQLite database and Fernet's AES live in a program of their own so that they do not
/// slow every start of this one (a cold `get` runs at every pipeline step).
struct Migrate: Command {
    static let spec = CommandSpec(
        name: "migrate",
        abstract: "Carry Mage's secrets (its database and key files) into the vault (see `mage-vault migrate --help`).",
        discussion: "Runs mage-vault-migrate from the folder this binary is in; its --help lists the options.",
        arguments: [ArgumentSpec("arguments", help: "Options for mage-vault-migrate: --database, --repo, --rename, --dry-run, --data-dir, --vault…", kind: .passthrough)],
        takesLocationOptions: false
    )

    let arguments: [String]

    init(_ parsed: ParsedArguments) {
        arguments = parsed.words("arguments")
    }

    func run() throws {
        try SiblingProgram.run("mage-vault-migrate", arguments)
    }
}
