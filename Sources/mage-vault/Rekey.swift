import MageVault
import MageVaultCommandLine

/// `--passphrase` and `--kdf-limits`, for `init` and `rekey`.
struct PassphraseOptions {
    /// Their specs.
    static let specs: [OptionSpec] = [
        .flag("passphrase", help: "Protect the key with a passphrase (Argon2id); no key material is stored on disk."),
        OptionSpec(
            "kdf-limits", value: .choice(KDFLimits.allCases.map { $0.rawValue }), help: "Argon2id cost: interactive, moderate (default) or sensitive.",
            defaultValue: KDFLimits.moderate.rawValue),
    ]

    let passphrase: Bool
    let kdfLimits: KDFLimits

    init(_ parsed: ParsedArguments) {
        passphrase = parsed.flag("passphrase")
        kdfLimits = parsed.value("kdf-limits").flatMap(KDFLimits.init(rawValue:)) ?? .moderate
    }

    /// The new key: a passphrase's (asked for now) with `--passphrase`, else random. A scope
    /// that has no key yet (`init`) may take its passphrase from `$MAGE_VAULT_PASSPHRASE` too.
    func newKey(firstKey: Bool = false) throws -> KeyMaterial {
        passphrase ? try KeyMaterial.passphrase(Rekey.newPassphrase(acceptingCurrentVariable: firstKey), limits: kdfLimits) : KeyMaterial.random()
    }
}

struct Rekey: Command {
    static let spec = CommandSpec(
        name: "rekey",
        abstract: "Give this scope a new key (or passphrase) and re-seal its records.",
        discussion: """
            Re-seals only this scope's records (other environments' are copied byte for \
            byte). Without --passphrase the new key is random and kept in the key file (which \
            also moves a passphrase-protected scope back to a key file); with --passphrase the \
            new key comes from a new passphrase ($MAGE_VAULT_NEW_PASSPHRASE, or typed twice). \
            A crash at any moment leaves the vault readable with the old key or the new one; \
            the next command says which. The old key is kept, sealed under the new one, in \
            <key file>.retired: records a branch or a backup still holds under it stay \
            readable after a merge. Once every copy that matters is merged and re-sealed \
            (run rekey again after such a merge), 'rekey --retire' forgets the old keys \
            that no record of the log needs.
            """,
        options: [.quiet] + PassphraseOptions.specs + [.flag("retire", help: "Keep the key; forget the retired keys that no record of the log needs.")]
    )

    let progress: ProgressOptions
    let key: PassphraseOptions
    let retire: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        key = PassphraseOptions(parsed)
        retire = parsed.flag("retire")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let vault = try Vault(environment: Environment.open(options.location, create: false))
        if retire {
            let report = try vault.retireUnusedKeys()
            for keyID in report.retired { print("retired key \(String(keyID, radix: 16).leftPaddedZeros(8))") }
            for (keyID, count) in report.stillNeeded.sorted(by: { $0.key < $1.key }) {
                print("kept key \(String(keyID, radix: 16).leftPaddedZeros(8)): \(count) record(s) are still sealed under it; run 'mage-vault rekey' to re-seal them first")
            }
            if report.retired.isEmpty, report.stillNeeded.isEmpty { print("no retired keys") }
            return
        }
        let material = try key.newKey()
        // A scope shared through the access file: the new key is wrapped for every member too.
        if try !Access.members(of: vault.environment).members.filter(\.hasCurrentKey).isEmpty {
            let settled = vault.environment.exposure
            let kept = try Access.rotate(vault, newKey: material, now: Timestamp(milliseconds: wallClockMilliseconds()).iso8601)
            printWarnings(of: vault)
            if let settled {
                print("settled the two removals merged from two branches: " + settled.removed.map(\.name).joined(separator: " and ")
                    + " hold(s) no key written from now on")
            }
            print("re-sealed the records of \(options.location.scope) under the new key, wrapped for \(kept.count) member(s): "
                + kept.map(\.name).joined(separator: ", ") + "; commit and push the log and \(Access.file(of: options.location))")
            print(material.isPassphrase ? "\(options.location.keyFile) now holds the new passphrase's parameters (no key material)" : "\(options.location.keyFile) now holds the new key: back it up")
            return
        }
        let reporter = progress.reporter("re-sealing")
        let report = try vault.rekey(to: material, progress: reporter.update)
        printWarnings(of: vault)
        reporter.finish()
        print("re-sealed \(report.resealed) record(s) of \(options.location.scope) under the new key; \(report.untouched) record(s) of other environments untouched")
        print(material.isPassphrase ? "\(report.keyFile) now holds the new passphrase's parameters (no key material)" : "\(report.keyFile) now holds the new key: back it up")
    }

    /// A new passphrase: `$MAGE_VAULT_NEW_PASSPHRASE`, else typed twice at a no-echo prompt.
    /// With `acceptingCurrentVariable` (a scope that has no passphrase yet, so the variable
    /// that unlocks it cannot mean an old one), `$MAGE_VAULT_PASSPHRASE` does too.
    static func newPassphrase(acceptingCurrentVariable: Bool = false) throws -> SecureBytes {
        let variables = FileSystem.environmentVariables()
        let new = KeyVariable.newPassphrase.name, current = KeyVariable.passphrase.name
        if acceptingCurrentVariable, let given = variables[current] {
            if let other = variables[new], other != given {
                throw CommandFailure(
                    message: "$\(new) and $\(current) are both set, to different passphrases: set only one of them; nothing was created",
                    code: ExitStatus.usage)
            }
            return try Environment.readPassphrase(prompt: "", variable: current)
        }
        if variables[new] != nil {
            return try Environment.readPassphrase(prompt: "", variable: new)
        }
        let first = try Environment.readPassphrase(prompt: "New passphrase: ", variable: KeyVariable.newPassphrase.name)
        let again = try SecretInput.prompt("Repeat the passphrase: ", limit: 1024)
        guard first.constantTimeEquals(again) else {
            throw CommandFailure(message: "the passphrases differ; nothing was changed", code: ExitStatus.usage)
        }
        return first
    }
}

extension String {
    /// The string padded on the left with zeros to `width` characters.
    func leftPaddedZeros(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
