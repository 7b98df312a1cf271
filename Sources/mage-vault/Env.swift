import MageVault
import MageVaultCommandLine

struct Env: Command {
    static let spec = CommandSpec(
        name: "env",
        abstract: "Show the data directory, uuid, key file, log, and records per uuid.",
        discussion: """
            Counts come from the clear headers, so environments whose key is absent are \
            counted too. Writes nothing.
            """
    )

    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let location = options.location
        print("data dir   \(location.dataDirectory)")
        if location.scope != .global { print("scope      \(location.scope)") }
        guard Environment.exists(location) else {
            print("uuid       (none: \(location.uuidFile) does not exist; run 'mage-vault init')")
            print("log        \(location.logFile)")
            print("mage       \(Self.mageBackend(dataDirectory: location.dataDirectory))")
            return
        }
        // Mage's own uuid and no vault yet (a Mage install before migrate, or a clone before
        // its access): say what there is, and what Mage reads, instead of only refusing.
        if case .scopeFile(let keyFile) = location.keySource, !FileSystem.exists(keyFile), let id = Environment.existingID(location),
            !Access.grants(location, id: id)
        {
            print("uuid       \(id)")
            print("key        (none: \(keyFile) does not exist; 'mage-vault init' makes one, 'mage-vault migrate' moves Mage's secrets in)")
            print("log        \(location.logFile)\(FileSystem.exists(location.logFile) ? "" : " (not created yet)")")
            print("mage       \(Self.mageBackend(dataDirectory: location.dataDirectory))")
            return
        }
        let vault = try options.openVault(create: false)
        let status = try vault.status()
        print("uuid       \(vault.environment.id)")
        print("key        \(location.keySource)")
        if let git = Environment.keyFileInGit(location), location.keySource != .environmentVariable {
            if git.tracked {
                printError("mage-vault: warning: git tracks the key file \(location.keyFile): remove it (git rm --cached) and rotate the key with 'mage-vault rekey'")
            } else if !git.ignored {
                printError("mage-vault: warning: the key file \(location.keyFile) is in a git work tree and not ignored: run 'mage-vault init' to add it to .gitignore")
            }
        }
        print("log        \(status.logFile)\(status.exists ? "" : " (not created yet)")")
        if let id = status.vaultID { print("vault id   \(id)") }
        print("mage       \(Self.mageBackend(dataDirectory: location.dataDirectory))")
        print("")
        print("UUID                              RECORDS  LIVE")
        for summary in status.environments {
            let marker = summary.id == vault.environment.id ? "  (this environment)" : ""
            print("\(summary.id)  \(String(summary.records).leftPadded(to: 7))  \(String(summary.liveSecrets).leftPadded(to: 4))\(marker)")
        }
        if status.damagedLines > 0 { print("damaged lines: \(status.damagedLines)") }
        if status.tornBytes > 0 { print("torn tail: \(status.tornBytes) bytes (an interrupted write; the next write cuts it off)") }
    }
}

extension Env {
    /// Which secrets backend Mage uses for this data dir, by the rule of the wheel's start-up
    /// hook (`_mage_vault_hook.py`): `MAGE_SECRETS_BACKEND` when it is exactly `mage-vault` or
    /// `mage`, else the vault when the data dir's `secrets/` holds `vault.log` or `vault.key`.
    static func mageBackend(dataDirectory: String) -> String {
        let secrets = dataDirectory + "/secrets/"
        let marker = ["vault.log", "vault.key"].first { FileSystem.exists(secrets + $0) }
        switch FileSystem.environmentVariable("MAGE_SECRETS_BACKEND") {
        case "mage-vault": return "reads the vault (MAGE_SECRETS_BACKEND=mage-vault)"
        case "mage": return "reads its own database (MAGE_SECRETS_BACKEND=mage)"
        default:
            guard let marker else {
                return "reads its own database (no vault here; 'mage-vault migrate --dry-run' shows what it would move)"
            }
            return "reads the vault (secrets/\(marker) is here; MAGE_SECRETS_BACKEND=mage overrides)"
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
