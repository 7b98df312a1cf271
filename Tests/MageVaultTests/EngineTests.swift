import Foundation
import Testing

@testable import MageVault

@Suite("Engine: get, set, delete, list over a shared log")
struct EngineTests {
    let directory = TemporaryDirectory()

    /// Writes the six rows of ARCHITECTURE.md's scenario into one shared log.
    func scenario() throws -> (dev: Vault, prod: Vault, random: Vault) {
        let dev = try Vault(environment: makeEnvironment(in: directory, "dev", log: "shared.log"))
        let prod = try Vault(environment: makeEnvironment(in: directory, "prod", log: "shared.log"))
        let random = try Vault(environment: makeEnvironment(in: directory, "random", log: "shared.log"))
        try dev.setSecret(named: "secret1", value: "sooper dooper secret string")
        try dev.setSecret(named: "secret2", value: "xXxSecreTxXx")
        try dev.setSecret(named: "secret3", value: "dev only secret")
        try prod.setSecret(named: "secret1", value: "real production secret")
        try prod.setSecret(named: "secret2", value: "m4g3r0x!")
        try random.setSecret(named: "secret1", value: "random secret")
        return (dev, prod, random)
    }

    @Test("ARCHITECTURE.md's scenario: each environment reads its own values from the shared log")
    func designScenario() throws {
        let (dev, prod, random) = try scenario()
        #expect(try dev.secretValue(named: "secret1") == "sooper dooper secret string")
        #expect(try dev.secretValue(named: "secret2") == "xXxSecreTxXx")
        #expect(try dev.secretValue(named: "secret3") == "dev only secret")
        #expect(try prod.secretValue(named: "secret1") == "real production secret")
        #expect(try prod.secretValue(named: "secret2") == "m4g3r0x!")
        #expect(try prod.secretValue(named: "secret3") == nil)
        #expect(try random.secretValue(named: "secret1") == "random secret")
        #expect(try dev.secrets().map(\.name) == ["secret1", "secret2", "secret3"])
        #expect(try prod.secrets().map(\.name) == ["secret1", "secret2"])
        let status = try dev.status()
        #expect(status.environments.count == 3)
        #expect(status.environments.first { $0.id == dev.environment.id }?.liveSecrets == 3)
        #expect(status.environments.first { $0.id == prod.environment.id }?.records == 2)
    }

    @Test("A fresh Vault over the same files reads the same state (the log is the only truth)")
    func reopenReadsTheSame() throws {
        let (dev, prod, _) = try scenario()
        let again = try Vault(environment: dev.environment)
        #expect(try again.secretValue(named: "secret3") == "dev only secret")
        #expect(try Vault(environment: prod.environment).secrets().count == 2)
    }

