import Foundation
import Testing

@testable import MageVault

@Suite("Durability: compaction, backup, restore, verify, recover, import, versions")
struct DurabilityTests {
    let directory = TemporaryDirectory()

    /// Two environments in one log; `other`'s key is used only to write, as if on another machine.
    func sharedVaults(history: Int = Vault.defaultHistory) throws -> (ours: Vault, other: Vault) {
        let ours = try Vault(environment: makeEnvironment(in: directory, "ours", log: "shared.log"), history: history)
        let other = try Vault(environment: makeEnvironment(in: directory, "other", log: "shared.log"), history: history)
        return (ours, other)
    }

    func recordLines(_ path: String, of environment: EnvironmentID) throws -> [[UInt8]] {
        try lines(of: path).filter { line in
            guard case .record(let header)? = try? line.withUnsafeBytes({ try LogLine.parse($0) }) else { return false }
            return header.environment == environment
        }
    }

    @Test("Compaction keeps the newest K authentic versions of every secret (a delete included); environments whose key is absent whole, byte for byte")
    func compactionKeepsWhatMatters() throws {
        let (ours, other) = try sharedVaults(history: 3)
        for version in 1...6 {
            try ours.setSecret(named: "rotated", value: "made-up \(version)")
            try other.setSecret(named: "theirs", value: "their made-up \(version)")
        }
        try ours.setSecret(named: "deleted", value: "short-lived")
        try ours.deleteSecret(named: "deleted")
        for version in 1...4 { try ours.setSecret(named: "deleted", value: "again \(version)") }
        try ours.deleteSecret(named: "deleted")
        let path = ours.environment.location.logFile
        let theirsBefore = try recordLines(path, of: other.environment.id)
        let snapshot = try contents(path)

        let report = try ours.compact()
        #expect(report.recordsBefore == 19)
        // rotated: 3 newest; deleted: 3 newest (the last is the newest delete); theirs: all 6,
        // as no key here can tell a forged newer record of theirs from a genuine one.
        #expect(report.recordsAfter == 12)
        let theirsAfter = try recordLines(path, of: other.environment.id)
        #expect(theirsAfter == theirsBefore)
        // The compacted log is a subsequence of the old one: every kept line is unchanged.
        let old = snapshot.split(separator: 0x0A).map(Array.init)
        let compacted = try lines(of: path)
        #expect(compacted.count == 13)
        #expect(compacted.allSatisfy { old.contains($0) })
        #expect(compacted == old.filter { compacted.contains($0) })  // same order
        #expect(try ours.secretValue(named: "rotated") == "made-up 6")
        #expect(try ours.secretValue(named: "deleted") == nil)
        #expect(try other.secretValue(named: "theirs") == "their made-up 6")
        #expect(try ours.history(named: "rotated").count == 3)

        // Merging the pre-compaction copy back (a restored old backup, a union merge) never
        // brings the deleted secret back, and the newest value still wins.
        try write(try contents(path) + snapshot, to: path)
        let merged = try Vault(environment: ours.environment)
        #expect(try merged.secretValue(named: "deleted") == nil)
        #expect(try merged.secretValue(named: "rotated") == "made-up 6")
    }

    @Test("With history 1, compaction keeps only each secret's newest record: a value, or the delete")
    func historyOfOne() throws {
        let (ours, _) = try sharedVaults(history: 1)
        try ours.setSecret(named: "a", value: "1")
        try ours.deleteSecret(named: "a")
        try ours.setSecret(named: "a", value: "2")
        try ours.setSecret(named: "b", value: "1")
        try ours.deleteSecret(named: "b")
        let report = try ours.compact()
        #expect(report.recordsAfter == 2)
        #expect(try ours.secretValue(named: "a") == "2")
        #expect(try ours.secretValue(named: "b") == nil)
        #expect(throws: VaultError.invalidInput(.historyTooShort)) { try Vault(environment: ours.environment, history: 0) }
    }

