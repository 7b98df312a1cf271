/// Help screens and usage lines rendered from a `CommandSpec`, in ArgumentParser's layout
/// (OVERVIEW, USAGE, ARGUMENTS, OPTIONS, SUBCOMMANDS; names in a column, wrapped at 80), so
/// users and the README see what they saw before the tool had its own parser.
public enum HelpText {
    /// Lines are shorter than 80 characters, as ArgumentParser wraps them.
    static let width = 79
    /// Where the help of an option, argument or subcommand starts.
    static let column = 26

    /// The help screen of the last command of `path` (which starts at the root), ending
    /// with a newline.
    public static func text(for path: [CommandSpec]) -> String {
        let command = path[path.count - 1]
        let isRoot = path.count == 1
        var sections: [String] = []
        var overview = wrap("OVERVIEW: " + command.abstract, width: width).joined(separator: "\n")
        if !command.discussion.isEmpty {
            overview += "\n\n" + lines(of: command.discussion).flatMap { wrap($0, width: width) }.joined(separator: "\n")
        }
        sections.append(overview)
        sections.append("USAGE: " + usage(of: path))
        let arguments = command.arguments.filter(\.isShown)
        if !arguments.isEmpty {
            sections.append("ARGUMENTS:\n" + arguments.map { entry("<\($0.name)>", $0.help) }.joined(separator: "\n"))
        }
        var options = command.options
        if command.takesLocationOptions, command.perform != nil || isRoot { options += OptionSpec.location }
        var lines = options.map { entry(label(of: $0), describe($0)) }
        if !command.passthroughOptions.isEmpty {
            lines += command.passthroughOptions.map { entry(label(of: $0), describe($0)) }
        }
        if isRoot { lines.append(entry("--generate-completion-script <shell>", "Print a completion script for bash, zsh or fish.")) }
        lines.append(entry("--version", "Show the version."))
        lines.append(entry("-h, --help", "Show help information."))
        sections.append("OPTIONS:\n" + lines.joined(separator: "\n"))
        let subcommands = command.subcommands.filter { !$0.isHidden }
        if !subcommands.isEmpty {
            sections.append("SUBCOMMANDS:\n" + subcommands.map { entry($0.name, $0.abstract) }.joined(separator: "\n"))
            let group = path.dropFirst().map { $0.name + " " }.joined()
            sections.append("  See '\(path[0].name) help \(group)<subcommand>' for detailed help.")
            return sections.joined(separator: "\n\n") + "\n"
        }
        return sections.joined(separator: "\n\n") + "\n\n"
    }

    /// The usage line of the last command of `path` (without `USAGE: `): its spec's own
    /// when it has one, else its arguments, its options, the location options, in order.
    public static func usage(of path: [CommandSpec]) -> String {
        let command = path[path.count - 1]
        if let usage = command.usage { return usage }
        var parts = [path.map(\.name).joined(separator: " ")]
        let isRoot = path.count == 1
        if command.hasSubcommands {
            if isRoot, command.takesLocationOptions { parts += OptionSpec.location.map(usage(of:)) }
            return (parts + ["<subcommand>"]).joined(separator: " ")
        }
        parts += command.arguments.filter { $0.kind != .postTerminator && $0.isShown }.map(\.usage)
        parts += command.allOptions.map(usage(of:))
        parts += command.arguments.filter { $0.kind == .postTerminator }.map(\.usage)
        return parts.joined(separator: " ")
    }

    static func usage(of option: OptionSpec) -> String {
        let synopsis = option.synopsis + (option.isRepeatable ? " ..." : "")
        return option.isRequired ? synopsis : "[\(synopsis)]"
    }

    /// `-o, --output <file>` or `--json`.
    static func label(of option: OptionSpec) -> String {
        (option.short.map { "-\($0), " } ?? "") + option.synopsis
    }

    /// The option's help with its choices and default, as ArgumentParser adds them.
    static func describe(_ option: OptionSpec) -> String {
        var notes: [String] = []
        if case .choice(let choices) = option.value { notes.append("values: " + choices.joined(separator: ", ")) }
        if let defaultValue = option.defaultValue { notes.append("default: " + defaultValue) }
        return notes.isEmpty ? option.help : option.help + " (" + notes.joined(separator: "; ") + ")"
    }

    /// `  label                   help`, the help wrapped in its column (on the next line
    /// when the label reaches into it).
    static func entry(_ label: String, _ help: String) -> String {
        let lines = wrap(help, width: width - column)
        let indent = String(repeating: " ", count: column)
        let first = "  " + label
        let firstWidth = first.unicodeScalars.count
        var out: [String]
        if firstWidth + 2 > column {
            out = [first] + lines.map { indent + $0 }
        } else {
            out = [first + String(repeating: " ", count: column - firstWidth) + (lines.first ?? "")]
            out += lines.dropFirst().map { indent + $0 }
        }
        return out.joined(separator: "\n")
    }

    /// `text` broken at spaces into lines of at most `width` characters (a longer word
    /// stands alone on its line). It counts Unicode scalars, not Characters: every help text
    /// is one scalar per character, and grapheme breaking would cost each help screen a
    /// good part of a millisecond.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        var lineWidth = 0
        for (word, wordWidth) in words(of: text) {
            if lineWidth == 0 {
                line = word
                lineWidth = wordWidth
            } else if lineWidth + 1 + wordWidth <= width {
                line.append(" ")
                line.append(word)
                lineWidth += 1 + wordWidth
            } else {
                lines.append(line)
                line = word
                lineWidth = wordWidth
            }
        }
        if lineWidth > 0 || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// The words of `text` (split at spaces) with their widths.
    static func words(of text: String) -> [(String, Int)] {
        var words: [(String, Int)] = []
        var word = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            if scalar == " " {
                if count > 0 { words.append((String(word), count)) }
                word = String.UnicodeScalarView()
                count = 0
            } else {
                word.append(scalar)
                count += 1
            }
        }
        if count > 0 { words.append((String(word), count)) }
        return words
    }

    /// The lines of `text` (split at newlines, empty ones kept).
    static func lines(of text: String) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                lines.append(String(line))
                line = String.UnicodeScalarView()
            } else {
                line.append(scalar)
            }
        }
        lines.append(String(line))
        return lines
    }
}
