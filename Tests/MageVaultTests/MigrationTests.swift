import Foundation
import Testing

@testable import MageVault
@testable import MageVaultMigration

/// The fixtures `Tests/fixtures/mage/make_fixtures.py` made with mage-ai 0.9.80's own code.
let mageFixtures = packageRoot + "/Tests/fixtures/mage"

/// `expected.json`: what Mage's `get_secret_value` returned for every name of every scope.
struct MageExpectations: Decodable {
    let repo_name: String
    /// environment → scope (as `Scope.description` spells it) → name → value or nil (Mage's None).
    let environments: [String: [String: [String: String?]]]
    /// row id → the reason development's migrate must give for leaving it.
    let dev_refusals: [String: String]
    let template_rendered_by_mage: String

    static func load() throws -> MageExpectations {
        try JSONDecoder().decode(MageExpectations.self, from: Data(contentsOf: URL(fileURLWithPath: mageFixtures + "/expected.json")))
    }
}

/// A copy of the fixtures in a temporary folder: tests never touch the committed files.
struct MageCopy {
    let directory = TemporaryDirectory()
    var dev: String { directory.file("dev") }
    var prod: String { directory.file("prod") }
    var database: String { dev + "/fixture_repo/mage-ai.db" }

    init() throws {
        for name in ["dev", "prod"] {
            try FileManager.default.copyItem(atPath: mageFixtures + "/" + name, toPath: directory.file(name))
        }
    }

    /// Every file below the copy and its bytes.
    func snapshot() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory.path)!
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: directory.file(relative), isDirectory: &isDirectory)
            if !isDirectory.boolValue { files[relative] = try contents(directory.file(relative)) }
        }
        return files
    }

    /// Plans and applies a migration of `dataDirectory` as the tool does.
    func migrate(
        _ dataDirectory: String, renames: [String: String] = [:], dryRun: Bool = false
    ) throws -> (plan: MigrationPlan, results: [ScopeMigration]) {
        let rows = try MageDatabase.secretRows(path: database)
        let scopes = try MageScope.all(dataDirectory: dataDirectory)
        let repository = MigrationPlan.legacyRepository(explicit: nil, rows: rows, databasePath: database)
        let plan = try MigrationPlan.make(scopes: scopes, rows: rows, repository: repository, renames: renames)
        let location = EnvironmentLocation(dataDirectory: dataDirectory, vaultFile: nil, scope: .global, variables: [:])
        return (plan, try Migration.apply(plan, to: location, dryRun: dryRun))
    }

    /// The value the vault holds for `name` in exactly `scope` of `dataDirectory` (no
    /// parent scopes: Mage reads a scope's own values only).
    func vaultValue(_ dataDirectory: String, _ scope: Scope, _ name: String) throws -> String? {
        let location = EnvironmentLocation(dataDirectory: dataDirectory, vaultFile: nil, scope: .global, variables: [:]).with(scope: scope)
        return try Vault(environment: Environment.open(location, create: false)).secretValue(named: name)
    }
}

/// The scope `expected.json` names ("global", "project sales", "pipeline sales/daily").
func scope(named description: String) -> Scope {
    let parts = description.split(separator: " ", maxSplits: 1).map(String.init)
    switch parts[0] {
    case "project": return .project(parts[1])
    case "pipeline":
        let names = parts[1].split(separator: "/").map(String.init)
        return .pipeline(project: names[0], pipeline: names[1])
    default: return .global
    }
}

/// The kind of a refusal, as `expected.json` spells it.
func kind(_ reason: RefusalReason) -> String {
    switch reason {
    case .otherEnvironment: "otherEnvironment"
    case .scopeWithoutKey: "scopeWithoutKey"
    case .legacyOfOtherRepository: "legacyOfOtherRepository"
    case .legacyRepositoryUnknown: "legacyRepositoryUnknown"
    case .shadowedLegacy: "shadowedLegacy"
    case .ambiguous: "ambiguous"
    case .plainText: "plainText"
    case .authenticationFailed: "authenticationFailed"
    case .badPadding: "badPadding"
    case .nullValue: "nullValue"
    case .valueNotUTF8: "valueNotUTF8"
    case .nameNotHeld: "nameNotHeld"
    case .valueNotHeld: "valueNotHeld"
    }
}

@Suite struct MigrationTests {
    /// The name Mage accepts and the vault cannot hold (a tab), carried with --rename.
    static let tabName = "tab\tname", renamedTab = "tab name"
    /// 400 bytes of UTF-8: longer than a vault name (255 bytes) may be.
    static let longName = String(repeating: "é", count: 200)

