import Foundation
import Testing

@testable import MageVault

/// The built `mage-vault`: `$MAGE_VAULT_BIN` (set by `make test`), else the debug build.
let toolPath = ProcessInfo.processInfo.environment["MAGE_VAULT_BIN"] ?? packageRoot + "/.build/debug/mage-vault"

struct ToolResult {
    let status: Int32
    let output: [UInt8]
    let error: String
    /// True when a signal ended the program (then `status` is the signal's number: SIGILL is 4).
    var signalled = false
    var text: String { String(decoding: output, as: UTF8.self) }
}

/// Runs `executable` with `arguments`, feeding `input` on standard input.
@discardableResult
func run(
    _ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:], directory: String? = nil
) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.arguments = arguments
    var variables = ProcessInfo.processInfo.environment
    variables["MAGE_DATA_DIR"] = nil
    variables["MAGE_VAULT_FILE"] = nil
    for (key, value) in environment { variables[key] = value }
    process.environment = variables
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    // A command refused before it reads its input exits with the pipe unread: the write
    // below must then fail (EPIPE), not kill the test runner with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    try process.run()
    let writer = Thread {
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let error = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolResult(
        status: process.terminationStatus, output: [UInt8](output), error: String(decoding: error, as: UTF8.self),
        signalled: process.terminationReason == .uncaughtSignal)
}

/// Runs the built `mage-vault` with `arguments`.
@discardableResult
func run(_ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:], directory: String? = nil) throws -> ToolResult {
    try run(toolPath, arguments, input: input, environment: environment, directory: directory)
}

/// A temporary data dir and the tool run against it, as a user would.
struct ToolHarness {
    let directory = TemporaryDirectory()
    var data: String { directory.file("data") }
    var log: String { data + "/secrets/vault.log" }

    /// Runs `mage-vault ARGUMENTS --data-dir DATA` with `input` on standard input (the
    /// option goes before a `--`, after which arguments are a program's).
    func tool(_ arguments: [String], input: String = "") throws -> ToolResult {
        var full = arguments
        full.insert(contentsOf: ["--data-dir", data], at: arguments.firstIndex(of: "--") ?? arguments.endIndex)
        return try run(full, input: Array(input.utf8))
    }
}

/// Suites that drive the tool against a temporary data dir.
protocol ToolSuite {
    var harness: ToolHarness { get }
}

extension ToolSuite {
    var directory: TemporaryDirectory { harness.directory }
    var data: String { harness.data }
    var log: String { harness.log }
    func tool(_ arguments: String..., input: String = "") throws -> ToolResult { try harness.tool(arguments, input: input) }

    /// The files of the data dir, with their bytes: what "changes nothing" compares.
    func snapshot() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: data) else { return files }
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: data + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = try contents(data + "/" + relative)
            }
        }
        return files
    }
}

@Suite("mage-vault, run as a user runs it")
struct CommandLineTests: ToolSuite {
    let harness = ToolHarness()

