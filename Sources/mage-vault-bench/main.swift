// `make bench`: MageVault against the floor the hardware and the cryptography set, measured
// in the same run, for vaults of 1k to 1M records. Writes BENCHMARKS.md from its own output.
import CSodium
import Foundation
import MageVault

// MARK: Measuring

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

struct Sample {
    var values: [Double]
    var median: Double { let sorted = values.sorted(); return sorted[sorted.count / 2] }
    var minimum: Double { values.min()! }
    var maximum: Double { values.max()! }
}

/// Runs `workload` and `floor` by turns, `times` each, and returns the seconds each run
/// took: both see the same moments of a noisy machine, so their difference holds.
func interleaved(_ times: Int, _ workload: () throws -> Void, _ floor: () throws -> Void) rethrows -> (Sample, Sample) {
    var first = Sample(values: []), second = Sample(values: [])
    for _ in 0..<times {
        first.values += try measure(1, workload).values
        second.values += try measure(1, floor).values
    }
    return (first, second)
}

/// Runs `body` `times` times and returns the seconds each took.
func measure(_ times: Int, _ body: () throws -> Void) rethrows -> Sample {
    var values: [Double] = []
    for _ in 0..<times {
        let start = now()
        try body()
        values.append(now() - start)
    }
    return Sample(values: values)
}

struct Row {
    let workload: String
    let size: String
    let unit: String  // per what the numbers are
    let sample: Sample
    let floor: Sample
    let target: String
    let meets: Bool?
    let perRecord: Double?  // seconds per record, to show growth
}

var rows: [Row] = []
var notes: [String] = []
/// What one record's read is made of, measured once (at the first size): see `breakdown`.
var parts: [(String, Double)] = []

func milliseconds(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }
func microseconds(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1e6) }

@MainActor func record(_ workload: String, size: Int, unit: String = "op", _ sample: Sample, floor: Sample, target: String, check: (Double, Double) -> Bool, records: Int? = nil) {
    let meets = check(sample.median, floor.median)
    rows.append(Row(workload: workload, size: label(size), unit: unit, sample: sample, floor: floor, target: target, meets: meets,
                    perRecord: records.map { sample.median / Double($0) }))
    let ratio = sample.median / floor.median
    print(String(format: "%-34@ %6@  median %10@ ms  min %10@  max %10@  floor %10@ ms  ratio %6.2f  %@  %@", workload as NSString,
                 label(size) as NSString, milliseconds(sample.median) as NSString, milliseconds(sample.minimum) as NSString,
                 milliseconds(sample.maximum) as NSString, milliseconds(floor.median) as NSString, ratio, target as NSString,
                 (meets ? "meets" : "MISSES") as NSString))

}

func label(_ size: Int) -> String { size >= 1_000_000 ? "\(size / 1_000_000)M" : size >= 1000 ? "\(size / 1000)k" : "\(size)" }

// MARK: Vaults of a given shape

/// A vault of `records` records: 10% of them live names, each written 10 times (so every
/// name has 10 versions), values of 24 to 40 bytes, names of 10 to 14.
func makeVault(records: Int, in directory: String) throws -> Vault {
    let location = EnvironmentLocation(dataDirectory: directory, variables: [:])
    let vault = try Vault(environment: Environment.open(location, create: true))
    let names = max(1, records / 10)
    for version in 0..<10 {
        try vault.importSecrets((0..<names).map { (name: "secret_\($0)", value: "made-up value \($0) version \(version) ....") })
    }
    return vault
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "/magevault-bench-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The naive replay: decrypt every record (what a log without clear headers would need).
func naiveReplay(logFile: String, keys: EnvironmentKeys) throws -> Int {
    let data = try Data(contentsOf: URL(fileURLWithPath: logFile))
    var opened = 0
    data.withUnsafeBytes { raw in
        var start = 0
        for index in 0..<raw.count where raw[index] == 0x0A {
            defer { start = index + 1 }
            guard index - start > 200 else { continue }  // the header line
            let body = UnsafeRawBufferPointer(rebasing: raw[(start + 113)..<(index - 9)])
            var plaintext = [UInt8](repeating: 0, count: 4096)
            if let box = Base64.decode(body),
                box.withUnsafeBytes({ sealed in plaintext.withUnsafeMutableBytes { SecretBox.open(sealed, keys: keys, into: $0) } })
            {
                opened += 1
            }
        }
    }
    return opened
}

/// Peak resident memory of this process in bytes (VmHWM).
func peakResidentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])! * 1024
    }
    return 0
}

