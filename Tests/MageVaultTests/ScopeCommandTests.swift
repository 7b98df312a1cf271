import Foundation
import Testing

@testable import MageVault

@Suite("mage-vault: scopes, render and exec, as a user runs them")
struct ScopeCommandTests: ToolSuite {
    let harness = ToolHarness()

    /// The development rows of ARCHITECTURE.md's scenario in the global scope, a project
    /// secret, and a pipeline override of secret1.
    func scenario() throws {
        for (name, value) in [("secret1", "sooper dooper secret string"), ("secret2", "xXxSecreTxXx"), ("secret3", "dev only secret")] {
            #expect(try tool("set", name, input: value).status == 0)
        }
        #expect(try tool("set", "warehouse_password", "--project", "sales", input: "project made-up").status == 0)
        #expect(try tool("set", "secret1", "--project", "sales", "--pipeline", "daily", input: "daily override").status == 0)
    }

    @Test("get, list, render and exec resolve pipeline, then project, then global, in every scope")
    func resolutionThroughEveryCommand() throws {
        try scenario()
        let template = directory.file("io_config.yaml")
        try write(Array("url: \"postgresql://u:{{ mage_secret_var('secret1') }}@host/db\"\nwh: {{ mage_secret_var('warehouse_password') }}\n".utf8), to: template)
        let cases: [([String], String, String)] = [
            ([], "sooper dooper secret string", ""),
            (["--project", "sales"], "sooper dooper secret string", "project made-up"),
            (["--project", "sales", "--pipeline", "daily"], "daily override", "project made-up"),
            (["--project", "sales", "--pipeline", "weekly"], "sooper dooper secret string", "project made-up"),
            (["--project", "marketing", "--pipeline", "daily"], "sooper dooper secret string", ""),
        ]
        for (scope, secret1, warehouse) in cases {
            #expect(try harness.tool(["get", "secret1"] + scope).text == secret1, "\(scope)")
            let rendered = try harness.tool(["render", template, "--allow-missing"] + scope)
            #expect(rendered.status == 0)
            #expect(rendered.text == "url: \"postgresql://u:\(secret1)@host/db\"\nwh: \(warehouse)\n", "\(scope)")
            let executed = try harness.tool(["exec"] + scope + ["--", "/bin/sh", "-c", "printf '%s|%s' \"$secret1\" \"$warehouse_password\""])
            #expect(executed.status == 0)
            #expect(executed.text == "\(secret1)|\(warehouse)", "\(scope)")
        }
        let listed = try tool("list", "--project", "sales", "--pipeline", "daily")
        let rows = listed.text.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.map { String($0[0]) } == ["secret1", "secret2", "secret3", "warehouse_password"])
        #expect(rows.map { $0.dropFirst(2).joined(separator: " ") } == ["pipeline sales/daily", "global", "global", "project sales"])
    }

    @Test("render: a missing secret names itself and its line and writes nothing; -o creates the output 0600; --strict refuses unknown expressions")
    func renderCommand() throws {
        try scenario()
        let template = directory.file("metadata.yaml")
        try write(Array("a: 1\nb: {{ mage_secret_var('absent') }}\n".utf8), to: template)
        let output = directory.file("rendered.yaml")
        let missing = try tool("render", template, "-o", output)
        #expect(missing.status == 1)
        #expect(missing.error.contains("line 2: no secret named 'absent'"))
        #expect(!FileManager.default.fileExists(atPath: output))
        try write(Array("b: {{ mage_secret_var('secret2') }}\nc: {{ other() }}\n".utf8), to: template)
        let rendered = try tool("render", template, "-o", output)
        #expect(rendered.status == 0)
        #expect(rendered.error.contains("warning"))
        #expect(try contents(output) == Array("b: xXxSecreTxXx\nc: {{ other() }}\n".utf8))
        #expect(try mode(output) == 0o600)
        #expect(try tool("render", template, "--strict").status == 2)
        let piped = try run(["render", "-", "--data-dir", data], input: Array("{{ env_var('MADE_UP_VARIABLE') }}".utf8), environment: ["MADE_UP_VARIABLE": "from the environment"])
        #expect(piped.text == "from the environment")
    }

    @Test("exec replaces itself with the program; its exit status passes through; values are never arguments")
    func execReplacesItself() throws {
        try scenario()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: toolPath)
        process.arguments = ["exec", "--only", "secret2", "--data-dir", data, "--", "/bin/sh", "-c", "echo $$; cat /proc/$$/cmdline; exit 7"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 7)
        #expect(output.hasPrefix("\(process.processIdentifier)\n"))  // same process: execve, no lingering parent
        #expect(!output.contains("xXxSecreTxXx"))
        #expect(try tool("exec", "--only", "secret2", "--", "/bin/sh", "-c", "test \"$secret2\" = xXxSecreTxXx").status == 0)
        #expect(try tool("exec", "--", "no-such-program-here").status == 127)
    }

    @Test("exec refuses a name that is not a variable name, and says how to map it")
    func execNames() throws {
        #expect(try tool("set", "db-password", input: "made-up").status == 0)
        let refused = try tool("exec", "--", "/bin/true")
        #expect(refused.status == 2)
        #expect(refused.error.contains("--map 'db-password=NAME'"))
        #expect(try tool("exec", "--map", "db-password=DB_PASSWORD", "--", "/bin/sh", "-c", "printf %s \"$DB_PASSWORD\"").text == "made-up")
        #expect(try tool("exec", "--only", "absent", "--", "/bin/true").status == 1)
    }

    @Test("exec --mask hides values in output and error, keeps the exit status, and passes SIGTERM on")
    func execMask() throws {
        try scenario()
        let masked = try tool("exec", "--mask", "--", "/bin/sh", "-c", "echo \"one $secret2 two\"; echo \"to stderr: $secret1\" >&2; exit 5")
        #expect(masked.status == 5)
        #expect(masked.text == "one ***** two\n")
        #expect(masked.error == "to stderr: *****\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: toolPath)
        process.arguments = ["exec", "--mask", "--data-dir", data, "--", "/bin/sh", "-c", "echo started; exec sleep 30"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        _ = pipe.fileHandleForReading.availableData  // "started": the child runs
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGTERM)
    }

    @Test("exec and render never hand a program the key or a passphrase: --only and --mask hold")
    func execWithholdsKeys() throws {
        // A made-up key given as $MAGE_VAULT_KEY, as CI gives it; passphrases and a key file path too.
        let key = Data((0..<32).map { UInt8($0) &+ 101 }).base64EncodedString()
        let variables = [
            "MAGE_VAULT_KEY": key, "MAGE_VAULT_PASSPHRASE": "made-up passphrase", "MAGE_VAULT_NEW_PASSPHRASE": "made-up new passphrase",
        ]
        #expect(try run(["init", "--data-dir", data], environment: ["MAGE_VAULT_KEY": key]).status == 0)
        #expect(try run(["set", "alpha", "--data-dir", data], input: Array("alpha made-up".utf8), environment: ["MAGE_VAULT_KEY": key]).status == 0)
        let probe = "printf '[%s][%s][%s][%s]' \"$MAGE_VAULT_KEY\" \"$MAGE_VAULT_PASSPHRASE\" \"$MAGE_VAULT_NEW_PASSPHRASE\" \"$MAGE_VAULT_KEY_FILE\"; echo; env"
        for mask in [["--mask"], []] {
            let result = try run(
                ["exec"] + mask + ["--only", "alpha", "--data-dir", data, "--", "/bin/sh", "-c", probe],
                environment: variables.merging(["MAGE_VAULT_KEY_FILE": directory.file("made-up.key")]) { $1 })
            #expect(result.status == 0, "\(mask): \(result.error)")
            let leakedKey = result.text.contains(key), leakedPassphrase = result.text.contains("made-up passphrase") || result.text.contains("made-up new")
            #expect(!leakedKey, "\(mask): the program saw $MAGE_VAULT_KEY")
            #expect(!leakedPassphrase, "\(mask): the program saw a passphrase variable")
            let firstLine = result.text.split(separator: "\n").first.map(String.init)
            #expect(firstLine == "[][][][]", "\(mask): a key variable reached the program")
            let named = KeyVariable.allCases.filter { result.text.contains($0.name + "=") }.map(\.name)
            #expect(named.isEmpty, "\(mask): the program's environment has \(named)")
        }
        // Nor under another name the user maps a secret to, nor through a template's env_var.
        let mapped = try run(["exec", "--map", "alpha=MAGE_VAULT_KEY", "--data-dir", data, "--", "/bin/true"], environment: variables)
        #expect(mapped.status == 2)
        #expect(mapped.error.contains("MAGE_VAULT_KEY"))
        let rendered = try run(["render", "-", "--data-dir", data], input: Array("k: {{ env_var('MAGE_VAULT_KEY') }}\n".utf8), environment: variables)
        let renderedKey = rendered.text.contains(key)
        #expect(!renderedKey, "render printed $MAGE_VAULT_KEY")
        #expect(rendered.status == 2)
        #expect(rendered.error.contains("env_var('MAGE_VAULT_KEY') is refused"))
        // Nor do the programs MageVault starts itself: a stand-in `git` records its environment.
        let bin = directory.file("bin"), checkout = directory.file("checkout"), seen = directory.file("git-environment")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: checkout + "/.git", withIntermediateDirectories: true)
        try write(Array("#!/bin/sh\nenv >> '\(seen)'\n".utf8), to: bin + "/git")
        chmod(bin + "/git", 0o755)
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        _ = try run(["git", "setup", "--data-dir", checkout + "/mage_data"], environment: variables.merging(["PATH": path]) { $1 }, directory: checkout)
        let gitSaw = String(decoding: try contents(seen), as: UTF8.self).split(separator: "\n")
        let gitRan = gitSaw.contains { $0.hasPrefix("PATH=") }
        #expect(gitRan, "the stand-in git did not run")
        let inherited = KeyVariable.allCases.filter { variable in gitSaw.contains { $0.hasPrefix(variable.name + "=") } }.map(\.name)
        #expect(inherited.isEmpty, "git inherited \(inherited)")
    }

    @Test("exec refuses a value holding a NUL byte, naming the secret, and runs nothing")
    func execRefusesNUL() throws {
        #expect(try tool("set", "with_nul", input: "made-up-head\u{0}made-up-tail").status == 0)
        #expect(try tool("set", "plain", input: "made-up plain").status == 0)
        let marker = directory.file("ran")
        for mask in [["--mask"], []] {
            let refused = try harness.tool(["exec"] + mask + ["--", "/bin/sh", "-c", "touch '\(marker)'; echo \"$with_nul\""])
            #expect(refused.status == 2, "\(mask)")
            #expect(refused.error.contains("'with_nul'"), "\(mask): \(refused.error)")
            #expect(refused.error.contains("NUL"), "\(mask): \(refused.error)")
            let leaked = refused.error.contains("made-up") || refused.text.contains("made-up")
            #expect(!leaked, "\(mask): a value was printed")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(mask): the program ran")
        }
        #expect(try tool("exec", "--only", "plain", "--", "/bin/sh", "-c", "printf %s \"$plain\"").text == "made-up plain")
    }

    @Test("scope rename keeps a pipeline's secrets; scope delete asks first and forgets them")
    func scopeCommands() throws {
        try scenario()
        let renamed = try tool("scope", "rename", "--project", "sales", "--pipeline", "daily", "nightly")
        #expect(renamed.status == 0)
        #expect(try tool("get", "secret1", "--project", "sales", "--pipeline", "nightly").text == "daily override")
        let unconfirmed = try tool("scope", "delete", "--project", "sales", "--pipeline", "nightly")
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.error.contains("--yes"))
        #expect(try tool("get", "secret1", "--project", "sales", "--pipeline", "nightly").text == "daily override")
        #expect(try tool("scope", "delete", "--project", "sales", "--pipeline", "nightly", "--yes").text.contains("forgot 1 secret"))
        #expect(try tool("get", "secret1", "--project", "sales", "--pipeline", "nightly").text == "sooper dooper secret string")
        #expect(try tool("scope", "delete", "--yes").status == 2)
    }
}