    @Test("make demo's scenario prints both of ARCHITECTURE.md's scenario tables, None for secret3 in production")
    func scenarioTables() throws {
        let result = try run("/bin/sh", [packageRoot + "/Tests/scenario.sh", toolPath])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("| get_secret_value('secret1')  | sooper dooper secret string | real production secret |"))
        #expect(lines.contains("| get_secret_value('secret2')  | xXxSecreTxXx                | m4g3r0x!               |"))
        #expect(lines.contains("| get_secret_value('secret3')  | dev only secret             | None                   |"))
        let rows = lines.filter { $0.hasPrefix("| secret") }
        #expect(rows.count == 6)
        for (name, environment, value) in [
            ("secret1", "development", "sooper dooper secret string"), ("secret2", "development", "xXxSecreTxXx"),
            ("secret3", "development", "dev only secret"), ("secret1", "production", "real production secret"),
            ("secret2", "production", "m4g3r0x!"), ("secret1", "random", "random secret"),
        ] {
            #expect(rows.contains { $0.hasPrefix("| \(name) ") && $0.contains("(\(environment))") && $0.contains("| \(value) ") })
        }
    }

    @Test("init creates uuid, key and log, and a second init changes nothing and says the uuid exists (adopted is for Mage's)")
    func initIsIdempotent() throws {
        let first = try tool("init")
        #expect(first.status == 0)
        #expect(first.text.contains("  uuid  \(data)/secrets/uuid (created)\n"))
        let snapshot = try [data + "/secrets/uuid", data + "/secrets/vault.key", log].map(contents)
        let second = try tool("init")
        #expect(second.status == 0)
        #expect(second.text.contains("  uuid  \(data)/secrets/uuid (exists)\n"), "\(second.text)")
        #expect(!second.text.contains("adopted"))
        #expect(try [data + "/secrets/uuid", data + "/secrets/vault.key", log].map(contents) == snapshot)
        // A uuid Mage wrote (no key of ours beside it) is adopted, and kept as it is.
        let mage = directory.file("mage")
        try FileManager.default.createDirectory(atPath: mage + "/secrets", withIntermediateDirectories: true)
        try write(Array("0123456789abcdef0123456789abcdef".utf8), to: mage + "/secrets/uuid")
        let adopted = try run(["init", "--data-dir", mage])
        #expect(adopted.text.contains("  uuid  \(mage)/secrets/uuid (adopted)\n"), "\(adopted.text)")
        #expect(try contents(mage + "/secrets/uuid") == Array("0123456789abcdef0123456789abcdef".utf8))
    }

    @Test("Every spelling of a plain get prints the same; a bad spelling is the usage error it always was")
    func everySpellingOfGet() throws {
        #expect(try tool("set", "db_password", input: "made-up-global").status == 0)
        #expect(try tool("set", "db_password", "--project", "etl", input: "made-up-project").status == 0)
        #expect(try tool("set", "ünï", input: "made-up-unicode").status == 0)
        let cases: [(options: [String], name: String)] = [
            (["--data-dir", data], "db_password"),
            (["--data-dir=\(data)"], "db_password"),
            (["--data-dir", data, "--project", "etl"], "db_password"),
            (["--data-dir", data, "--project", "etl", "--pipeline", "load"], "db_password"),
            (["--data-dir", data, "--project", "other"], "db_password"),
            (["--data-dir", data], "missing"),
            (["--data-dir", data], "ünï"),
            (["--data-dir", data, "--key-file", directory.file("nope.key")], "db_password"),
            (["--data-dir", directory.file("nowhere")], "db_password"),
            (["--data-dir", data, "--vault", directory.file("other.log")], "db_password"),
        ]
        for (options, name) in cases {
            let plain = try run(["get"] + options + [name])
            for spelling in [options + ["get", name], ["get", name] + options, ["get"] + options + ["--", name]] {
                let other = try run(spelling)
                #expect(plain.status == other.status, "\(spelling)")
                #expect(plain.output == other.output, "\(spelling)")
                #expect(plain.error == other.error, "\(spelling)")
            }
        }
        #expect(try run(["get", "--data-dir", data, "db_password"]).text == "made-up-global")
        // The errors ArgumentParser gave, word for word, exit 2, nothing on standard output.
        let usage = "Usage: mage-vault get <name> [--at-version <n>] [--data-dir <dir>] [--vault <file>] [--key-file <file>] [--project <project>] [--pipeline <pipeline>]\n"
            + "  See 'mage-vault get --help' for more information.\n"
        let bad: [([String], String)] = [
            (["get"], "Error: Missing expected argument '<name>'\nHelp:  <name>  The secret's name.\n" + usage),
            (["get", "a", "b", "--data-dir", data], "Error: Unexpected argument 'b'\n" + usage),
            (["get", "-x", "a"], "Error: Unknown option '-x'\n" + usage),
            (["get", "--at-version", "x", "a"], "Error: The value 'x' is invalid for '--at-version <n>'\nHelp:  --at-version <n>  An earlier version (see 'mage-vault history').\n" + usage),
            (["get", "a", "--data-dir"], "Error: Missing value for '--data-dir <dir>'\nHelp:  --data-dir <dir>  The data directory (default: $MAGE_DATA_DIR, else ~/.mage_data).\n" + usage),
        ]
        for (arguments, message) in bad {
            let result = try run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.output.isEmpty, "\(arguments)")
            #expect(result.error == message, "\(arguments)")
        }
    }

    @Test("A piped value keeps its bytes exactly; --strip-newline drops one newline; --from-file reads a file")
    func valuesKeepTheirBytes() throws {
        for value in ["no newline", "trailing newline\n", "windows\r\n", "  spaced  ", "ünïcødé 🔑", "two\nlines"] {
            #expect(try tool("set", "exact", input: value).status == 0)
            let got = try tool("get", "exact")
            #expect(got.status == 0)
            #expect(got.output == Array(value.utf8))
        }
        let noted = try tool("set", "noted", input: "value\n")
        #expect(noted.error.contains("ends with a newline"))
        #expect(try tool("set", "stripped", "--strip-newline", input: "value\r\n").status == 0)
        #expect(try tool("get", "stripped").text == "value")
        let file = directory.file("value.txt")
        try write(Array("from a file\n".utf8), to: file)
        #expect(try tool("set", "filed", "--from-file", file, "--strip-newline").status == 0)
        #expect(try tool("get", "filed").text == "from a file")
    }

    @Test("set, get, list, list --json, delete and env work together")
    func everyCommand() throws {
        #expect(try tool("set", "secret1", input: "made-up one").status == 0)
        #expect(try tool("set", "secret2", input: "made-up two").status == 0)
        let list = try tool("list")
        #expect(list.status == 0)
        #expect(list.text.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["NAME", "secret1", "secret2"])
        #expect(!list.text.contains("made-up"))
        let json = try tool("list", "--json")
        let parsed = try JSONSerialization.jsonObject(with: Data(json.output)) as! [[String: String]]
        #expect(parsed.map { $0["name"]! } == ["secret1", "secret2"])
        #expect(parsed.allSatisfy { $0["updated"]!.hasSuffix("Z") && $0["value"] == nil })
        #expect(try tool("delete", "secret1").status == 0)
        #expect(try tool("get", "secret1").status == 1)
        #expect(try tool("delete", "secret1").status == 1)
        let env = try tool("env")
        #expect(env.status == 0)
        let uuid = String(decoding: try contents(data + "/secrets/uuid"), as: UTF8.self)
        #expect(env.text.contains("uuid       \(uuid)"))
        #expect(env.text.contains(log))
        // 3 records (two sets, one delete) and 1 live secret for this uuid.
        #expect(env.text.contains("\(uuid)        3     1  (this environment)"))
        // Which backend Mage uses here: the data dir decides, MAGE_SECRETS_BACKEND overrides.
        #expect(env.text.contains("mage       reads the vault (secrets/vault.log is here; MAGE_SECRETS_BACKEND=mage overrides)\n"))
        let forced = try run(["env", "--data-dir", data], environment: ["MAGE_SECRETS_BACKEND": "mage"])
        #expect(forced.text.contains("mage       reads its own database (MAGE_SECRETS_BACKEND=mage)\n"))
        let elsewhere = try run(["env", "--data-dir", directory.file("mage-only")])
        #expect(elsewhere.text.contains("mage       reads its own database (no vault here;"), "\(elsewhere.text)")
    }

    @Test("list prints names in byte order, each padded to the longest name in characters, and JSON in the same order")
    func listTable() throws {
        // Composed and decomposed é (one character each), a CJK name, a name longer in bytes
        // than in characters, ASCII names of which one is another's prefix, and names JSON
        // must escape.
        let names = [
            "zeta", "caf\u{e9}", "cafe\u{301}", "\u{65e5}\u{672c}\u{8a9e}", "alpha", "alpha_beta_gamma", "B", "say \"hi\"", "back\\slash",
        ]
        for name in names { #expect(try tool("set", name, input: "made-up \(name)").status == 0) }
        let list = try tool("list")
        #expect(list.status == 0)
        let sorted = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let width = names.map(\.count).max()!
        let lines = list.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == names.count + 2 && lines.last == "")
        #expect(lines.first == "NAME" + String(repeating: " ", count: width - 4) + "  UPDATED                   SCOPE")
        let time = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z  global/
        for (name, line) in zip(sorted, lines.dropFirst()) {
            let padded = name + String(repeating: " ", count: width - name.count + 2)
            #expect(Array(line.utf8).starts(with: Array(padded.utf8)), "\(line)")
            #expect(String(decoding: Array(line.utf8).dropFirst(padded.utf8.count), as: UTF8.self).wholeMatch(of: time) != nil, "\(line)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(try tool("list", "--json").output)) as! [[String: String]]
        #expect(json.map { Array($0["name"]!.utf8) } == sorted.map { Array($0.utf8) })
    }

    @Test("Not found exits 1: a missing name, or a data dir with no environment (which stays empty)")
    func notFound() throws {
        #expect(try tool("get", "anything").status == 1)
        #expect(try tool("list").status == 1)
        #expect(!FileManager.default.fileExists(atPath: data))
        #expect(try tool("set", "present", input: "made-up").status == 0)
        let missing = try tool("get", "absent")
        #expect(missing.status == 1)
        #expect(missing.output.isEmpty)
    }

    @Test("Bad names and values exit 2 with a clear error, and the vault stays byte-for-byte as it was")
    func badInput() throws {
        let value = "made-up-value-4242"
        #expect(try tool("set", "kept", input: value).status == 0)
        let before = try contents(log)
        let badNames = ["", String(repeating: "x", count: 256), "new\nline", "tab\there", "bell\u{07}", "\u{1B}[31m"]
        for name in badNames {
            let result = try tool("set", name, input: value)
            #expect(result.status == 2, "\(name.debugDescription)")
            #expect(result.error.contains("name"))
            #expect(!result.error.contains(value))
        }
        let big = String(repeating: "v", count: (1 << 20) + 10)
        let tooBig = try tool("set", "big", input: big)
        #expect(tooBig.status == 2)
        #expect(tooBig.error.contains("1048586 bytes"))
        let empty = try tool("set", "empty", input: "")
        #expect(empty.status == 2)
        #expect(empty.error.contains("--allow-empty"))
        #expect(try tool("set", "empty", "--strip-newline", input: "\n").status == 2)
        let invalid = try run(["set", "binary", "--data-dir", data], input: [0x61, 0xC3, 0x28])
        #expect(invalid.status == 2)
        #expect(invalid.error.contains("UTF-8"))
        // A value is never taken from the command line.
        let onCommandLine = try tool("set", "name", value)
        #expect(onCommandLine.status == 2)
        #expect(try contents(log) == before)
    }

    @Test("A wrong key exits 3 naming the key file; nothing is written")
    func wrongKeyExitCode() throws {
        #expect(try tool("set", "secret1", input: "made-up").status == 0)
        let before = try contents(log)
        let keyFile = data + "/secrets/vault.key"
        try write([UInt8](repeating: 7, count: 32), to: keyFile)
        chmod(keyFile, 0o600)
        for arguments in [["get", "secret1"], ["set", "secret2"], ["list"], ["delete", "secret1"]] {
            let result = try run(arguments + ["--data-dir", data], input: Array("new".utf8))
            #expect(result.status == 3, "\(arguments)")
            #expect(result.error.contains(keyFile))
        }
        #expect(try contents(log) == before)
    }

    @Test("A damaged line is passed over by a write and reported by verify (exit 4); a file that is not a vault, or a newer version, exits 4 and is not changed")
    func damagedExitCode() throws {
        #expect(try tool("set", "first", input: "made-up 1").status == 0)
        #expect(try tool("set", "second", input: "made-up 2").status == 0)
        var bytes = try contents(log)
        bytes[100] ^= 0x01  // inside the first record
        try write(bytes, to: log)
        let written = try tool("set", "third", input: "made-up 3")
        #expect(written.status == 0)
        #expect(written.error.contains("the first at byte offset 55, do not parse"), "\(written.error)")
        #expect(try tool("get", "second").text == "made-up 2")
        #expect(try tool("get", "third").text == "made-up 3")
        #expect(try Array(contents(log).prefix(bytes.count)) == bytes)
        #expect(try tool("verify").status == 4)
        for foreign in ["KEY=value\n", "mage-vault 9 5ec2e7a5ec2e7a5ec2e7a5ec2e7a5ec2 00000000\n"] {
            try write(Array(foreign.utf8), to: log)
            let result = try tool("set", "x", input: "made-up")
            #expect(result.status == 4)
            #expect(result.error.contains(log))
            #expect(try contents(log) == Array(foreign.utf8))
        }
    }

    @Test("A key file others can read exits 5 with the chmod that fixes it")
    func permissionExitCode() throws {
        #expect(try tool("set", "secret1", input: "made-up").status == 0)
        let keyFile = data + "/secrets/vault.key"
        chmod(keyFile, 0o644)
        let result = try tool("get", "secret1")
        #expect(result.status == 5)
        #expect(result.error.contains("chmod 600 '\(keyFile)'"))
    }

    @Test("A write that fails (file size limit, as a full disk) exits 6 and leaves the vault unchanged")
    func failedWriteExitCode() throws {
        #expect(try tool("set", "small", input: "made-up").status == 0)
        let before = try contents(log)
        // Limit files to 4 KiB: the 10 KB value's append fails part-way, as on a full disk.
        let script = "trap '' XFSZ; ulimit -f 4; exec \"$0\" \"$@\""
        let result = try run("/bin/bash", ["-c", script, toolPath, "set", "large", "--data-dir", data],
                             input: Array(String(repeating: "L", count: 10_000).utf8))
        #expect(result.status == 6)
        #expect(result.error.contains("write(\(log))"))
        #expect(try contents(log) == before)
        #expect(try tool("get", "small").text == "made-up")
    }

    @Test("On a terminal, set prompts without echoing the value")
    func promptDoesNotEcho() throws {
        let script = """
            import os, pty, signal, sys
            signal.alarm(30)  # never hang the suite: fail after 30 s
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], [sys.argv[1], "set", "typed", "--data-dir", sys.argv[2]])
            seen = b""
            while b"not echoed" not in seen:
                seen += os.read(fd, 1024)
            os.write(fd, b"typed-made-up-value\\n")
            while True:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(repr(seen) + "\\n" + str(os.waitstatus_to_exitcode(status)))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script, toolPath, data])
        let lines = result.text.split(separator: "\n")
        #expect(lines.last == "0", "\(result.text) \(result.error)")
        #expect(!result.text.contains("typed-made-up-value"))
        #expect(try tool("get", "typed").text == "typed-made-up-value")
    }
}

@Suite("mage-vault: verify, recover, compact, backup, restore, import, history")
struct MaintenanceCommandTests: ToolSuite {
    let harness = ToolHarness()

    @Test("verify exits 0 when healthy and 4 naming the offset when damaged; recover repairs and keeps the original")
    func verifyAndRecover() throws {
        #expect(try tool("set", "a", input: "made-up a").status == 0)
        #expect(try tool("set", "b", input: "made-up b").status == 0)
        let healthy = try tool("verify")
        #expect(healthy.status == 0)
        #expect(healthy.text.contains("healthy"))
        var bytes = try contents(log)
        bytes[120] ^= 0x02
        try write(bytes + Array("set half-writ".utf8), to: log)
        let damaged = try tool("verify")
        #expect(damaged.status == 4)
        #expect(damaged.text.contains("at byte offset 55"))
        #expect(damaged.text.contains("torn tail: 13 bytes"))
        let repaired = try tool("verify", "--repair")
        #expect(repaired.status == 0)
        #expect(repaired.text.contains("dropped 1 damaged line(s) and a torn tail of 13 bytes"))
        #expect(try tool("verify").status == 0)
        #expect(try tool("get", "b").text == "made-up b")
        #expect(try tool("recover").text.contains("nothing to repair"))
        let kept = try FileManager.default.contentsOfDirectory(atPath: data + "/secrets").filter { $0.hasPrefix("vault.log.damaged-") }
        #expect(kept.count == 1)
    }

    @Test("compact, backup and restore, as a user runs them")
    func compactBackupRestore() throws {
        for version in 1...5 { #expect(try tool("set", "rotated", input: "made-up \(version)").status == 0) }
        let compact = try tool("compact", "--history", "2")
        #expect(compact.status == 0)
        #expect(compact.text.contains("compacted 5 records to 2"))
        #expect(compact.error.isEmpty)  // no progress line when standard error is not a terminal
        let backupFile = directory.file("vault.backup")
        let backup = try tool("backup", backupFile)
        #expect(backup.status == 0)
        #expect(try mode(backupFile) == 0o600)
        #expect(try tool("backup", backupFile).status == 2)  // exists: refused
        #expect(try tool("set", "rotated", input: "made-up 6").status == 0)
        let restore = try tool("restore", backupFile)
        #expect(restore.status == 0)
        #expect(restore.text.contains("the replaced log is kept as"))
        #expect(try tool("get", "rotated").text == "made-up 5")
        try write(Array("not a vault\n".utf8), to: directory.file("junk"))
        #expect(try tool("restore", directory.file("junk")).status == 4)
        #expect(try tool("get", "rotated").text == "made-up 5")
    }

    @Test("import refuses a name given twice, in .env or JSON, naming it and changing nothing")
    func importRefusesRepeatedNames() throws {
        #expect(try tool("set", "existing", input: "made-up-existing").status == 0)
        let before = try contents(log)
        let cases = [
            ("twice.env", "A=made-up-first\nB=made-up-b\nA=made-up-last\n"),
            ("twice.json", #"{"A": "made-up-first", "B": "made-up-b", "A": "made-up-last"}"#),
            ("escaped.json", #"{"A": "made-up-first", "\u0041": "made-up-last"}"#),
        ]
        for (name, text) in cases {
            let file = directory.file(name)
            try write(Array(text.utf8), to: file)
            let result = try tool("import", file)
            #expect(result.status == 2, "\(name)")
            #expect(result.error.contains("'A' more than once"), "\(name): \(result.error)")
            #expect(!result.error.contains("made-up"), "\(name)")
            let unchanged = try contents(log) == before
            #expect(unchanged, "\(name): the log changed")
        }
        #expect(try tool("get", "A").status == 1)
    }

    @Test("Key temporaries a killed rekey or key creation left (raw key bytes) are removed on the next open once stale")
    func staleKeyTemporariesSwept() throws {
        #expect(try tool("set", "secret1", input: "made-up").status == 0)
        let secrets = data + "/secrets/"
        let stale = [".vault.key.new.tmp-00000000000000aa", ".vault.key.tmp-00000000000000bb"], fresh = ".vault.key.new.tmp-00000000000000cc"
        for name in stale + [fresh] { try write(Array(repeating: 9, count: 32), to: secrets + name) }
        for name in stale {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -300)], ofItemAtPath: secrets + name)
        }
        #expect(try tool("list").status == 0)
        for name in stale { #expect(!FileManager.default.fileExists(atPath: secrets + name), "\(name) was kept") }
        #expect(FileManager.default.fileExists(atPath: secrets + fresh), "a write that may be in flight was removed")
    }

    @Test("import a .env or JSON file, all or nothing; history, get --at-version and rollback")
    func importAndVersions() throws {
        let envFile = directory.file("secrets.env")
        try write(Array("DB_USER=analytics\nDB_PASSWORD=\"made-up pass\"\n".utf8), to: envFile)
        let imported = try tool("import", envFile)
        #expect(imported.status == 0)
        #expect(imported.text.contains("imported 2 secrets"))
        let jsonFile = directory.file("secrets.json")
        try write(Array(#"{"API_KEY": "made-up key", "bad\tname": "x"}"#.utf8), to: jsonFile)  // a tab: not a name
        let before = try contents(log)
        let refused = try tool("import", jsonFile)
        #expect(refused.status == 2)
        #expect(refused.error.contains("nothing was imported"))
        #expect(try contents(log) == before)
        #expect(try tool("set", "DB_PASSWORD", input: "rotated and broken").status == 0)
        let history = try tool("history", "DB_PASSWORD")
        #expect(history.status == 0)
        #expect(history.text.split(separator: "\n").count == 3)
        #expect(!history.text.contains("made-up pass"))
        #expect(try tool("history", "DB_PASSWORD", "--show-values").text.contains("made-up pass"))
        #expect(try tool("get", "DB_PASSWORD", "--at-version", "1").text == "made-up pass")
        #expect(try tool("rollback", "DB_PASSWORD", "--to", "1").status == 0)
        #expect(try tool("get", "DB_PASSWORD").text == "made-up pass")
        #expect(try tool("get", "DB_PASSWORD", "--at-version", "9").status == 1)
    }
}