/// Starts `command` (a path and its arguments) with the given standard input and output
/// (`-1`: /dev/null), closing `close` in the child; returns its pid.
func spawn(_ command: [String], input: Int32 = -1, output: Int32 = -1, close others: [Int32] = []) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if input >= 0 { posix_spawn_file_actions_adddup2(&actions, input, 0) } else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
    if output >= 0 { posix_spawn_file_actions_adddup2(&actions, output, 1) } else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    for descriptor in others + [input, output] where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
    let argv = command.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    precondition(posix_spawn(&child, command[0], &actions, nil, argv, environ) == 0, "cannot start \(command[0])")
    return child
}

func wait(_ child: pid_t, _ what: String) {
    var status: Int32 = 0
    waitpid(child, &status, 0)
    precondition(status == 0, "\(what) failed")
}

/// `first | second`, as a shell runs a pipeline (both started at once, joined by a pipe),
/// without the shell's own start.
func pipeline(_ first: [String], _ second: [String]) {
    var ends: [Int32] = [0, 0]
    precondition(pipe(&ends) == 0)
    let writer = spawn(first, output: ends[1], close: [ends[0]])
    let reader = spawn(second, input: ends[0], close: [ends[1]])
    close(ends[0])
    close(ends[1])
    wait(writer, first[0])
    wait(reader, second[0])
}

/// The absolute path of `program` on $PATH, or nil.
func onPath(_ program: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
}

/// Starts `executable` with posix_spawn (output discarded) and waits: the cost of a new
/// process as a shell pays it, without Foundation's own overhead.
func spawnAndWait(_ executable: String, _ arguments: [String]) {
    wait(spawn([executable] + arguments), executable)
}

func runChild(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
}

// MARK: Modes

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--memory-child" {
    // Opens the vault in `arguments[2]` and prints peak memory. The baseline is the same
    // open of a small vault (made beforehand): creating one costs memory an open does not.
    let location = EnvironmentLocation(dataDirectory: arguments[2], variables: [:])
    let vault = try Vault(environment: Environment.open(location, create: false))
    _ = try vault.status()
    print(peakResidentBytes())
    exit(0)
}

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let sizes = (option("--sizes") ?? "1000,10000,100000,1000000").split(separator: ",").map { Int($0)! }
let toolPath = option("--tool") ?? ""
let floorPath = option("--floor") ?? ""
let outputPath = option("--output")
let benchStart = now()

// MARK: Cold get: a new process with 1k live secrets

/// A cold `get` of `secret` from the data dir `directory`, 200 new processes interleaved with
/// the floor's, after 5 that warm the page cache; recorded against "floor + 3 ms".
@MainActor func recordColdGet(_ workload: String, size: Int, secret: String, directory: String) {
    let get = { spawnAndWait(toolPath, ["get", secret, "--data-dir", directory]) }
    for _ in 0..<5 { get() }
    let (tool, floor) = interleaved(200, get, { spawnAndWait(floorPath, []) })
    record(workload, size: size, tool, floor: floor, target: "≤ floor + 3 ms", check: { $0 - $1 <= 0.003 })
}

if !toolPath.isEmpty, !floorPath.isEmpty {
    let directory = temporaryDirectory()
    _ = try makeVault(records: 10_000, in: directory)  // 1k live secrets
    recordColdGet("cold get (new process)", size: 10_000, secret: "secret_500", directory: directory)
    try? FileManager.default.removeItem(atPath: directory)
}

// MARK: Cold get in a project checkout: the key file's check against git's index

