import MageVaultCommandLine
import Testing

@testable import mage_vault

/// The command-line layer of `mage-vault`, parsed in process against the program's own
/// command tree: no built binary needed.
@Suite("Command-line parser")
struct CommandLineParserTests {
    let root = MageVaultCommand.spec
    var parser: CommandLineParser { CommandLineParser(root: root) }

    /// The command and values `arguments` run, or a test failure.
    func parsed(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> (path: [String], values: ParsedArguments) {
        guard case .run(let path, let values) = try parser.parse(arguments) else {
            Issue.record("\(arguments) does not run a command", sourceLocation: sourceLocation)
            throw CommandFailure(message: "not run", code: 2)
        }
        return (path.dropFirst().map(\.name), values)
    }

    /// The usage error `arguments` give, or a test failure.
    func usageError(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) -> UsageError? {
        do {
            _ = try parser.parse(arguments)
            Issue.record("\(arguments) parsed", sourceLocation: sourceLocation)
        } catch let error as UsageError {
            return error
        } catch {
            Issue.record("\(arguments): \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test("Every spelling of a plain get (options before or after the word, = or not, -- before the name) means the same")
    func everySpellingOfGet() throws {
        let spellings: [[String]] = [
            ["get", "db_password", "--data-dir", "/d", "--project", "etl"],
            ["--data-dir", "/d", "get", "db_password", "--project", "etl"],
            ["--data-dir=/d", "--project=etl", "get", "db_password"],
            ["get", "--data-dir", "/d", "--project", "etl", "--", "db_password"],
            ["--project", "etl", "get", "--data-dir=/d", "db_password"],
            ["--data-dir", "/x", "get", "db_password", "--data-dir", "/d", "--project", "etl"],  // the last one wins
        ]
        for arguments in spellings {
            let (path, values) = try parsed(arguments)
            #expect(path == ["get"], "\(arguments)")
            #expect(values.argument("name") == "db_password", "\(arguments)")
            #expect(values.value("data-dir") == "/d", "\(arguments)")
            #expect(values.value("project") == "etl", "\(arguments)")
            #expect(values.integer("at-version") == nil, "\(arguments)")
            let get = try Get(values)
            #expect(get.name == "db_password" && get.options.dataDirectory == "/d" && get.options.project == "etl")
        }
        #expect(try parsed(["get", "--at-version", "3", "n"]).values.integer("at-version") == 3)
        #expect(try parsed(["get", "--at-version=-1", "n"]).values.integer("at-version") == -1)
        // After --, a word that looks like an option is a name.
        #expect(try parsed(["get", "--", "--odd"]).values.argument("name") == "--odd")
    }

    @Test("Bad spellings of get are the errors they were with ArgumentParser")
    func badSpellingsOfGet() {
        let cases: [([String], String, String?)] = [
            (["get"], "Missing expected argument '<name>'", "<name>  The secret's name."),
            (["get", "a", "b"], "Unexpected argument 'b'", nil),
            (["get", "--data-dir"], "Missing value for '--data-dir <dir>'", "--data-dir <dir>  The data directory (default: $MAGE_DATA_DIR, else ~/.mage_data)."),
            (["get", "--data-dir", "--project", "p", "a"], "Missing value for '--data-dir <dir>'", nil),
            (["get", "--at-version", "x", "a"], "The value 'x' is invalid for '--at-version <n>'", "--at-version <n>  An earlier version (see 'mage-vault history')."),
            (["get", "-x", "a"], "Unknown option '-x'", nil),
            (["list", "--json=1"], "The option '--json' does not take any value, but '1' was specified.", nil),
            (["list", "--jsno"], "Unknown option '--jsno'. Did you mean '--json'?", nil),
            (["export", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'. Please provide one of 'env' and 'json'.", nil),
            (["render", "f", "--missing", "bad"], "The value 'bad' is invalid for '--missing <policy>'. Please provide one of 'fail', 'empty' or 'none'.", nil),
            (["render", "-o"], "Missing value for '-o <file>'", "-o <file>  Write here (mode 0600) instead of standard output."),
            (["rollback", "a"], "Missing expected argument '--to <to>'", "--to <to>  The version whose value becomes current again."),
            (["git", "merge", "a"], "Missing expected argument '<ours>'", "<ours>  Our version (%A); the result is written here."),
            (["--json", "list"], "Unknown option '--json'", nil),
        ]
        for (arguments, message, help) in cases {
            guard let error = usageError(arguments) else { continue }
            #expect(error.message == message, "\(arguments)")
            if let help { #expect(error.helpLine == help, "\(arguments)") }
        }
        let text = usageError(["get"])?.text ?? ""
        #expect(text == """
            Error: Missing expected argument '<name>'
            Help:  <name>  The secret's name.
            Usage: mage-vault get <name> [--at-version <n>] [--data-dir <dir>] [--vault <file>] [--key-file <file>] [--project <project>] [--pipeline <pipeline>]
              See 'mage-vault get --help' for more information.
            """)
    }

    @Test("Repeated options keep every value; exec's --only takes words up to the next option; -- starts exec's program")
    func repeatedAndTerminated() throws {
        let merge = try parsed(["git", "merge", "--ours", "a", "b", "o", "t", "--ours=c", "--theirs", "d", "--last-writer-wins"])
        #expect(merge.path == ["git", "merge"])
        #expect(merge.values.values("ours") == ["a", "c"] && merge.values.values("theirs") == ["d"])
        #expect([merge.values.argument("base"), merge.values.argument("ours"), merge.values.argument("theirs")] == ["b", "o", "t"])
        #expect(merge.values.flag("last-writer-wins"))
        let exec = try parsed(["--data-dir", "/d", "exec", "--only", "a", "b", "--map", "a=X", "--map", "b=Y", "--", "ls", "-l", "--help", "--"])
        #expect(exec.values.values("only") == ["a", "b"])
        #expect(exec.values.values("map") == ["a=X", "b=Y"])
        #expect(exec.values.words("command") == ["ls", "-l", "--help", "--"])
        #expect(exec.values.value("data-dir") == "/d")
        // A short flag and a short option with its value.
        let render = try parsed(["render", "-o", "out.yaml", "config.yaml"])
        #expect(render.values.value("output") == "out.yaml" && render.values.argument("file") == "config.yaml")
        #expect(try parsed(["verify", "-q"]).values.flag("quiet"))
        // `-` alone is a value (standard input), not an option.
        #expect(try parsed(["import", "-", "--format", "env"]).values.argument("file") == "-")
    }

    @Test("set collects whatever follows the name, options included, so that it can refuse it without repeating it")
    func setCollectsTheRest() throws {
        for rest in [["made-up-value"], ["-made-up-dash"], ["--made-up-option"], ["a", "b"]] {
            let values = try parsed(["set", "db_password"] + rest).values
            #expect(values.words("value") == rest)
            #expect(throws: ValidationError.self) { try SetCommand(values) }
        }
        #expect(try SetCommand(parsed(["set", "db_password", "--from-file", "f", "--strip-newline"]).values).fromFile == "f")
    }

    @Test("help, --help and -h anywhere show help; help serve and help migrate hand over to their programs; --version only alone")
    func helpAndVersion() throws {
        for (arguments, expected) in [
            (["help"], [String]()), (["--help"], []), ([], []), (["help", "get"], ["get"]), (["get", "-h"], ["get"]),
            (["get", "a", "--help", "--bogus"], ["get"]), (["--data-dir", "/d", "help", "git", "merge"], ["git", "merge"]),
            (["git"], ["git"]), (["scope", "--help"], ["scope"]), (["help", "get", "extra"], ["get"]),
        ] {
            guard case .help(let path) = try parser.parse(arguments) else {
                Issue.record("\(arguments) shows no help")
                continue
            }
            #expect(path.dropFirst().map(\.name) == expected, "\(arguments)")
        }
        for program in ["serve", "migrate"] {
            let handed = try parsed(["help", program])
            #expect(handed.path == [program] && handed.values.words("arguments") == ["--help"])
            #expect(try parsed([program, "--port", "0", "--help"]).values.words("arguments") == ["--port", "0", "--help"])
        }
        guard case .version = try parser.parse(["--version"]) else { return #expect(Bool(false), "--version") }
        for arguments in [["get", "--version", "1"], ["--data-dir", "/d", "list", "--version"], ["get", "n", "--version"]] {
            #expect(throws: CommandFailure.self, "\(arguments)") { try parser.parse(arguments) }
        }
        guard case .completionScript(.fish) = try parser.parse(["--generate-completion-script", "fish"]) else { return #expect(Bool(false)) }
        #expect(usageError(["--generate-completion-script", "tcsh"]) != nil)
    }

    @Test("An unknown command or help topic names the nearest one")
    func unknownCommands() {
        let cases: [([String], String)] = [
            (["gte"], "'gte' is not a mage-vault command. Did you mean 'get'? 'mage-vault help' lists the commands"),
            (["--data-dir", "/d", "lsit"], "'lsit' is not a mage-vault command. Did you mean 'list'?"),
            (["help", "scope", "delte"], "no help for 'delte': it is not a mage-vault scope command. Did you mean 'delete'? 'mage-vault help scope' lists them"),
            (["git", "mrege"], "'mrege' is not a mage-vault git command. Did you mean 'merge'? 'mage-vault help git' lists them"),
        ]
        for (arguments, message) in cases {
            #expect(throws: CommandFailure.self) { try parser.parse(arguments) }
            do { _ = try parser.parse(arguments) } catch let failure as CommandFailure {
                #expect(failure.message.hasPrefix(message), "\(arguments): \(failure.message)")
                #expect(failure.code == 2)
            } catch {}
        }
    }

    /// One invocation per command that runs, and the type that reads it.
    static let samples: [([String], any Command.Type)] = [
        (["init", "--passphrase", "--kdf-limits", "interactive"], Init.self), (["set", "n", "--allow-empty"], SetCommand.self),
        (["get", "n", "--at-version", "1"], Get.self), (["list", "--json"], List.self), (["delete", "n"], Delete.self),
        (["env"], Env.self), (["import", "-q", "f", "--format", "json"], Import.self), (["history", "n", "--show-values"], History.self),
        (["rollback", "n", "--to", "2"], Rollback.self), (["render", "f", "-o", "o", "--missing", "none", "--strict"], Render.self),
        (["exec", "--only", "a", "--prefix", "P_", "--map", "a=B", "--mask", "--", "true"], Exec.self),
        (["export", "--plaintext", "--format", "json", "-o", "o"], Export.self), (["verify", "--repair", "-q"], Verify.self),
        (["recover", "--set-aside-unknown-keys"], Recover.self), (["compact", "--history", "3"], Compact.self),
        (["backup", "b", "--force", "--history", "2"], Backup.self), (["restore", "b"], Restore.self),
        (["scope", "rename", "new", "--project", "p", "--pipeline", "q"], RenameScope.self),
        (["scope", "delete", "--project", "p", "--yes"], DeleteScope.self),
        (["rekey", "--retire", "--passphrase"], Rekey.self), (["git", "setup"], GitSetup.self),
        (["git", "merge", "b", "o", "t", "--ours", "x"], GitMerge.self), (["git", "diff-text", "f"], GitDiffText.self),
        (["serve", "--port", "0"], Serve.self), (["migrate", "--dry-run"], Migrate.self), (["identity"], IdentityCommand.self),
        (["access", "add", "age1x", "--name", "n"], AccessAdd.self), (["access", "remove", "n"], AccessRemove.self),
        (["access", "list"], AccessList.self),
    ]

    @Test("Every subcommand is listed under its spec's own name, so the word that selects it builds the spec that has it")
    func subcommandNamesAreTheirSpecs() {
        func visit(_ command: CommandSpec, _ path: String) {
            for entry in command.subcommandEntries {
                let spec = entry.spec()
                #expect(entry.name == spec.name, "\(path) \(entry.name) builds \(spec.name)")
                visit(spec, path + " " + entry.name)
            }
        }
        visit(root, "mage-vault")
        #expect(root.subcommandEntries.count == 24)
    }

    @Test("Every command parses a sample invocation and reads every option it declares (no undeclared name)")
    func everyCommandParses() throws {
        var leaves: [String] = []
        func visit(_ command: CommandSpec, _ path: [String]) {
            if command.perform != nil { leaves.append(path.joined(separator: " ")) }
            for child in command.subcommands { visit(child, path + [child.name]) }
        }
        visit(root, [])
        var covered: [String] = []
        for (arguments, type) in Self.samples {
            let (path, values) = try parsed(["--data-dir", "/d"] + arguments)
            #expect(path.last == type.spec.name, "\(arguments)")
            _ = try type.init(values)
            covered.append(path.joined(separator: " "))
            // Each option the command declares, given, is read without a precondition failure.
            for option in type.spec.allOptions {
                _ = values.values(option.name)
            }
        }
        #expect(covered.sorted() == leaves.sorted())
    }

    @Test("Every help screen renders: overview, usage, the command's own options before the location options, -h, lines under 80")
    func everyHelpScreen() throws {
        func visit(_ path: [CommandSpec]) {
            let command = path[path.count - 1]
            let text = HelpText.text(for: path)
            let name = path.map(\.name).joined(separator: " ")
            #expect(text.hasPrefix("OVERVIEW: "), "\(name)")
            #expect(text.contains("\nUSAGE: \(name)"), "\(name)")
            #expect(text.contains("  -h, --help              Show help information.\n"), "\(name)")
            for line in text.split(separator: "\n") where !line.hasPrefix("USAGE: ") {
                #expect(line.count < 80, "\(name): \(line)")
            }
            if command.perform != nil, command.takesLocationOptions {
                let options = text.components(separatedBy: "OPTIONS:").last ?? ""
                let location = options.range(of: "  --data-dir <dir>")
                #expect(location != nil, "\(name)")
                for option in command.options {
                    let own = options.range(of: "--\(option.name)")
                    #expect(own != nil && own!.lowerBound < location!.lowerBound, "\(name): --\(option.name)")
                }
            }
            for argument in command.arguments where argument.kind != .unrecognized {
                #expect(text.contains("  <\(argument.name)>"), "\(name): <\(argument.name)>")
            }
            for child in command.subcommands { visit(path + [child]) }
        }
        visit([root])
        // The value set refuses is never shown.
        #expect(!HelpText.text(for: [root, root.subcommand(named: "set")!]).contains("<value>"))
        #expect(HelpText.text(for: [root]).contains("\nSUBCOMMANDS:\n  init                    Create this environment's uuid"))
    }

    @Test("The completion scripts name every command, subcommand and option, for bash, zsh and fish")
    func completionScripts() {
        let bash = CompletionScript.text(for: root, shell: .bash)
        let zsh = CompletionScript.text(for: root, shell: .zsh)
        let fish = CompletionScript.text(for: root, shell: .fish)
        #expect(bash.contains("complete -F _mage-vault mage-vault"))
        #expect(zsh.hasPrefix("#compdef mage-vault\n"))
        #expect(fish.contains("complete -c mage-vault -l data-dir -r -F"))
        for command in root.subcommands {
            #expect(bash.contains(" \(command.name) ") || bash.contains("'\(command.name) ") || bash.contains(" \(command.name)'"), "\(command.name)")
            #expect(fish.contains("-a '\(command.name)'"), "\(command.name)")
            for option in command.options {
                #expect(bash.contains("--\(option.name)"), "\(command.name) --\(option.name)")
                #expect(fish.contains("-l \(option.name)"), "\(command.name) --\(option.name)")
            }
            for child in command.subcommands {
                #expect(bash.contains("'\(command.name) \(child.name)')"), "\(command.name) \(child.name)")
                #expect(fish.contains("-n '__mage_vault_at \\'\(command.name)\\'' -a '\(child.name)'"), "\(command.name) \(child.name)")
            }
        }
        #expect(zsh.contains("'git merge')"))
        #expect(HelpText.text(for: [root]).contains("--generate-completion-script <shell>"))
        // File options complete files.
        #expect(fish.contains("-l output -s o -r -F"))
        #expect(bash.contains("files='--output -o --data-dir --vault --key-file'"))
    }

    @Test("bash completion, run in bash: every option of every command (serve's and migrate's too) after --, and the values of each choice option")
    func bashCompletesEveryOption() throws {
        let directory = TemporaryDirectory()
        let script = directory.file("mage-vault.bash")
        try write(Array(CompletionScript.text(for: root, shell: .bash).utf8), to: script)
        /// What bash offers for the words typed so far (the last one being completed).
        func offered(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'" + $0 + "'" }.joined(separator: " ")
            let program = "source '\(script)'; COMP_WORDS=(mage-vault \(quoted)); COMP_CWORD=\(words.count); _mage-vault; printf '%s\\n' \"${COMPREPLY[@]}\""
            let result = try run("/bin/bash", ["--norc", "-c", program])
            #expect(result.status == 0, "\(result.error)")
            return result.text.split(separator: "\n").map(String.init)
        }
        func visit(_ command: CommandSpec, _ path: [String]) throws {
            for child in command.subcommands where !child.isHidden { try visit(child, path + [child.name]) }
            guard command.perform != nil else { return }
            let options = command.options + command.passthroughOptions + (command.takesLocationOptions ? OptionSpec.location : [])
            let dashes = try offered(path + ["--"])
            for option in options { #expect(dashes.contains("--" + option.name), "\(path.joined(separator: " ")) --\(option.name): \(dashes)") }
            for option in options {
                guard case .choice(let choices) = option.value else { continue }
                #expect(try offered(path + ["--" + option.name, ""]).sorted() == choices.sorted(), "\(path) --\(option.name)")
            }
        }
        try visit(root, [])
        #expect(try offered(["serve", "--po"]) == ["--port"])
        #expect(try offered(["migrate", "--dr"]) == ["--dry-run"])
    }
}
