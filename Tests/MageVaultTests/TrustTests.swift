import Foundation
import Testing

@testable import MageVault

/// Issue 23 (trust, round 3): a scope without a log, files of the data dir in every state,
/// a hard-linked log, a log whose last newline was removed, junk lines, killed rekeys'
/// temporaries, loader variables through `exec`, and `render`'s bad scopes.
@Suite("mage-vault holds up when files are missing, edited by hand or linked twice")
struct TrustTests: ToolSuite {
    let harness = ToolHarness()

    func tool(_ arguments: [String], input: String = "") throws -> ToolResult { try harness.tool(arguments, input: input) }

    @Test("A scope with its uuid and key but no log has no secrets: list, list --json, export and exec succeed, get says absent")
    func scopeWithoutLog() throws {
        #expect(try tool("set", "db_password", "--project", "etl", input: "made-up").status == 0)
        try FileManager.default.removeItem(atPath: log)
        for arguments in [["list", "--project", "etl"], ["list", "--json", "--project", "etl"], ["export", "--plaintext", "--project", "etl"],
                          ["exec", "--project", "etl", "--", "/bin/true"]] {
            let result = try tool(arguments)
            #expect(!result.signalled && result.status == 0, "\(arguments): \(result.status) \(result.error)")
        }
        #expect(try tool("list", "--json", "--project", "etl").text == "[]\n")
        let get = try tool("get", "db_password", "--project", "etl")
        #expect(!get.signalled && get.status == 1, "\(get.error)")
        // The same through the library, which the server, the C interface and Python use.
        let vault = try Vault(dataDirectory: data, scope: .project("etl"), create: false)
        #expect(try vault.secrets().isEmpty)
        // --vault naming a log not created yet.
        let elsewhere = try tool("list", "--project", "etl", "--vault", directory.file("not-yet.log"))
        #expect(elsewhere.status == 0 && !elsewhere.signalled, "\(elsewhere.error)")
    }

    @Test("Every command, over a data dir whose uuid, key and log are each absent, empty, junk or valid, exits with a documented code and no crash")
    func everyStateOfTheDataDir() throws {
        // Valid files, made by the tool itself.
        let template = directory.file("template")
        #expect(try run(["set", "kept", "--data-dir", template], input: Array("made-up".utf8)).status == 0)
        let valid = (
            uuid: try contents(template + "/secrets/uuid"), key: try contents(template + "/secrets/vault.key"),
            log: try contents(template + "/secrets/vault.log"))
        let header = Array(valid.log[..<55])
        let uuids: [[UInt8]?] = [nil, [], Array("not a uuid\n".utf8), valid.uuid]
        let keys: [[UInt8]?] = [nil, [], Array("short".utf8), valid.key]
        let logs: [[UInt8]?] = [nil, [], Array("x\n".utf8), header, Array(header.dropLast()), valid.log + Array("x\n".utf8), valid.log]
        let commands: [[String]] = [
            ["get", "kept"], ["list"], ["list", "--json"], ["export", "--plaintext"], ["exec", "--", "/bin/true"], ["set", "other"],
            ["delete", "kept"], ["verify"], ["env"], ["history", "kept"], ["compact"],
        ]
        var runs = 0
        for uuid in uuids {
            for key in keys {
                for logBytes in logs {
                    for command in commands {
                        try? FileManager.default.removeItem(atPath: data)
                        try FileManager.default.createDirectory(atPath: data + "/secrets", withIntermediateDirectories: true)
                        chmod(data + "/secrets", 0o700)
                        if let uuid { try write(uuid, to: data + "/secrets/uuid") }
                        if let key {
                            try write(key, to: data + "/secrets/vault.key")
                            chmod(data + "/secrets/vault.key", 0o600)
                        }
                        if let logBytes { try write(logBytes, to: log) }
                        let result = try tool(command, input: "made-up-other")
                        runs += 1
                        let state = "uuid \(uuid?.count ?? -1), key \(key?.count ?? -1), log \(logBytes?.count ?? -1): \(command)"
                        #expect(!result.signalled, "\(state): killed by signal \(result.status)")
                        #expect((0...6).contains(result.status), "\(state): exit \(result.status)")
                        #expect(!result.error.contains("Fatal error") && !result.error.contains("made-up"), "\(state): \(result.error)")
                    }
                }
            }
        }
        #expect(runs == uuids.count * keys.count * logs.count * commands.count)
    }

