import Foundation
import Testing

import MageVault

@Suite("docs/how-it-works.md: the Swift example compiles, runs, and is the one the page shows")
struct ReadmeExampleTests {
    @Test("The README's example runs against a real vault")
    func example() throws {
        let directory = TemporaryDirectory()
        let dataDirectory = directory.path
        var printed: [String] = []
        func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }

        // README example begin
        let vault = try Vault(dataDirectory: dataDirectory)
        try vault.setSecret(named: "secret1", value: "sooper dooper secret string")

        if let value = try vault.secretValue(named: "secret1") {
            print("secret1 has \(value.count) characters")  // use it; never log it
        }
        let missing = try vault.secretValue(named: "secret3")  // nil: Mage's None
        print("secret3:", missing ?? "None")

        for secret in try vault.secrets() {  // names and update times, never values
            print(secret.name, secret.updated.milliseconds)
        }
        // README example end

        #expect(printed.count == 3)
        #expect(printed[0] == "secret1 has 27 characters")
        #expect(printed[1] == "secret3: None")
        #expect(printed[2].hasPrefix("secret1 "))
    }

    @Test("The README's scopes example runs: get_secret_value with entity, project and pipeline")
    func scopesExample() throws {
        let directory = TemporaryDirectory()
        let dataDirectory = directory.path
        try Vault(dataDirectory: dataDirectory).setSecret(named: "db_password", value: "global made-up")
        try Vault(dataDirectory: dataDirectory, scope: .pipeline(project: "sales", pipeline: "daily"))
            .setSecret(named: "db_password", value: "pipeline made-up")

        // README scopes example begin
        // Mage: get_secret_value('db_password', entity=Entity.PIPELINE, project_uuid='sales', pipeline_uuid='daily')
        let password = try getSecretValue(
            "db_password", entity: .pipeline, projectUUID: "sales", pipelineUUID: "daily",
            dataDirectory: dataDirectory)

        // The same through a Vault, which also says where the value came from.
        let pipeline = try Vault(dataDirectory: dataDirectory, scope: .pipeline(project: "sales", pipeline: "weekly"))
        let resolved = try pipeline.resolvedSecret(named: "db_password")  // weekly has none: global's
        // README scopes example end

        #expect(password == "pipeline made-up")
        #expect(resolved?.value == "global made-up")
        #expect(resolved?.scope == .global)
    }

    @Test("docs/how-it-works.md shows exactly the code the tests above run", arguments: ["README example", "README scopes example"])
    func readmeMatchesTheCompiledExample(marker: String) throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// \(marker) begin\n"))
        let end = try #require(source.range(of: "        // \(marker) end"))
        let compiled = source[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count >= 8 ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        let readme = try String(contentsOfFile: packageRoot + "/docs/how-it-works.md", encoding: .utf8)
        #expect(readme.contains("```swift\nimport MageVault\n\n" + compiled + "```\n"))
    }
}