/// The same cold get with the data dir inside a git work tree of 10,000 tracked files (an
/// index of about 1 MB), which the reader reads to make sure git does not track the key file.
if !toolPath.isEmpty, !floorPath.isEmpty, let git = onPath("git") {
    let checkout = temporaryDirectory()
    for folder in 0..<100 {
        let path = checkout + "/src/module_\(folder)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for file in 0..<100 { FileManager.default.createFile(atPath: path + "/file_\(file).py", contents: Data("# \(folder) \(file)\n".utf8)) }
    }
    _ = try runChild(git, ["-C", checkout, "init", "-q"])
    _ = try runChild(git, ["-C", checkout, "add", "src"])
    let index = (try? FileManager.default.attributesOfItem(atPath: checkout + "/.git/index")[.size] as? Int) ?? 0
    let directory = checkout + "/mage_data"
    _ = try makeVault(records: 10_000, in: directory)
    recordColdGet("cold get in a checkout (index \(index / 1000) kB)", size: 10_000, secret: "secret_500", directory: directory)
    try? FileManager.default.removeItem(atPath: checkout)
}

// MARK: Cold get of a team member: the access file read on the way

/// A member's cold get in a team of 22 after a removal (each person's line, the removal's
/// rotation lines), with her own key file: what the access file costs against the same
/// vault without one. Set up with the tool itself, in a home of the bench's own.
if !toolPath.isEmpty, !floorPath.isEmpty {
    let directory = temporaryDirectory()
    let home = directory + "/home", data = directory + "/data"
    let savedHome = ProcessInfo.processInfo.environment["HOME"]
    setenv("HOME", home, 1)
    unsetenv("XDG_CONFIG_HOME")
    unsetenv("MAGE_VAULT_IDENTITY")
    unsetenv("MAGE_VAULT_IDENTITY_FILE")
    _ = try makeVault(records: 1_000, in: data)
    let alice = Identity.generate()
    try FileManager.default.createDirectory(atPath: home + "/.config/mage-vault", withIntermediateDirectories: true)
    _ = try FileSystem.createExclusively(home + "/.config/mage-vault/identity", mode: 0o600, contents: alice.fileText(created: "2026-01-01T00:00:00Z"))
    spawnAndWait(toolPath, ["access", "add", alice.recipient.text, "--name", "alice", "--data-dir", data])
    for member in 0..<20 { spawnAndWait(toolPath, ["access", "add", Identity.generate().recipient.text, "--name", "member\(member)", "--data-dir", data]) }
    spawnAndWait(toolPath, ["access", "add", Identity.generate().recipient.text, "--name", "bob", "--data-dir", data])
    spawnAndWait(toolPath, ["access", "remove", "bob", "--data-dir", data])
    recordColdGet("cold get, a team of 22 after a removal", size: 1_000, secret: "secret_50", directory: data)
    if let savedHome { setenv("HOME", savedHome, 1) }
    try? FileManager.default.removeItem(atPath: directory)
}

// MARK: Against age: the same 1,000 secrets, every figure a whole new process

/// age 1.1.1 keeping the same secrets as one `.env` file encrypted to an X25519 identity, as
/// a user of it would: get = decrypt | grep, list = decrypt | cut, add one = decrypt, append
/// a line, encrypt to a new file, `mv` it over the old (no sync: age does not sync; our set
/// does, fdatasync included). No shell is started for either tool. Runs interleaved, so both see the same moments of a noisy
/// machine; the ratios are of medians from the same run.
struct AgeRow {
    let command: String
    let age: Sample
    let tool: Sample
    let target: Double
}
var ageRows: [AgeRow] = []
var ageNote = ""
/// Where a `list` of the 1,000 secrets spends its time (see below).
var listParts: [(String, Double)] = []