    @Test("A process holding the vault open keeps reading and writing across another's compaction")
    func compactionUnderAnOpenVault() throws {
        let (ours, _) = try sharedVaults(history: 1)
        for version in 1...20 { try ours.setSecret(named: "busy", value: "made-up \(version)") }
        let elsewhere = try Vault(environment: ours.environment, history: 1)
        #expect(try elsewhere.secretValue(named: "busy") == "made-up 20")
        try ours.compact()
        #expect(try elsewhere.secretValue(named: "busy") == "made-up 20")
        try elsewhere.setSecret(named: "after", value: "written after the compaction")
        let fresh = try Vault(environment: ours.environment)
        #expect(try fresh.secretValue(named: "after") == "written after the compaction")
        #expect(try fresh.secretValue(named: "busy") == "made-up 20")
        #expect(try fresh.status().environments.first?.records == 2)
    }

    @Test("Compaction runs by itself once 1,000 dead records are half the log")
    func automaticCompaction() throws {
        let (ours, _) = try sharedVaults(history: 1)
        let values = (1...1_100).map { "made-up \($0)" }
        for value in values { try ours.setSecret(named: "hot", value: value) }
        let status = try ours.status()
        #expect(status.environments.first!.records < 200)  // compacted once at 1,001 records
        #expect(try ours.secretValue(named: "hot") == values.last)
    }

    @Test("A backup restores into an empty data dir on another machine with the uuid and key files beside it")
    func backupAndRestoreElsewhere() throws {
        let (ours, other) = try sharedVaults()
        try ours.setSecret(named: "secret1", value: "sooper dooper secret string")
        try other.setSecret(named: "secret1", value: "real production secret")
        try ours.setSecret(named: "secret2", value: "xXxSecreTxXx")
        let backupFile = directory.file("vault.backup")
        let report = try ours.backup(to: backupFile)
        #expect(report.recordsAfter == 3)
        #expect(try mode(backupFile) == 0o600)
        #expect(throws: VaultError.fileExists(path: backupFile)) { try ours.backup(to: backupFile) }

        // "Another machine": a new data dir with only the uuid and key files copied.
        let restored = try Vault(environment: copyIdentity(of: ours.environment, into: directory.file("elsewhere")))
        let result = try restored.restore(from: backupFile)
        #expect(result.replacedKeptAt == nil)
        #expect(try restored.secretValue(named: "secret1") == "sooper dooper secret string")
        #expect(try restored.secretValue(named: "secret2") == "xXxSecreTxXx")
        #expect(try restored.status().environments.count == 2)  // the other environment's record came along
    }

    @Test("Restore keeps the replaced log, and refuses a non-vault, a damaged file or a wrong key without changing anything")
    func restoreChecksFirst() throws {
        let (ours, other) = try sharedVaults()
        try ours.setSecret(named: "kept", value: "made-up")
        let backupFile = directory.file("good.backup")
        try ours.backup(to: backupFile)
        try ours.setSecret(named: "later", value: "written after the backup")
        let path = ours.environment.location.logFile
        let current = try contents(path)

        let notAVault = directory.file("notes.txt")
        try write(Array("just some notes\n".utf8), to: notAVault)
        #expect(throws: VaultError.unreadableLog(path: notAVault, .notAVault)) { try ours.restore(from: notAVault) }
        var damaged = try contents(backupFile)
        damaged[70] ^= 0x20
        let damagedFile = directory.file("damaged.backup")
        try write(damaged, to: damagedFile)
        #expect(throws: VaultError.damagedLog(path: damagedFile, offsets: [55], count: 1)) { try ours.restore(from: damagedFile) }
        // A backup whose records of our uuid were sealed under another key.
        let impostor = Environment(location: other.environment.location, id: ours.environment.id, keys: EnvironmentKeys(key: fixedKey(3)))
        let foreignLog = directory.file("foreign.log")
        let impostorVault = try Vault(environment: Environment(
            location: EnvironmentLocation(dataDirectory: directory.file("x"), vaultFile: foreignLog, variables: [:]),
            id: impostor.id, keys: impostor.keys))
        try impostorVault.setSecret(named: "kept", value: "not ours")
        #expect(throws: VaultError.wrongKey(keyFile: ours.environment.location.keyFile)) { try ours.restore(from: foreignLog) }
        #expect(try contents(path) == current)

        let result = try ours.restore(from: backupFile)
        let kept = try #require(result.replacedKeptAt)
        #expect(try contents(kept) == current)
        #expect(try ours.secretValue(named: "later") == nil)
        #expect(try ours.secretValue(named: "kept") == "made-up")
    }

