/// Reads a command line against a tree of `CommandSpec`s, in one pass over the words.
///
/// The location options are accepted before the subcommand's word and after it; an option's
/// value may follow it or be joined with `=` (`--data-dir=X`); `-o file` and `-q` are the
/// short forms; `--` ends the options (the rest are arguments, or exec's program);
/// `-h`/`--help` anywhere asks for help; `help [command [subcommand]]` too; `--version`
/// alone prints the version and with anything else is refused (`get NAME --version 1` must
/// not hand "0.1.0" to a script as a value). An unknown command names the nearest one.
public struct CommandLineParser: Sendable {
    /// What the words ask for.
    public enum Invocation {
        /// Run the last command of `path` (which starts at the root) with these values.
        case run(path: [CommandSpec], ParsedArguments)
        /// Print the help of the last command of `path`.
        case help(path: [CommandSpec])
        /// Print the program's version.
        case version
        /// Print the completion script for this shell.
        case completionScript(CompletionScript.Shell)
    }

    /// The program's command.
    public let root: CommandSpec

    /// A parser for `root`'s command line.
    public init(root: CommandSpec) {
        self.root = root
    }

    /// What `arguments` (without the program's path) ask for; throws `UsageError` for a
    /// malformed line (exit 2 with the usage) and `CommandFailure` for an unknown command.
    public func parse(_ arguments: [String]) throws -> Invocation {
        var path = [root]
        var options: [String: [String]] = [:]
        var words: [String] = []
        var afterTerminator: [String]? = nil
        var unrecognized: [String] = []
        var passedThrough: [String]? = nil
        var helpRequested = false
        var versionRequested = false
        var helpTopics: [CommandSpec]? = nil  // after the word `help`
        var completionShell: String? = nil
        var failure: UsageError? = nil  // the first; --help anywhere still wins over it
        var index = 0

        func fail(_ error: UsageError) { if failure == nil { failure = error } }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let command = path[path.count - 1]
            if command.passesThrough, helpTopics == nil {
                passedThrough = Array(arguments[(index - 1)...])
                break
            }
            if argument == "--" {
                afterTerminator = Array(arguments[index...])
                break
            }
            if argument == "-h" || argument == "--help" {
                helpRequested = true
                continue
            }
            if argument == "--version" {
                versionRequested = true
                continue
            }
            if path.count == 1, argument == "--generate-completion-script" || argument.hasPrefix("--generate-completion-script=") {
                if let equals = argument.firstIndex(of: "=") {
                    completionShell = String(argument[argument.index(after: equals)...])
                } else if index < arguments.count {
                    completionShell = arguments[index]
                    index += 1
                } else {
                    completionShell = ""
                }
                continue
            }
            if argument.hasPrefix("-"), argument.count > 1 {
                // `--name`, `--name=value`, or `-n`.
                let spelled: String
                var inline: String? = nil
                let option: OptionSpec?
                if argument.hasPrefix("--") {
                    if let equals = argument.firstIndex(of: "=") {
                        spelled = String(argument[..<equals])
                        inline = String(argument[argument.index(after: equals)...])
                    } else {
                        spelled = argument
                    }
                    option = Self.option(named: String(spelled.dropFirst(2)), in: command)
                } else {
                    spelled = argument
                    option = argument.count == 2 ? Self.option(short: argument.last!, in: command) : nil
                }
                guard let option else {
                    if helpTopics != nil { continue }
                    if command.arguments.contains(where: { $0.kind == .unrecognized }) {
                        unrecognized.append(argument)
                    } else {
                        let names = command.allOptions.map { "--" + $0.name }
                        let nearest = spelled.hasPrefix("--") ? CommandWords.nearest(to: spelled, in: names) : nil
                        fail(UsageError(message: "Unknown option '\(spelled)'" + (nearest.map { ". Did you mean '\($0)'?" } ?? ""), path: path))
                    }
                    continue
                }
                if option.isFlag {
                    if let inline {
                        fail(UsageError(message: "The option '\(spelled)' does not take any value, but '\(inline)' was specified.", path: path))
                    }
                    options[option.name, default: []].append("")
                    continue
                }
                var given: [String] = []
                if let inline {
                    given.append(inline)
                } else if index < arguments.count, Self.isValue(arguments[index]) {
                    given.append(arguments[index])
                    index += 1
                }
                guard !given.isEmpty else {
                    fail(UsageError(message: "Missing value for '\(option.synopsis(as: spelled))'", path: path, helpLine: Self.helpLine(option)))
                    continue
                }
                if option.takesUpToNextOption {
                    while index < arguments.count, Self.isValue(arguments[index]) {
                        given.append(arguments[index])
                        index += 1
                    }
                }
                for value in given {
                    if let problem = Self.check(value, for: option, spelled: spelled) { fail(UsageError(message: problem, path: path, helpLine: Self.helpLine(option))) }
                }
                if option.isRepeatable {
                    options[option.name, default: []].append(contentsOf: given)
                } else {
                    options[option.name] = given
                }
                continue
            }
            // A word: a help topic, a subcommand, or an argument.
            if var topics = helpTopics {
                let node = topics.last ?? root
                guard node.hasSubcommands else { continue }  // words after the topic are ignored
                if topics.isEmpty, argument == "help" { continue }  // `help help`: the program's help
                guard let child = node.subcommand(named: argument) else {
                    throw CommandWords.unknown(argument, in: topics, root: root, help: true)
                }
                topics.append(child)
                helpTopics = topics
                continue
            }
            if command.hasSubcommands {
                if path.count == 1, argument == "help" {
                    helpTopics = []
                    continue
                }
                guard let child = command.subcommand(named: argument) else {
                    throw CommandWords.unknown(argument, in: Array(path.dropFirst()), root: root, help: false)
                }
                path.append(child)
                continue
            }
            words.append(argument)
        }

