/// Mage's secret entities: where `get_secret_value` looks first.
public enum SecretEntity: Sendable {
    /// The data directory's own scope.
    case global
    /// A project's scope (needs `projectUUID`).
    case project
    /// A pipeline's scope (needs `projectUUID` and `pipelineUUID`).
    case pipeline
}

/// Swift's `get_secret_value(name, entity, project_uuid, pipeline_uuid)`: the value of
/// `name` from the scope `entity` names, else from the nearest parent scope that has it
/// (pipeline → project → global); nil, as Mage's None, when none has it. Reads only: it
/// creates no file, and a scope that does not exist yet falls back to its parents.
/// `dataDirectory` and `vaultFile` default as the tool's do (`$MAGE_DATA_DIR`, else
/// `~/.mage_data`; `$MAGE_VAULT_FILE`, else `secrets/vault.log`).
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
    let vault = try Vault(resolution: Environment.resolutionChain(location, create: false, readOnly: true))
    return try vault.secretValue(named: name)
}
