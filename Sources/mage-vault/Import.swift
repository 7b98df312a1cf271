import MageVault
import MageVaultCommandLine

struct Import: Command {
    static let spec = CommandSpec(
        name: "import",
        abstract: "Set many secrets from a .env file or a JSON object, all or nothing.",
        discussion: """
            A .env file holds NAME=value lines (dotenv's quoting; '#' comments; 'export' \
            allowed); a JSON file is an object of name to string value. Every entry is \
            checked first; then all are written in one commit with one sync. A name given \
            twice is refused, naming it.
            """,
        arguments: [ArgumentSpec("file", help: "The file to import ('-' for standard input).", isFile: true)],
        options: [
            .quiet,
            OptionSpec("format", value: .choice(SecretsFile.Format.allCases.map { $0.rawValue }), help: "env or json (default: JSON when the file starts with '{')."),
        ]
    )

    let progress: ProgressOptions
    let file: String
    let format: SecretsFile.Format?
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        progress = ProgressOptions(parsed)
        file = parsed.argument("file")
        format = parsed.value("format").flatMap(SecretsFile.Format.init(rawValue:))
        options = try LocationOptions(parsed)
    }

    func run() throws {
        let limit = 256 << 20
        let raw = file == "-" ? try SecretInput.readStandardInput(limit: limit) : try SecretInput.readFile(file, limit: limit)
        let entries: [(name: String, value: String)]
        do {
            entries = try SecretsFile.parse(raw.withUnsafeBytes { Array($0) }, format: format)
        } catch {
            throw VaultError.invalidImportFile(path: file, error)
        }
        try Vault.checkImport(entries)  // a refused file creates no uuid or key
        let vault = try options.openVault(create: true)
        let reporter = progress.reporter("importing")
        let count = try vault.importSecrets(entries, progress: reporter.update)
        printWarnings(of: vault)
        reporter.finish()
        print("imported \(count) secret\(count == 1 ? "" : "s")")
    }
}