        let command = path[path.count - 1]
        if let topics = helpTopics {
            // `help serve`: the program serve runs knows its options.
            if topics.count == 1, topics[0].passesThrough {
                return .run(path: [root] + topics, ParsedArguments(command: topics[0], arguments: [topics[0].passthroughName: ["--help"]]))
            }
            return .help(path: [root] + topics)
        }
        if let passedThrough {
            return .run(path: path, ParsedArguments(command: command, arguments: [command.passthroughName: passedThrough]))
        }
        if command.passesThrough {
            let given = words + (afterTerminator.map { ["--"] + $0 } ?? [])
            return .run(path: path, ParsedArguments(command: command, arguments: [command.passthroughName: given]))
        }
        if versionRequested {
            // Alone, or after nothing but command words (`list --version`), as before.
            let alone = options.isEmpty && words.isEmpty && unrecognized.isEmpty && afterTerminator == nil && !helpRequested && completionShell == nil
            guard alone else {
                throw CommandFailure(
                    message: "--version shows the tool's version and takes nothing else ('\(root.name) --version'); nothing was run. "
                        + "An earlier version of a secret is 'get NAME --at-version N' (see 'history NAME')",
                    code: ExitStatus.usage)
            }
            return .version
        }
        if helpRequested { return .help(path: path) }
        if let completionShell {
            guard let shell = CompletionScript.Shell(rawValue: completionShell) else {
                throw UsageError(
                    message: "The value '\(completionShell)' is invalid for '--generate-completion-script <shell>'. Please provide one of 'bash', 'zsh' or 'fish'.",
                    path: path)
            }
            return .completionScript(shell)
        }
        if let failure { throw failure }
        if command.perform == nil {
            // A group (the program itself, `git`, `scope`) without a subcommand shows its help.
            guard words.isEmpty, afterTerminator == nil else { throw UsageError(message: "Unexpected argument '\(words.first ?? "--")'", path: path) }
            return .help(path: path)
        }

