/// A command of a program as plain values: its name, its help, what it takes. The parser, the
/// help screens and the completion scripts all read it, so none of them needs reflection
/// (ArgumentParser builds the same model with Mirror at every start, which in a static
/// binary costs milliseconds of conformance lookups).
public struct CommandSpec: Sendable {
    /// The word that selects the command (the program's name for the root).
    public var name: String
    /// One line: what the command does (help's OVERVIEW, and its line in SUBCOMMANDS).
    public var abstract: String
    /// Paragraphs after the overview; a newline in it is kept, the rest is wrapped at 80.
    public var discussion: String
    /// The whole usage line, when the generated one would not say it right (for instance,
    /// options that are required for this command although the group declares them optional).
    public var usage: String?
    /// The positional arguments, in order.
    public var arguments: [ArgumentSpec]
    /// The command's own options, listed in help before the location options.
    public var options: [OptionSpec]
    /// Whether the location options (`--data-dir` …) are accepted and listed.
    public var takesLocationOptions: Bool
    /// The commands one level down (`git setup`), by name: each spec is built when asked for,
    /// so that a start builds the spec of the command it runs and no other.
    public var subcommandEntries: [Subcommand]
    /// Left out of help and completion.
    public var isHidden: Bool
    /// For a command that hands its words to another program (`serve`, `migrate`): the
    /// options that program takes, for help and completion only (never parsed here).
    public var passthroughOptions: [OptionSpec]
    /// Makes the command from parsed values and runs it; nil for a group, which only holds
    /// subcommands (set by `Command.entry`).
    public var perform: (@Sendable (ParsedArguments) throws -> Void)?

    /// A command called `name`; see the properties for the rest.
    public init(
        name: String, abstract: String, usage: String? = nil, discussion: String = "", arguments: [ArgumentSpec] = [],
        options: [OptionSpec] = [], takesLocationOptions: Bool = true, subcommands: [Subcommand] = [], isHidden: Bool = false,
        passthroughOptions: [OptionSpec] = []
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.usage = usage
        self.arguments = arguments
        self.options = options
        self.takesLocationOptions = takesLocationOptions
        self.subcommandEntries = subcommands
        self.isHidden = isHidden
        self.passthroughOptions = passthroughOptions
        self.perform = nil
    }

    /// The options this command accepts: its own, then the location options.
    public var allOptions: [OptionSpec] {
        takesLocationOptions ? options + OptionSpec.location : options
    }

    /// The option whose long name is `name` (without dashes), or nil.
    public func option(named name: String) -> OptionSpec? {
        allOptions.first { $0.name == name }
    }

    /// The option whose short name is `short`, or nil.
    public func option(short: Character) -> OptionSpec? {
        allOptions.first { $0.short == short }
    }

    /// The commands one level down, each spec built now (for help and completion).
    public var subcommands: [CommandSpec] { subcommandEntries.map { $0.spec() } }

    /// Whether the command is a group of subcommands.
    public var hasSubcommands: Bool { !subcommandEntries.isEmpty }

    /// The subcommand selected by `word` (its spec built now), or nil.
    public func subcommand(named word: String) -> CommandSpec? {
        subcommandEntries.first { $0.name == word }?.spec()
    }

    /// Whether an argument takes every word after the command's own word as it is
    /// (`serve`, `migrate`: another program parses them).
    public var passesThrough: Bool { arguments.contains { $0.kind == .passthrough } }

    /// The name of the argument that takes every word as it is (when `passesThrough`).
    var passthroughName: String { arguments.first { $0.kind == .passthrough }?.name ?? "" }
}

/// A subcommand as its parent lists it: its name, and how to build its spec.
public struct Subcommand: Sendable {
    /// The word that selects it; the same as its spec's name (a test checks every one).
    public let name: String
    /// Builds the spec.
    public let spec: @Sendable () -> CommandSpec

