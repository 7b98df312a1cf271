import ArgumentParser
import MageVault
import MageVaultCommandLine

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Set many secrets from a .env file or a JSON object, all or nothing.",
        discussion: """
            A .env file holds NAME=value lines (dotenv's quoting; '#' comments; 'export' \
            allowed); a JSON file is an object of name to string value. Every entry is \
            checked first; then all are written in one commit with one sync. A name given \
            twice is refused, naming it.
            """
    )

    @OptionGroup var progress: ProgressOptions

    @Argument(help: "The file to import ('-' for standard input).")
    var file: String

    @Option(help: "env or json (default: JSON when the file starts with '{').")
    var format: SecretsFile.Format?

    @OptionGroup var options: LocationOptions

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
        reporter.finish()
        print("imported \(count) secret\(count == 1 ? "" : "s")")
    }
}

extension SecretsFile.Format: ExpressibleByArgument {}
