/// Mage's secret entities: where `get_secret_value` looks first.
public enum SecretEntity: Sendable {
    /// The data directory's own scope.
    case global
    /// A project's scope (needs `projectUUID`).
    case project
    /// A pipeline's scope (needs `projectUUID` and `pipelineUUID`).
    case pipeline
}

/// Swift's `get_secret_value(name, entity, project_uuid, pipeline_uuid)`, meaning what Mage's
/// means: the value of `name` in exactly the scope `entity` names, nil (Mage's None) when
/// that scope does not have it or does not exist. No fallback to a parent scope, as in Mage
/// and the Python package; `Vault.resolvedSecret` (and the tool's `get`) resolve pipeline →
/// project → global instead. Reads only: it creates no file. `dataDirectory` and `vaultFile`
/// default as the tool's do (`$MAGE_DATA_DIR`, else `~/.mage_data`; `$MAGE_VAULT_FILE`, else
/// `secrets/vault.log`).
public func getSecretValue(
    _ name: String, entity: SecretEntity = .global, projectUUID: String? = nil, pipelineUUID: String? = nil,
    dataDirectory: String? = nil, vaultFile: String? = nil
) throws(VaultError) -> String? {
    let scope: Scope
    switch entity {
    case .global: scope = .global
    case .project: scope = try Scope(project: projectUUID ?? "", pipeline: nil)
    case .pipeline: scope = try Scope(project: projectUUID ?? "", pipeline: pipelineUUID ?? "")
    }
    let location = EnvironmentLocation(dataDirectory: dataDirectory, vaultFile: vaultFile, scope: scope)
    guard let (vault, _) = try Vault.open(location, create: false, exactScope: true) else { return nil }
    return try vault.secretValue(named: name)
}
