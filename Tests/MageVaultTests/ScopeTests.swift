import Foundation
import Testing

@testable import MageVault

@Suite("Scopes: global, project, pipeline, resolved nearest first")
struct ScopeTests {
    let directory = TemporaryDirectory()
    var data: String { directory.file("data") }

    func vault(_ scope: Scope, create: Bool = true) throws -> Vault {
        try Vault(dataDirectory: data, scope: scope, create: create)
    }

    /// The development rows of ARCHITECTURE.md's scenario, plus a project and two pipelines of it.
    func scenario() throws {
        let global = try vault(.global)
        try global.setSecret(named: "secret1", value: "sooper dooper secret string")
        try global.setSecret(named: "secret2", value: "xXxSecreTxXx")
        let project = try vault(.project("sales"))
        try project.setSecret(named: "warehouse_password", value: "project made-up value")
        let daily = try vault(.pipeline(project: "sales", pipeline: "daily"))
        try daily.setSecret(named: "secret1", value: "daily pipeline override")
        _ = try vault(.pipeline(project: "sales", pipeline: "weekly"))
        _ = try vault(.pipeline(project: "marketing", pipeline: "daily"))
    }

    @Test("Each scope has its own uuid and key in Mage's folder layout, and writes to the one shared log")
    func layout() throws {
        try scenario()
        for folder in ["secrets", "secrets/projects/sales", "secrets/projects/sales/pipelines/daily"] {
            #expect(FileManager.default.fileExists(atPath: "\(data)/\(folder)/uuid"))
            #expect(try mode("\(data)/\(folder)/vault.key") == 0o600)
        }
        let uuids = try ["secrets", "secrets/projects/sales", "secrets/projects/sales/pipelines/daily"].map {
            try contents("\(data)/\($0)/uuid")
        }
        #expect(Set(uuids).count == 3)
        let logs = try FileManager.default.subpathsOfDirectory(atPath: data).filter { $0.hasSuffix(".log") }
        #expect(logs == ["secrets/vault.log"])
    }

    @Test("A pipeline secret overrides the global one; a project secret is seen by all its pipelines; another project's pipeline sees neither")
    func resolution() throws {
        try scenario()
        let daily = try vault(.pipeline(project: "sales", pipeline: "daily"))
        #expect(try daily.resolvedSecret(named: "secret1") == ResolvedSecret(value: "daily pipeline override", scope: .pipeline(project: "sales", pipeline: "daily")))
        #expect(try daily.resolvedSecret(named: "secret2")?.scope == .global)
        #expect(try daily.resolvedSecret(named: "warehouse_password")?.scope == .project("sales"))
        let weekly = try vault(.pipeline(project: "sales", pipeline: "weekly"))
        #expect(try weekly.secretValue(named: "secret1") == "sooper dooper secret string")
        #expect(try weekly.secretValue(named: "warehouse_password") == "project made-up value")
        let marketing = try vault(.pipeline(project: "marketing", pipeline: "daily"))
        #expect(try marketing.secretValue(named: "warehouse_password") == nil)
        #expect(try marketing.secretValue(named: "secret1") == "sooper dooper secret string")
        let listed = try daily.secrets()
        #expect(listed.map(\.name) == ["secret1", "secret2", "warehouse_password"])
        #expect(listed.map(\.scope) == [.pipeline(project: "sales", pipeline: "daily"), .global, .project("sales")])
        // Deleting the override uncovers the global value again.
        try daily.deleteSecret(named: "secret1")
        #expect(try daily.resolvedSecret(named: "secret1")?.scope == .global)
    }

    @Test("Mage's get_secret_value(name, entity, project_uuid, pipeline_uuid), and a pipeline not created yet")
    func getSecretValueLikeMage() throws {
        try scenario()
        #expect(try getSecretValue("secret1", dataDirectory: data) == "sooper dooper secret string")
        #expect(try getSecretValue("secret1", entity: .pipeline, projectUUID: "sales", pipelineUUID: "daily", dataDirectory: data) == "daily pipeline override")
        #expect(try getSecretValue("warehouse_password", entity: .project, projectUUID: "sales", dataDirectory: data) == "project made-up value")
        #expect(try getSecretValue("secret3", dataDirectory: data) == nil)
        // Exactly the scope named, as Mage: a pipeline without the secret (or not created yet)
        // is None, though its project has one; nothing is created.
        #expect(try getSecretValue("warehouse_password", entity: .pipeline, projectUUID: "sales", pipelineUUID: "daily", dataDirectory: data) == nil)
        #expect(try getSecretValue("warehouse_password", entity: .pipeline, projectUUID: "sales", pipelineUUID: "monthly", dataDirectory: data) == nil)
        #expect(!FileManager.default.fileExists(atPath: data + "/secrets/projects/sales/pipelines/monthly"))
        // The tool's resolution (Vault) still goes to the parents.
        let monthly = try Vault.openForReading(EnvironmentLocation(dataDirectory: data, vaultFile: nil, scope: .pipeline(project: "sales", pipeline: "monthly")))
        #expect(try monthly.secretValue(named: "warehouse_password") == "project made-up value")
    }

    @Test("Renaming a pipeline keeps its secrets; forgetting a scope deletes them and its uuid and key")
    func renameAndForget() throws {
        try scenario()
        let location = EnvironmentLocation(dataDirectory: data, variables: [:])
        try Environment.renamePipeline(in: location, project: "sales", from: "daily", to: "nightly")
        let nightly = try vault(.pipeline(project: "sales", pipeline: "nightly"), create: false)
        #expect(try nightly.secretValue(named: "secret1") == "daily pipeline override")
        #expect(throws: VaultError.self) { try Environment.renamePipeline(in: location, project: "sales", from: "daily", to: "x") }
        #expect(throws: VaultError.self) { try Environment.renamePipeline(in: location, project: "sales", from: "nightly", to: "weekly") }
        #expect(try nightly.forgetScope() == 1)
        #expect(!FileManager.default.fileExists(atPath: data + "/secrets/projects/sales/pipelines/nightly"))
        #expect(try vault(.pipeline(project: "sales", pipeline: "nightly")).secretValue(named: "secret1") == "sooper dooper secret string")
        #expect(throws: VaultError.self) { try vault(.global).forgetScope() }
    }

    @Test("Scope names are folder names: '..', '/', empty and control characters are refused")
    func scopeNames() {
        for bad in ["", ".", "..", "a/b", "tab\there"] {
            #expect(throws: VaultError.self) { try Scope(project: bad, pipeline: nil) }
            #expect(throws: VaultError.self) { try Scope(project: "ok", pipeline: bad) }
        }
        #expect(throws: VaultError.self) { try Scope(project: nil, pipeline: "orphan") }
        #expect(Scope.pipeline(project: "p", pipeline: "q").resolutionOrder == [.pipeline(project: "p", pipeline: "q"), .project("p"), .global])
    }
}