    @Test("A log with a second hard link is refused by writers, changing nothing; a symbolic link works")
    func hardLinkedLog() throws {
        #expect(try tool("set", "first", input: "made-up-1").status == 0)
        let second = directory.file("second.log")
        #expect(link(log, second) == 0)
        let before = try contents(log)
        for arguments in [["set", "other"], ["set", "other", "--vault", second], ["delete", "first"], ["import", "-"]] {
            let refused = try tool(arguments, input: arguments[0] == "import" ? "other=made-up-2\n" : "made-up-2")
            #expect(refused.status == 6, "\(arguments): \(refused.error)")
            #expect(refused.error.contains("has 2 hard links"), "\(arguments): \(refused.error)")
            #expect(try contents(log) == before)
        }
        #expect(try tool("get", "first").text == "made-up-1")  // reading is fine
        unlink(second)
        let link = directory.file("link.log")
        #expect(symlink(log, link) == 0)
        #expect(try tool("set", "other", "--vault", link, input: "made-up-3").status == 0)
        #expect(try tool("get", "other").text == "made-up-3")
    }

    @Test("A log whose final newline was removed keeps its last record: read, listed, verified healthy, and the next write completes the line")
    func lostFinalNewline() throws {
        #expect(try tool("set", "db_password", input: "made-up-1").status == 0)
        #expect(try tool("set", "db_password", input: "made-up-2").status == 0)
        var bytes = try contents(log)
        #expect(bytes.removeLast() == 0x0A)
        try write(bytes, to: log)
        #expect(try tool("get", "db_password").text == "made-up-2")
        let verified = try tool("verify")
        #expect(verified.status == 0, "\(verified.text)\(verified.error)")
        #expect(verified.text.contains("torn tail: none\nlast line: lacks its newline (it counts; the next write adds the newline)\n"), "\(verified.text)")
        // A long-lived reader that saw the line without its LF, then another writer's append.
        let environment = try Environment.open(EnvironmentLocation(dataDirectory: data, variables: [:]), create: false)
        let reader = try Vault(environment: environment)
        #expect(try reader.secretValue(named: "db_password") == "made-up-2")
        #expect(try tool("set", "api_key", input: "made-up-3").status == 0)
        let after = try contents(log)
        #expect(Array(after[..<bytes.count]) == bytes && after[bytes.count] == 0x0A)
        #expect(try reader.secretValue(named: "api_key") == "made-up-3")
        #expect(try reader.secretValue(named: "db_password") == "made-up-2")
        #expect(try reader.status().damagedLines == 0)
        #expect(try tool("verify").status == 0)
        // Compaction and backup copy such a line with its LF.
        try write(Array(after.dropLast()), to: log)
        let backup = directory.file("backup.log")
        #expect(try tool("backup", backup).status == 0)
        #expect(try contents(backup).last == 0x0A)
        #expect(try tool("compact", "--history", "1").status == 0)
        #expect(try contents(log).last == 0x0A)
        #expect(try tool("get", "api_key").text == "made-up-3")
        #expect(try tool("get", "db_password").text == "made-up-2")
        #expect(try tool("verify").status == 0)
        // import writes a new file of the old bytes and the new lines: the last old line
        // gets its LF rather than being joined to the first new one.
        try write(Array(try contents(log).dropLast()), to: log)
        let env = directory.file("more.env")
        try write(Array("imported=made-up-4\n".utf8), to: env)
        let imported = try tool("import", env)
        #expect(imported.status == 0, "\(imported.error)")
        #expect(try tool("get", "imported").text == "made-up-4")
        #expect(try tool("get", "api_key").text == "made-up-3")
        #expect(try tool("verify").status == 0)
        // So does rekey, which re-seals every line into a new file.
        try write(Array(try contents(log).dropLast()), to: log)
        #expect(try tool("rekey").status == 0)
        #expect(try tool("get", "imported").text == "made-up-4")
        #expect(try tool("get", "db_password").text == "made-up-2")
        #expect(try tool("verify").status == 0)
    }

    @Test("A log holding only its header line without the newline is an empty vault")
    func headerWithoutNewline() throws {
        #expect(try tool("init").status == 0)
        var bytes = try contents(log)
        #expect(bytes.count == 55)
        bytes.removeLast()
        try write(bytes, to: log)
        let listed = try tool("list")
        #expect(listed.status == 0, "\(listed.error)")
        #expect(try tool("set", "first", input: "made-up").status == 0)
        #expect(try tool("get", "first").text == "made-up")
        #expect(try tool("verify").status == 0)
    }

