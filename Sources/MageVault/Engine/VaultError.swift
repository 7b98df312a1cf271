/// Everything that can go wrong for a user of the vault, each with a message that says
/// what happened, which file, and what to do next. No message ever holds a secret value.
/// Messages may name a secret: the one asked for (`noSuchSecret`), the secrets `exec` would
/// export (`invalidVariableName`, `unmatchedMapping`, …), a merge's conflicts
/// (`unmatchedResolution`). Names appear; values never do.
public enum VaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data directory has no environment (no `secrets/uuid`) and none was to be created.
    case noEnvironment(dataDirectory: String)
    /// A project or pipeline scope that does not exist (no uuid file).
    case noScope(Scope, uuidFile: String)
    /// A scope given wrongly (`--pipeline` without `--project`, a bad folder name).
    case invalidScope(String)
    /// The environment has a uuid but no MageVault key file.
    case missingKey(keyFile: String)
    /// A write would create a key for a scope whose uuid already has records in the log:
    /// sealed under its existing key, which is missing here. Nothing was created.
    case keyMissingForRecords(environment: EnvironmentID, keyFile: String, logFile: String, records: Int)
    /// An identity (`$MAGE_VAULT_IDENTITY`, an identity file) that is neither an age
    /// identity nor an unencrypted OpenSSH ssh-ed25519 private key.
    case invalidIdentity(source: String)
    /// The access file grants us two unrelated keys for one scope and no key held here
    /// tells which is the scope's: one of them was written by someone without the key.
    case accessConflict(environment: EnvironmentID, keyIDs: [UInt32], addedBy: [String])
    /// The access file gave our identity only keys none of the scope's records opens with:
    /// we were removed, or added on a branch before a rotation.
    case staleAccess(accessFile: String, keyFile: String)
    /// A write while two removals merged from two branches leave the current key with
    /// someone one of them removed (`Access.Exposure`): nothing was written.
    case removalsMerged(environment: EnvironmentID, removed: [String], removedBy: [String])
    /// A recipient that is neither `age1…` nor an `ssh-ed25519` public key.
    case invalidRecipient
    /// A member name outside `A-Z a-z 0-9 . _ @ + -` or longer than 64 bytes.
    case invalidMemberName(String)
    /// A member name already given to another recipient.
    case memberNameTaken(name: String, fingerprint: String)
    /// An access file that is not a regular file of its own.
    case invalidAccessFile(path: String, reason: String)
    /// A rotation by someone who is not a member with an identity: members could not tell it
    /// from a removed member's.
    case rotationNeedsMemberIdentity
    /// `access remove` of oneself.
    case cannotRemoveYourself(name: String)
    /// `access remove` on a passphrase-protected scope, whose rotation would need a new passphrase.
    case removalNeedsRawKey(keyFile: String)
    /// `access remove` of a name that holds no current key of the scope.
    case notAMember(name: String)
    /// A file given to read from (`import FILE`, `set --from-file FILE`) does not exist.
    case missingInputFile(path: String)
    /// The key file named by `--key-file` or `$MAGE_VAULT_KEY_FILE` does not exist
    /// (`scopeKeyFile` is the scope's own, used without them).
    case missingExplicitKey(keyFile: String, scopeKeyFile: String)
    /// Records of this environment were sealed under another key than the key file's.
    case wrongKey(keyFile: String)
    /// The passphrase does not derive the key its key file names.
    case wrongPassphrase(keyFile: String)
    /// A passphrase is needed and none can be asked for.
    case passphraseNeeded(variable: String)
    /// An empty passphrase.
    case emptyPassphrase
    /// `$MAGE_VAULT_KEY` is not the base64 of 32 bytes.
    case invalidKeyVariable
    /// A rekey of a key given in `$MAGE_VAULT_KEY`, which has no file to write the new key to.
    case rekeyNeedsKeyFile
    /// A key file others may read, refused as ssh refuses such a private key.
    case insecureKeyFile(path: String, mode: UInt32)
    /// A key file git tracks (a commit forced it past `.gitignore`): never used.
    case keyFileTrackedByGit(path: String, workTree: String, relative: String)
    /// A key file that is not 32 bytes.
    case invalidKeyFile(path: String, bytes: Int)
    /// A retired keys file that the current key does not open.
    case invalidRetiredKeys(path: String)
    /// A record's time is the greatest there is, so no new record of its secret can be newer.
    case clockExhausted(path: String)
    /// A uuid file that is not 32 lowercase hex digits.
    case invalidUUIDFile(path: String)
    /// The log is not a vault, or of a newer version; it was not touched.
    case unreadableLog(path: String, FormatError)
    /// A log with damaged lines where damage must not pass (a branch the merge driver
    /// merges, a backup to restore); nothing was written. (Everyday reads and writes pass
    /// over damaged lines: see `Vault.warnings`.)
    case damagedLog(path: String, offsets: [UInt64], count: Int)
    /// A record of this environment failed to open although it names our key.
    case damagedRecord(path: String, offset: UInt64, reason: String)
    /// The name or value was refused; nothing was written.
    case invalidInput(InputError)
    /// An import entry was refused (its position in the file, 1-based); nothing was written.
    case invalidImportEntry(position: Int, InputError)
    /// An import file could not be read as `.env` or JSON; nothing was written.
    case invalidImportFile(path: String, SecretsFileError)
    /// No such version of the secret (or it is a delete, which has no value).
    case noSuchVersion(version: Int, available: Int)
    /// A secret asked for by name that no scope has.
    case noSuchSecret(name: String)
    /// `exec --map NAME=VAR` naming a secret that is not visible (or that `--only` leaves out).
    case unmatchedMapping(name: String, leftOutByOnly: Bool)
    /// `git merge --ours/--theirs NAME` naming no conflict of the merge (`conflicts`: the
    /// names that do conflict); nothing was written.
    case unmatchedResolution(option: String, names: [String], conflicts: [String])
    /// A secret whose name does not make an environment variable name.
    case invalidVariableName(secret: String, variable: String)
    /// A secret that would become one of the variables MageVault reads keys from (`KeyVariable`).
    case reservedVariableName(secret: String, variable: String)
    /// A secret would become a variable that changes what the program loads or runs
    /// (`LD_PRELOAD`, `PATH`, …) without `--map` naming it; nothing was run.
    case loaderVariableName(secret: String, variable: String)
    /// A secret whose value holds a NUL byte, which an environment variable cannot carry.
    case valueNotExportable(secret: String)
    /// The log does not exist yet (nothing was ever written).
    case noLog(path: String)
    /// A file that would be overwritten exists; nothing was written.
    case fileExists(path: String)
    /// Setting up git for the vault failed, or a path cannot be written as a git rule; nothing
    /// unsafe was left behind (the message says what to fix).
    case git(String)
    /// A system call failed.
    case system(SystemError)

    /// The broad kind of failure; the command-line tool maps each to its own exit code.
    public enum Kind: Sendable {
        /// Bad input or usage.
        case usage
        /// The key does not open this environment's records.
        case wrongKey
        /// The vault file is damaged, not a vault, or too new.
        case damaged
        /// A permission problem (loose key file, unreadable file).
        case permission
        /// Nothing to act on (no environment here).
        case notFound
        /// Another failure of the system (disk full, I/O error).
        case io
    }

    /// The exit status the command-line tool (and the C interface's error codes) give each
    /// kind: 1 not found, 2 usage, 3 wrong key, 4 damaged, 5 permission, 6 other I/O.
    public var exitStatus: Int32 {
        switch kind {
        case .notFound: 1
        case .usage: 2
        case .wrongKey: 3
        case .damaged: 4
        case .permission: 5
        case .io: 6
        }
    }

    /// The kind of this error.
    public var kind: Kind {
        switch self {
        case .noEnvironment, .missingKey, .keyMissingForRecords, .missingExplicitKey, .noLog, .noScope, .noSuchSecret, .unmatchedMapping: .notFound
        case .unmatchedResolution: .usage
        case .invalidScope: .usage
        case .fileExists, .invalidImportEntry, .invalidImportFile, .invalidVariableName: .usage
        case .reservedVariableName, .loaderVariableName, .valueNotExportable, .git: .usage
        case .noSuchVersion: .notFound
        case .wrongKey, .wrongPassphrase: .wrongKey
        case .invalidIdentity, .accessConflict, .staleAccess, .removalsMerged: .wrongKey
        case .invalidRecipient, .invalidMemberName, .memberNameTaken: .usage
        case .notAMember, .missingInputFile: .notFound
        case .invalidAccessFile: .damaged
        case .cannotRemoveYourself, .removalNeedsRawKey, .rotationNeedsMemberIdentity: .usage
        case .passphraseNeeded, .emptyPassphrase, .invalidKeyVariable, .rekeyNeedsKeyFile: .usage
        case .insecureKeyFile, .keyFileTrackedByGit: .permission
        case .invalidKeyFile, .invalidUUIDFile, .unreadableLog, .damagedLog, .damagedRecord: .damaged
        case .invalidRetiredKeys: .wrongKey
        case .clockExhausted: .damaged
        case .invalidInput: .usage
        case .system(let error): error.isPermissionProblem ? .permission : .io
        }
    }

    public var description: String {
        switch self {
        case .noEnvironment(let dir):
            FileSystem.exists(dir + "/mage-ai.db")
                ? "no MageVault environment in \(dir): it holds mage-ai.db, so it is a Mage project's database folder, not a data dir; "
                    + "Mage keeps its secrets in the data dir above it (\(FileSystem.parentDirectory(of: dir))/secrets): pass --data-dir "
                    + "\(FileSystem.parentDirectory(of: dir)), or run 'mage-vault migrate' there to move Mage's secrets in"
                : "no MageVault environment in \(dir) (no secrets/uuid); run 'mage-vault init' or set a secret first"
        case .noScope(let scope, let uuidFile):
            "there is no \(scope) scope here (no \(uuidFile)); set a secret in it first"
        case .invalidScope(let message): message
        case .keyMissingForRecords(let environment, let keyFile, let logFile, let records):
            "environment \(environment) has \(records) record(s) in \(logFile), but no key file at \(keyFile) and no access for you: they were sealed under its key, which is not here. "
                + "To join, run 'mage-vault identity' and send the line it prints to a teammate, who runs 'mage-vault access add' and pushes; then pull. "
                + "(Or copy the key file from your backup to \(keyFile).) A new key would open none of them, so none was made and nothing was written"
        case .invalidIdentity(let source):
            "\(source) holds no identity: it must hold age identities (AGE-SECRET-KEY-1…, one per line) or an unencrypted OpenSSH "
                + "ssh-ed25519 private key. 'mage-vault identity' makes one in \(Identities.defaultFile)"
        case .accessConflict(let environment, let keyIDs, let addedBy):
            "the access file gives you two unrelated keys for environment \(environment): key \(keyIDs.map { Hex.string($0, width: 8) }.joined(separator: " and key ")) "
                + "(added by \(addedBy.joined(separator: " and by "))). One was written by someone who does not hold the environment's key. "
                + "Ask a teammate which key id 'mage-vault access list' shows them, and remove the other line from the access file; nothing was read"
        case .staleAccess(let accessFile, let keyFile):
            "none of this environment's records opens with the keys you hold (\(keyFile), or what \(accessFile) gives your identity): "
                + "you were removed from it, or added on a branch before its key was rotated. Ask a member to run "
                + "'mage-vault access add' for you and push; nothing was read"
        case .removalsMerged(let environment, let removed, let removedBy):
            "two removals made on two branches were merged, and environment \(environment)'s key is still held by "
                + zip(removed, removedBy).map { "\($0) (removed by \($1))" }.joined(separator: " and ")
                + ": nothing was written. Run 'mage-vault rekey' once (any member both branches kept) to rotate to a key only the "
                + "remaining members hold, push, and write again; reads go on meanwhile"
        case .invalidRecipient:
            "not a recipient: give an age recipient (age1…) or an ssh-ed25519 public key line ('ssh-ed25519 AAAA… comment', in quotes)"
        case .invalidMemberName(let name):
            "'\(name)' cannot name a member: use 1 to 64 of A-Z a-z 0-9 . _ @ + - (for example alice@laptop)"
        case .memberNameTaken(let name, let fingerprint):
            "the name '\(name)' is already a member's (\(fingerprint)); choose another --name, or 'mage-vault access remove \(name)' first"
        case .missingInputFile(let path):
            "there is no file \(path) to read: check the path; nothing was changed"
        case .invalidAccessFile(let path, let reason):
            "\(path) is not an access file: \(reason). Keep it a regular file in the repository (git checkout it again); nothing was read or written"
        case .rotationNeedsMemberIdentity:
            "members follow a new key only when a member wrote it, and you are not a member with an identity here: run "
                + "'mage-vault identity', then 'mage-vault access add' with your own recipient and a --name, and try again; nothing was changed"
        case .cannotRemoveYourself(let name):
            "'\(name)' is you: another member removes you (and rotates the key); nothing was changed"
        case .removalNeedsRawKey(let keyFile):
            "\(keyFile) is protected by a passphrase: a removal rotates the key to a new random one. Run 'mage-vault rekey' "
                + "(without --passphrase) first, then 'access remove'; nothing was changed"
        case .notAMember(let name):
            "'\(name)' holds no current key of this environment ('mage-vault access list' shows the members); nothing was changed"
        case .missingKey(let keyFile):
            "this environment has no key file at \(keyFile); copy the environment's key there, or run 'mage-vault init' for a new environment"
        case .missingExplicitKey(let keyFile, let scopeKeyFile):
            "there is no key file at \(keyFile) (named by --key-file or $MAGE_VAULT_KEY_FILE); check the path, or copy the environment's key there. Without --key-file and $MAGE_VAULT_KEY_FILE the scope's own key file \(scopeKeyFile) is used"
        case .wrongKey(let keyFile):
            "the key in \(keyFile) is not the key this environment's records were sealed with: none of them opens with it; nothing was changed. Restore the right key file (from your backup) and try again. (If you are sure the key is right and the scope has no record of its own yet, a line under an unknown key id is the cause: 'mage-vault recover --set-aside-unknown-keys' sets it aside)"
        case .wrongPassphrase(let keyFile):
            "wrong passphrase for \(keyFile): it does not derive this environment's key; nothing was read or written"
        case .passphraseNeeded(let variable):
            "this environment's key is protected by a passphrase: type it on a terminal, or set $\(variable)"
        case .emptyPassphrase: "a passphrase cannot be empty"
        case .invalidKeyVariable: "$MAGE_VAULT_KEY is not the base64 of a 32-byte key"
        case .rekeyNeedsKeyFile:
            "the key comes from $MAGE_VAULT_KEY: rekey writes the new key to a file, so unset it and use --key-file (or the scope's key file)"
        case .insecureKeyFile(let path, let mode):
            "permissions 0\(String(mode, radix: 8)) for '\(path)' are too open: a key file must be readable by its owner alone. Run: chmod 600 '\(path)'"
        case .keyFileTrackedByGit(let path, let workTree, let relative):
            "git tracks the key file '\(path)' (it was added past .gitignore): everyone with the repository holds that key, and git writes it over an ignored key file of yours when it checks a commit out, so it is not used; nothing was read or written. Take it out of git in \(workTree): git rm --cached -- '\(relative)', and commit. The file left there is the committed one, not necessarily yours: restore your key file from your backup, or remove it and run 'mage-vault init' to take your key from the access file. If the committed key was this environment's key, it is in the repository's history: then run 'mage-vault rekey'"
        case .invalidKeyFile(let path, let bytes):
            "\(path) is not a MageVault key file (it holds \(bytes) bytes; a key is 32)"
        case .invalidRetiredKeys(let path):
            "\(path) does not open with this environment's key: it belongs to another key file. Restore the key file it was written with, or move it away to read without the retired keys"
        case .clockExhausted(let path):
            "\(path): a record of this secret carries the greatest time there is, so no new record can be newer; run 'mage-vault verify' to find it"
        case .invalidUUIDFile(let path):
            "\(path) does not hold an environment uuid (32 lowercase hex digits)"
        case .unreadableLog(let path, let error):
            "\(path): \(error); the file was not changed"
        case .damagedLog(let path, let offsets, let count):
            "\(path) has \(count) damaged line\(count == 1 ? "" : "s") (at byte offset\(offsets.count == 1 ? "" : "s") \(offsets.map(String.init).joined(separator: ", "))\(count > offsets.count ? ", …" : "")); nothing was written. The damaged lines are never read as values; run 'mage-vault recover' to set them aside"
        case .damagedRecord(let path, let offset, let reason):
            "\(path): the record at byte offset \(offset) is damaged or forged (\(reason)); its value was not used. Run 'mage-vault recover' to set it aside"
        case .invalidInput(let error): "\(error)"
        case .invalidImportEntry(let position, let error): "entry \(position): \(error); nothing was imported"
        case .invalidImportFile(let path, let error): "\(path): \(error); nothing was imported"
        case .noSuchVersion(let version, let available):
            "there is no version \(version) with a value (this secret has \(available) version\(available == 1 ? "" : "s") in the log; see 'mage-vault history')"
        case .noSuchSecret(let name): "no secret named '\(name)'"
        case .invalidVariableName(let secret, let variable):
            "secret '\(secret)' would become the variable '\(variable)', which is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*); map it with --map '\(secret)=NAME', add a --prefix if it starts with a digit, leave it out with --only, or rename the secret"
        case .unmatchedMapping(let name, let leftOutByOnly):
            leftOutByOnly
                ? "--map names '\(name)', which --only leaves out; add it to --only or drop the mapping; nothing was run"
                : "--map names '\(name)', but no secret of that name is visible here (see 'mage-vault list'); nothing was run"
        case .unmatchedResolution(let option, let names, let conflicts):
            "\(option) names \(names.map { "'\($0)'" }.joined(separator: ", ")), which \(names.count == 1 ? "is" : "are") not in conflict in this merge "
                + (conflicts.isEmpty ? "(nothing conflicts)" : "(the conflicts: \(conflicts.map { "'\($0)'" }.joined(separator: ", ")))")
                + "; nothing was merged"
        case .reservedVariableName(let secret, let variable):
            "secret '\(secret)' would become the variable '\(variable)', which MageVault reads keys and passphrases from and never hands to a program; map it to another name with --map '\(secret)=NAME' or leave it out with --only; nothing was run"
        case .loaderVariableName(let secret, let variable):
            "secret '\(secret)' would become the variable '\(variable)', which changes what the program loads or runs (its loader, shell or search path); nothing was run. Pass --map '\(secret)=\(variable)' to hand it over anyway, or leave it out with --only"
        case .valueNotExportable(let secret):
            "the value of secret '\(secret)' holds a NUL byte, which an environment variable cannot carry (the program would get it cut short, and unmasked); nothing was run. Leave it out with --only, or read it with 'mage-vault get' or 'render -o FILE'"
        case .noLog(let path): "\(path) does not exist yet: this vault has no records"
        case .fileExists(let path): "\(path) already exists; choose another name (or pass --force to replace it)"
        case .git(let message): message
        case .system(let error): "\(error)"
        }
    }
}