    @Test func everyScopeAndNameEqualsWhatMageReturns() throws {
        let expected = try MageExpectations.load()
        let copy = try MageCopy()
        for (environment, dataDirectory) in [("dev", copy.dev), ("prod", copy.prod)] {
            let renames = environment == "dev" ? [Self.tabName: Self.renamedTab] : [:]
            let (plan, _) = try copy.migrate(dataDirectory, renames: renames)
            let scopes = try #require(expected.environments[environment])
            #expect(Set(plan.scopes.map(\.description)) == Set(scopes.keys), "\(environment)")
            var compared = 0
            for (scopeName, values) in scopes {
                for (name, value) in values {
                    if (try? SecretName(renames[name] ?? name)) == nil {
                        // A name the vault cannot hold (the 400-byte one): Mage's value is reported, not lost.
                        if value != nil { #expect(plan.refused.contains { $0.name == name && kind($0.reason) == "nameNotHeld" }) }
                        continue
                    }
                    let held = try copy.vaultValue(dataDirectory, scope(named: scopeName), renames[name] ?? name)
                    // Bytes, not String ==, which would call NFC and NFD spellings equal.
                    #expect(held.map { Array($0.utf8) } == value.map { Array($0.utf8) }, "\(environment) \(scopeName) \(name.debugDescription)")
                    compared += 1
                }
            }
            #expect(compared > 20)
        }
        // The odd values arrived exactly: empty, multi-line with \r\n, 11 KB, and a re-created secret's new value.
        #expect(try copy.vaultValue(copy.dev, .global, "empty") == "")
        #expect(try copy.vaultValue(copy.dev, .global, "ünïcødé 名前").map { Array($0.utf8) } == Array("line one\nzweite Zeile ✓\r\n第三行 🚀\n".utf8))
        #expect(try copy.vaultValue(copy.dev, .global, "big")?.utf8.count == 11_200)
        #expect(try copy.vaultValue(copy.dev, .global, "recreated") == "second made-up value")
        #expect(try copy.vaultValue(copy.dev, .global, "team/api_key") == "made-up-slash-value")
        // The uuid file that ends with a newline is the same environment for the vault.
        let prodUUID = String(decoding: try contents(copy.prod + "/secrets/uuid"), as: UTF8.self)
        #expect(prodUUID.hasSuffix("\n"))
        #expect(try Environment.open(EnvironmentLocation(dataDirectory: copy.prod, variables: [:]), create: false).id.description + "\n" == prodUUID)
    }

    @Test func everyRefusedRowIsReportedWithItsReason() throws {
        let expected = try MageExpectations.load()
        let copy = try MageCopy()
        let (plan, _) = try copy.migrate(copy.dev)
        let reported = Dictionary(uniqueKeysWithValues: plan.refused.map { (String($0.row), kind($0.reason)) })
        #expect(reported == expected.dev_refusals)
        // Every row is accounted for: carried or refused, never silently dropped.
        let rows = try MageDatabase.secretRows(path: copy.database)
        let carried = Set(plan.secrets.map(\.row)), refused = Set(plan.refused.map(\.row))
        #expect(carried.isDisjoint(with: refused))
        #expect(carried.union(refused) == Set(rows.map(\.id)))
        // The report names each refused row and its reason, and never a value.
        let text = MigrationReport.text(plan: plan, results: [], database: copy.database, dryRun: true)
        for row in plan.refused { #expect(text.contains("row \(row.row) ")) }
        #expect(text.contains("--rename"))
        #expect(text.contains("plain text"))
        #expect(text.contains("HMAC"))
        #expect(text.contains("legacy duplicate"))
        for value in try Self.madeUpValues() { #expect(!text.contains(value), "a value leaked into the report") }
    }

    @Test func renameCarriesANameTheVaultCannotHold() throws {
        let copy = try MageCopy()
        let (plan, _) = try copy.migrate(copy.dev, renames: [Self.tabName: Self.renamedTab])
        #expect(!plan.refused.contains { $0.name == Self.tabName })
        #expect(try copy.vaultValue(copy.dev, .global, Self.renamedTab) == "made-up-tab")
        let before = try copy.snapshot()
        #expect(throws: MigrationError.self) { try copy.migrate(copy.dev, renames: ["no such name": "x"]) }
        #expect(throws: MigrationError.self) { try copy.migrate(copy.dev, renames: [Self.tabName: "secret1"]) }
        #expect(try copy.snapshot() == before, "a refused rename wrote something")
    }

    @Test func mageFilesAreByteIdenticalAfterwards() throws {
        let copy = try MageCopy()
        let before = try copy.snapshot()
        _ = try copy.migrate(copy.dev, renames: [Self.tabName: Self.renamedTab])
        _ = try copy.migrate(copy.prod)
        let after = try copy.snapshot()
        for (path, bytes) in before { #expect(after[path] == bytes, "\(path) changed") }
        // What was added is the vault's own: its log, its lock and a key beside each Mage key.
        let added = Set(after.keys).subtracting(before.keys)
        #expect(added.allSatisfy { $0.hasSuffix("/vault.key") || $0.hasSuffix("/vault.log") || $0.hasSuffix("/vault.log.lock") }, "\(added.sorted())")
        #expect(added.contains("dev/secrets/projects/sales/pipelines/daily/vault.key"))
    }

    @Test func secondRunChangesNothingAndSaysSo() throws {
        let copy = try MageCopy()
        let (plan, first) = try copy.migrate(copy.dev)
        #expect(first.reduce(0) { $0 + $1.written } == plan.secrets.count)
        let log = try contents(copy.dev + "/secrets/vault.log")
        let (again, second) = try copy.migrate(copy.dev)
        #expect(second.allSatisfy { $0.written == 0 })
        #expect(second.flatMap(\.secrets).allSatisfy { $0.change == .unchanged })
        #expect(try contents(copy.dev + "/secrets/vault.log") == log)
        let text = MigrationReport.text(plan: again, results: second, database: copy.database, dryRun: false)
        #expect(text.contains("nothing to do: the vault already holds every value Mage returns"))
    }

    @Test func aValueChangedInTheVaultIsReplacedWithMagesAndOthersAreLeft() throws {
        let copy = try MageCopy()
        _ = try copy.migrate(copy.dev)
        let vault = try Vault(environment: Environment.open(EnvironmentLocation(dataDirectory: copy.dev, variables: [:]), create: false))
        try vault.setSecret(named: "secret1", value: "made-up edited in the vault")
        try vault.setSecret(named: "only_in_vault", value: "made-up vault-only")
        let (_, results) = try copy.migrate(copy.dev)
        let global = try #require(results.first { $0.scope == .global })
        #expect(global.secrets.filter { $0.change == .changed }.map(\.secret.name) == ["secret1"])
        #expect(global.written == 1)
        #expect(try copy.vaultValue(copy.dev, .global, "secret1") == "sooper dooper secret string")
        #expect(try copy.vaultValue(copy.dev, .global, "only_in_vault") == "made-up vault-only")
    }

    @Test func dryRunWritesNothing() throws {
        let copy = try MageCopy()
        let before = try copy.snapshot()
        let (plan, results) = try copy.migrate(copy.dev, dryRun: true)
        #expect(try copy.snapshot() == before)
        #expect(results.flatMap(\.secrets).allSatisfy { $0.change == .new })
        let text = MigrationReport.text(plan: plan, results: results, database: copy.database, dryRun: true)
        #expect(text.contains("would add"))
        #expect(text.contains("'big'  11200 bytes"))
        #expect(text.contains("nothing was written"))
        for value in try Self.madeUpValues() { #expect(!text.contains(value), "a value leaked into the dry run") }
    }

    @Test func theCommandRunsTheMigrationProgramAndExplainsOtherDatabases() throws {
        let copy = try MageCopy()
        let dry = try run(["migrate", "--data-dir", copy.dev, "--dry-run"])
        #expect(dry.status == 0, "\(dry.error)")
        #expect(dry.text.contains("dry run:"))
        let before = try copy.snapshot()
        #expect(try copy.snapshot() == before)
        let done = try run(["migrate", "--data-dir", copy.dev, "--rename", "\(Self.tabName)=\(Self.renamedTab)"])
        #expect(done.status == 0, "\(done.error)")
        #expect(done.text.contains("migrated "))
        let again = try run(["migrate", "--data-dir", copy.dev])
        #expect(again.text.contains("nothing to do"))
        let prod = try run(["migrate", "--data-dir", copy.prod, "--database", copy.database])
        #expect(prod.status == 0, "\(prod.error)")
        #expect(try run(["get", "secret1", "--data-dir", copy.prod]).text == "real production secret")
        #expect(try run(["get", "warehouse_password", "--project", "sales", "--data-dir", copy.prod]).text == "made-up prod warehouse")
        let postgres = try run(["migrate", "--data-dir", copy.dev, "--database", "postgresql://mage:made-up-password@db/mage"])
        #expect(postgres.status == 2)
        #expect(postgres.error.contains("SQLite"))
        #expect(postgres.error.contains("Coming from Mage"))
        #expect(!postgres.error.contains("made-up-password"))
        let none = try run(["migrate", "--data-dir", copy.directory.file("nowhere")])
        #expect(none.status == 1)
        for output in [dry.text, done.text, again.text, prod.text] {
            for value in try Self.madeUpValues() { #expect(!output.contains(value)) }
        }
    }

    /// Every value of the fixtures that is long enough to be recognised in a text.
    static func madeUpValues() throws -> [String] {
        let expected = try MageExpectations.load()
        return expected.environments.values.flatMap { $0.values.flatMap { $0.values.compactMap { $0 } } }.filter { $0.count >= 6 }
    }
}

@Suite struct FernetTests {
    // The Fernet specification's own vector (github.com/fernet/spec, generate.json).
    static let key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
    static let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="

    @Test func opensTheSpecificationsVector() throws {
        let key = try #require(FernetKey(keyFileText: Self.key + "\n"))
        #expect(try key.open(Self.token).get() == Array("hello".utf8))
    }

    @Test func everyAlteredByteIsRefusedBeforeDecryption() throws {
        let key = try #require(FernetKey(keyFileText: Self.key))
        let bytes = try #require(URLSafeBase64.decode(Self.token))
        for position in bytes.indices {
            var altered = bytes
            altered[position] ^= 0x01
            let text = Data(altered).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let result = key.open(text)
            let expected: FernetKey.OpenError = position == 0 ? .notAToken : .authenticationFailed
            #expect(result == .failure(expected), "byte \(position)")
        }
        #expect(key.open("made-up plain text") == .failure(.notAToken))
        #expect(FernetKey(keyFileText: "not a key") == nil)
    }
}
