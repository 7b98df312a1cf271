import MageVault
import MageVaultCommandLine

struct Init: Command {
    static let spec = CommandSpec(
        name: "init",
        abstract: "Create this environment's uuid, key and log, adopting what already exists.",
        discussion: """
            Adopts Mage's secrets/uuid when it exists, so an existing Mage install keeps its \
            identity. Creates secrets/vault.key (32 random bytes, mode 0600, in a 0700 folder) \
            and the log. Running it again changes nothing.
            """,
        options: PassphraseOptions.specs
    )

    let key: PassphraseOptions
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        key = PassphraseOptions(parsed)
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let location = options.location
        let hadUUID = Environment.exists(location)
        let hadKey = location.keySource == .environmentVariable || FileSystem.exists(location.keyFile)
        // A teammate's clone after 'access add': the key comes from the access file, none is made.
        let granted = !hadKey && Environment.existingID(location).map { Access.grants(location, id: $0) } == true
        // A uuid whose records are in the log but whose key is not here (a fresh clone): a new
        // key would open none of them, so init refuses and says where the key is needed.
        if !hadKey { try Vault.requireWritableLog(location) }
        let newKey = key.passphrase && !hadKey && !granted ? try key.newKey(firstKey: true) : nil
        // Before any key exists: in a git work tree, the rules that keep keys out of commits.
        let gitignores = try Environment.ignoreKeyFilesInGit(location)
        let environment = try Environment.open(location, create: true, newKey: newKey)
        if granted { try Access.adopt(environment) }
        let vault = try Vault(resolution: [environment])
        let createdLog = try vault.createLogIfMissing()
        print("environment \(vault.environment.id)")
        // "adopted" is for Mage's uuid, found without a key of ours beside it; a uuid with its
        // key is one that MageVault (or an earlier init) already set up.
        print("  uuid  \(location.uuidFile) (\(hadUUID ? (hadKey || granted ? "exists" : "adopted") : "created"))")
        let created = newKey != nil ? "created: passphrase-protected (Argon2id, \(key.kdfLimits.rawValue)), no key stored" : "created, mode 0600"
        if granted {
            print("  key   \(location.keyFile) (from your identity's line in \(Access.file(of: location)), key \(String(environment.keys.keyID, radix: 16).leftPaddedZeros(8)), mode 0600)")
        } else {
            print("  key   \(location.keySource) (\(hadKey ? "exists" : created))")
        }
        print("  log   \(location.logFile) (\(createdLog ? "created" : "exists"))")
        for gitignore in gitignores {
            print("added the key files to \(gitignore): the log may be committed, keys never")
        }
        if !hadKey && !granted {
            print(newKey != nil ? "Remember the passphrase: without it this environment's secrets cannot be read."
                : "Back up the key file: without it this environment's secrets cannot be read.")
        }
    }
}