    @Test("The newest (time, id) wins whatever the order of lines in the file")
    func newestWinsInAnyOrder() throws {
        let clock = FakeClock()
        let environment = try makeEnvironment(in: directory, "dev")
        let vault = try Vault(environment: environment, clock: clock.read)
        for version in 1...6 {
            try vault.setSecret(named: "rotated", value: "made-up value \(version)")
            clock.milliseconds += version % 2 == 0 ? 1 : 0  // equal wall clocks too: the HLC counter orders them
        }
        try vault.setSecret(named: "gone", value: "temporary")
        try vault.deleteSecret(named: "gone")
        let path = environment.location.logFile
        let original = try lines(of: path)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let records = round == 0 ? Array(original.dropFirst().reversed()) : original.dropFirst().shuffled(using: &generator)
            try write(joined([original[0]] + records), to: path)
            let reread = try Vault(environment: environment)
            #expect(try reread.secretValue(named: "rotated") == "made-up value 6")
            #expect(try reread.secretValue(named: "gone") == nil)
            #expect(try reread.secrets().map(\.name) == ["rotated"])
        }
    }

    @Test("A delete hides the name; deleting an absent name writes nothing and says so")
    func deleteSemantics() throws {
        let (dev, prod, _) = try scenario()
        #expect(try dev.deleteSecret(named: "secret2"))
        #expect(try dev.secretValue(named: "secret2") == nil)
        #expect(try prod.secretValue(named: "secret2") == "m4g3r0x!")
        #expect(try dev.secrets().map(\.name) == ["secret1", "secret3"])
        let before = try contents(dev.environment.location.logFile)
        #expect(try !dev.deleteSecret(named: "secret2"))
        #expect(try !dev.deleteSecret(named: "never-existed"))
        #expect(try contents(dev.environment.location.logFile) == before)
        try dev.setSecret(named: "secret2", value: "back again")
        #expect(try dev.secretValue(named: "secret2") == "back again")
    }

    @Test("A Vault held open sees what another writer appended on its next call")
    func longLivedVaultSeesOtherWriters() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let reader = try Vault(environment: environment)
        #expect(try reader.secretValue(named: "later") == nil)
        let writer = try Vault(environment: environment)
        try writer.setSecret(named: "later", value: "written elsewhere")
        #expect(try reader.secretValue(named: "later") == "written elsewhere")
        try reader.setSecret(named: "later", value: "overwritten by the reader")
        #expect(try writer.secretValue(named: "later") == "overwritten by the reader")
    }

    @Test("Opening and get decrypt nothing but the record asked for")
    func getOpensOneRecord() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let vault = try Vault(environment: environment)
        for index in 0..<50 { try vault.setSecret(named: "name\(index)", value: "made-up \(index)") }
        // Scramble every body but name7's while keeping each line's checksum valid: nothing
        // that opening or `get name7` does may depend on those bodies.
        let path = environment.location.logFile
        let keep = try #require(try lines(of: path).firstIndex { line in
            guard case .record(let header)? = try? line.withUnsafeBytes({ try LogLine.parse($0) }) else { return false }
            return header.tag == environment.keys.tag(of: try! SecretName("name7"))
        })
        let scrambled = try lines(of: path).enumerated().map { index, line -> [UInt8] in
            guard index > 0, index != keep else { return line }
            var changed = line
            changed[RecordHeader.bodyOffset + 40] = changed[RecordHeader.bodyOffset + 40] == 0x41 ? 0x42 : 0x41
            return withFreshChecksum(changed)
        }
        try write(joined(scrambled), to: path)
        let reopened = try Vault(environment: environment)
        #expect(try reopened.secretValue(named: "name7") == "made-up 7")
        #expect(try reopened.status().damagedLines == 0)  // damage below the MAC is not seen without opening
        #expect(throws: VaultError.self) { try reopened.secretValue(named: "name8") }
    }

    @Test("A record moved under another name, another uuid, or into another vault does not open")
    func bodiesAreBoundToHeaderAndVault() throws {
        let (dev, _, _) = try scenario()
        let path = dev.environment.location.logFile
        var all = try lines(of: path)
        // Swap the bodies of secret1 and secret2 (same environment, same key).
        let body = RecordHeader.bodyOffset
        let first = all[1], second = all[2]
        all[1] = withFreshChecksum(Array(first[..<body]) + Array(second[body...]))
        all[2] = withFreshChecksum(Array(second[..<body]) + Array(first[body...]))
        try write(joined(all), to: path)
        let swapped = try Vault(environment: dev.environment)
        #expect(throws: VaultError.self) { try swapped.secretValue(named: "secret1") }
        // list leaves out the two secrets none of whose records opens, and says so (as damage:
        // no older record was used instead).
        #expect(try swapped.secrets().map(\.name) == ["secret3"])
        #expect(swapped.damagedSecrets.count == 2)
        #expect(swapped.skippedRecords.isEmpty)
        #expect(swapped.warnings.count == 2 && swapped.warnings.allSatisfy { $0.contains("that secret was left out") })

        // A record copied into another vault file (another vault id) with the same key and uuid.
        let otherLog = directory.file("other.log")
        let copy = Environment(
            location: EnvironmentLocation(dataDirectory: directory.file("dev"), vaultFile: otherLog, variables: [:]),
            id: dev.environment.id, keys: dev.environment.keys)
        try Vault(environment: copy).setSecret(named: "placeholder", value: "x")
        let original = try lines(of: dev.environment.location.logFile)
        try write(joined([try lines(of: otherLog)[0], original[3]]), to: otherLog)
        #expect(throws: VaultError.damagedRecord(path: otherLog, offset: 55, reason: "sealed under another header or vault")) {
            try Vault(environment: copy).secretValue(named: "secret3")
        }
    }

    @Test("Two copies of one log concatenated (header repeated) are a valid log: newest wins")
    func concatenatedCopies() throws {
        let environment = try makeEnvironment(in: directory, "dev")
        let path = environment.location.logFile
        let vault = try Vault(environment: environment)
        try vault.setSecret(named: "shared", value: "before the copy")
        let base = try contents(path)
        try vault.setSecret(named: "shared", value: "changed on ours")
        let ours = try contents(path)
        try write(base, to: path)
        let theirs = try Vault(environment: environment)
        try theirs.setSecret(named: "added", value: "added on theirs")
        let theirsBytes = try contents(path)
        try write(ours + theirsBytes, to: path)
        let merged = try Vault(environment: environment)
        #expect(try merged.secretValue(named: "shared") == "changed on ours")
        #expect(try merged.secretValue(named: "added") == "added on theirs")
        #expect(try merged.status().damagedLines == 0)
        try merged.setSecret(named: "after", value: "the merge")  // writable: no damage
    }

    @Test("A wrong key reads nothing and writes nothing")
    func wrongKey() throws {
        let (dev, _, _) = try scenario()
        let path = dev.environment.location.logFile
        let before = try contents(path)
        let keyFile = dev.environment.location.keyFile
        try FileManager.default.removeItem(atPath: keyFile)
        try write(fixedKey(42).withUnsafeBytes { Array($0) }, to: keyFile)
        chmod(keyFile, 0o600)
        let vault = try Vault(environment: Environment.open(dev.environment.location, create: false))
        #expect(throws: VaultError.wrongKey(keyFile: keyFile)) { try vault.secretValue(named: "secret1") }
        #expect(throws: VaultError.wrongKey(keyFile: keyFile)) { try vault.secrets() }
        #expect(throws: VaultError.wrongKey(keyFile: keyFile)) { try vault.setSecret(named: "secret9", value: "new") }
        #expect(throws: VaultError.wrongKey(keyFile: keyFile)) { try vault.deleteSecret(named: "secret1") }
        #expect(try contents(path) == before)
    }

    @Test("Refused input leaves the vault byte-for-byte as it was")
    func refusedInputChangesNothing() throws {
        let (dev, _, _) = try scenario()
        let path = dev.environment.location.logFile
        let before = try contents(path)
        for name in ["", String(repeating: "n", count: 256), "nul\0", "new\nline", "tab\t", "esc\u{1B}"] {
            #expect(throws: VaultError.self) { try dev.setSecret(named: name, value: "made-up") }
            #expect(throws: VaultError.self) { try dev.deleteSecret(named: name) }
        }
        let big = String(repeating: "v", count: (1 << 20) + 1)
        #expect(throws: VaultError.invalidInput(.valueTooLarge(bytes: (1 << 20) + 1))) { try dev.setSecret(named: "ok", value: big) }
        let notUTF8: [UInt8] = [0x66, 0xFF, 0x6F]
        #expect(throws: VaultError.invalidInput(.valueNotUTF8)) {
            try notUTF8.withUnsafeBytes { try dev.setSecret(named: "ok", value: $0) }
        }
        #expect(try contents(path) == before)
        // The largest value is accepted and read back whole.
        let largest = String(repeating: "é", count: (1 << 20) / 2)
        try dev.setSecret(named: "large", value: largest)
        #expect(try dev.secretValue(named: "large") == largest)
    }

    @Test("list opens thousands of names on two threads, a window of the file at a time, as each opens alone: a newest record that does not open, or a forged line tied with a real one, falls back to the record that does")
    func listManyNames() throws {
        let vault = try Vault(environment: makeEnvironment(in: directory, "many"))
        let count = 4_300  // about 70 windows of the file, handed out to two threads
        try vault.importSecrets((0..<count).map { (name: "name_\($0)", value: "made-up value \($0)") })
        let altered = [5, 2000, count - 1]
        for index in altered { try vault.setSecret(named: "name_\(index)", value: "made-up newer value") }
        // The newer records' bodies altered (still canonical base64, with a fresh checksum):
        // they parse and are indexed as newest, and do not open.
        let path = vault.environment.location.logFile
        var all = try lines(of: path)
        for back in 1...altered.count {
            var line = all[all.count - back]
            line[RecordHeader.bodyOffset + 10] = line[RecordHeader.bodyOffset + 10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            all[all.count - back] = withFreshChecksum(line)
        }
        // A line forged without the key: a record's clear header copied, its body altered to
        // sort after the real one's, so that the tie is tried forged line first.
        var forged = all[100]
        let position = (RecordHeader.bodyOffset..<forged.count).first { forged[$0] != UInt8(ascii: "z") }!
        forged[position] = UInt8(ascii: "z")
        all.append(withFreshChecksum(forged))
        try write(joined(all), to: path)
        let reread = try Vault(environment: vault.environment)
        let listed = try reread.secrets()
        #expect(reread.skippedRecords.count == altered.count + 1)
        #expect(reread.damagedSecrets.isEmpty)
        let names = (0..<count).map { "name_\($0)" }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(listed.map(\.name) == names)
        // Each name's time as opening its newest authentic record alone finds it.
        let mismatched = try listed.filter { try $0.updated != reread.ownSecretUpdated(named: $0.name) }
        #expect(mismatched.isEmpty, "\(mismatched.prefix(3))")
        for index in altered { #expect(try reread.secretValue(named: "name_\(index)") == "made-up value \(index)") }
    }

    @Test("openForReading reads the log while another thread opens the environments: the vault opening them first gives, and their failure reported before the log's")
    func openForReadingAlongside() throws {
        let (dev, _, _) = try scenario()
        let alongside = try Vault.openForReading(dev.environment.location)
        #expect(alongside.resolution.map(\.id) == [dev.environment.id])
        #expect(try alongside.secrets() == dev.secrets())
        #expect(try alongside.secretValue(named: "secret2") == "xXxSecreTxXx")
        // No environment here, and a log that is no vault: the environment is what is reported.
        let log = directory.file("not-a-vault.log")
        try write(Array("not a vault\n".utf8), to: log)
        let nowhere = EnvironmentLocation(dataDirectory: directory.file("nowhere"), vaultFile: log, variables: [:])
        var expected: VaultError? = nil
        do { _ = try Environment.resolutionChain(nowhere, create: false, readOnly: true) } catch { expected = error }
        #expect(expected != nil)
        #expect(throws: expected!) { try Vault.openForReading(nowhere) }
        #expect(!FileManager.default.fileExists(atPath: log + ".lock"), "reading created the lock file")
    }

    @Test("Parallel work hands every index to exactly one call, with or without a helper thread")
    func parallelChunks() {
        for (count, chunk, helper) in [(0, 4, true), (1, 4, true), (1000, 32, true), (1000, 32, false), (4097, 7, true), (64, 1, true)] {
            var calls = [Int](repeating: 0, count: count)
            var threads = [Int](repeating: -1, count: count)
            calls.withUnsafeMutableBufferPointer { calls in
                threads.withUnsafeMutableBufferPointer { threads in
                    Parallel.forEachChunk(count, chunk: chunk, helper: helper) { range, thread in
                        for index in range {
                            calls[index] += 1
                            threads[index] = thread
                        }
                    }
                }
            }
            #expect(calls.allSatisfy { $0 == 1 }, "\(count) in chunks of \(chunk)")
            #expect(threads.allSatisfy { $0 == 0 || (helper && $0 == 1) }, "\(count) in chunks of \(chunk): a thread it did not start")
        }
    }

    @Test("A damaged line hides nothing after it, is never a value, and writers pass over it, keeping it")
    func damagedLineInTheMiddle() throws {
        let (dev, prod, _) = try scenario()
        let path = dev.environment.location.logFile
        var all = try lines(of: path)
        all[2][150] ^= 0x04  // dev's secret2, an accidental flip
        let damaged = joined(all)
        try write(damaged, to: path)
        let vault = try Vault(environment: dev.environment)
        #expect(try vault.status().damagedLines == 1)
        #expect(try vault.secretValue(named: "secret3") == "dev only secret")
        #expect(try vault.secretValue(named: "secret2") == nil)
        #expect(try Vault(environment: prod.environment).secretValue(named: "secret2") == "m4g3r0x!")
        let offset = UInt64(all[0].count + all[1].count + 2)
        try vault.setSecret(named: "secret4", value: "made-up 4")
        #expect(vault.warnings.count == 1 && vault.warnings[0].contains("the first at byte offset \(offset), do not parse"))
        #expect(try Array(contents(path).prefix(damaged.count)) == damaged)
        #expect(try Vault(environment: dev.environment).secretValue(named: "secret4") == "made-up 4")
    }
}
