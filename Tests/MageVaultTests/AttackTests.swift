import Foundation
import Testing

@testable import MageVault

/// Issue 12: what a line written without any key, a hostile merge or another process's
/// rekey can and cannot do. Every line forged here is written as an attacker without keys
/// would write it: clear fields of their choice, a body that does not open, a valid CRC.
@Suite("Attacks: forged lines, hostile merges, rekeys in a world of branches")
struct AttackTests {
    let directory = TemporaryDirectory()

    func location(_ name: String, scope: Scope = .global, log: String = "shared.log") -> EnvironmentLocation {
        EnvironmentLocation(dataDirectory: directory.file(name), vaultFile: directory.file(log), scope: scope, variables: [:])
    }

    func vault(_ name: String, scope: Scope = .global) throws -> Vault {
        try Vault(resolution: Environment.resolutionChain(location(name, scope: scope), create: true))
    }

    /// The record lines of `path` with their parsed headers (the file header excluded).
    func records(_ path: String) throws -> [(header: RecordHeader, line: [UInt8])] {
        try lines(of: path).compactMap { line in
            guard case .record(let header)? = try? line.withUnsafeBytes({ try LogLine.parse($0) }) else { return nil }
            return (header, line)
        }
    }

    /// `line` with its clear header fields replaced (each nil keeps the original), the body
    /// left as it was (so it no longer matches its binding), and a fresh CRC.
    func forged(_ line: [UInt8], op: String? = nil, uuid: String? = nil, keyID: String? = nil, time: String? = nil, body: String? = nil)
        -> [UInt8]
    {
        var bytes = line
        func put(_ text: String?, at column: Int) {
            guard let text else { return }
            bytes.replaceSubrange(column..<(column + text.utf8.count), with: Array(text.utf8))
        }
        put(op, at: 0)
        put(uuid, at: 4)
        put(keyID, at: 37)
        put(time, at: 79)
        if let body {
            bytes = Array(bytes[..<RecordHeader.bodyOffset]) + Array(body.utf8) + Array(bytes.suffix(9))
        }
        return withFreshChecksum(bytes)
    }

    /// Another machine (or branch) of `environment`: its uuid and its key as they are now, held
    /// in memory (a later rekey here does not reach it), writing to `log`, a copy of the log
    /// as it is now.
    func branch(of environment: Environment, machine: String, log: String) throws -> Vault {
        let copy = try copyIdentity(of: environment, into: directory.file(machine))
        try write(try contents(environment.location.logFile), to: log)
        return try Vault(
            environment: Environment(
                location: EnvironmentLocation(dataDirectory: directory.file(machine), vaultFile: log, variables: [:]),
                id: copy.id, keys: copy.keys))
    }

    func append(_ line: [UInt8], to path: String) throws {
        try write(try contents(path) + line + [0x0A], to: path)
    }

    // MARK: 4. Clock poisoning

    @Test("A line with the greatest time there is neither crashes a writer nor moves its clock; verify reports it, recover sets it aside")
    func clockPoisoning() throws {
        let dev = try vault("dev")
        let other = try vault("other")
        try dev.setSecret(named: "db_password", value: "made-up-1")
        try other.setSecret(named: "api_token", value: "made-up-2")
        let path = dev.environment.location.logFile
        let victim = try records(path).last!.line
        try append(forged(victim, time: "ffffffffffffffff"), to: path)
        try append(forged(victim, time: Timestamp(milliseconds: wallClockMilliseconds() + 3_600_000).description), to: path)

        let before = wallClockMilliseconds()
        let writer = try vault("dev")
        try writer.setSecret(named: "db_password", value: "made-up-3")
        #expect(try writer.deleteSecret(named: "db_password"))
        #expect(try writer.importSecrets([(name: "imported", value: "made-up-4")]) == 1)
        try writer.setSecret(named: "rolled", value: "made-up-5")
        try writer.setSecret(named: "rolled", value: "made-up-6")
        try writer.rollback(named: "rolled", to: 1)
        #expect(try writer.secretValue(named: "rolled") == "made-up-5")
        // Every new record's time is within the clock allowance of the wall clock: neither
        // the forged maximum nor the forged hour ahead dragged it.
        let bound = Timestamp.clockBound(wallClock: wallClockMilliseconds())
        let mine = try records(path).filter { $0.header.environment == writer.environment.id && $0.header.timestamp >= Timestamp(milliseconds: before) }
        #expect(mine.count >= 5)
        #expect(mine.allSatisfy { $0.header.timestamp <= bound })

        let report = try writer.verify()
        #expect(!report.isHealthy)
        #expect(report.damaged.contains { $0.reason.contains("ahead of this machine's clock") })
        // The line a day ahead is set aside; the one an hour ahead (of an environment whose
        // key is not here) could be a machine with a fast clock: it stays, harmless.
        let recovered = try writer.recover()
        #expect(recovered.droppedLines == 1)
        #expect(try writer.verify().isHealthy)
        #expect(try writer.secretValue(named: "rolled") == "made-up-5")
        #expect(try vault("other").secretValue(named: "api_token") == "made-up-2")
    }

