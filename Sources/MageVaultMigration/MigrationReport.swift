import MageVault

/// The text `mage-vault migrate` prints: what moved per scope (names and sizes, never
/// values), then every row left behind with its reason.
public enum MigrationReport {
    /// The report of `results` for `plan`.
    public static func text(plan: MigrationPlan, results: [ScopeMigration], database: String, dryRun: Bool) -> String {
        var out = "database \(database)\n"
        if let repository = plan.repository { out += "legacy rows of repo_name \(RefusalReason.quoted(repository))\n" }
        let written = results.reduce(0) { $0 + $1.written }
        for result in results {
            out += "\n\(result.scope): \(result.secrets.count) secret\(result.secrets.count == 1 ? "" : "s"), "
            out += "\(result.written) \(dryRun ? "to write" : "written")\n"
            for (secret, change) in result.secrets {
                let verb = switch change {
                case .new: dryRun ? "would add" : "added"
                case .changed: dryRun ? "would replace" : "replaced"
                case .unchanged: "unchanged"
                }
                let renamed = secret.name == secret.mageName ? "" : " (Mage's \(RefusalReason.quoted(secret.mageName)))"
                out += "  \(verb.padding(13)) \(RefusalReason.quoted(secret.name))\(renamed)  \(secret.value.utf8.count) bytes\n"
            }
        }
        if !plan.refused.isEmpty {
            out += "\nnot carried over: \(plan.refused.count) row\(plan.refused.count == 1 ? "" : "s")\n"
            for row in plan.refused { out += "  \(row)\n" }
        }
        out += "\n"
        if dryRun {
            out += "dry run: \(written) secret\(written == 1 ? "" : "s") would be written; nothing was written\n"
        } else if written == 0 {
            out += "nothing to do: the vault already holds every value Mage returns\n"
        } else {
            out += "migrated \(written) secret\(written == 1 ? "" : "s") in \(results.filter { $0.written > 0 }.count) scope(s); Mage's files were only read\n"
        }
        return out
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