if !toolPath.isEmpty, let age = option("--age") ?? onPath("age"), let keygen = onPath("age-keygen"), let grep = onPath("grep"),
    let cut = onPath("cut"), let mv = onPath("mv")
{
    let directory = temporaryDirectory()
    let data = directory + "/data"
    let plain = (0..<1000).map { "secret_\($0)=made-up value \($0) of a typical length\n" }.joined()
    try plain.write(toFile: directory + "/plain.env", atomically: true, encoding: .utf8)
    let identity = directory + "/identity.txt", file = directory + "/secrets.age", value = directory + "/value"
    spawnAndWait(toolPath, ["import", directory + "/plain.env", "--data-dir", data])
    spawnAndWait(keygen, ["-o", identity])
    let recipient = try runChild(keygen, ["-y", identity]).trimmingCharacters(in: .whitespacesAndNewlines)
    spawnAndWait(age, ["-e", "-r", recipient, "-o", file, directory + "/plain.env"])
    try "made-up added value".write(toFile: value, atomically: true, encoding: .utf8)
    try? FileManager.default.removeItem(atPath: directory + "/plain.env")
    let version = try runChild(age, ["--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
    ageNote = "age \(version) (\(age)) against `\(toolPath)`"

    var added = 0
    func ageAdd() {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0)
        let decrypt = spawn([age, "-d", "-i", identity, file], output: ends[1], close: [ends[0]])
        let encrypt = spawn([age, "-e", "-r", recipient, "-o", file + ".new"], input: ends[0], close: [ends[1]])
        close(ends[0])
        wait(decrypt, "age -d")
        added += 1
        let line = Array("added_\(added)=made-up added value\n".utf8)
        precondition(line.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) } == line.count)
        close(ends[1])
        wait(encrypt, "age -e")
        spawnAndWait(mv, [file + ".new", file])
    }
    func toolAdd() {
        added += 1
        let input = open(value, O_RDONLY)
        let child = spawn([toolPath, "set", "added_\(added)", "--data-dir", data], input: input)
        close(input)
        wait(child, "mage-vault set")
    }
    let rounds = 100
    for _ in 0..<5 {  // warm the page cache
        spawnAndWait(toolPath, ["get", "secret_500", "--data-dir", data])
        pipeline([age, "-d", "-i", identity, file], [grep, "^secret_500="])
    }
    let measured: [(String, () -> Void, () -> Void, Double)] = [
        ("cold get", { pipeline([age, "-d", "-i", identity, file], [grep, "^secret_500="]) },
         { spawnAndWait(toolPath, ["get", "secret_500", "--data-dir", data]) }, 0.6),
        ("list of 1k names", { pipeline([age, "-d", "-i", identity, file], [cut, "-d=", "-f1"]) },
         { spawnAndWait(toolPath, ["list", "--data-dir", data]) }, 1.0),
        ("add one", ageAdd, toolAdd, 0.7),
        ("start: --version", { spawnAndWait(age, ["--version"]) }, { spawnAndWait(toolPath, ["--version"]) }, 1.0),
        ("start: help (against age --version)", { spawnAndWait(age, ["--version"]) }, { spawnAndWait(toolPath, ["help"]) }, 1.0),
    ]
    for (command, ageRun, toolRun, target) in measured {
        let (ageSample, toolSample) = interleaved(rounds, ageRun, toolRun)
        ageRows.append(AgeRow(command: command, age: ageSample, tool: toolSample, target: target))
        let ratio = toolSample.median / ageSample.median
        print(String(format: "vs age: %-36@ age %7@ ms  mage-vault %7@ ms  ratio %5.2f  ≤ %.1f×  %@", command as NSString,
                     milliseconds(ageSample.median) as NSString, milliseconds(toolSample.median) as NSString, ratio, target,
                     (ratio <= target ? "meets" : "MISSES") as NSString))
    }
    // Where the list's time goes: the start of any command, then in process (the same vault,
    // warm) the index build and the authenticated listing; the rest is what a new process
    // pays for running that code the first time.
    do {
        let environment = try Environment.open(EnvironmentLocation(dataDirectory: data, variables: [:]), create: false)
        let opening = try measure(21) { _ = try Vault(environment: environment) }
        let opened = try Vault(environment: environment)
        let names = try opened.secrets().count
        let listing = try measure(21) { let count = try opened.secrets().count; precondition(count == names) }
        let cryptography = measure(21) { nameCryptography(names) }
        let start = ageRows.first { $0.command == "start: --version" }!.tool.median
        let whole = ageRows.first { $0.command == "list of 1k names" }!.tool.median
        listParts = [
            ("the whole `list` (a new process, as in the table)", whole),
            ("start and exit of any command (`--version`)", start),
            ("index build from the log (in process)", opening.median),
            ("listing: newest records read and authenticated on two threads, sorted (in process)", listing.median),
            ("beside it, the cryptography alone on one thread: libsodium's calls for as many names, nothing else", cryptography.median),
            ("the rest: a new process's first touch of code and data (page faults, empty caches), keys, output",
             whole - start - opening.median - listing.median),
        ]
        for (part, seconds) in listParts { print(String(format: "list part: %-70@ %7@ ms", part as NSString, milliseconds(seconds) as NSString)) }
    }
    let trueSample = measure(rounds) { spawnAndWait("/bin/true", []) }
    ageNote += String(format: "; `/bin/true` (a process's least cost here): %@ ms", milliseconds(trueSample.median))
    try? FileManager.default.removeItem(atPath: directory)
} else if !toolPath.isEmpty {
    print("vs age: age or age-keygen is not on PATH (make bench installs Debian's age); rows skipped")
}

