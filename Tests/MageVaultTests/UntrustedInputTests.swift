import Foundation
import Testing

@testable import MageVault

/// What a program started by `spawn` did.
struct SpawnResult {
    /// Its exit code (128 + the signal when a signal ended it); nil when it was still running
    /// at the deadline and was killed.
    let status: Int32?
    let output: [UInt8]
    let error: String
    var text: String { String(decoding: output, as: UTF8.self) }
}

/// Runs `executable` with `arguments` given as raw bytes (Foundation's `Process` takes
/// `String`s, which cannot carry bytes that are not UTF-8), `input` on standard input; kills
/// it after `timeout` seconds (a hang is a failure to report, not a test that never ends).
func spawn(
    _ executable: String, _ arguments: [[UInt8]], input: [UInt8] = [], environment: [String: String] = [:],
    timeout: Double = 120
) throws -> SpawnResult {
    let files = TemporaryDirectory()
    try write(input, to: files.file("in"))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, files.file("in"), O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, files.file("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, files.file("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var variables = ProcessInfo.processInfo.environment
    variables["MAGE_DATA_DIR"] = nil
    variables["MAGE_VAULT_FILE"] = nil
    for (key, value) in environment { variables[key] = value }
    let argv: [UnsafeMutablePointer<CChar>?] = ([Array(executable.utf8)] + arguments).map { bytes in
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        return copy
    } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for pointer in argv + envp { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    var finished = false
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let waited = waitpid(pid, &status, WNOHANG)
        if waited == pid { finished = true; break }
        if waited < 0, errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        usleep(10_000)
    }
    if !finished {
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    }
    let code: Int32? = finished ? ((status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)) : nil
    return SpawnResult(
        status: code, output: try contents(files.file("out")),
        error: String(decoding: try contents(files.file("err")), as: UTF8.self))
}

/// `spawn` with `String` arguments.
func spawn(_ executable: String, _ arguments: [String], input: String = "", timeout: Double = 120) throws -> SpawnResult {
    try spawn(executable, arguments.map { Array($0.utf8) }, input: Array(input.utf8), timeout: timeout)
}

@Suite("Trust under attack: huge lines, linked logs, names that are not UTF-8, files that are not files")
struct UntrustedInputTests: ToolSuite {
    let harness = ToolHarness()

    @Test("A 64 MiB line between records is one damaged line: get, list and verify answer without holding it in memory")
    func hugeLineIsSkippedNotRead() throws {
        #expect(try tool("set", "before", input: "made-up before").status == 0)
        #expect(try tool("set", "after", input: "made-up after").status == 0)
        var all = try lines(of: log)
        let junk = [UInt8](repeating: UInt8(ascii: "J"), count: 64 << 20)
        all.insert(junk, at: 2)
        try write(joined(all), to: log)
        let offset = all[0].count + all[1].count + 2
        // With its data (heap) limited to 32 MiB, a tool that reads the line whole runs out of memory.
        func limited(_ arguments: String...) throws -> SpawnResult {
            try spawn("/usr/bin/prlimit", ["--data=\(32 << 20)", toolPath] + arguments + ["--data-dir", data])
        }
        let get = try limited("get", "after")
        #expect(get.status == 0, "\(get.error)")
        #expect(get.text == "made-up after")
        let list = try limited("list")
        #expect(list.status == 0, "\(list.error)")
        #expect(names(listed: list.text) == ["after", "before"])
        let verify = try limited("verify")
        #expect(verify.status == ExitStatusCode.damaged, "\(verify.error)")
        #expect((verify.text + verify.error).contains("\(offset)"))
        #expect((verify.text + verify.error).contains("longer than the longest valid record"))
    }

    @Test("A log reached through a symbolic link and through its real path is one file under one lock; compact keeps the link")
    func linkedLogSharesOneLock() throws {
        let real = directory.file("real/shared.log")
        let link = directory.file("links/vault.log")
        try FileManager.default.createDirectory(atPath: directory.file("links"), withIntermediateDirectories: true)
        for round in 1...3 { #expect(try tool("set", "--vault", real, "first", input: "made-up \(round)").status == 0) }
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let writers = 24
        let statuses = Statuses(count: writers)
        let data = self.data
        DispatchQueue.concurrentPerform(iterations: writers) { index in
            let path = index % 2 == 0 ? link : real
            let arguments = ["set", "--data-dir", data, "--vault", path, "name\(index)"]
            statuses.set(index, (try? run(arguments, input: Array("made-up value \(index)".utf8)))?.status ?? -2)
        }
        #expect(statuses.all == [Int32](repeating: 0, count: writers))
        let listed = try tool("list", "--vault", real)
        #expect(listed.status == 0, "\(listed.error)")
        #expect(Set(names(listed: listed.text)) == Set(["first"] + (0..<writers).map { "name\($0)" }))
        #expect(FileManager.default.fileExists(atPath: real + ".lock"))
        #expect(!FileManager.default.fileExists(atPath: link + ".lock"))

        let compacted = try tool("compact", "--vault", link, "--history", "1")
        #expect(compacted.status == 0, "\(compacted.error)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
        #expect(try lines(of: real).count == 1 + 1 + writers)  // header, first's newest, one per name
        #expect(try tool("get", "--vault", link, "first").text == "made-up 3")
    }

    @Test("A key file or uuid file that is a FIFO is refused at once as not a regular file (exit 5), never waited on")
    func fifoKeyAndUUIDFilesAreRefused() throws {
        #expect(try tool("set", "name", input: "made-up").status == 0)
        let secrets = data + "/secrets"
        for file in ["vault.key", "uuid"] {
            let path = secrets + "/" + file
            try FileManager.default.moveItem(atPath: path, toPath: path + ".kept")
            #expect(mkfifo(path, 0o600) == 0)
            for arguments in [["get", "--data-dir", data, "name"], ["list", "--data-dir", data]] {
                let result = try spawn(toolPath, arguments, timeout: 20)
                #expect(result.status == ExitStatusCode.permission, "\(file) \(arguments[0]): \(result.error)")
                #expect(result.error.contains("\(path) is not a regular file"), "\(result.error)")
            }
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: path + ".kept", toPath: path)
        }
        let elsewhere = directory.file("fifo.key")
        #expect(mkfifo(elsewhere, 0o600) == 0)
        let result = try spawn(toolPath, ["get", "--data-dir", data, "--key-file", elsewhere, "name"], timeout: 20)
        #expect(result.status == ExitStatusCode.permission, "\(result.error)")
        #expect(result.error.contains("\(elsewhere) is not a regular file"))
    }

    @Test("Every write to a log this user may not write (set, delete, compact, import) is a permission problem, exit 5, and changes nothing")
    func readOnlyLogIsAPermissionProblem() throws {
        #expect(try tool("set", "first", input: "made-up first").status == 0)
        #expect(try tool("set", "first", input: "made-up first again").status == 0)  // so compact has work to do
        #expect(try tool("set", "second", input: "made-up second").status == 0)
        try write(Array("imported=made-up imported\n".utf8), to: directory.file("import.env"))
        chmod(log, 0o444)
        let before = try contents(log)
        // Root ignores file modes; without CAP_DAC_OVERRIDE it honours them as any user does.
        let unprivileged = getuid() == 0 ? ["/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search"] : []
        for arguments in [
            ["set", "third"], ["delete", "first"], ["compact", "--history", "1"], ["import", directory.file("import.env")],
        ] {
            let command = unprivileged + [toolPath] + arguments + ["--data-dir", data]
            let result = try spawn(command[0], Array(command.dropFirst()), input: "made-up third")
            #expect(result.status == ExitStatusCode.permission, "\(arguments[0]): \(result.error)")
            #expect(result.error.contains("\(log) is read-only"), "\(arguments[0]): \(result.error)")
            #expect(!result.error.contains("Bad file descriptor"))
            #expect(try contents(log) == before)
        }
        let command = unprivileged + [toolPath, "get", "second", "--data-dir", data]
        #expect(try spawn(command[0], Array(command.dropFirst())).text == "made-up second")
    }

    @Test("set writes its record, then fdatasyncs the log, and only then exits: the order strace sees")
    func setSyncsTheLogBeforeSuccess() throws {
        guard let strace = ["/usr/bin/strace", "/bin/strace"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("strace is not installed; make test installs it")
            return
        }
        #expect(try tool("set", "first", input: "made-up first").status == 0)  // the log exists: this is an append
        let trace = directory.file("trace")
        let result = try spawn(
            strace, ["-f", "-qq", "-y", "-s", "0", "-o", trace, "-e", "trace=pwrite64,fdatasync,exit_group", toolPath, "set", "--data-dir", data, "second"],
            input: "made-up second")
        #expect(result.status == 0, "\(result.error)")
        let events = String(decoding: try contents(trace), as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            if line.contains("exit_group(") { return "exit" }
            guard line.contains("<\(log)>") else { return nil }
            if line.contains("pwrite64(") { return "pwrite" }
            if line.contains("fdatasync(") { return "fdatasync" }
            return nil
        }
        #expect(events == ["pwrite", "fdatasync", "exit"])
    }

    @Test("A name whose bytes are not UTF-8 is refused (exit 2) by every command, fast get included, and nothing is written")
    func namesThatAreNotUTF8AreRefused() throws {
        #expect(try tool("set", "name", input: "made-up").status == 0)
        let before = try contents(log)
        // Each of these became U+FFFD (and so one and the same name) once.
        let names: [[UInt8]] = [[0xFF, 0xFE], [0xC0, 0xAF], [0x61, 0xED, 0xA0, 0x80], [0x62, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        for name in names {
            for command in [["set"], ["get"], ["get", "--"], ["delete"], ["history"]] {
                let arguments = command.map { Array($0.utf8) } + [name, Array("--data-dir".utf8), Array(data.utf8)]
                let result = try spawn(toolPath, arguments, input: Array("made-up".utf8))
                #expect(result.status == ExitStatusCode.usage, "\(command) \(name): \(result.error)")
                #expect(result.error.contains("is not valid UTF-8"), "\(command) \(name): \(result.error)")
                #expect(try contents(log) == before)
            }
        }
        // A path that is not UTF-8 would name another folder once repaired: refused too.
        let result = try spawn(toolPath, [Array("list".utf8), Array("--data-dir".utf8), Array(data.utf8) + [0xFF]])
        #expect(result.status == ExitStatusCode.usage, "\(result.error)")
    }
}

/// The names in `list`'s output: the first column below its heading.
func names(listed text: String) -> [String] {
    text.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != " " }) }.sorted()
}

/// The exit codes the README documents (`ExitStatus` of the command-line target, which the
/// tests do not link).
enum ExitStatusCode {
    static let usage: Int32 = 2
    static let damaged: Int32 = 4
    static let permission: Int32 = 5
}

/// Exit statuses that concurrent runs fill in.
final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int32]
    init(count: Int) { values = Array(repeating: -1, count: count) }
    func set(_ index: Int, _ value: Int32) { lock.withLock { values[index] = value } }
    var all: [Int32] { lock.withLock { values } }
}
