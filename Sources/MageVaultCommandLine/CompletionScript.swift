/// Shell completion scripts generated from a `CommandSpec` tree: commands, subcommands and
/// option names, the word after an option being its value (files for a file option), the
/// location options before the subcommand's word as well as after it.
public enum CompletionScript {
    /// A shell that `--generate-completion-script` writes for.
    public enum Shell: String, CaseIterable, Sendable {
        /// bash (with or without the bash-completion package).
        case bash
        /// zsh's completion system (`compinit`).
        case zsh
        /// fish.
        case fish
    }

    /// The script for `shell` completing `root`'s command line.
    public static func text(for root: CommandSpec, shell: Shell) -> String {
        switch shell {
        case .bash: bash(root)
        case .zsh: zsh(root)
        case .fish: fish(root)
        }
    }

    /// One command's completion facts, by its path below the root ("" for the root, "git merge").
    struct Node {
        var path: String
        var command: CommandSpec
        var subcommands: [String]
        var options: [String]
        var valueOptions: [String]
        var fileOptions: [String]
        var takesFiles: Bool
    }

    static func nodes(_ root: CommandSpec) -> [Node] {
        var result: [Node] = []
        func visit(_ command: CommandSpec, _ path: [String]) {
            let isRoot = path.isEmpty
            // Location options are accepted everywhere, so their values are skipped everywhere.
            let accepted = command.options + command.passthroughOptions + OptionSpec.location
            let listed = command.takesLocationOptions || isRoot ? accepted : command.options + command.passthroughOptions
            var options = listed.flatMap { option in ["--" + option.name] + (option.short.map { ["-\($0)"] } ?? []) }
            options += ["-h", "--help"] + (isRoot ? ["--version", "--generate-completion-script"] : [])
            var valueOptions = accepted.filter { !$0.isFlag }.flatMap { option in ["--" + option.name] + (option.short.map { ["-\($0)"] } ?? []) }
            if isRoot { valueOptions.append("--generate-completion-script") }
            let fileOptions = accepted.filter(\.isFile).flatMap { option in ["--" + option.name] + (option.short.map { ["-\($0)"] } ?? []) }
            let subcommands = command.subcommands.filter { !$0.isHidden }.map(\.name) + (isRoot ? ["help"] : [])
            result.append(
                Node(
                    path: path.joined(separator: " "), command: command, subcommands: subcommands,
                    options: command.passesThrough && command.passthroughOptions.isEmpty ? [] : options,
                    valueOptions: valueOptions, fileOptions: fileOptions, takesFiles: command.arguments.contains { $0.isFile }))
            for child in command.subcommands where !child.isHidden { visit(child, path + [child.name]) }
        }
        visit(root, [])
        return result
    }

    /// The shell function's name: `_mage-vault` (bash and zsh accept the dash).
    static func function(_ root: CommandSpec) -> String { "_" + root.name }
    /// A prefix for helper names that every shell accepts.
    static func helper(_ root: CommandSpec) -> String { "__" + root.name.replacingDashes() }

    /// The `case` that sets `subcommands`, `options`, `values`, `files` and `file_arguments`
    /// for a command path (bash and zsh share it).
    static func specFunction(_ root: CommandSpec) -> String {
        var lines = ["\(helper(root))_spec() {", "    case \"$1\" in"]
        for node in nodes(root) {
            lines.append("        '\(node.path)')")
            lines.append("            subcommands='\(node.subcommands.joined(separator: " "))'")
            lines.append("            options='\(node.options.joined(separator: " "))'")
            lines.append("            values='\(node.valueOptions.joined(separator: " "))'")
            lines.append("            files='\(node.fileOptions.joined(separator: " "))'")
            lines.append("            file_arguments=\(node.takesFiles ? 1 : 0) ;;")
        }
        lines.append("        *) subcommands=''; options=''; values=''; files=''; file_arguments=0 ;;")
        lines += ["    esac", "}", "", "\(helper(root))_choices() {", "    case \"$1 $2\" in"]
        // The words an option with a fixed set of values takes (`import --format env|json`).
        for node in nodes(root) {
            for option in node.command.options + node.command.passthroughOptions + (node.path.isEmpty ? [] : OptionSpec.location) {
                guard case .choice(let choices) = option.value else { continue }
                let spellings = ["--" + option.name] + (option.short.map { ["-\($0)"] } ?? [])
                for spelling in spellings { lines.append("        '\(node.path) \(spelling)') echo '\(choices.joined(separator: " "))' ;;") }
            }
        }
        lines += ["    esac", "}"]
        return lines.joined(separator: "\n")
    }