/// The libsodium calls opening `count` names takes and nothing else: for each, the XSalsa20
/// sub-key (HSalsa20), the first keystream block, Poly1305 over a body of a typical length,
/// BLAKE2b-128 of the 129 bytes a binding covers (two blocks) and the keyed BLAKE2b-128 of a
/// 10-byte name (the key's block and the name's). What no `list` can do without. (libsodium
/// is initialised by then: the vault opened before chose its fastest implementations.)
func nameCryptography(_ count: Int) {
    var key = [UInt8](repeating: 7, count: 32), subkey = [UInt8](repeating: 0, count: 32), block = [UInt8](repeating: 0, count: 64)
    var nonce = [UInt8](repeating: 1, count: 24), body = [UInt8](repeating: 2, count: 140), digest = [UInt8](repeating: 0, count: 16)
    let streamNonce = Array(nonce[16...])
    var sink: UInt8 = 0
    for index in 0..<count {
        nonce[0] = UInt8(truncatingIfNeeded: index)
        _ = crypto_core_hsalsa20(&subkey, nonce, key, nil)
        _ = crypto_stream_salsa20(&block, 64, streamNonce, subkey)
        sink ^= UInt8(truncatingIfNeeded: crypto_onetimeauth_poly1305_verify(body, body, 66, block))
        _ = crypto_generichash(&digest, 16, body, 129, nil, 0)
        sink ^= digest[0]
        _ = crypto_generichash(&digest, 16, body, 10, key, 32)
        sink ^= digest[0]
    }
    key[0] = sink  // keeps the work from being optimised away
}

// MARK: Durable set, against seal + write + fdatasync of the same bytes

