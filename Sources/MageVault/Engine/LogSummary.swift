/// A text view of a log for `git diff` (git's `textconv`): per environment, the name, state
/// and last change of every secret whose key is here, and counts for the others. Never a
/// value. Changing, adding or deleting a secret changes exactly its line.
public enum LogSummary {
    /// The summary of the log at `path`, naming the secrets of `environments`.
    public static func text(of path: String, environments: [Environment]) throws(VaultError) -> String {
        let side = try LogMerge.read(path, allowMissing: true)
        guard let vault = side.header?.vaultID else { return "(empty vault)\n" }
        let keys = Dictionary(environments.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let records = side.recordsPerEnvironment
        var text = "vault \(vault)\n"
        for environment in records.keys.sorted() {
            let newest = side.newest.filter { $0.key.environment == environment }.map(\.value)
            let live = newest.filter { $0.header.operation == .set }.count
            guard let scope = keys[environment] else {
                text += "environment \(environment) (no key here): \(records[environment]!) records, \(live) live secrets, \(newest.count - live) deleted\n"
                continue
            }
            text += "environment \(environment) (\(scope.location.scope))\n"
            var rows: [(String, String)] = []
            for record in newest {
                let name = (try? side.lines[record.line].withBytes { raw throws(OpenError) in
                    try RecordCodec.openName(line: raw, header: record.header, keys: scope.keys, vault: vault)
                }) ?? "(record does not open: tag \(record.header.tag))"
                let state = record.header.operation == .set ? "set    " : "deleted"
                rows.append((name, "\(state)  \(record.header.timestamp.iso8601)"))
            }
            let width = rows.map(\.0.count).max() ?? 0
            for (name, state) in rows.sorted(by: { $0.0 < $1.0 }) {
                text += "  " + name + String(repeating: " ", count: width - name.count) + "  " + state + "\n"
            }
        }
        return text
    }
}