    @Test("A rekey's temporary retired-keys file left by a kill is swept by the next command once it is a minute old")
    func killedRekeyTemporariesAreSwept() throws {
        #expect(try tool("set", "first", input: "made-up").status == 0)
        let stale = data + "/secrets/.vault.key.retired.new.tmp-0123456789abcdef"
        let fresh = data + "/secrets/.vault.key.retired.tmp-fedcba9876543210"
        try write(Array(repeating: 7, count: 80), to: stale)
        try write(Array(repeating: 7, count: 80), to: fresh)
        var old = [timespec(tv_sec: time(nil) - 120, tv_nsec: 0), timespec(tv_sec: time(nil) - 120, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, stale, &old, 0) == 0)
        #expect(try tool("get", "first").text == "made-up")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: fresh))  // perhaps another process's write in flight
    }

    @Test("exec refuses a secret that would become LD_PRELOAD, PATH or another loader variable unless --map names it")
    func execRefusesLoaderVariables() throws {
        for name in ["LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "DYLD_INSERT_LIBRARIES", "BASH_ENV"] {
            #expect(try tool("set", name, input: "/tmp/made-up").status == 0)
            let marker = directory.file("ran")
            let refused = try tool("exec", "--", "/usr/bin/touch", marker)
            #expect(refused.status == 2, "\(name): \(refused.error)")
            #expect(refused.error.contains("'\(name)', which changes what the program loads or runs"), "\(refused.error)")
            #expect(refused.error.contains("Pass --map '\(name)=\(name)' to hand it over anyway"))
            #expect(!FileManager.default.fileExists(atPath: marker))
            // Named by --map, it is passed as asked; left out with --only, the rest runs.
            let mapped = try tool("exec", "--map", "\(name)=\(name)", "--", "/bin/sh", "-c", "printf %s \"$\(name)\"")
            #expect(mapped.status == 0 && mapped.text == "/tmp/made-up", "\(name): \(mapped.error)")
            #expect(try tool("delete", name).status == 0)
        }
        #expect(try tool("set", "PRELOAD", input: "/tmp/made-up").status == 0)
        let prefixed = try tool("exec", "--prefix", "LD_", "--", "/bin/true")
        #expect(prefixed.status == 2 && prefixed.error.contains("'LD_PRELOAD'"), "\(prefixed.error)")
    }

    @Test("A write or init that would make a new key for a uuid whose records are in the log is refused, creating nothing")
    func noSecondKeyForAnEnvironmentWithRecords() throws {
        #expect(try tool("set", "db_password", "--project", "etl", input: "made-up").status == 0)
        // A fresh clone: the log and the uuid files travel, the key files do not.
        try FileManager.default.removeItem(atPath: data + "/secrets/projects/etl/vault.key")
        let before = try snapshot()
        for arguments in [["set", "other", "--project", "etl"], ["init", "--project", "etl"]] {
            let refused = try tool(arguments, input: "made-up-2")
            #expect(refused.status == 1, "\(arguments): \(refused.error)")
            #expect(refused.error.contains("has 1 record(s) in \(log), but no key file at \(data)/secrets/projects/etl/vault.key and no access for you"), "\(refused.error)")
            #expect(refused.error.contains("run 'mage-vault identity' and send the line it prints to a teammate"))
            #expect(try snapshot() == before, "\(arguments)")
        }
        // A scope whose uuid has no record yet gets its key as before.
        #expect(try tool("set", "other", "--project", "new", input: "made-up-3").status == 0)
    }

    @Test("render refuses a mage_secret_var call whose scope cannot exist, writing nothing")
    func renderRefusesImpossibleScopes() throws {
        #expect(try tool("set", "db_password", input: "made-up").status == 0)
        for call in ["mage_secret_var('db_password', 'project', project_uuid='../x')",
                     "mage_secret_var('db_password', 'pipeline', project_uuid='etl')",
                     "mage_secret_var('db_password', 'project')", "mage_secret_var('db_password', 'everywhere')"] {
            let output = directory.file("out.yaml")
            let result = try tool("render", "-", "-o", output, input: "password: \"{{ \(call) }}\"\n")
            #expect(result.status == 2, "\(call): \(result.error)")
            #expect(result.error.contains("line 1: mage_secret_var names no scope that can exist"), "\(result.error)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }
}
