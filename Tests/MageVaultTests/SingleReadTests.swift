import Foundation
import Testing

@testable import MageVault

/// `Vault.readOnce`, the index-free read of a cold `get`, must answer exactly as an opened
/// vault does, whatever the log holds.
@Suite("Single read: one secret straight from the log, as the index would answer")
struct SingleReadTests {
    let directory = TemporaryDirectory()

    func location(_ scope: Scope, data: String = "data") -> EnvironmentLocation {
        EnvironmentLocation(dataDirectory: directory.file(data), vaultFile: directory.file("shared.log"), scope: scope, variables: [:])
    }

    /// Both answers for `name` read from `scope`: an error's description or the value and scope.
    func answers(_ name: String, in scope: Scope) throws -> (single: String, indexed: String) {
        func describe(_ body: () throws(VaultError) -> ResolvedSecret?) -> String {
            do { return try body().map { "\($0.value) @ \($0.scope)" } ?? "none" } catch { return "error: \(error)" }
        }
        let chain = try Environment.resolutionChain(location(scope), create: false, readOnly: true)
        return (
            describe { () throws(VaultError) in try Vault.readOnce(named: name, resolution: chain).secret },
            describe { () throws(VaultError) in try Vault(resolution: chain).resolvedSecret(named: name) }
        )
    }

    func expectSameAnswers(_ names: [String], in scopes: [Scope], _ comment: Comment? = nil) throws {
        for scope in scopes {
            for name in names {
                let (single, indexed) = try answers(name, in: scope)
                #expect(single == indexed, "\(name) in \(scope): \(comment?.description ?? "")")
            }
        }
    }

    @Test("Random sets and deletes through three scopes and a stranger environment: same answers")
    func sameAnswersAsTheIndex() throws {
        let scopes: [Scope] = [.global, .project("etl"), .pipeline(project: "etl", pipeline: "load")]
        let vaults = try scopes.map { try Vault(resolution: Environment.resolutionChain(location($0), create: true)) }
        let stranger = try Vault(resolution: Environment.resolutionChain(location(.global, data: "other"), create: true))
        let names = (0..<12).map { "name_\($0)" }
        var generator = SplitMix(seed: 42)
        for step in 0..<400 {
            let name = names[Int(generator.next() % UInt64(names.count))]
            let vault = step % 7 == 0 ? stranger : vaults[Int(generator.next() % 3)]
            if generator.next() % 4 == 0 {
                try vault.deleteSecret(named: name)
            } else {
                try vault.setSecret(named: name, value: "made-up \(step)")
            }
        }
        try expectSameAnswers(names + ["never_set"], in: scopes)

        // Any line order gives the same index (a merge interleaves two histories): the newest
        // (time, id) wins, not the last line.
        var shuffled = try lines(of: directory.file("shared.log"))
        let header = shuffled.removeFirst()
        shuffled.shuffle(using: &generator)
        try write(joined([header] + shuffled), to: directory.file("shared.log"))
        try expectSameAnswers(names, in: scopes, "after shuffling")

        // A damaged newest record is skipped by both; a torn tail is ignored by both.
        var lines = try lines(of: directory.file("shared.log"))
        lines[lines.count - 1][150] ^= 0x01
        lines[lines.count - 5][200] ^= 0x20
        try write(joined(lines) + Array("set 0123".utf8), to: directory.file("shared.log"))
        try expectSameAnswers(names, in: scopes, "after damage")
    }

    @Test("A record under another key id is damage while the key opens the scope's own records; with none that opens, both say wrong key")
    func wrongKeyIsRefused() throws {
        let global = try Vault(resolution: Environment.resolutionChain(location(.global), create: true))
        try global.setSecret(named: "db_password", value: "made-up-1")
        // A record of the same uuid sealed under another key, appended as another copy of the
        // environment (with that key) would have written it.
        let otherKeys = EnvironmentKeys(key: fixedKey(7))
        let value = Array("made-up-2".utf8)
        let (_, line) = value.withUnsafeBytes {
            RecordCodec.seal(
                .set, name: try! SecretName("other"), value: $0, environment: global.environment.id, keys: otherKeys,
                timestamp: Timestamp(milliseconds: 1_800_000_000_000), id: RecordID(rawValue: 7), vault: global.vaultID)
        }
        try write(try contents(directory.file("shared.log")) + line, to: directory.file("shared.log"))
        let (single, indexed) = try answers("db_password", in: .global)
        #expect(single == indexed)
        #expect(single == "made-up-1 @ global")

        // The scope's own key file replaced by another key: none of its records opens.
        let keyFile = location(.global).keyFile
        try FileManager.default.removeItem(atPath: keyFile)
        try write(Array(repeating: 9, count: 32), to: keyFile)
        chmod(keyFile, 0o600)
        let (wrongSingle, wrongIndexed) = try answers("db_password", in: .global)
        #expect(wrongSingle == wrongIndexed)
        #expect(wrongSingle.hasPrefix("error:") && wrongSingle.contains("is not the key"))
    }

    @Test("A missing log, a file that is not a vault, and a bad name: the same outcomes")
    func edges() throws {
        _ = try Environment.resolutionChain(location(.global), create: true)
        #expect(try answers("anything", in: .global) == ("none", "none"))
        try write(Array("not a vault\n".utf8), to: directory.file("shared.log"))
        let (single, indexed) = try answers("anything", in: .global)
        #expect(single == indexed)
        #expect(single.hasPrefix("error:"))
        let chain = try Environment.resolutionChain(location(.global), create: false, readOnly: true)
        #expect(throws: VaultError.self) { try Vault.readOnce(named: "bad/name", resolution: chain) }
    }

    @Test("Columns match their own record's line only")
    func columnsMatch() throws {
        let environment = try makeEnvironment(in: directory, "columns")
        let vault = try Vault(environment: environment)
        try vault.setSecret(named: "mine", value: "made-up")
        try vault.setSecret(named: "theirs", value: "made-up")
        let line = try #require(try lines(of: environment.location.logFile).dropFirst().first)
        let tag = environment.keys.tag(of: try SecretName("mine"))
        func match(_ columns: RecordColumns) -> RecordColumns.Match { line.withUnsafeBytes { columns.match($0) } }
        #expect(match(RecordColumns(environment: environment.id, keyID: environment.keys.keyID, tag: tag)) == .candidate)
        #expect(match(RecordColumns(environment: environment.id, keyID: environment.keys.keyID, tag: environment.keys.tag(of: try SecretName("theirs")))) == .otherName)
        #expect(match(RecordColumns(environment: environment.id, keyID: environment.keys.keyID &+ 1, tag: tag)) == .otherKey)
        #expect(match(RecordColumns(environment: EnvironmentID(rawValue: environment.id.rawValue ^ 1), keyID: environment.keys.keyID, tag: tag)) == .otherEnvironment)
        #expect(Array("set short".utf8).withUnsafeBytes { RecordColumns(environment: environment.id, keyID: 0, tag: tag).match($0) } == .otherEnvironment)
    }
}

/// A small deterministic generator, so a failing sequence can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