do {
    let directory = temporaryDirectory()
    let vault = try makeVault(records: 1000, in: directory)
    let keys = vault.environment.keys
    let tool = try measure(100) { try vault.setSecret(named: "durable", value: "made-up value 1 version 1 ....") }
    let scratch = directory + "/floor.log"
    let fd = open(scratch, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    let value = Array("made-up value 1 version 1 ....".utf8)
    let floor = measure(100) {
        let (_, line) = value.withUnsafeBytes {
            RecordCodec.seal(.set, name: try! SecretName("durable"), value: $0, environment: vault.environment.id, keys: keys,
                             timestamp: Timestamp(milliseconds: 1), id: RecordID.random(), vault: VaultID(rawValue: 1))
        }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fdatasync(fd)
    }
    close(fd)
    record("durable set", size: 1000, tool, floor: floor, target: "≤ 1.5× floor", check: { $0 <= 1.5 * $1 })
    try? FileManager.default.removeItem(atPath: directory)
}

// MARK: Import of 100k secrets, against sealing 100k records in memory

do {
    let directory = temporaryDirectory()
    let location = EnvironmentLocation(dataDirectory: directory, variables: [:])
    let environment = try Environment.open(location, create: true)
    let entries = (0..<100_000).map { (name: "import_\($0)", value: "made-up imported value number \($0)") }
    let tool = try measure(1) { try Vault(environment: environment).importSecrets(entries) }
    let floor = measure(1) {
        var total = 0
        for entry in entries {
            let value = Array(entry.value.utf8)
            let (_, line) = value.withUnsafeBytes {
                RecordCodec.seal(.set, name: try! SecretName(entry.name), value: $0, environment: environment.id, keys: environment.keys,
                                 timestamp: Timestamp(milliseconds: 1), id: RecordID.random(), vault: VaultID(rawValue: 1))
            }
            total += line.count
        }
        precondition(total > 0)
    }
    record("import (one commit)", size: 100_000, tool, floor: floor, target: "≤ 2× floor", check: { $0 <= 2 * $1 }, records: 100_000)
    try? FileManager.default.removeItem(atPath: directory)
}

/// What a hot get and each name of a list spend besides the secretbox open that is their
/// floor, each part timed alone on a real record of the log: the checks every record read
/// makes (the body's base64, the BLAKE2b binding to header and vault, the keyed tag of the
/// name) and, for a get, seeing other writers (a stat) and reading the line (pread).
func breakdown(logFile: String, keys: EnvironmentKeys, hot: Double, open: Double) throws -> [(String, Double)] {
    let text = try Data(contentsOf: URL(fileURLWithPath: logFile))
    let lines = text.split(separator: UInt8(ascii: "\n"), maxSplits: 2)
    let line = Array(lines[1])
    let prefix = Array(line[..<113]), body = Array(line[113..<(line.count - 9)])
    let vaultID = Array(repeating: UInt8(7), count: 16)
    let name = Array("secret_12345".utf8)
    let fd = Glibc.open(logFile, O_RDONLY)
    defer { close(fd) }
    var scratch = [UInt8](repeating: 0, count: line.count)
    var named = stat()
    return [
        ("secretbox open (the floor)", open),
        ("base64 decode of the body", measure(2000) {
            _ = body.withUnsafeBytes { text in scratch.withUnsafeMutableBytes { Base64.decodePublic(text, into: $0) } }
        }.median),
        ("BLAKE2b binding of header and vault", measure(2000) { _ = vaultID.withUnsafeBytes { id in prefix.withUnsafeBytes { blake2b(count: 16, id, $0) } } }.median),
        ("keyed BLAKE2b tag of the name", measure(2000) { _ = name.withUnsafeBytes { keys.tag(ofName: $0) } }.median),
        ("stat of the log's path (sees other writers)", measure(2000) { _ = stat(logFile, &named) }.median),
        ("pread of the line", measure(2000) { _ = scratch.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 200) } }.median),
        ("hot get, all of it", hot),
    ]
}

// MARK: Per size: open, hot get, list, compact, memory, bytes on disk