    /// The subcommand `name`, whose spec `spec` builds.
    public init(_ name: String, _ spec: @escaping @Sendable () -> CommandSpec) {
        self.name = name
        self.spec = spec
    }

    /// The command `command`, selected by `name` (its spec's name).
    public init<C: Command>(_ name: String, _ command: C.Type) {
        self.init(name) { C.entry }
    }
}

/// An option: `--name value`, `--name=value`, `-n value`, or a flag (`--json`, `-q`).
public struct OptionSpec: Sendable {
    /// What the option's value must be; the parser refuses anything else before a command runs.
    public enum Value: Sendable, Equatable {
        /// A flag: no value.
        case none
        /// Any text.
        case text
        /// A whole number.
        case integer
        /// One of these words.
        case choice([String])
    }

    /// The long name without its dashes (`data-dir`).
    public var name: String
    /// The one-letter name (`o` for `-o`), or nil.
    public var short: Character?
    /// The kind of value it takes.
    public var value: Value
    /// The value's name in help (`<file>`); the long name when nil.
    public var valueName: String?
    /// What it does (help's OPTIONS).
    public var help: String
    /// The default, shown in help.
    public var defaultValue: String?
    /// Whether it may be given more than once (each value is kept).
    public var isRepeatable: Bool
    /// Whether it takes every word after it up to the next option (`exec --only a b`).
    public var takesUpToNextOption: Bool
    /// Whether the command refuses to run without it.
    public var isRequired: Bool
    /// Whether its value is a file (completion offers files).
    public var isFile: Bool

    /// An option `--name` taking a value of kind `value` (`.none` for a flag).
    public init(
        _ name: String, short: Character? = nil, value: Value = .text, valueName: String? = nil, help: String,
        defaultValue: String? = nil, isRepeatable: Bool = false, takesUpToNextOption: Bool = false, isRequired: Bool = false,
        isFile: Bool = false
    ) {
        self.name = name
        self.short = short
        self.value = value
        self.valueName = valueName
        self.help = help
        self.defaultValue = defaultValue
        self.isRepeatable = isRepeatable || takesUpToNextOption
        self.takesUpToNextOption = takesUpToNextOption
        self.isRequired = isRequired
        self.isFile = isFile
    }

