import Foundation

/// Where a Mage install keeps its database.
public enum MageInstall {
    /// `explicit` when given (a database URL is refused with a way forward); else the one
    /// `<data dir>/<folder>/mage-ai.db`, Mage's default for a SQLite database.
    public static func databasePath(explicit: String?, dataDirectory: String) throws(MigrationError) -> String {
        if let explicit {
            if explicit.contains("://") && !explicit.hasPrefix("sqlite:") { throw .unsupportedDatabase(url: explicit) }
            var path = explicit
            for prefix in ["sqlite:////", "sqlite:///"] where path.hasPrefix(prefix) {
                path = (prefix == "sqlite:////" ? "/" : "") + path.dropFirst(prefix.count)
                break
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw .database(path: path, message: "no such file")
            }
            return path
        }
        if let url = ProcessInfo.processInfo.environment["MAGE_DATABASE_CONNECTION_URL"], !url.isEmpty, !url.hasPrefix("sqlite:") {
            throw .unsupportedDatabase(url: url)
        }
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []).sorted()
        let candidates = folders.map { dataDirectory + "/" + $0 + "/mage-ai.db" }.filter { FileManager.default.fileExists(atPath: $0) }
        guard candidates.count == 1 else { throw .noDatabase(dataDirectory: dataDirectory, candidates: candidates) }
        return candidates[0]
    }
}
