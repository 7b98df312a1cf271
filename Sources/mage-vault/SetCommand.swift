import MageVault
import MageVaultCommandLine

/// `set`: named SetCommand so that it does not shadow the standard library's `Set`.
struct SetCommand: Command {
    static let spec = CommandSpec(
        name: "set",
        abstract: "Set a secret's value (read from standard input, a prompt, or a file).",
        discussion: """
            The value is never taken from the command line. On a terminal, set asks for it \
            without echoing. From a pipe or --from-file, the bytes are stored exactly as \
            given, a trailing newline included (so `printf '%s' "$V" | mage-vault set NAME`, \
            or pass --strip-newline). Values are UTF-8 text of at most 1 MiB; an empty value \
            (Mage allows them) needs --allow-empty, so that an empty pipe stores nothing by accident.
            """,
        arguments: [
            ArgumentSpec("name", help: "The secret's name (1-255 bytes, no control characters)."),
            // Whatever follows the name (a value typed as an argument, or an unknown option, which
            // may be a value starting with '-'): refused without repeating it.
            ArgumentSpec("value", help: "", kind: .unrecognized),
        ],
        options: [
            OptionSpec("from-file", valueName: "file", help: "Read the value from this file.", isFile: true),
            .flag("strip-newline", help: "Drop one trailing newline (\\n or \\r\\n) from a piped or file value."),
            .flag("allow-empty", help: "Store an empty value (Mage allows them); without it an empty value is refused."),
        ]
    )

    let name: String
    let value: [String]
    let fromFile: String?
    let stripNewline: Bool
    let allowEmpty: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        name = parsed.argument("name")
        value = parsed.words("value")
        fromFile = parsed.value("from-file")
        stripNewline = parsed.flag("strip-newline")
        allowEmpty = parsed.flag("allow-empty")
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        do { _ = try SecretName(name) } catch { throw ValidationError("\(error)") }
        // A mistyped option (`--from-flie`) is named as one, with the option meant: a word that
        // close to an option of set is a typo, not a value, so repeating it shows no secret.
        if let word = value.first, word.hasPrefix("--"),
            let meant = CommandWords.nearest(to: String(word.prefix { $0 != "=" }), in: Self.spec.allOptions.map { "--" + $0.name })
        {
            throw ValidationError("unknown option '\(word.prefix { $0 != "=" })'; did you mean '\(meant)'? Nothing was written")
        }
        // A generic parser would say "Unexpected argument '<the value>'": the value on the screen again.
        guard value.isEmpty else {
            throw ValidationError(
                "set takes a name and no value: a value is never an argument (command lines show up in ps, shell history and CI logs), "
                    + "and what followed the name is not repeated here. Nothing was written. "
                    + "Pipe the value: printf '%s' \"$VALUE\" | mage-vault set \(name); or pass --from-file FILE; "
                    + "or run 'mage-vault set \(name)' on a terminal to be asked for it without echo")
        }
    }

    func run() throws {
        // Read and checked before anything is opened: a refused value creates no uuid, key or log.
        let given = try SecretInput.readValue(
            file: fromFile, prompt: "Value for \(name) (not echoed): ", stripNewline: stripNewline, allowEmpty: allowEmpty)
        let vault = try options.openVault(create: true)
        try given.bytes.withUnsafeBytes { try vault.setSecret(named: name, value: $0) }
        printWarnings(of: vault)
        if !given.prompted, given.endedWithNewline, !stripNewline {
            printError("mage-vault: note: the value ends with a newline, stored as given; pass --strip-newline to drop it")
        }
    }
}