    /// A flag `--name` (no value).
    public static func flag(_ name: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name, short: short, value: .none, help: help)
    }

    /// Whether it is a flag (takes no value).
    public var isFlag: Bool { value == .none }

    /// `--name <value>` (`--name` for a flag), as help and errors show it.
    public var synopsis: String {
        isFlag ? "--\(name)" : "--\(name) <\(valueName ?? name)>"
    }

    /// `-o <file>` or `--output <file>`: the spelling the user typed, for an error.
    func synopsis(as spelled: String) -> String {
        isFlag ? spelled : "\(spelled) <\(valueName ?? name)>"
    }

    /// Where the environment and its log are: accepted by every command, before its word too.
    public static let location: [OptionSpec] = [
        OptionSpec("data-dir", valueName: "dir", help: "The data directory (default: $MAGE_DATA_DIR, else ~/.mage_data).", isFile: true),
        OptionSpec(
            "vault", valueName: "file", help: "A log file shared on purpose (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log).",
            isFile: true),
        OptionSpec(
            "key-file", valueName: "file",
            help: "The scope's key file (default: $MAGE_VAULT_KEY_FILE, else <scope>/vault.key; $MAGE_VAULT_KEY, the key's base64, comes first).",
            isFile: true),
        OptionSpec("project", valueName: "project", help: "A project scope (secrets/projects/<project>/)."),
        OptionSpec("pipeline", valueName: "pipeline", help: "A pipeline scope of --project (…/pipelines/<pipeline>/)."),
    ]

    /// What `mage-vault-serve` takes (its own parser reads them; `mage-vault serve` lists
    /// them for help and completion).
    public static let serve: [OptionSpec] = [
        OptionSpec("port", value: .integer, valueName: "port", help: "The port (default: 6790, or the next free one; 0 picks any free port)."),
        OptionSpec(
            "host", valueName: "address", help: "The address to listen on; other than loopback needs --allow-remote.",
            defaultValue: "127.0.0.1"),
        .flag("allow-remote", help: "Listen on an address other machines can reach (plain HTTP: read the warning)."),
        OptionSpec("idle-timeout", valueName: "seconds", help: "Close a connection idle (no request under way) this many seconds (default: 30)."),
        OptionSpec(
            "request-timeout", valueName: "seconds",
            help: "Close a connection whose request has not all arrived this many seconds after its first byte (default: 20)."),
        OptionSpec("max-connections", value: .integer, valueName: "count", help: "Serve at most this many connections at once; more wait (default: 256)."),
    ]

    /// What `python -m mage_vault.migrate` takes (its own parser reads them).
    public static let migrate: [OptionSpec] = [
        OptionSpec("data-dir", valueName: "dir", help: "Mage's data dir (default: $MAGE_DATA_DIR, else ~/.mage_data, as Mage).", isFile: true),
        OptionSpec("database", valueName: "file-or-url", help: "Mage's database (default: Mage's own setting, $MAGE_DATABASE_CONNECTION_URL).", isFile: true),
        OptionSpec("vault", valueName: "file", help: "The vault's log (default: $MAGE_VAULT_FILE, else <data dir>/secrets/vault.log).", isFile: true),
        OptionSpec("repo", valueName: "repo-path", help: "Mage's project (default: $MAGE_REPO_PATH, as Mage).", isFile: true),
        OptionSpec("rename", valueName: "old=new", help: "Move a secret under another name (a name the vault refuses).", isRepeatable: true),
        .flag("dry-run", help: "List what would move (scope, name, size) and write nothing."),
    ]

    /// `-q, --quiet`, for the commands that draw progress (`ProgressOptions`).
    public static let quiet = OptionSpec.flag("quiet", short: "q", help: "Show no progress (it is shown only on a terminal anyway).")
    /// `--history N`: versions compaction keeps per secret (compact, backup).
    public static let history = OptionSpec(
        "history", value: .integer, help: "Versions kept per secret (default: $MAGE_VAULT_HISTORY, else 10).")
}

/// A positional argument.
public struct ArgumentSpec: Sendable {
    /// How many words it takes, and which.
    public enum Kind: Sendable, Equatable {
        /// Exactly one word.
        case required
        /// One word or none.
        case optional
        /// Every remaining word (none or more).
        case array
        /// Every word after `--` (exec's program and its arguments).
        case postTerminator
        /// Every word or option nothing else claims; never shown in help, and never repeated
        /// in an error, since it may be a secret value typed by mistake (`set NAME VALUE`).
        case unrecognized
        /// Every word after the command's own, options included, untouched (for a program
        /// that parses them itself).
        case passthrough
    }

    /// Its name (`name` shows as `<name>`).
    public var name: String
    /// What it is (help's ARGUMENTS).
    public var help: String
    /// How many words it takes.
    public var kind: Kind
    /// Whether it names a file (completion offers files).
    public var isFile: Bool

    /// An argument `<name>` of kind `kind`.
    public init(_ name: String, help: String, kind: Kind = .required, isFile: Bool = false) {
        self.name = name
        self.help = help
        self.kind = kind
        self.isFile = isFile
    }

    /// `<name>`, `[<name>]` or `[<name> ...]` as the usage line shows it.
    var usage: String {
        switch kind {
        case .required: "<\(name)>"
        case .optional: "[<\(name)>]"
        case .array, .passthrough: "[<\(name)> ...]"
        case .postTerminator: "-- <\(name)> ..."
        case .unrecognized: ""
        }
    }

    /// Whether help lists it.
    var isShown: Bool { kind != .unrecognized }
}