    @Test("verify reports counts per uuid, the torn tail, and the offset of every damaged line")
    func verifyReports() throws {
        let (ours, other) = try sharedVaults()
        try ours.setSecret(named: "a", value: "made-up a")
        try ours.setSecret(named: "b", value: "made-up b")
        try other.setSecret(named: "c", value: "made-up c")
        var report = try ours.verify()
        #expect(report.isHealthy)
        let mine = try #require(report.environments.first { $0.id == ours.environment.id })
        #expect(mine.records == 2 && mine.opened == 2 && mine.liveSecrets == 2 && mine.keyHeld)
        let theirs = try #require(report.environments.first { $0.id == other.environment.id })
        #expect(theirs.records == 1 && !theirs.keyHeld && theirs.opened == 0)

        let path = ours.environment.location.logFile
        var all = try lines(of: path)
        all[1][200] = all[1][200] == 0x41 ? 0x42 : 0x41  // below the checksum: only the MAC sees it
        all[1] = withFreshChecksum(all[1])
        all[3][10] ^= 0x01  // a plain flip: the checksum sees it
        let offsetOfLine1 = UInt64(all[0].count + 1)
        let offsetOfLine3 = UInt64(all[0].count + all[1].count + all[2].count + 3)
        try write(joined(all) + Array("set torn".utf8), to: path)
        report = try Vault(environment: ours.environment).verify()
        #expect(!report.isHealthy)
        #expect(report.tornBytes == 8)
        #expect(Set(report.damaged.map(\.offset)) == [offsetOfLine1, offsetOfLine3])
    }

    @Test("recover keeps every record that verifies, keeps the original beside it, and the result is healthy and writable")
    func recoverRepairs() throws {
        let (ours, other) = try sharedVaults()
        try ours.setSecret(named: "a", value: "made-up a")
        try other.setSecret(named: "theirs", value: "their made-up")
        try ours.setSecret(named: "b", value: "made-up b")
        let path = ours.environment.location.logFile
        var all = try lines(of: path)
        all[1][150] ^= 0x08
        let damaged = joined(all) + Array("del partial".utf8)
        try write(damaged, to: path)
        let vault = try Vault(environment: ours.environment)
        let report = try vault.recover()
        #expect(report.keptRecords == 2)
        #expect(report.droppedLines == 1)
        #expect(report.tornBytes == 11)
        let original = try #require(report.originalKeptAt)
        #expect(try contents(original) == damaged)
        #expect(try vault.verify().isHealthy)
        #expect(try recordLines(path, of: other.environment.id) == [all[2]])
        #expect(try vault.secretValue(named: "b") == "made-up b")
        try vault.setSecret(named: "c", value: "accepted now")
        #expect(try vault.recover().originalKeptAt == nil)  // healthy: nothing to do
    }