    // MARK: 5. Forged tombstones

    @Test("A set turned into a delete, or a delete appended with a junk body, deletes nothing; compaction keeps the value")
    func forgedTombstones() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "db_password", value: "made-up-1")
        try dev.setSecret(named: "other", value: "made-up-2")
        let path = dev.environment.location.logFile
        let original = try contents(path)
        let line = try records(path).first!.line

        // The set line itself turned into a delete (CRC fixed).
        try write(joined(try lines(of: path).map { $0 == line ? forged(line, op: "del") : $0 }), to: path)
        let turned = try vault("dev")
        #expect(throws: VaultError.self) { try turned.secretValue(named: "db_password") }  // nothing authentic left: damage, not absent

        // A delete appended after the genuine set, later, with a junk body.
        try write(original, to: path)
        let later = Timestamp(milliseconds: wallClockMilliseconds() + 1).description
        try append(forged(line, op: "del", time: later, body: String(repeating: "A", count: 96)), to: path)
        let reader = try vault("dev")
        #expect(try reader.secretValue(named: "db_password") == "made-up-1")
        #expect(reader.skippedRecords.count == 1)
        #expect(try reader.secrets().map(\.name) == ["db_password", "other"])
        #expect(try Vault.readOnce(named: "db_password", resolution: reader.resolution).secret?.value == "made-up-1")
        let single = try Vault.readOnce(named: "db_password", resolution: reader.resolution)
        #expect(single.skippedRecords.count == 1)
        // Nor is it a version in the history.
        #expect(try reader.history(named: "db_password").map(\.operation) == [.set])

        // Compaction to one version cannot drop the value on the word of the forged delete.
        let compacting = try Vault(resolution: reader.resolution, history: 1)
        try compacting.compact()
        #expect(try vault("dev").secretValue(named: "db_password") == "made-up-1")
    }

    @Test("A forged delete in a pipeline scope does not reveal the project's value instead")
    func forgedTombstoneInAPipeline() throws {
        let project = try vault("dev", scope: .project("sales"))
        try project.setSecret(named: "warehouse", value: "project made-up")
        let pipeline = try vault("dev", scope: .pipeline(project: "sales", pipeline: "daily"))
        try pipeline.setSecret(named: "warehouse", value: "pipeline made-up")
        let path = pipeline.environment.location.logFile
        let line = try records(path).first { $0.header.environment == pipeline.environment.id }!.line
        try append(forged(line, op: "del", time: Timestamp(milliseconds: wallClockMilliseconds() + 5).description), to: path)
        let reader = try vault("dev", scope: .pipeline(project: "sales", pipeline: "daily"))
        #expect(try reader.resolvedSecret(named: "warehouse") == ResolvedSecret(value: "pipeline made-up", scope: .pipeline(project: "sales", pipeline: "daily")))
        #expect(try Vault.readOnce(named: "warehouse", resolution: reader.resolution).secret?.value == "pipeline made-up")
    }

    @Test("The merge driver refuses a side holding a record that does not open, from the future, or another vault's header")
    func hostileMerge() throws {
        let dev = try vault("dev", scope: .global)
        try dev.setSecret(named: "db_password", value: "made-up-1")
        let path = dev.environment.location.logFile
        let base = directory.file("base.log"), ours = directory.file("ours.log"), theirs = directory.file("theirs.log")
        try write(try contents(path), to: base)
        try write(try contents(path), to: ours)
        let line = try records(path).first!.line
        let clean = try contents(path)
        let environments = [dev.environment]

        // A forged tombstone.
        try write(clean + forged(line, op: "del", time: Timestamp(milliseconds: wallClockMilliseconds() + 1).description) + [0x0A], to: theirs)
        #expect(throws: VaultError.self) {
            try LogMerge.merge(base: base, ours: ours, theirs: theirs, environments: environments, resolution: MergeResolution())
        }
        #expect(try contents(ours) == clean)
        // A line of an environment whose key is absent, far in the future.
        try write(clean + forged(line, uuid: String(repeating: "7", count: 32), time: "ffffffffffffffff") + [0x0A], to: theirs)
        #expect(throws: VaultError.self) {
            try LogMerge.merge(base: base, ours: ours, theirs: theirs, environments: environments, resolution: MergeResolution())
        }
        // Another vault's header in the middle of theirs (item 15).
        try write(clean + FileHeader(vaultID: VaultID.random()).encoded() + Array(line) + [0x0A], to: theirs)
        #expect(throws: VaultError.self) {
            try LogMerge.merge(base: base, ours: ours, theirs: theirs, environments: environments, resolution: MergeResolution())
        }
        #expect(try contents(ours) == clean)
    }

    // MARK: 6. Wrong key on demand

    @Test("A junk line under a victim's uuid and another key id is damage to report, not a wrong key")
    func wrongKeyOnDemand() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "db_password", value: "made-up-1")
        let path = dev.environment.location.logFile
        let line = try records(path).first!.line
        try append(forged(line, keyID: "0badc0de", time: Timestamp(milliseconds: wallClockMilliseconds() + 1).description), to: path)
        let reader = try vault("dev")
        #expect(try reader.secretValue(named: "db_password") == "made-up-1")
        #expect(try Vault.readOnce(named: "db_password", resolution: reader.resolution).secret?.value == "made-up-1")
        #expect(try reader.secrets().map(\.name) == ["db_password"])
        #expect(reader.skippedRecords.contains { $0.unknownKeyRecords == 1 })  // said on every read
        try reader.setSecret(named: "new", value: "made-up-2")
        let report = try reader.verify()
        #expect(report.isHealthy)
        #expect(report.unknownKey.contains { $0.reason.contains("0badc0de") })
    }

    @Test("Records of a rekey made elsewhere are never set aside by recover, and a reader without the new key is told they exist")
    func recoverKeepsAnotherMachinesRekey() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "beta", value: "made-up-old")
        let path = dev.environment.location.logFile
        // Machine 2: the same environment, the old key, its own copy of the log (a branch).
        let branchLog = directory.file("branch.log")
        let onBranch = try branch(of: dev.environment, machine: "machine2", log: branchLog)
        let other = onBranch.environment
        try onBranch.setSecret(named: "gamma", value: "made-up-gamma")
        // Machine 1 rekeys and writes a newer value; machine 2 then merges it in.
        try dev.rekey(to: KeyMaterial.random())
        try dev.setSecret(named: "beta", value: "made-up-new")
        try write(try contents(branchLog) + Array(try contents(path).drop { $0 != 0x0A }.dropFirst()), to: path)
        let before = try contents(path)
        let stale = try Vault(
            environment: Environment(
                location: EnvironmentLocation(dataDirectory: directory.file("machine2"), vaultFile: path, variables: [:]),
                id: other.id, keys: other.keys))
        #expect(try stale.secretValue(named: "gamma") == "made-up-gamma")
        // beta's newest value exists only under the new key: the old one is read, with a warning.
        #expect(try stale.secretValue(named: "beta") == "made-up-old")
        #expect(stale.skippedRecords.contains { $0.unknownKeyRecords == 2 })
        // list: the names it can read, the notice, and no "damaged" verdict for the new key's records.
        #expect(try stale.secrets().map(\.name) == ["beta", "gamma"])
        #expect(stale.damagedSecrets.isEmpty)
        #expect(try stale.verify().isHealthy)
        _ = try stale.recover()
        #expect(try contents(path) == before)  // nothing set aside
        #expect(try vault("dev").secretValue(named: "beta") == "made-up-new")
    }

    @Test("A line under an unknown key id in an empty scope does not wedge the rest, and recover --set-aside-unknown-keys clears it")
    func unknownKeyInAnEmptyScope() throws {
        let global = try vault("dev")
        try global.setSecret(named: "db_password", value: "made-up-1")
        let web = try vault("dev", scope: .project("web"))  // created, no record yet
        let path = global.environment.location.logFile
        let line = try records(path).first!.line
        try append(forged(line, uuid: web.environment.id.description, keyID: "0badc0de"), to: path)
        #expect(try vault("dev").verify().isHealthy)  // the global scope's verify is not wedged
        #expect(throws: VaultError.wrongKey(keyFile: web.environment.location.keyFile)) {
            try vault("dev", scope: .project("web")).setSecret(named: "x", value: "made-up-2")
        }
        let report = try Vault(resolution: [web.environment]).recover(settingAsideUnknownKeys: true)
        #expect(report.droppedLines == 1)
        try vault("dev", scope: .project("web")).setSecret(named: "x", value: "made-up-2")
        #expect(try vault("dev", scope: .project("web")).secretValue(named: "x") == "made-up-2")
        #expect(try vault("dev").secretValue(named: "db_password") == "made-up-1")
    }

    @Test("The merge driver still finds a conflict on a name after one side rekeyed (tags changed)")
    func conflictAcrossARekey() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "alpha", value: "made-up-base")
        let path = dev.environment.location.logFile
        let base = directory.file("base.log"), theirs = directory.file("theirs.log")
        try write(try contents(path), to: base)
        // Theirs: the old key writes alpha.
        let onBranch = try branch(of: dev.environment, machine: "branch", log: theirs)
        try onBranch.setSecret(named: "alpha", value: "made-up-theirs")
        // Ours: rekey, then write alpha.
        try dev.rekey(to: KeyMaterial.random())
        try dev.setSecret(named: "alpha", value: "made-up-ours")
        let reader = try vault("dev")
        let report = try LogMerge.merge(base: base, ours: path, theirs: theirs, environments: reader.resolution, resolution: MergeResolution())
        #expect(report.conflicts.map(\.name) == ["alpha"])
        // history sees both keys' versions.
        #expect(try vault("dev").history(named: "alpha").count >= 3)
    }

    @Test("A key file reached through a symbolic link (as a Kubernetes Secret mounts it) is read")
    func symlinkedKeyFile() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "db_password", value: "made-up-1")
        let keyFile = dev.environment.location.keyFile
        let mounted = directory.file("mounted.key")
        try FileManager.default.moveItem(atPath: keyFile, toPath: mounted)
        try FileManager.default.createSymbolicLink(atPath: keyFile, withDestinationPath: mounted)
        #expect(try vault("dev").secretValue(named: "db_password") == "made-up-1")
    }

    // MARK: 7. Ties

    @Test("Two lines with the same time and record id are ordered by their bytes, whatever the file order")
    func tiesAreDecidedByContent() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "anchor", value: "made-up")
        let path = dev.environment.location.logFile
        let header = try lines(of: path)[0]
        let time = Timestamp(milliseconds: wallClockMilliseconds())
        let twins = ["made-up-a", "made-up-b"].map { value in
            Array(value.utf8).withUnsafeBytes {
                RecordCodec.seal(
                    .set, name: try! SecretName("tied"), value: $0, environment: dev.environment.id, keys: dev.environment.keys,
                    timestamp: time, id: RecordID(rawValue: 42), vault: dev.vaultID
                ).line
            }
        }
        let expected = twins[0].lexicographicallyPrecedes(twins[1]) ? "made-up-b" : "made-up-a"
        var answers: Set<String> = []
        for order in [[0, 1], [1, 0]] {
            try write(header + [0x0A] + order.flatMap { twins[$0] }, to: path)
            let reader = try vault("dev")
            answers.insert(try reader.secretValue(named: "tied") ?? "none")
            answers.insert(try Vault.readOnce(named: "tied", resolution: reader.resolution).secret?.value ?? "none")
            let history1 = try Vault(resolution: reader.resolution, history: 1)
            try history1.compact()
            answers.insert(try vault("dev").secretValue(named: "tied") ?? "none")
        }
        #expect(answers == [expected])
    }

    // MARK: 9, 10. Rekey across branches and processes

    @Test("A rekey on one branch and writes with the old key on another merge both ways, by concatenation or the driver")
    func rekeyMergesBothWays() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "kept", value: "made-up-1")
        try dev.setSecret(named: "changed", value: "made-up-2")
        try dev.deleteSecret(named: "kept")
        try dev.setSecret(named: "kept", value: "made-up-3")
        let path = dev.environment.location.logFile
        // Branch B: the log and the old key as they were before the rekey.
        let branchLog = directory.file("branch.log")
        let ancestor = try contents(path)
        let onBranch = try branch(of: dev.environment, machine: "branch", log: branchLog)
        // Branch A rekeys; branch B writes with the old key.
        try dev.rekey(to: KeyMaterial.random())
        try onBranch.setSecret(named: "changed", value: "made-up-4")
        try onBranch.setSecret(named: "added", value: "made-up-5")
        let rekeyed = try contents(path)
        let old = try contents(branchLog)

        let expected = ["added": "made-up-5", "changed": "made-up-4", "kept": "made-up-3"]
        for merged in [rekeyed + old, old + rekeyed] {
            try write(merged, to: path)
            let reader = try vault("dev")
            for (name, value) in expected {
                #expect(try reader.secretValue(named: name) == value)
                #expect(try Vault.readOnce(named: name, resolution: reader.resolution).secret?.value == value)
            }
            #expect(try reader.secrets().map(\.name) == ["added", "changed", "kept"])
            #expect(try reader.verify().isHealthy)
        }
        // The merge driver, both ways.
        for (ours, theirs) in [(rekeyed, old), (old, rekeyed)] {
            try write(ours, to: path)
            try write(theirs, to: directory.file("theirs.log"))
            try write(ancestor, to: directory.file("base.log"))
            let reader = try vault("dev")
            _ = try LogMerge.merge(
                base: directory.file("base.log"), ours: path, theirs: directory.file("theirs.log"), environments: reader.resolution,
                resolution: MergeResolution(lastWriterWins: true))
            let merged = try vault("dev")
            for (name, value) in expected { #expect(try merged.secretValue(named: name) == value) }
        }
        // Re-sealed once more, nothing needs the old key: it can be retired.
        let reader = try vault("dev")
        try reader.rekey(to: KeyMaterial.random())
        let retired = try reader.retireUnusedKeys()
        #expect(retired.retired.count == 2)
        #expect(retired.stillNeeded.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: Environment.retiredKeysFile(reader.environment.location)))
        for (name, value) in expected { #expect(try vault("dev").secretValue(named: name) == value) }
    }

    @Test("A vault opened before another process's rekey reads and writes after it")
    func rekeyUnderfoot() throws {
        let writer = try vault("dev")
        try writer.setSecret(named: "db_password", value: "made-up-1")
        let longLived = try vault("dev")
        let staleChain = longLived.resolution
        #expect(try longLived.secretValue(named: "db_password") == "made-up-1")
        try writer.rekey(to: KeyMaterial.random())
        #expect(try longLived.secretValue(named: "db_password") == "made-up-1")
        try longLived.setSecret(named: "db_password", value: "made-up-2")
        #expect(longLived.environment.keys.keyID == writer.environment.keys.keyID)
        #expect(try Vault.readOnce(named: "db_password", resolution: staleChain).secret?.value == "made-up-2")
        #expect(try vault("dev").verify().environments.allSatisfy { $0.otherKey == 0 })
    }

    @Test("gets and sets in other processes carry on while rekeys run: none fails, nothing is lost")
    func processesCarryOnAcrossRekeys() throws {
        let data = directory.file("busy")
        #expect(try run(["set", "steady", "--data-dir", data], input: Array("made-up-steady".utf8)).status == 0)
        let script = """
            bin=$1; data=$2
            for i in $(seq 40); do "$bin" get steady --data-dir "$data" >/dev/null 2>&1 || echo "get failed: $?"; done &
            for i in $(seq 30); do printf 'made-up-%s' "$i" | "$bin" set moving --data-dir "$data" >/dev/null 2>&1 || echo "set failed: $?"; done &
            for i in $(seq 5); do "$bin" rekey --data-dir "$data" >/dev/null 2>&1 || echo "rekey failed: $?"; done
            wait
            """
        let result = try run("/bin/bash", ["-c", script, "busy", toolPath, data])
        #expect(result.status == 0)
        #expect(String(decoding: result.output, as: UTF8.self) == "")
        #expect(try run(["get", "steady", "--data-dir", data]).output == Array("made-up-steady".utf8))
        #expect(try run(["get", "moving", "--data-dir", data]).output == Array("made-up-30".utf8))
        #expect(try run(["verify", "--data-dir", data]).status == 0)
    }

    @Test("Many long forged lines for one name: a read holds one at a time, not all of them")
    func manyLongForgedCandidatesDoNotPileUp() throws {
        let data = directory.file("long")
        #expect(try run(["set", "victim", "--data-dir", data], input: Array("made-up-real".utf8)).status == 0)
        let path = data + "/secrets/vault.log"
        let line = try records(path).first!.line
        let body = String(repeating: "A", count: 1_300_000)
        var forgedLines: [UInt8] = []
        let start = wallClockMilliseconds()
        for step in 1...40 {  // 52 MB of candidates, each newer than the genuine record
            forgedLines += forged(line, time: Timestamp(milliseconds: start + UInt64(step)).description, body: body) + [0x0A]
        }
        try write(try contents(path) + forgedLines, to: path)
        // Heap limited to 32 MiB: holding every candidate line at once would run out of it.
        let get = try spawn("/usr/bin/prlimit", ["--data=\(32 << 20)", toolPath, "get", "victim", "--data-dir", data])
        #expect(get.status == 0, "\(get.error.prefix(300))")
        #expect(get.text == "made-up-real")
    }

    // MARK: 14. Every scope whose key is here

    @Test("verify and recover without --project check project and pipeline scopes whose keys are here")
    func verifyChecksEveryScope() throws {
        let global = try vault("dev")
        try global.setSecret(named: "db_password", value: "made-up-1")
        let project = try vault("dev", scope: .project("sales"))
        try project.setSecret(named: "warehouse", value: "made-up-2")
        let path = global.environment.location.logFile
        let line = try records(path).first { $0.header.environment == project.environment.id }!.line
        try append(forged(line, body: String(repeating: "B", count: 96)), to: path)
        let report = try vault("dev").verify()
        #expect(!report.isHealthy)
        let recovered = try vault("dev").recover()
        #expect(recovered.droppedLines == 1)
        #expect(try vault("dev", scope: .project("sales")).secretValue(named: "warehouse") == "made-up-2")
    }

    // MARK: 12. Names are bytes

    @Test("list compares names as bytes, as get does: a project's NFC café does not hide the global NFD café")
    func namesAreBytes() throws {
        let nfd = "cafe\u{301}", nfc = "caf\u{e9}"
        try vault("dev").setSecret(named: nfd, value: "made-up global")
        try vault("dev", scope: .project("pr")).setSecret(named: nfc, value: "made-up project")
        let project = try vault("dev", scope: .project("pr"))
        let listed = try project.secrets().map { Array($0.name.utf8) }
        #expect(listed == [Array(nfd.utf8), Array(nfc.utf8)])
        #expect(try project.secretValue(named: nfd) == "made-up global")
        #expect(try project.secretValue(named: nfc) == "made-up project")
    }

    @Test("Names are listed in the order of their bytes, whatever the script, however long a prefix they share")
    func listOrderIsByteOrder() throws {
        let names = [
            "secret_2", "secret_10", "secret_1", "B", "a", "ab", "a b", "a/b", "~", "z", "caf\u{e9}", "cafe\u{301}",
            "\u{65e5}\u{672c}", "\u{1F600}", "\u{FF5E}", "\u{A0}x", "exactly16bytes!!", "exactly16bytes!!x", "exactly16bytes!",
            "a prefix shared by 24 b", "a prefix shared by 24 by", "a prefix shared by 24 bz", "a prefix shared by 24 bya",
            String(repeating: "\u{e9}", count: 127), String(repeating: "\u{e9}", count: 126) + "z",
        ]
        let dev = try vault("dev")
        for name in names.shuffled() { try dev.setSecret(named: name, value: "made-up") }
        let byBytes = { (names: [String]) in names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) } }
        #expect(try vault("dev").secrets().map { Array($0.name.utf8) } == byBytes(names))
        // Through a project scope too: its own names, and the global ones it does not hide.
        let project = try vault("dev", scope: .project("pr"))
        try project.setSecret(named: "\u{e9}t\u{e9}", value: "made-up project")
        try project.setSecret(named: "ab", value: "made-up override")
        let listed = try project.secrets()
        #expect(listed.map { Array($0.name.utf8) } == byBytes(names + ["\u{e9}t\u{e9}"]))
        #expect(listed.filter { $0.scope == .project("pr") }.map(\.name) == ["ab", "\u{e9}t\u{e9}"])
    }

    @Test("A body spelled with a byte outside the base64 alphabet (which libsodium 1.0.18 reads as '/') does not open: one spelling per record")
    func bodyWithANonBase64ByteDoesNotOpen() throws {
        let dev = try vault("dev")
        let path = dev.environment.location.logFile
        // Set until a body holds a "/" (nearly always at once).
        var index = 0
        var line: [UInt8] = []
        repeat {
            try dev.setSecret(named: "name\(index)", value: "made-up \(index)")
            line = try records(path).last!.line
            index += 1
        } while !line[RecordHeader.bodyOffset..<(line.count - 9)].contains(UInt8(ascii: "/"))
        let header = try records(path).last!.header
        var respelled = line
        respelled[respelled[RecordHeader.bodyOffset...].firstIndex(of: UInt8(ascii: "/"))!] = 0x80
        respelled = withFreshChecksum(respelled)
        for candidate in [line, respelled] {
            let opened = Result { () throws(OpenError) in
                try candidate.withBytes { bytes throws(OpenError) in
                    try RecordCodec.openName(line: bytes, header: header, keys: dev.environment.keys, vault: dev.vaultID)
                }
            }
            let whole = Result { () throws(OpenError) in
                try candidate.withBytes { bytes throws(OpenError) in
                    try RecordCodec.open(line: bytes, header: header, keys: dev.environment.keys, vault: dev.vaultID).name
                }
            }
            let expected: Result<String, OpenError> =
                candidate == line ? .success("name\(index - 1)") : .failure(.notAuthentic("body is not canonical base64"))
            #expect(opened == expected)
            #expect(whole == expected)
        }
        // Appended, it ties with the genuine line: readers pass it over, verify calls it damage.
        try append(respelled, to: path)
        let reader = try vault("dev")
        #expect(try reader.secretValue(named: "name\(index - 1)") == "made-up \(index - 1)")
        #expect(try reader.secrets().count == index)
        #expect(try !reader.verify().isHealthy)
    }

    // MARK: The binding of a sealed name to its tag

    @Test("A record whose binding is right but whose tag is another name's does not open, and is never that name's value")
    func sealedNameMustMatchTheTag() throws {
        let dev = try vault("dev")
        try dev.setSecret(named: "victim", value: "made-up-1")
        let keys = dev.environment.keys
        // Sealed correctly for the name "decoy" (a valid binding of its own header), but the
        // header carries the tag of "victim".
        let header = RecordHeader(
            operation: .set, environment: dev.environment.id, keyID: keys.keyID, tag: keys.tag(of: try SecretName("victim")),
            timestamp: Timestamp(milliseconds: wallClockMilliseconds() + 1), id: RecordID(rawValue: 9))
        var line = header.encodedPrefix()
        let plaintext = RecordCodec.binding(prefix: line, vault: dev.vaultID) + [5] + Array("decoy".utf8) + Array("made-up-2".utf8)
        let box = plaintext.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
        line += box.withUnsafeBytes { Base64.encode($0) }
        appendChecksum(to: &line)
        let record = Array(line.dropLast())
        #expect(throws: OpenError.notAuthentic("sealed name does not match the tag")) {
            try record.withBytes { bytes throws(OpenError) in try RecordCodec.open(line: bytes, header: header, keys: keys, vault: dev.vaultID) }
        }
        try append(record, to: dev.environment.location.logFile)
        let reader = try vault("dev")
        #expect(try reader.secretValue(named: "victim") == "made-up-1")
        #expect(try Vault.readOnce(named: "victim", resolution: reader.resolution).secret?.value == "made-up-1")
    }
}
