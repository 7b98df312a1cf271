import MageVault
import MageVaultCommandLine

/// `identity`: the one command a new teammate runs.
struct IdentityCommand: Command {
    static let spec = CommandSpec(
        name: "identity",
        abstract: "Show your identity's recipient (making the identity when you have none), to send to a teammate.",
        discussion: """
            Your identity is yours, not the project's: $MAGE_VAULT_IDENTITY (the identity \
            itself, for machines), else the file $MAGE_VAULT_IDENTITY_FILE (an age identity \
            file, or an unencrypted OpenSSH ssh-ed25519 private key), else \
            ~/.config/mage-vault/identity, made now (mode 0600) when missing. Send the \
            recipient line it prints to a teammate who can read the environment; once they \
            have run 'mage-vault access add' and pushed, pull and read.
            """,
        takesLocationOptions: false
    )

    init(_ parsed: ParsedArguments) throws {}

    func run() throws {
        let (identity, created, source) = try Identities.findOrCreate(now: Timestamp(milliseconds: wallClockMilliseconds()).iso8601)
        print("identity   \(source)\(created ? " (created, mode 0600)" : "")")
        print("recipient  \(identity.recipient.text)")
        print("Send the recipient to a teammate who can read the environment; they run:")
        print("  mage-vault access add \(identity.recipient.text) --name NAME")
        if created { print("Back up \(source): it is the only way to your access (a teammate can add a new identity instead).") }
    }
}

/// `access add`, `access remove` and `access list`.
enum AccessCommand {
    static var entry: CommandSpec {
        CommandSpec(
            name: "access",
            abstract: "Share the environment with teammates and machines: add, remove (rotating the key), list.",
            takesLocationOptions: false,
            subcommands: [Subcommand("add", AccessAdd.self), Subcommand("remove", AccessRemove.self), Subcommand("list", AccessList.self)]
        )
    }

    /// The scopes an access command works on: the one --project/--pipeline name, else every
    /// scope of the data dir this process can read.
    static func scopes(_ options: LocationOptions) throws -> [Environment] {
        if options.project != nil { return [try Environment.open(options.location, create: false)] }
        let scopes = Environment.allScopes(options.location)
        guard !scopes.isEmpty else { return [try Environment.open(options.location, create: false)] }  // says why
        return scopes
    }
}

struct AccessAdd: Command {
    static let spec = CommandSpec(
        name: "add",
        abstract: "Wrap the environment's key to a teammate's or machine's recipient, in <log>.access (commit it).",
        discussion: """
            RECIPIENT is what 'mage-vault identity' printed for them (age1…), an age \
            recipient, or an ssh-ed25519 public key line in quotes. Works on every scope of the \
            data dir you can read, or on the one --project/--pipeline names. Commit and push \
            the access file; after a pull they read as you do.
            """,
        arguments: [ArgumentSpec("recipient", help: "age1… or 'ssh-ed25519 AAAA… comment'.")],
        options: [OptionSpec("name", valueName: "name", help: "What the team calls them (alice@laptop); default: the ssh key's comment.")]
    )

    let recipient: String
    let name: String?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        recipient = parsed.argument("recipient")
        name = parsed.value("name")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        guard let (parsed, comment) = Recipient.parse(recipient) else { throw VaultError.invalidRecipient }
        guard let name = name ?? comment else {
            throw ValidationError("access add needs --name NAME for an age recipient (what the team calls them, e.g. alice@laptop)")
        }
        let now = Timestamp(milliseconds: wallClockMilliseconds()).iso8601
        for environment in try AccessCommand.scopes(options) {
            let vault = try Vault(environment: environment)
            let added = try Access.add(parsed, name: name, to: vault, now: now)
            print("\(added ? "added" : "already a member:") \(name) (\(parsed.fingerprint)) to \(environment.location.scope) (key \(String(environment.keys.keyID, radix: 16).leftPaddedZeros(8)))")
        }
        print("Commit and push \(Access.file(of: options.location)); after a pull, \(name) reads the environment.")
    }
}

struct AccessRemove: Command {
    static let spec = CommandSpec(
        name: "remove",
        abstract: "Remove a member: rotate the key, re-seal the records and wrap the new key for everyone else, in one step.",
        discussion: """
            Works on every scope of the data dir where NAME holds the current key (or on the \
            one --project/--pipeline names). The removed member cannot read anything written \
            afterwards; what they could read before stays readable to them (it is in the git \
            history they have): rotate those credentials where they were issued.
            """,
        arguments: [ArgumentSpec("name", help: "The member's name, as 'access list' shows it.")]
    )

    let name: String
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let now = Timestamp(milliseconds: wallClockMilliseconds()).iso8601
        var removed = 0
        for environment in try AccessCommand.scopes(options) {
            guard try Access.members(of: environment).members.contains(where: { $0.name == name && $0.hasCurrentKey }) else { continue }
            let vault = try Vault(environment: environment)
            let kept = try Access.remove(name: name, from: vault, newKey: KeyMaterial.random(), now: now)
            printWarnings(of: vault)
            removed += 1
            print("removed \(name) from \(environment.location.scope): new key \(String(vault.environment.keys.keyID, radix: 16).leftPaddedZeros(8)), "
                + "wrapped for \(kept.count) member(s)\(kept.isEmpty ? "" : ": " + kept.map(\.name).joined(separator: ", ")); records re-sealed")
        }
        guard removed > 0 else { throw VaultError.notAMember(name: name) }
        print("Commit and push the log and \(Access.file(of: options.location)). \(name) cannot read anything written from now on; "
            + "what they could read before stays readable to them (git history): rotate those credentials where they were issued.")
    }
}

struct AccessList: Command {
    static let spec = CommandSpec(
        name: "list",
        abstract: "The members of each scope: names, fingerprints, who added whom and when. Never a key.",
        discussion: """
            A member marked 'older key' was left out of a rotation (removed, or added on a \
            branch before it): they read only what was written before it. Lines no key you \
            hold vouches for (written without the environment's key) are counted, never \
            listed as members.
            """
    )

    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        options = try LocationOptions(parsed)
    }

    func run() throws {
        for environment in try AccessCommand.scopes(options) {
            let (members, unverified) = try Access.members(of: environment)
            print("\(environment.location.scope) (key \(String(environment.keys.keyID, radix: 16).leftPaddedZeros(8))): \(members.filter(\.hasCurrentKey).count) member(s)")
            for member in members {
                print("  \(member.name)  \(member.fingerprint)  added by \(member.addedBy) \(member.time)\(member.hasCurrentKey ? "" : "  (older key)")")
            }
            if unverified > 0 { print("  \(unverified) line(s) no key of this scope vouches for: ignored") }
            if let exposure = environment.exposure {
                print("  two removals were merged from two branches: "
                    + exposure.removed.map { "\($0.name) (removed by \($0.removedBy))" }.joined(separator: " and ")
                    + " still hold(s) a current key; writes wait until a member runs 'mage-vault rekey'")
            }
        }
    }
}
