import Foundation
import Testing

@testable import MageVault

/// How many SIGKILLs each kill test delivers: a few dozen in `make test`, hundreds in
/// `make crashtest` (`MAGE_VAULT_CRASH_KILLS`).
let crashKills = Int(ProcessInfo.processInfo.environment["MAGE_VAULT_CRASH_KILLS"] ?? "") ?? 30

/// Starts the tool without waiting for it.
func start(_ executable: String, _ arguments: [String], input: [UInt8]) throws -> Process {
    signal(SIGPIPE, SIG_IGN)  // a killed child's stdin pipe must not kill the test runner
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdin = Pipe()
    process.standardInput = stdin
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let handle = stdin.fileHandleForWriting
    DispatchQueue.global().async {
        try? handle.write(contentsOf: input)
        try? handle.close()
    }
    return process
}

/// Seconds `body` takes.
func timed(_ body: () throws -> Any) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    _ = try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

@Suite("Crashes and concurrent writers", .serialized)
struct CrashTests {
    let directory = TemporaryDirectory()
    var data: String { directory.file("data") }

    func openVault() throws -> Vault { try Vault(environment: Environment.open(EnvironmentLocation(dataDirectory: data, variables: [:]), create: false)) }

    /// A value that takes a while to write, different for every index.
    func value(_ index: Int) -> String { "made-up value \(index) " + String(repeating: "x", count: 30_000 + index % 1000) }

    @Test("Several processes and a long-running program write at once: every write is there exactly once")
    func parallelWriters() throws {
        _ = try run(["init", "--data-dir", data])
        let writers = try (1...4).map { writer in
            try start("/bin/bash", ["-c", "for i in $(seq 1 25); do printf 'made-up %s' $i | \"$0\" set w\(writer)_$i --data-dir \"$1\" || exit 1; done", toolPath, data], input: [])
        }
        let vault = try openVault()
        for index in 1...25 { try vault.setSecret(named: "library_\(index)", value: "made-up \(index)") }
        for writer in writers { writer.waitUntilExit() }
        #expect(writers.allSatisfy { $0.terminationStatus == 0 })
        let fresh = try openVault()
        let names = try fresh.secrets().map(\.name)
        #expect(names.count == 125)
        #expect(try fresh.status().environments.first?.records == 125)  // no record twice
        for writer in 1...4 {
            for index in 1...25 { #expect(try fresh.secretValue(named: "w\(writer)_\(index)") == "made-up \(index)") }
        }
        #expect(try fresh.verify().isHealthy)
    }

    @Test("A backup taken while other processes write is a healthy, restorable snapshot")
    func backupWhileWriting() throws {
        let vault = try Vault(environment: Environment.open(EnvironmentLocation(dataDirectory: data, variables: [:]), create: true))
        try vault.importSecrets((1...2_000).map { (name: "base\($0)", value: "made-up \($0)") })
        let writers = try (1...2).map { writer in
            try start("/bin/bash", ["-c", "for i in $(seq 1 30); do printf 'made-up %s' $i | \"$0\" set live\(writer)_$i --data-dir \"$1\" || exit 1; done", toolPath, data], input: [])
        }
        var backups: [String] = []
        while writers.contains(where: \.isRunning), backups.count < 5 {
            let file = directory.file("snapshot\(backups.count).backup")
            try vault.backup(to: file)
            backups.append(file)
            usleep(100_000)
        }
        for writer in writers { writer.waitUntilExit() }
        #expect(writers.allSatisfy { $0.terminationStatus == 0 })
        #expect(backups.count >= 2)
        for file in backups {
            let restored = try Vault(
                environment: copyIdentity(of: vault.environment, into: directory.file("restored-\(FileSystem.baseName(of: file))")))
            let report = try restored.restore(from: file)
            #expect(report.verification.isHealthy)
            #expect(try restored.secretValue(named: "base1999") == "made-up 1999")
        }
        #expect(try vault.secrets().count == 2_060)
    }

    @Test("SIGKILL at random moments during sets: the vault opens, verifies, and holds every acknowledged record")
    func killDuringSets() throws {
        _ = try run(["init", "--data-dir", data])
        // Kill anywhere from process start to a little after a whole set takes.
        var window = 0.0
        var acknowledged: [Int] = []
        var killed = 0
        for index in 0..<crashKills {
            if index % 20 == 0 {  // the log grows, and so does a set's time: measure again
                window = try timed { try run(["set", "calibration", "--data-dir", data], input: Array(value(index).utf8)) }
            }
            let process = try start(toolPath, ["set", "k\(index)", "--data-dir", data], input: Array(value(index).utf8))
            usleep(UInt32.random(in: 0...UInt32(window * 1.2e6)))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            if process.terminationReason == .exit, process.terminationStatus == 0 { acknowledged.append(index) }
            let vault = try openVault()
            let report = try vault.verify()
            #expect(report.damaged.isEmpty, "after kill \(index)")
            for ack in acknowledged { #expect(try vault.secretValue(named: "k\(ack)") == value(ack), "lost k\(ack)") }
        }
        let lost = try acknowledged.filter { try openVault().secretValue(named: "k\($0)") != value($0) }.count
        print("crash test (sets): \(crashKills) writers, \(killed) killed while running, \(acknowledged.count) acknowledged, \(lost) lost")
        #expect(lost == 0)
    }

    @Test("SIGKILL at random moments during compaction: the vault always opens whole, old or new")
    func killDuringCompaction() throws {
        _ = try run(["init", "--data-dir", data])
        let vault = try openVault()
        var expected: [String: String] = [:]
        for round in 0..<6 {
            let batch = (0..<300).map { (name: "name\($0)", value: "made-up round \(round) value \($0)") }
            try vault.importSecrets(batch)
            for entry in batch { expected[entry.name] = entry.value }
        }
        let window = try timed { try run(["compact", "--history", "2", "--data-dir", data]) }
        var killed = 0
        for attempt in 0..<max(5, crashKills / 3) {
            // Something to compact each time: a new version of one secret, acknowledged first.
            let name = "name\(attempt % 300)"
            expected[name] = "made-up rewrite \(attempt)"
            try openVault().setSecret(named: name, value: expected[name]!)
            let process = try start(toolPath, ["compact", "--history", "2", "--data-dir", data], input: [])
            usleep(UInt32.random(in: 0...UInt32(window * 1.2e6)))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            let reopened = try openVault()
            #expect(try reopened.verify().isHealthy)
            for (name, value) in expected { #expect(try reopened.secretValue(named: name) == value) }
        }
        // The next rewrite sweeps what a killed compaction left half-written.
        try openVault().compact()
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: data + "/secrets").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        print("crash test (compaction): \(max(5, crashKills / 3)) compactions, \(killed) killed while running, all \(expected.count) secrets intact after each")
    }

    @Test("An import that fails part-way (file size limit, as a full disk) exits 6 and changes nothing")
    func failedImport() throws {
        #expect(try run(["set", "small", "--data-dir", data], input: Array("made-up".utf8)).status == 0)
        let log = data + "/secrets/vault.log"
        let before = try contents(log)
        let file = directory.file("many.env")
        try write(Array((1...200).map { "KEY_\($0)=made-up value number \($0)\n" }.joined().utf8), to: file)
        let script = "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\""
        let result = try run("/bin/bash", ["-c", script, toolPath, "import", file, "--data-dir", data])
        #expect(result.status == 6, "\(result.error)")
        #expect(try contents(log) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: data + "/secrets").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
