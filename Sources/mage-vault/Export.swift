import MageVault
import MageVaultCommandLine

struct Export: Command {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Write every visible secret in plain text, to move to another manager or to audit.",
        discussion: """
            Plain text leaves the vault only with --plaintext. Writes to standard output, or \
            with -o to a file created with mode 0600 (atomically). The env format quotes \
            values as 'import' reads them back.
            """,
        options: [
            OptionSpec("format", value: .choice(SecretsFile.Format.allCases.map { $0.rawValue }), help: "env or json.", defaultValue: "env"),
            .flag("plaintext", help: "Confirm that plain-text secrets may be written."),
            OptionSpec("output", short: "o", valueName: "file", help: "Write here (mode 0600) instead of standard output.", isFile: true),
        ]
    )

    let format: SecretsFile.Format
    let plaintext: Bool
    let output: String?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        format = parsed.value("format").flatMap(SecretsFile.Format.init(rawValue:)) ?? .env
        plaintext = parsed.flag("plaintext")
        output = parsed.value("output")
        options = try LocationOptions(parsed)
    }

    func run() throws {
        guard plaintext else {
            throw CommandFailure(message: "export writes every secret in plain text: pass --plaintext to confirm", code: ExitStatus.usage)
        }
        let vault = try options.openForReading()
        var entries: [(name: String, value: String)] = []
        let secrets = try vault.secrets()
        printWarnings(of: vault)  // a secret left out of the export must not go unnoticed
        for secret in secrets {
            if let value = try vault.secretValue(named: secret.name) { entries.append((secret.name, value)) }
        }
        var bytes = Array(SecretsFile.encode(entries, format: format).utf8)
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        if let output {
            do { try FileSystem.replaceAtomically(output, mode: 0o600, contents: bytes) } catch { throw VaultError.system(error) }
        } else {
            bytes.withUnsafeBytes { Output.standardOutput($0) }
        }
    }
}