    static func bash(_ root: CommandSpec) -> String {
        let spec = helper(root) + "_spec"
        return """
            #!/bin/bash
            # Completion for \(root.name): source it, or put it in bash-completion's folder.
            # Generated by '\(root.name) --generate-completion-script bash'.

            \(specFunction(root))

            \(function(root))() {
                local cur="${COMP_WORDS[COMP_CWORD]}" prev="" command_path="" word i skip=0
                local subcommands options values files file_arguments
                (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
                \(spec) ""
                for ((i = 1; i < COMP_CWORD; i++)); do
                    word="${COMP_WORDS[i]}"
                    if (( skip )); then skip=0; continue; fi
                    case "$word" in
                        --) COMPREPLY=($(compgen -c -- "$cur")); return ;;
                        --*=*) ;;
                        -*) [[ " $values " == *" $word "* ]] && skip=1 ;;
                        *)
                            if [[ " $subcommands " == *" $word "* ]]; then
                                command_path="${command_path:+$command_path }$word"
                                \(spec) "$command_path"
                            fi ;;
                    esac
                done
                if [[ -n "$prev" && " $files " == *" $prev "* ]]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
                if [[ -n "$prev" && " $values " == *" $prev "* ]]; then COMPREPLY=($(compgen -W "$(\(helper(root))_choices "$command_path" "$prev")" -- "$cur")); return; fi
                if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$options" -- "$cur")); return; fi
                if [[ -n "$subcommands" ]]; then COMPREPLY=($(compgen -W "$subcommands" -- "$cur")); return; fi
                if (( file_arguments )); then COMPREPLY=($(compgen -f -- "$cur")); else COMPREPLY=(); fi
            }

            complete -F \(function(root)) \(root.name)

            """
    }

    static func zsh(_ root: CommandSpec) -> String {
        let spec = helper(root) + "_spec"
        return """
            #compdef \(root.name)
            # Completion for \(root.name): put it in a folder of $fpath as _\(root.name).
            # Generated by '\(root.name) --generate-completion-script zsh'.

            \(specFunction(root))

            \(function(root))() {
                local command_path="" word i skip=0 subcommands options values files file_arguments
                local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"
                \(spec) ""
                for ((i = 2; i < CURRENT; i++)); do
                    word="${words[i]}"
                    if (( skip )); then skip=0; continue; fi
                    case "$word" in
                        --) _command_names -e; return ;;
                        --*=*) ;;
                        -*) [[ " $values " == *" $word "* ]] && skip=1 ;;
                        *)
                            if [[ " $subcommands " == *" $word "* ]]; then
                                command_path="${command_path:+$command_path }$word"
                                \(spec) "$command_path"
                            fi ;;
                    esac
                done
                if (( CURRENT > 2 )) && [[ " $files " == *" $prev "* ]]; then _files; return; fi
                if (( CURRENT > 2 )) && [[ " $values " == *" $prev "* ]]; then
                    local choices="$(\(helper(root))_choices "$command_path" "$prev")"
                    if [[ -n "$choices" ]]; then compadd -- ${=choices}; else _message 'a value'; fi
                    return
                fi
                if [[ "$cur" == -* ]]; then compadd -- ${=options}; return; fi
                if [[ -n "$subcommands" ]]; then compadd -- ${=subcommands}; return; fi
                (( file_arguments )) && _files
            }

            # Autoloaded from $fpath, the file is the function: complete now. Sourced, register it.
            if [[ "${funcstack[1]}" = \(function(root)) ]]; then
                \(function(root)) "$@"
            else
                compdef \(function(root)) \(root.name)
            fi

            """
    }

