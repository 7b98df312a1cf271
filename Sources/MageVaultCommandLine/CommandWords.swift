import ArgumentParser

/// The words of a command line, checked before ArgumentParser parses it, for the slips it
/// words badly: an unknown command or help topic (ArgumentParser says "2 unexpected
/// arguments", or prints the top-level help and exits 0), which should name the nearest
/// command; and `--version` after a subcommand, which ArgumentParser answers with the tool's
/// version, exit 0, where a user meant something else (`get NAME --version 1`).
public enum CommandWords {
    /// The tool's own options that take a value (the location options, accepted before the
    /// subcommand as well as after it): the word after one is its value, never a command.
    public static let valueOptions: Swift.Set<String> = ["--data-dir", "--vault", "--key-file", "--project", "--pipeline"]

    /// `arguments` (without the program's path) as ArgumentParser should see them, or a
    /// usage failure (exit 2) for an unknown command, subcommand or help topic, naming the
    /// nearest one. `help C` for a command in `helpElsewhere` becomes `C --help`: such a
    /// command runs another program, whose help lists the options.
    public static func check(_ arguments: [String], root: any ParsableCommand.Type, helpElsewhere: Swift.Set<String> = []) throws -> [String] {
        guard let first = nextWord(arguments, from: 0) else { return arguments }
        let word = arguments[first]
        if word == "help" {
            var node: any ParsableCommand.Type = root
            var path: [String] = []
            var position = first + 1
            while let index = nextWord(arguments, from: position), !node.configuration.subcommands.isEmpty {
                let topic = arguments[index]
                guard let child = subcommand(named: topic, of: node) else {
                    throw unknown(topic, in: node, root: root, help: true)
                }
                path.append(topic)
                node = child
                position = index + 1
            }
            if path.count == 1, helpElsewhere.contains(path[0]) { return [path[0], "--help"] }
            return arguments
        }
        guard let command = subcommand(named: word, of: root) else { throw unknown(word, in: root, root: root, help: false) }
        var commandWords: Swift.Set = [first]
        if !command.configuration.subcommands.isEmpty, let index = nextWord(arguments, from: first + 1) {
            guard subcommand(named: arguments[index], of: command) != nil else { throw unknown(arguments[index], in: command, root: root, help: false) }
            commandWords.insert(index)
        }
        // `--version` anywhere else would print the tool's version and exit 0, whatever else
        // the line says: `get NAME --version 1` must not hand "0.1.0" to a script as a value.
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        let others = arguments.indices.filter { !commandWords.contains($0) && arguments[$0] != "--version" }
        if !helpElsewhere.contains(word), arguments[..<terminator].contains("--version"), !others.isEmpty {
            throw CommandFailure(
                message: "--version shows the tool's version and takes nothing else ('\(name(of: root)) --version'); nothing was run. "
                    + "An earlier version of a secret is 'get NAME --at-version N' (see 'history NAME')",
                code: ExitStatus.usage)
        }
        return arguments
    }

    /// The closest of `candidates` to `word` by edit distance (a swap of two neighbours
    /// counts as one edit, so `gte` finds `get`), or the one `word` begins; nil when none is
    /// close enough to be what was meant.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < word.count { return best.0 }
        let prefixed = candidates.filter { $0.hasPrefix(word) }
        return word.count >= 2 && prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    /// adjacent characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var distance = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { distance[i][0] = i }
        for j in 0...b.count { distance[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                distance[i][j] = min(distance[i - 1][j] + 1, distance[i][j - 1] + 1, distance[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    distance[i][j] = min(distance[i][j], distance[i - 2][j - 2] + 1)
                }
            }
        }
        return distance[a.count][b.count]
    }

    /// The index of the first word at or after `start` that is neither an option nor the value
    /// of one of `valueOptions`; nil at `--` or the end.
    static func nextWord(_ arguments: [String], from start: Int) -> Int? {
        var index = start
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return nil }
            if argument.hasPrefix("-"), argument != "-" {
                index += valueOptions.contains(argument) || argument == "--generate-completion-script" ? 2 : 1
                continue
            }
            return index
        }
        return nil
    }

    static func name(of command: any ParsableCommand.Type) -> String {
        command.configuration.commandName ?? command._commandName
    }

    static func subcommand(named word: String, of command: any ParsableCommand.Type) -> (any ParsableCommand.Type)? {
        command.configuration.subcommands.first { name(of: $0) == word || $0.configuration.aliases.contains(word) }
    }

    static func unknown(_ word: String, in command: any ParsableCommand.Type, root: any ParsableCommand.Type, help: Bool) -> CommandFailure {
        let isRoot = ObjectIdentifier(command) == ObjectIdentifier(root)
        let names = command.configuration.subcommands.filter { $0.configuration.shouldDisplay }.map(name(of:)) + (isRoot ? ["help"] : [])
        let group = isRoot ? name(of: root) : "\(name(of: root)) \(name(of: command))"
        let suggestion = nearest(to: word, in: names).map { " Did you mean '\($0)'?" } ?? ""
        let listing = isRoot ? "'\(name(of: root)) help' lists the commands" : "'\(name(of: root)) help \(name(of: command))' lists them"
        return CommandFailure(
            message: "\(help ? "no help for '\(word)': it" : "'\(word)'") is not a \(group) command.\(suggestion) \(listing)",
            code: ExitStatus.usage)
    }
}
