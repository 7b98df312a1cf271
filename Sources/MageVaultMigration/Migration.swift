import MageVault

/// What happened (or, in a dry run, would happen) to one planned secret.
public enum MigrationChange: Sendable, Equatable {
    /// The vault's scope has no such secret yet.
    case new
    /// The vault's scope holds another value; Mage's replaces it.
    case changed
    /// The vault already holds exactly Mage's value: nothing to write.
    case unchanged
}

/// One scope's part of a migration.
public struct ScopeMigration: Sendable {
    /// The scope.
    public let scope: Scope
    /// Each planned secret of the scope, with what it does to the vault.
    public let secrets: [(secret: PlannedSecret, change: MigrationChange)]
    /// How many secrets were (or would be) written.
    public var written: Int { secrets.filter { $0.change != .unchanged }.count }
}

/// Carries a `MigrationPlan` into the vault: per scope, the values that differ from the
/// vault's are written in one all-or-nothing commit (`Vault.importSecrets`); values the
/// vault already holds are left alone, so running it twice writes nothing the second time.
public enum Migration {
    /// Applies `plan` to the vault at `location` (its data dir, log and key source; the scope
    /// is taken from each planned secret). With `dryRun`, nothing is created or written:
    /// the answer says what would be.
    public static func apply(_ plan: MigrationPlan, to location: EnvironmentLocation, dryRun: Bool) throws(MigrationError) -> [ScopeMigration] {
        var results: [ScopeMigration] = []
        for scope in plan.scopes {
            let planned = plan.secrets.filter { $0.scope == scope }
            guard !planned.isEmpty else { continue }
            do {
                let vault = try openVault(location.with(scope: scope), create: !dryRun)
                var changes: [(secret: PlannedSecret, change: MigrationChange)] = []
                for secret in planned {
                    // Compared as bytes: Swift's String == would call NFC and NFD spellings equal.
                    let current = try vault?.secretValue(named: secret.name).map { Array($0.utf8) }
                    let change: MigrationChange = current == nil ? .new : current == Array(secret.value.utf8) ? .unchanged : .changed
                    changes.append((secret, change))
                }
                let toWrite = changes.filter { $0.change != .unchanged }.map { (name: $0.secret.name, value: $0.secret.value) }
                if !dryRun, let vault, !toWrite.isEmpty { try vault.importSecrets(toWrite) }
                results.append(ScopeMigration(scope: scope, secrets: changes))
            } catch {
                throw .vault(error)
            }
        }
        return results
    }

    /// The vault of one scope alone (no parent scopes: Mage reads a scope's own values
    /// only). Without `create`, a scope the vault does not have yet gives nil.
    private static func openVault(_ location: EnvironmentLocation, create: Bool) throws(VaultError) -> Vault? {
        do {
            return try Vault(environment: Environment.open(location, create: create))
        } catch {
            if !create, case .missingKey = error { return nil }
            if !create, case .noScope = error { return nil }
            if !create, case .noEnvironment = error { return nil }
            if !create, case .noLog = error { return nil }
            throw error
        }
    }
}