    static func fish(_ root: CommandSpec) -> String {
        let name = root.name, helper = helper(root)
        var lines = [
            "# Completion for \(name): put it in ~/.config/fish/completions/\(name).fish.",
            "# Generated by '\(name) --generate-completion-script fish'.",
            "",
            "function \(helper)_subcommands",
            "    switch \"$argv[1]\"",
        ]
        let all = nodes(root)
        for node in all where !node.subcommands.isEmpty {
            lines.append("        case '\(node.path)'")
            lines.append("            printf '%s\\n' \(node.subcommands.map(fishQuoted).joined(separator: " "))")
        }
        let skipped = OptionSpec.location.map { "'--\($0.name)'" }.joined(separator: " ")
        lines += [
            "    end",
            "end",
            "",
            "# The command path (\"\", \"get\", \"git merge\") of the line being completed.",
            "function \(helper)_path",
            "    set -l tokens (commandline -opc)",
            "    set -l command_path ''",
            "    set -l skip 0",
            "    for token in $tokens[2..-1]",
            "        if test $skip = 1",
            "            set skip 0",
            "            continue",
            "        end",
            "        switch $token",
            "            case '--'",
            "                break",
            "            case \(skipped)",
            "                set skip 1",
            "            case '-*'",
            "            case '*'",
            "                if contains -- $token (\(helper)_subcommands \"$command_path\")",
            "                    set command_path (string trim -- \"$command_path $token\")",
            "                end",
            "        end",
            "    end",
            "    echo $command_path",
            "end",
            "",
            "function \(helper)_at",
            "    set -l current (\(helper)_path)",
            "    test \"$current\" = \"$argv[1]\"",
            "end",
            "",
            "complete -c \(name) -f",
        ]
        for option in OptionSpec.location {
            lines.append("complete -c \(name) -l \(option.name) \(option.isFile ? "-r -F" : "-x") -d \(fishQuoted(option.help))")
        }
        for node in all {
            let condition = "-n \(fishQuoted("\(helper)_at '\(node.path)'"))"
            for child in node.command.subcommands where !child.isHidden {
                lines.append("complete -c \(name) \(condition) -a \(fishQuoted(child.name)) -d \(fishQuoted(child.abstract))")
            }
            if node.path.isEmpty {
                lines.append("complete -c \(name) \(condition) -a help -d 'Show help for a command.'")
                lines.append("complete -c \(name) \(condition) -l version -d 'Show the version.'")
                lines.append("complete -c \(name) \(condition) -l generate-completion-script -x -a 'bash zsh fish' -d 'Print a completion script.'")
            }
            guard !node.command.passesThrough || !node.command.passthroughOptions.isEmpty else { continue }
            for option in node.command.options + node.command.passthroughOptions {
                var line = "complete -c \(name) \(condition) -l \(option.name)"
                if let short = option.short { line += " -s \(short)" }
                // -x: a value, not a file (fish would offer files for -r alone); -r -F: a file.
                if !option.isFlag { line += option.isFile ? " -r -F" : " -x" }
                if case .choice(let choices) = option.value { line += " -a \(fishQuoted(choices.joined(separator: " ")))" }
                lines.append(line + " -d \(fishQuoted(option.help))")
            }
            if node.takesFiles { lines.append("complete -c \(name) \(condition) -F") }
        }
        lines.append("complete -c \(name) -s h -l help -d 'Show help information.'")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` in fish's single quotes.
    static func fishQuoted(_ text: String) -> String {
        var quoted = "'"
        for character in text {
            if character == "\\" || character == "'" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "'"
    }
}

extension String {
    /// The string with `-` as `_`, for shell identifiers.
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