let selfPath = URL(fileURLWithPath: CommandLine.arguments[0]).path
/// Peak resident bytes of a process opening the vault in `directory`, `runs` times.
func peakMemory(_ directory: String, runs: Int = 5) throws -> Sample {
    Sample(values: try (0..<runs).map { _ in
        Double(Int(try runChild(selfPath, ["--memory-child", directory]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    })
}
// The baseline: a vault of 10 records (one name set 10 times), opened the same way. Opening
// any vault with records costs a fixed amount an empty one does not (a read buffer of 1 MiB,
// the index's first tables), which is not memory per record. Its spread from run to run is
// the noise: a peak above the baseline by less than that is said so, not given a figure.
let baselineVault = temporaryDirectory()
_ = try makeVault(records: 10, in: baselineVault)
let baseline = try peakMemory(baselineVault)
let memoryNoise = baseline.maximum - baseline.minimum + 4096  // and one page of rounding
for size in sizes {
    let directory = temporaryDirectory()
    let built = now()
    let vault = try makeVault(records: size, in: directory)
    let keys = vault.environment.keys
    let logFile = vault.environment.location.logFile
    print("-- \(label(size)) records: built in \(String(format: "%.1f", now() - built)) s")
    let runs = size >= 1_000_000 ? 5 : 7

    let opening = try measure(runs) { _ = try Vault(environment: vault.environment) }
    let naive = try measure(3) {
        let opened = try naiveReplay(logFile: logFile, keys: keys)
        precondition(opened == size)
    }
    record("open (build the index)", size: size, opening, floor: naive, target: size >= 1_000_000 ? "≤ 0.25× naive replay" : "(0.25× at 1M)",
           check: { $0 <= 0.25 * $1 }, records: size)

    let names = size / 10
    var generator = SystemRandomNumberGenerator()
    let picks = (0..<2000).map { _ in "secret_\(Int.random(in: 0..<names, using: &generator))" }
    var pick = 0
    let hot = try measure(2000) { pick += 1; _ = try vault.secretValue(named: picks[pick % picks.count]) }
    let sampleValue = Array("made-up value 12345 version 9 ....".utf8)
    let sampleBox = sampleValue.withUnsafeBytes { SecretBox.seal($0, keys: keys) }
    var scratch = [UInt8](repeating: 0, count: 256)
    let oneOpen = measure(2000) { _ = sampleBox.withUnsafeBytes { sealed in scratch.withUnsafeMutableBytes { SecretBox.open(sealed, keys: keys, into: $0) } } }
    record("hot get (in process)", size: size, hot, floor: oneOpen, target: "≤ 2× one open", check: { $0 <= 2 * $1 })
    if parts.isEmpty { parts = try breakdown(logFile: logFile, keys: keys, hot: hot.median, open: oneOpen.median) }

    if names <= 10_000 {
        let list = try measure(3) {
            let listed = try vault.secrets().count
            precondition(listed == names)
        }
        let boxes = (0..<names).map { _ in sampleBox }
        let openAll = measure(3) {
            for box in boxes { _ = box.withUnsafeBytes { sealed in scratch.withUnsafeMutableBytes { SecretBox.open(sealed, keys: keys, into: $0) } } }
        }
        record("list of \(label(names)) names", size: size, list, floor: openAll, target: "≤ 2× opening them", check: { $0 <= 2 * $1 }, records: names)
    }

    let bytes = (try FileManager.default.attributesOfItem(atPath: logFile)[.size] as! NSNumber).intValue
    let payload = "secret_50000".utf8.count + "made-up value 50000 version 9 ....".utf8.count
    notes.append("\(label(size)): \(bytes) bytes on disk, \(bytes / size) per record for \(payload) bytes of name and value (overhead \(bytes / size - payload) bytes)")

    let peak = try peakMemory(directory)
    let above = peak.median - baseline.median
    let perRecord = above / Double(size - 10)
    // Below the noise: no figure per record, and the target neither met nor missed by it.
    let resolved = abs(above) > memoryNoise
    rows.append(Row(workload: "peak memory after open", size: label(size), unit: "bytes/record", sample: Sample(values: [perRecord]),
                    floor: Sample(values: [memoryNoise / Double(size)]), target: "≤ 120 B/record", meets: resolved ? perRecord <= 120 : nil,
                    perRecord: nil))
    print(String(format: "%-34@ %6@  %@ above a vault of 10 records (%.0f → %.0f bytes, medians of 5; noise %.0f)  %@",
                 "peak memory after open" as NSString, label(size) as NSString,
                 (resolved ? String(format: "%.1f bytes per record", perRecord) : "below the noise") as NSString,
                 baseline.median, peak.median, memoryNoise, (!resolved ? "—" : perRecord <= 120 ? "meets" : "MISSES") as NSString))

    // Compact to the newest version of each name: size → size/10 records.
    let compactVault = try Vault(environment: vault.environment, history: 1)
    let compact = try measure(1) { try compactVault.compact() }
    let after = (try FileManager.default.attributesOfItem(atPath: logFile)[.size] as! NSNumber).intValue
    let floorFile = directory + "/floor-copy"
    // The floor: read a file as large as the old log, write and sync one as large as the new.
    let oldCopy = directory + "/old-size"
    let filler = Data(count: bytes)
    try filler.write(to: URL(fileURLWithPath: oldCopy))
    let copyFloor = try measure(1) {
        let read = try Data(contentsOf: URL(fileURLWithPath: oldCopy))
        precondition(read.count == bytes)
        let fd = open(floorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = read.prefix(after).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
    }
    record("compact to 10% live", size: size, compact, floor: copyFloor, target: "≤ 2× read + write + sync", check: { $0 <= 2 * $1 }, records: size)
    try? FileManager.default.removeItem(atPath: directory)
}

// MARK: Report

let elapsed = now() - benchStart
print(String(format: "bench finished in %.0f s", elapsed))
for note in notes { print(note) }
for (part, seconds) in parts { print(String(format: "%-40@ %8@ µs", part as NSString, microseconds(seconds) as NSString)) }

if let outputPath {
    let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        .first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":")[1]).trimmingCharacters(in: .whitespaces) } ?? "unknown"
    let memory = ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
    var text = """
        # MageVault benchmarks

        Written by `make bench` (`Sources/mage-vault-bench`) from its own measurements; do not edit by hand.
        Date: \(ISO8601DateFormatter().string(from: Date())). Machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory.replacingOccurrences(of: "  ", with: "")).
        Every floor is measured in the same run as its workload, so ratios hold on a noisy machine.

        Vault shape: N records = N/10 live names × 10 versions each (every name set 10 times),
        names of 8 to 14 bytes, values of about 34 bytes, one environment.

        | workload | size | median | min | max | floor (median) | ratio | per record | target | meets |
        |---|---|---|---|---|---|---|---|---|---|

        """
    for row in rows {
        if row.unit == "bytes/record" {
            // Below the measurement's noise (the baseline's spread over 5 runs): said, not a figure.
            guard let meets = row.meets else {
                text += "| \(row.workload) | \(row.size) | below noise (±\(String(format: "%.0f", row.floor.median)) B/record) | | | 10 records | | | \(row.target) | not resolved |\n"
                continue
            }
            text += "| \(row.workload) | \(row.size) | \(String(format: "%.1f", row.sample.median)) B/record | | | 10 records | | | \(row.target) | \(meets ? "yes" : "**no**") |\n"
            continue
        }
        let ratio = row.sample.median / row.floor.median
        text += "| \(row.workload) | \(row.size) | \(milliseconds(row.sample.median)) ms | \(milliseconds(row.sample.minimum)) ms | \(milliseconds(row.sample.maximum)) ms | \(milliseconds(row.floor.median)) ms | \(String(format: "%.2f", ratio))× | \(row.perRecord.map { microseconds($0) + " µs" } ?? "") | \(row.target) | \(row.meets! ? "yes" : "**no**") |\n"
    }
    if !ageRows.isEmpty {
        text += "\nAgainst age, on the same 1,000 secrets (every figure a whole new process, \(ageNote); medians of the same "
        text += "interleaved run; age's get is `age -d | grep`, its list `age -d | cut`, its add one decrypt, append, encrypt, "
        text += "`mv` over the old file, without the fdatasync our set makes; no shell for either):\n\n"
        text += "| command | age | mage-vault | ratio | target | meets |\n|---|---|---|---|---|---|\n"
        for row in ageRows {
            let ratio = row.tool.median / row.age.median
            text += "| \(row.command) | \(milliseconds(row.age.median)) ms | \(milliseconds(row.tool.median)) ms | "
            text += String(format: "%.2f× | ≤ %.1f× | %@ |\n", ratio, row.target, ratio <= row.target ? "yes" : "**no**")
        }
    }
    if !listParts.isEmpty {
        text += "\nWhere that `list` spends its time (medians; the in-process parts on the same vault, warm, after the "
        text += "add-one rows, so about 1,100 names):\n\n"
        text += "| part | ms |\n|---|---|\n" + listParts.map { "| \($0.0) | \(milliseconds($0.1)) |" }.joined(separator: "\n") + "\n"
    }
    text += "\nBytes on disk:\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n"
    if !parts.isEmpty {
        text += "\nWhere a hot get's time goes (each part timed alone, median of 2000, in µs); a list pays the same "
        text += "checks per name, without the stat and pread:\n\n| part | µs |\n|---|---|\n"
        text += parts.map { "| \($0.0) | \(microseconds($0.1)) |" }.joined(separator: "\n") + "\n"
    }
    text += String(format: "\nThe whole run took %.0f s.\n", elapsed)
    try text.write(toFile: outputPath, atomically: true, encoding: .utf8)
    print("wrote \(outputPath)")
}
