import MageVault

/// Why `migrate` could not start or finish. Messages name files and say what to do next;
/// none holds a secret value.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// No Mage database was found, or several were and none was chosen.
    case noDatabase(dataDirectory: String, candidates: [String])
    /// The database file does not open, or SQLite failed while reading it.
    case database(path: String, message: String)
    /// The file opens but has no `secret` table: not Mage's database.
    case notMageDatabase(path: String, message: String)
    /// `--database` names a database URL (Postgres, MySQL) rather than a SQLite file.
    case unsupportedDatabase(url: String)
    /// The data directory has no Mage secrets folder at all.
    case noMageSecrets(path: String)
    /// A scope's Fernet key file is not the URL-safe base64 of 32 bytes.
    case invalidFernetKey(path: String)
    /// A `--rename` is malformed, names no row, or makes two secrets one.
    case invalidRename(String)
    /// The vault refused to open or to write.
    case vault(VaultError)

    public var description: String {
        switch self {
        case .noDatabase(let dataDirectory, let candidates):
            candidates.isEmpty
                ? "no Mage database found in \(dataDirectory) (looked for <data dir>/<repo>/mage-ai.db); pass --database FILE"
                : "several Mage databases in \(dataDirectory): \(candidates.joined(separator: ", ")); pass --database FILE"
        case .database(let path, let message): "\(path): \(message); nothing was written"
        case .notMageDatabase(let path, let message):
            "\(path) is not a Mage database (\(message)); pass the mage-ai.db of your project with --database"
        case .unsupportedDatabase(let url):
            """
            \(Self.redacted(url)) is not a SQLite file: migrate reads Mage's SQLite database only. Copy the secret \
            table into one (the README's "Coming from Mage" gives the psql/mysql and sqlite3 commands; the values stay \
            Fernet tokens, sealed with Mage's keys) and run: mage-vault migrate --database FILE
            """
        case .noMageSecrets(let path): "\(path) does not exist: this data dir has no Mage secrets (its key and uuid files)"
        case .invalidFernetKey(let path): "\(path) is not a Fernet key (the URL-safe base64 of 32 bytes); nothing was written"
        case .invalidRename(let message): message
        case .vault(let error): error.description
        }
    }

    /// The exit code the tool uses for this error (the README's table).
    public var exitCode: Int32 {
        switch self {
        case .noDatabase, .noMageSecrets: 1
        case .unsupportedDatabase, .invalidRename: 2
        case .database, .notMageDatabase, .invalidFernetKey: 4
        case .vault(let error):
            switch error.kind {
            case .usage: 2
            case .notFound: 1
            case .wrongKey: 3
            case .damaged: 4
            case .permission: 5
            case .io: 6
            }
        }
    }

    /// A database URL without its password (`user:password@` becomes `user:…@`).
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":…" + String(url[at...])
    }
}
