import Foundation
import Testing

@testable import MageVault

/// Issue 16: the mistakes a newcomer makes in the first ten minutes, each answered by a
/// message that says what happened and what to do, with the documented exit code; and a
/// refused command changes nothing.
@Suite("mage-vault: every slip explains itself")
struct FirstTenMinutesTests: ToolSuite {
    let harness = ToolHarness()

    /// The log with the sealed body of record line `index` (1 = the first record) changed
    /// and its checksum made right again: a line that parses but does not open.
    func forgeRecord(_ index: Int) throws {
        var all = try lines(of: log)
        var line = all[index]
        let position = line.count - 20  // inside the base64 of the sealed body
        line[position] = line[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        all[index] = withFreshChecksum(line)
        try write(joined(all), to: log)
    }

    @Test("The location options work before the subcommand too: get, set, list, help, exec, completion")
    func locationOptionsBeforeTheSubcommand() throws {
        #expect(try run(["--data-dir", data, "set", "db_password"], input: Array("made-up-before".utf8)).status == 0)
        for arguments in [["--data-dir", data, "get", "db_password"], ["--data-dir=\(data)", "get", "db_password"],
                          ["--data-dir", data, "get", "--", "db_password"], ["get", "db_password", "--data-dir", data]] {
            let got = try run(arguments)
            #expect(got.status == 0 && got.text == "made-up-before", "\(arguments): \(got.error)")
        }
        #expect(try run(["--data-dir", data, "--project", "etl", "set", "load_key"], input: Array("made-up-etl".utf8)).status == 0)
        let listed = try run(["--data-dir", data, "--project", "etl", "list"])
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.text.contains("load_key") && listed.text.contains("project etl") && listed.text.contains("db_password"))
        let exec = try run(["--data-dir", data, "exec", "--only", "db_password", "--", "/bin/sh", "-c", "printf %s \"$db_password\""])
        #expect(exec.text == "made-up-before", "\(exec.error)")
        for help in [["--data-dir", data, "help", "get"], ["--data-dir", data, "get", "--help"]] {
            let shown = try run(help)
            #expect(shown.status == 0)
            #expect(shown.text.contains("USAGE: mage-vault get <name>"), "\(help): \(shown.text)")
        }
        let top = try run(["--help"])
        #expect(top.text.contains("--data-dir <dir>"), "the top-level help lists the location options")
        // Completion after the options: `mage-vault --data-dir /x ge<TAB>` offers get.
        let script = directory.file("completion.bash")
        try write(try run(["--generate-completion-script", "bash"]).output, to: script)
        let complete = """
            source "$1"; COMP_WORDS=(mage-vault --data-dir /x ge); COMP_CWORD=3; COMP_LINE="mage-vault --data-dir /x ge"
            COMP_POINT=${#COMP_LINE}; _mage-vault mage-vault ge /x; printf '%s\\n' "${COMPREPLY[@]}"
            COMPREPLY=(); COMP_WORDS=(mage-vault --da); COMP_CWORD=1; COMP_LINE="mage-vault --da"; COMP_POINT=${#COMP_LINE}
            _mage-vault mage-vault --da mage-vault; printf '%s\\n' "${COMPREPLY[@]}"
            """
        let completed = try run("/bin/bash", ["-c", complete, "bash", script])
        #expect(completed.text == "get\n--data-dir\n", "\(completed.text) \(completed.error)")
    }

    @Test("serve passes location options given before it, or after it, on to mage-vault-serve")
    func serveTakesOptionsBeforeIt() throws {
        for arguments in [["--data-dir", data, "serve", "--port", "0"], ["serve", "--data-dir", data, "--port", "0"]] {
            let served = try run("/usr/bin/timeout", ["3", toolPath] + arguments)
            #expect(served.text.hasPrefix("Serving the secrets of \(data) (global scope)."), "\(arguments): \(served.text) \(served.error)")
        }
    }