        // The words, to the arguments in order.
        var values: [String: [String]] = [:]
        var remaining = words[...]
        if afterTerminator != nil, !command.arguments.contains(where: { $0.kind == .postTerminator }) {
            remaining.append(contentsOf: afterTerminator!)
            afterTerminator = nil
        }
        for argument in command.arguments {
            switch argument.kind {
            case .required:
                guard let word = remaining.popFirst() else {
                    throw UsageError(message: "Missing expected argument '<\(argument.name)>'", path: path, helpLine: "<\(argument.name)>  \(argument.help)")
                }
                values[argument.name] = [word]
            case .optional:
                if let word = remaining.popFirst() { values[argument.name] = [word] }
            case .array:
                values[argument.name] = Array(remaining)
                remaining = []
            case .postTerminator:
                values[argument.name] = afterTerminator ?? []
            case .unrecognized, .passthrough:
                break
            }
        }
        if let collecting = command.arguments.first(where: { $0.kind == .unrecognized }) {
            values[collecting.name] = unrecognized + remaining
            remaining = []
        }
        if let extra = remaining.first {
            throw UsageError(message: "Unexpected argument '\(extra)'", path: path)
        }
        for option in command.allOptions where option.isRequired && options[option.name] == nil {
            throw UsageError(message: "Missing expected argument '\(option.synopsis)'", path: path, helpLine: Self.helpLine(option))
        }
        return .run(path: path, ParsedArguments(command: command, options: options, arguments: values))
    }

    /// Whether `word` can be an option's value: not another option (`-` alone, standard
    /// input, is a value; so is a negative number given with `=`).
    static func isValue(_ word: String) -> Bool {
        !(word.hasPrefix("-") && word.count > 1)
    }

    static func option(named name: String, in command: CommandSpec) -> OptionSpec? {
        command.option(named: name)
    }

    static func option(short: Character, in command: CommandSpec) -> OptionSpec? {
        command.option(short: short)
    }

    /// What is wrong with `value` for `option`, or nil.
    static func check(_ value: String, for option: OptionSpec, spelled: String) -> String? {
        switch option.value {
        case .none, .text:
            return nil
        case .integer:
            return Int(value) == nil ? "The value '\(value)' is invalid for '\(option.synopsis(as: spelled))'" : nil
        case .choice(let choices):
            guard !choices.contains(value) else { return nil }
            let quoted = choices.map { "'\($0)'" }
            let listed = quoted.count <= 2 ? quoted.joined(separator: " and ") : quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
            return "The value '\(value)' is invalid for '\(option.synopsis(as: spelled))'. Please provide one of \(listed)."
        }
    }

    /// `--name <value>  what it does`, as an error's `Help:` line shows it.
    static func helpLine(_ option: OptionSpec) -> String {
        let names = option.short.map { "-\($0) <\(option.valueName ?? option.name)>" } ?? option.synopsis
        return "\(names)  \(option.help)"
    }
}

/// A malformed command line: shown as `Error: …`, an optional `Help:` line, the command's
/// usage and where to read more; exit 2.
public struct UsageError: Error, Sendable {
    /// What is wrong.
    public let message: String
    /// The command whose usage is shown (from the root).
    public let path: [CommandSpec]
    /// The help of the option or argument concerned.
    public let helpLine: String?

    /// A usage error saying `message` about the last command of `path`.
    public init(message: String, path: [CommandSpec], helpLine: String? = nil) {
        self.message = message
        self.path = path
        self.helpLine = helpLine
    }

    /// The whole text, as printed on standard error.
    public var text: String {
        let name = path.map(\.name).joined(separator: " ")
        return "Error: \(message)\n" + (helpLine.map { "Help:  \($0)\n" } ?? "") + "Usage: \(HelpText.usage(of: path))\n"
            + "  See '\(name) --help' for more information."
    }
}