    @Test("import sets everything in one commit, or refuses and writes nothing")
    func importIsAllOrNothing() throws {
        let (ours, _) = try sharedVaults()
        try ours.setSecret(named: "existing", value: "made-up")
        let path = ours.environment.location.logFile
        let before = try contents(path)
        #expect(throws: VaultError.invalidImportEntry(position: 2, .forbiddenCharacterInName(position: 2, codePoint: 0x09))) {
            try ours.importSecrets([("good", "made-up"), ("b\td", "made-up"), ("other", "made-up")])
        }
        let big = String(repeating: "v", count: (1 << 20) + 1)
        #expect(throws: VaultError.invalidImportEntry(position: 2, .valueTooLarge(bytes: (1 << 20) + 1))) {
            try ours.importSecrets([("good", "made-up"), ("big", big)])
        }
        #expect(try contents(path) == before)
        let many = (1...500).map { (name: "KEY_\($0)", value: "made-up value \($0)") }
        #expect(try ours.importSecrets(many) == 500)
        #expect(try ours.secretValue(named: "KEY_250") == "made-up value 250")
        #expect(try ours.secretValue(named: "existing") == "made-up")
        #expect(try ours.secrets().count == 501)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test(".env and JSON files parse as dotenv and JSON do; a name given twice is refused, naming it")
    func secretsFiles() throws {
        let env = """
            # database
            export DB_USER=analytics
            DB_PASSWORD="p#ss\\"word\\nline two"
            TOKEN='literal \\n kept'
            SPACED = trimmed value # a comment
            MULTI="first
            second"

            """
        let parsed = try SecretsFile.parse(Array(env.utf8))
        #expect(parsed.map(\.name) == ["DB_USER", "DB_PASSWORD", "TOKEN", "SPACED", "MULTI"])
        let values = Dictionary(uniqueKeysWithValues: parsed.map { ($0.name, $0.value) })
        #expect(values["DB_PASSWORD"] == "p#ss\"word\nline two")
        #expect(values["TOKEN"] == "literal \\n kept")
        #expect(values["SPACED"] == "trimmed value")
        #expect(values["MULTI"] == "first\nsecond")
        #expect(values["DB_USER"] == "analytics")
        #expect(throws: SecretsFileError.repeatedNames(["DB_USER"])) { try SecretsFile.parse(Array((env + "DB_USER=override\n").utf8)) }
        let json = try SecretsFile.parse(Array(#"  {"b": "2", "a": "1 \u00e9"}"#.utf8))
        #expect(json.map(\.name) == ["a", "b"])
        #expect(json[0].value == "1 é")
        #expect(throws: SecretsFileError.notAJSONObjectOfStrings) { try SecretsFile.parse(Array(#"{"a": 1}"#.utf8)) }
        #expect(throws: SecretsFileError.malformedLine(2)) { try SecretsFile.parse(Array("A=1\nnot a pair\n".utf8)) }
        #expect(throws: SecretsFileError.unterminatedQuote(1)) { try SecretsFile.parse(Array("A=\"open\n".utf8)) }
    }

    @Test("history lists versions; get --version and rollback bring an earlier value back as a new record")
    func versions() throws {
        let (ours, _) = try sharedVaults()
        for value in ["first", "second", "broken rotation"] { try ours.setSecret(named: "credential", value: value) }
        try ours.deleteSecret(named: "credential")
        try ours.setSecret(named: "credential", value: "third")
        let history = try ours.history(named: "credential")
        #expect(history.map(\.number) == [1, 2, 3, 4, 5])
        #expect(history.map(\.operation) == [.set, .set, .set, .delete, .set])
        #expect(try ours.secretValue(named: "credential", version: 2) == "second")
        #expect(try ours.secretValue(named: "credential", version: 4) == nil)
        #expect(throws: VaultError.noSuchVersion(version: 9, available: 5)) { try ours.secretValue(named: "credential", version: 9) }
        try ours.rollback(named: "credential", to: 2)
        #expect(try ours.secretValue(named: "credential") == "second")
        #expect(try ours.history(named: "credential").count == 6)
        #expect(throws: VaultError.self) { try ours.rollback(named: "credential", to: 4) }
    }

    @Test("Flipping any bit of a small vault never yields a wrong value; every flip is detected")
    func everyBitFlip() throws {
        let environment = try makeEnvironment(in: directory, "flip")
        let vault = try Vault(environment: environment)
        let expected = ["alpha": "made-up one", "beta": "made-up two", "gamma": "made-up three"]
        for name in expected.keys.sorted() { try vault.setSecret(named: name, value: expected[name]!) }
        let path = environment.location.logFile
        let original = try contents(path)
        var undetected: [Int] = []
        for bit in 0..<(original.count * 8) {
            var flipped = original
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            try write(flipped, to: path)
            guard let reopened = try? Vault(environment: environment) else { continue }  // refused: detected
            var detected = false
            for (name, value) in expected {
                switch Result(catching: { try reopened.secretValue(named: name) }) {
                case .success(let got?): #expect(got == value, "bit \(bit) gave a wrong value")
                case .success(nil), .failure: detected = true
                }
            }
            if let report = try? reopened.verify(), !report.isHealthy || report.tornBytes > 0 { detected = true }
            if !detected { undetected.append(bit) }
        }
        #expect(undetected.isEmpty, "flips not detected at bits \(undetected.prefix(10))")
        try write(original, to: path)
    }
}