    @Test("set NAME VALUE is refused without repeating the value, says how to give one, and creates nothing")
    func valueAsArgument() throws {
        for value in ["made-up-argument-value", "-made-up-dash-value", "--made-up-option-like"] {
            let result = try tool("set", "db_password", value)
            #expect(result.status == 2, "\(value)")
            #expect(result.error.contains("a value is never an argument"), "\(result.error)")
            #expect(result.error.contains("printf '%s' \"$VALUE\" | mage-vault set db_password"))
            #expect(result.error.contains("--from-file FILE"))
            #expect(!result.error.contains(value.drop { $0 == "-" }), "the refusal repeats the value")
            #expect(!FileManager.default.fileExists(atPath: data))
        }
    }

    @Test("An unknown command or help topic is an error that suggests the nearest command")
    func unknownCommands() throws {
        let cases: [([String], String)] = [
            (["gte", "secret1"], "'gte' is not a mage-vault command. Did you mean 'get'? 'mage-vault help' lists the commands"),
            (["help", "gte"], "no help for 'gte': it is not a mage-vault command. Did you mean 'get'? 'mage-vault help' lists the commands"),
            (["--data-dir", "/nowhere", "lsit"], "'lsit' is not a mage-vault command. Did you mean 'list'?"),
            (["git", "mrege", "a", "b", "c"], "'mrege' is not a mage-vault git command. Did you mean 'merge'? 'mage-vault help git' lists them"),
            (["help", "scope", "delte"], "no help for 'delte': it is not a mage-vault scope command. Did you mean 'delete'?"),
            (["frobnicate"], "'frobnicate' is not a mage-vault command. 'mage-vault help' lists the commands"),
        ]
        for (arguments, message) in cases {
            let result = try run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.error.hasPrefix("mage-vault: " + message), "\(arguments): \(result.error)")
            #expect(result.output.isEmpty, "\(arguments)")
        }
        #expect(try run(["help", "scope", "delete"]).status == 0)
        #expect(try run(["help"]).status == 0)
    }

    @Test("set with nothing piped says so and creates no uuid, key or log; an empty file or a bare newline neither")
    func refusedValuesChangeNothing() throws {
        let piped = try tool("set", "x")
        #expect(piped.status == 2)
        #expect(piped.error.hasPrefix("mage-vault: no value was piped (standard input was empty); nothing was written."), "\(piped.error)")
        #expect(!FileManager.default.fileExists(atPath: data), "a refused set created files")
        let empty = directory.file("empty.txt")
        try write([], to: empty)
        let fromFile = try tool("set", "x", "--from-file", empty)
        #expect(fromFile.status == 2)
        #expect(fromFile.error.contains("\(empty) is empty"), "\(fromFile.error)")
        let newline = try tool("set", "x", "--strip-newline", input: "\n")
        #expect(newline.status == 2)
        #expect(newline.error.contains("the value is empty; nothing was stored"))
        let binary = try run(["set", "x", "--data-dir", data], input: [0xFF, 0xFE])
        #expect(binary.status == 2)
        #expect(!FileManager.default.fileExists(atPath: data), "a refused set created files")
        // With an environment already there, the refusals leave every file as it was.
        #expect(try tool("set", "kept", input: "made-up").status == 0)
        let before = try snapshot()
        #expect(try tool("set", "x").status == 2)
        #expect(try tool("set", "x", "--from-file", empty).status == 2)
        #expect(try tool("set", "x", "made-up-arg").status == 2)
        // `echo "$UNSET" | mage-vault set kept` pipes one newline: an empty value, refused.
        for bare in ["\n", "\r\n"] {
            let unset = try tool("set", "kept", input: bare)
            #expect(unset.status == 2)
            #expect(unset.error.hasPrefix("mage-vault: no value was piped"), "\(unset.error)")
        }
        try write([0x0A], to: empty)
        #expect(try tool("set", "kept", "--from-file", empty).status == 2)
        #expect(try snapshot() == before)
        #expect(try tool("get", "kept").text == "made-up")
        // An import file with a bad entry creates nothing in a new data dir either.
        let fresh = directory.file("fresh")
        let file = directory.file("bad.json")
        try write(Array(#"{"bad\u0001name": "made-up"}"#.utf8), to: file)
        let imported = try run(["import", file, "--data-dir", fresh])
        #expect(imported.status == 2)
        #expect(imported.error.contains("entry 1: a secret name cannot contain control characters"), "\(imported.error)")
        #expect(!FileManager.default.fileExists(atPath: fresh), "a refused import created files")
    }

    @Test("set names a mistyped option as one, with the option meant; a word that is no near option is not repeated")
    func mistypedOptionOfSet() throws {
        let file = directory.file("value.txt")
        try write(Array("made-up".utf8), to: file)
        let typo = try tool("set", "x", "--from-flie", file)
        #expect(typo.status == 2)
        #expect(typo.error.contains("unknown option '--from-flie'; did you mean '--from-file'? Nothing was written"), "\(typo.error)")
        let valueLike = try tool("set", "x", "--made-up-secret-value")
        #expect(valueLike.status == 2)
        #expect(valueLike.error.contains("set takes a name and no value"), "\(valueLike.error)")
        #expect(!valueLike.error.contains("made-up-secret-value"))
        #expect(!FileManager.default.fileExists(atPath: data), "a refused set created files")
    }

    @Test("get of a scope that does not exist says so, and which scope answered; an existing scope says nothing more")
    func missingScopeIsSaid() throws {
        #expect(try tool("set", "db_password", input: "made-up-global").status == 0)
        #expect(try tool("set", "warehouse", "--project", "sales", input: "made-up-sales").status == 0)
        let typo = try tool("get", "db_password", "--project", "salse")
        #expect(typo.status == 0 && typo.text == "made-up-global")
        #expect(typo.error == "mage-vault: note: there is no project salse scope here (no \(data)/secrets/projects/salse/uuid); reading from the global scope\n", "\(typo.error)")
        let pipeline = try tool("get", "warehouse", "--project", "sales", "--pipeline", "dialy")
        #expect(pipeline.text == "made-up-sales" && pipeline.error.contains("reading from the project sales scope"), "\(pipeline.error)")
        let exact = try tool("get", "warehouse", "--project", "sales")
        #expect(exact.text == "made-up-sales" && exact.error.isEmpty, "\(exact.error)")
    }

    @Test("The first set in a data dir says it created an environment, and where; later ones say nothing of it")
    func creatingAnEnvironmentIsSaid() throws {
        let first = try tool("set", "db_password", input: "made-up")
        #expect(first.status == 0)
        #expect(first.error == "mage-vault: created a new environment in \(data) (\(data)/secrets/uuid, key \(data)/secrets/vault.key)\n", "\(first.error)")
        let second = try tool("set", "other", input: "made-up")
        #expect(second.status == 0 && second.error.isEmpty, "\(second.error)")
    }

    @Test("A Mage project's database folder given as the data dir is named as such, with the data dir above it; nothing is created there")
    func mageProjectFolder() throws {
        let project = data + "/default_repo"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try write(Array("made-up database".utf8), to: project + "/mage-ai.db")
        for arguments in [["list", "--data-dir", project], ["set", "x", "--data-dir", project]] {
            let result = try run(arguments, input: Array("made-up".utf8))
            #expect(result.status == 1, "\(arguments)")
            #expect(result.error.contains("it holds mage-ai.db, so it is a Mage project's database folder"), "\(result.error)")
            #expect(result.error.contains("pass --data-dir \(data),"), "\(result.error)")
            #expect(!result.error.contains("init"), "\(result.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: project + "/secrets"))
    }

    @Test("--version after a subcommand is refused instead of printing the tool's version; get takes --at-version")
    func versionCollision() throws {
        #expect(try tool("set", "db_password", input: "made-up-1").status == 0)
        #expect(try tool("set", "db_password", input: "made-up-2").status == 0)
        for arguments in [["get", "--version", "1"], ["get", "db_password", "--version", "1"], ["--data-dir", data, "list", "--version"]] {
            let result = try run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.output.isEmpty, "\(arguments): \(result.text)")
            #expect(result.error.contains("--version shows the tool's version and takes nothing else"), "\(result.error)")
            #expect(result.error.contains("'get NAME --at-version N'"))
        }
        #expect(try run(["--version"]).text == "0.1.0\n")
        #expect(try tool("get", "db_password", "--at-version", "1").text == "made-up-1")
        let help = try run(["help", "get"]).text
        #expect(help.components(separatedBy: "--version").count == 2, "one --version (the tool's) in: \(help)")
        #expect(help.contains("--at-version <n>"))
    }

    @Test("A wrong key file is exit 3 with the wrong-key message for verify and recover too, never 'damaged'")
    func wrongKeyEverywhere() throws {
        #expect(try tool("set", "secret1", input: "made-up").status == 0)
        let other = directory.file("other")
        #expect(try run(["init", "--data-dir", other]).status == 0)
        let wrong = other + "/secrets/vault.key"
        let before = try snapshot()
        let commands: [[String]] = [
            ["verify"], ["recover"], ["get", "secret1"], ["list"], ["compact"], ["history", "secret1"], ["backup", directory.file("b")],
            ["export", "--plaintext"], ["delete", "secret1"], ["rekey"],
        ]
        for command in commands {
            let arguments = command + ["--key-file", wrong]
            let direct = try run(arguments + ["--data-dir", data])
            #expect(direct.status == 3, "\(command): \(direct.error)")
            #expect(direct.error.contains("the key in \(wrong) (--key-file or $MAGE_VAULT_KEY_FILE) is not the key"), "\(command): \(direct.error)")
            #expect(!direct.error.contains("damaged") && !direct.text.contains("nothing to repair"), "\(command)")
        }
        #expect(try snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: directory.file("b")))
    }

    @Test("A --key-file that does not exist gets advice that works: check the path, or use the scope's own key file")
    func missingKeyFileAdvice() throws {
        #expect(try tool("set", "secret1", input: "made-up").status == 0)
        let missing = directory.file("nope.key")
        for arguments in [["get", "secret1"], ["init"], ["list"]] {
            let result = try run(arguments + ["--data-dir", data, "--key-file", missing])
            #expect(result.status == 1, "\(arguments)")
            #expect(
                result.error
                    == "mage-vault: there is no key file at \(missing) (named by --key-file or $MAGE_VAULT_KEY_FILE); check the path, or copy the environment's key there. Without --key-file and $MAGE_VAULT_KEY_FILE the scope's own key file \(data)/secrets/vault.key is used\n",
                "\(arguments): \(result.error)")
            #expect(!result.error.contains("run 'mage-vault init'"))
        }
        #expect(try run(["init", "--data-dir", data, "--key-file", missing]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: missing))
        // The advice works: without --key-file, the scope's own key file opens it.
        #expect(try tool("get", "secret1").text == "made-up")
    }

    @Test("exec --map of a name that matches nothing is an error, and the program never runs")
    func execMapMatchesNothing() throws {
        #expect(try tool("set", "db_password", input: "made-up").status == 0)
        #expect(try tool("set", "api_token", input: "made-up-token").status == 0)
        let marker = directory.file("ran")
        let cases: [([String], String)] = [
            (["--map", "nosuch=FOO"], "--map names 'nosuch', but no secret of that name is visible here (see 'mage-vault list'); nothing was run"),
            (["--only", "db_password", "--map", "api_token=TOKEN"], "--map names 'api_token', which --only leaves out; add it to --only or drop the mapping; nothing was run"),
        ]
        for (options, message) in cases {
            let result = try harness.tool(["exec"] + options + ["--", "/usr/bin/touch", marker])
            #expect(result.status == 1, "\(options)")
            #expect(result.error == "mage-vault: \(message)\n", "\(result.error)")
            #expect(!FileManager.default.fileExists(atPath: marker), "the program ran")
        }
        let mapped = try tool("exec", "--map", "db_password=DB_PASSWORD", "--", "/bin/sh", "-c", "printf %s \"$DB_PASSWORD\"")
        #expect(mapped.text == "made-up")
    }

    @Test("export -o and backup into a missing folder name the folder given, not a temporary file")
    func missingFolder() throws {
        #expect(try tool("set", "db_password", input: "made-up").status == 0)
        for arguments in [["export", "--plaintext", "-o", "missing/dir/secrets.env"], ["backup", "missing/dir/secrets.env"],
                          ["render", "-", "-o", "missing/dir/secrets.env"]] {
            let result = try run(arguments + ["--data-dir", data], input: Array("x: 1\n".utf8), directory: directory.path)
            #expect(result.status == 6, "\(arguments)")
            #expect(
                result.error == "mage-vault: cannot create missing/dir/secrets.env: the folder missing/dir does not exist; create it first, or choose another place. Nothing was written\n",
                "\(arguments): \(result.error)")
            #expect(!result.error.contains(".tmp-"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("missing")))
    }

    @Test("A secret none of whose records opens: get says damaged (exit 4) and names recover; list, export and exec leave it out with a warning")
    func damagedNewestRecord() throws {
        #expect(try tool("set", "kept", input: "made-up-kept").status == 0)
        #expect(try tool("set", "forged", input: "made-up-forged").status == 0)
        try forgeRecord(2)
        let offset = try lines(of: log)[0...1].reduce(0) { $0 + $1.count + 1 }
        let damage = "\(log): the record at byte offset \(offset) is damaged or forged (authentication failed); its value was not used. Run 'mage-vault recover' to set it aside"
        let get = try tool("get", "forged")
        #expect(get.status == 4)
        #expect(get.error == "mage-vault: \(damage)\n", "\(get.error)")
        // One line forged without the key stops no everyday command: it is passed over and named.
        let warning = "mage-vault: warning: \(log): the record at byte offset \(offset) was not used (authentication failed), nor any other record of its secret: that secret was left out. Run 'mage-vault verify', then 'mage-vault recover' to set it aside\n"
        let list = try tool("list")
        #expect(list.status == 0)
        #expect(list.text.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["NAME", "kept"])
        #expect(list.error == warning, "\(list.error)")
        let json = try tool("list", "--json")
        #expect(json.status == 0 && json.error == warning)
        #expect(json.text.hasPrefix("[{\"name\":\"kept\""))
        let exported = directory.file("export.env")
        let export = try tool("export", "--plaintext", "-o", exported)
        #expect(export.status == 0)
        #expect(export.error == warning)
        #expect(try String(decoding: contents(exported), as: UTF8.self).hasPrefix("kept="))
        let marker = directory.file("ran")
        let exec = try tool("exec", "--", "/usr/bin/touch", marker)
        #expect(exec.status == 0 && exec.error == warning)
        #expect(FileManager.default.fileExists(atPath: marker))
        // verify still calls it damage.
        #expect(try tool("verify").status == 4)
        // A newer forged record over an older one that opens: the older is used, with a warning, exit 0.
        #expect(try tool("set", "kept", input: "made-up-kept-2").status == 0)
        try forgeRecord(3)
        let warned = try tool("get", "kept")
        #expect(warned.status == 0 && warned.text == "made-up-kept")
        #expect(warned.error.contains("was not used (authentication failed); an older record that opens was used instead"))
        // recover sets the damage aside; then list is whole again.
        #expect(try tool("recover").status == 0)
        let after = try tool("list")
        #expect(after.status == 0 && after.error.isEmpty)
    }

    @Test("Writes to a log with lines that do not parse go through, passing over them and naming verify and recover")
    func writesPassOverJunkLines() throws {
        #expect(try tool("set", "first", input: "made-up").status == 0)
        let junk = try contents(log) + Array("x\n".utf8)
        try write(junk, to: log)
        let warning = "mage-vault: warning: \(log): 1 line(s), the first at byte offset \(junk.count - 2), do not parse as records; they were passed over. Run 'mage-vault verify' to see them, then 'mage-vault recover' to set them aside\n"
        let written = try tool("set", "second", input: "made-up-2")
        #expect(written.status == 0)
        #expect(written.error == warning, "\(written.error)")
        #expect(try Array(contents(log).prefix(junk.count)) == junk)  // the junk line is kept, byte for byte
        #expect(try tool("get", "second").text == "made-up-2")
        #expect(try tool("get", "first").text == "made-up")
        // A new scope's first write too, and deletes.
        #expect(try tool("set", "second", "--project", "etl", input: "made-up-3").status == 0)
        #expect(try tool("get", "second", "--project", "etl").text == "made-up-3")
        let deleted = try tool("delete", "first")
        #expect(deleted.status == 0 && deleted.error == warning)
        // Compaction and rekey keep the line too; verify still exits 4, and recover sets it aside.
        #expect(try tool("compact").status == 0)
        #expect(try tool("rekey").status == 0)
        #expect(try contents(log).split(separator: 0x0A).contains([UInt8(ascii: "x")]))
        #expect(try tool("get", "second").text == "made-up-2")
        #expect(try tool("verify").status == 4)
        #expect(try tool("recover").status == 0)
        #expect(try tool("verify").status == 0)
        #expect(try tool("get", "second").text == "made-up-2")
        // A set into a file that is not a vault is refused before it creates a scope's files.
        try write(Array("KEY=value\n".utf8), to: log)
        let foreign = try tool("set", "third", "--pipeline", "load", "--project", "etl", input: "made-up-3")
        #expect(foreign.status == 4)
        #expect(!FileManager.default.fileExists(atPath: data + "/secrets/projects/etl/pipelines"))
    }

    @Test("init --passphrase takes $MAGE_VAULT_PASSPHRASE (or the NEW one) when there is no passphrase yet; both, differing, are refused")
    func initPassphraseVariables() throws {
        let current = try run(
            ["init", "--passphrase", "--kdf-limits", "interactive", "--data-dir", data], environment: ["MAGE_VAULT_PASSPHRASE": "made-up passphrase"])
        #expect(current.status == 0, "\(current.error)")
        #expect(current.text.contains("passphrase-protected (Argon2id, interactive)"))
        #expect(try run(["set", "s", "--data-dir", data], input: Array("made-up".utf8), environment: ["MAGE_VAULT_PASSPHRASE": "made-up passphrase"]).status == 0)
        let wrong = try run(["get", "s", "--data-dir", data], environment: ["MAGE_VAULT_PASSPHRASE": "guess"])
        #expect(wrong.status == 3)

        let other = directory.file("other")
        let new = try run(
            ["init", "--passphrase", "--kdf-limits", "interactive", "--data-dir", other], environment: ["MAGE_VAULT_NEW_PASSPHRASE": "made-up new"])
        #expect(new.status == 0, "\(new.error)")
        #expect(try run(["list", "--data-dir", other], environment: ["MAGE_VAULT_PASSPHRASE": "made-up new"]).status == 0)

        let third = directory.file("third")
        let both = try run(
            ["init", "--passphrase", "--kdf-limits", "interactive", "--data-dir", third],
            environment: ["MAGE_VAULT_PASSPHRASE": "made-up one", "MAGE_VAULT_NEW_PASSPHRASE": "made-up two"])
        #expect(both.status == 2)
        #expect(both.error.contains("$MAGE_VAULT_NEW_PASSPHRASE and $MAGE_VAULT_PASSPHRASE are both set, to different passphrases"))
        #expect(!both.error.contains("made-up"))
        #expect(!FileManager.default.fileExists(atPath: third + "/secrets/vault.key"))
    }

    @Test("help puts a command's own options first; scope delete shows --project as required; help serve lists serve's options")
    func helpScreens() throws {
        let own: [(String, [String], String)] = [
            ("get", ["help", "get"], "--at-version"), ("set", ["help", "set"], "--from-file"), ("list", ["help", "list"], "--json"),
            ("verify", ["help", "verify"], "--repair"), ("exec", ["help", "exec"], "--only"), ("serve", ["help", "serve"], "--port"),
            ("git merge", ["help", "git", "merge"], "--theirs"), ("scope delete", ["help", "scope", "delete"], "--yes"),
        ]
        for (command, arguments, option) in own {
            let help = try run(arguments)
            #expect(help.status == 0, "\(command)")
            let options = help.text.components(separatedBy: "OPTIONS:").last ?? ""
            let ownAt = try #require(options.range(of: "  " + option), "\(command): \(help.text)")
            let locationAt = try #require(options.range(of: "  --data-dir"), "\(command): \(help.text)")
            #expect(ownAt.lowerBound < locationAt.lowerBound, "\(command) lists the location options first")
        }
        let scope = try run(["help", "scope", "delete"]).text
        #expect(scope.contains("USAGE: mage-vault scope delete --project <project> [--pipeline <pipeline>]"), "\(scope)")
        #expect(scope.contains("--project is required"))
        let serve = try run(["help", "serve"])
        #expect(serve.status == 0)
        for option in ["--port", "--host", "--allow-remote", "--idle-timeout", "--max-connections"] {
            #expect(serve.text.contains(option), "\(option) missing from: \(serve.text)")
        }
        #expect(!serve.text.contains("see `mage-vault serve --help`"))
        #expect(try run(["help"]).text.contains("serve                   Serve the Secrets page and a JSON API on 127.0.0.1."))
    }

    @Test("get of a name the vault nearly holds (another case, a typo) suggests it; of a name it does not, says only that; exit 1, nothing changed")
    func getSuggestsNearNames() throws {
        #expect(try tool("set", "Secret2", input: "made-up-2").status == 0)
        #expect(try tool("set", "db_password", input: "made-up-pw").status == 0)
        let before = try snapshot()
        let cased = try tool("get", "secret2")
        #expect(cased.status == 1 && cased.error.contains("no secret named 'secret2'") && cased.error.contains("did you mean 'Secret2'? (names are case-sensitive)"), "\(cased.error)")
        let typo = try tool("get", "db_pasword")
        #expect(typo.status == 1 && typo.error.contains("did you mean 'db_password'?"), "\(typo.error)")
        let far = try tool("get", "zzz")
        #expect(far.status == 1 && !far.error.contains("did you mean"), "\(far.error)")
        #expect(![cased, typo, far].contains { $0.error.contains("made-up") || $0.text.contains("made-up") })
        #expect(try snapshot() == before)
    }

    @Test("A file to read that is not there (import FILE, set --from-file FILE) is one clear error, exit 1, as --key-file's; nothing changed")
    func missingInputFiles() throws {
        #expect(try tool("set", "kept", input: "made-up").status == 0)
        let before = try snapshot()
        for arguments in [["import", "nothere.env"], ["set", "x", "--from-file", "nothere.txt"]] {
            let refused = try harness.tool(arguments)
            #expect(refused.status == 1, "\(arguments): \(refused.error)")
            #expect(refused.error.contains("there is no file nothere") && refused.error.contains("nothing was changed") && !refused.error.contains("open("), "\(refused.error)")
        }
        #expect(try snapshot() == before)
    }

    @Test("env on a data dir that holds only Mage's uuid (Mage before migrate) says what is there and that Mage reads its own database; exit 0, nothing created")
    func envOnMagesOwnDataDir() throws {
        try FileManager.default.createDirectory(atPath: data + "/secrets", withIntermediateDirectories: true)
        try write(Array("0123456789abcdef0123456789abcdef".utf8), to: data + "/secrets/uuid")
        let before = try snapshot()
        let env = try tool("env")
        #expect(env.status == 0, "\(env.error)")
        #expect(env.text.contains("uuid       0123456789abcdef0123456789abcdef"))
        #expect(env.text.contains("key        (none: \(data)/secrets/vault.key does not exist"))
        #expect(env.text.contains("mage       reads its own database"))
        #expect(try snapshot() == before)
    }
}
