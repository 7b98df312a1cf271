import ArgumentParser
import MageVault
import MageVaultCommandLine

struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a secret's value (read from standard input, a prompt, or a file).",
        discussion: """
            The value is never taken from the command line. On a terminal, set asks for it \
            without echoing. From a pipe or --from-file, the bytes are stored exactly as \
            given, a trailing newline included (so `printf '%s' "$V" | mage-vault set NAME`, \
            or pass --strip-newline). Values are UTF-8 text of at most 1 MiB; an empty value \
            (Mage allows them) needs --allow-empty, so that an empty pipe stores nothing by accident.
            """
    )

    @Argument(help: "The secret's name (1-255 bytes, no control characters).")
    var name: String

    /// Whatever follows the name (a value typed as an argument, or an unknown option, which
    /// may be a value starting with '-'): refused without repeating it.
    @Argument(parsing: .allUnrecognized, help: .private)
    var value: [String] = []

    @Option(name: .customLong("from-file"), help: ArgumentHelp("Read the value from this file.", valueName: "file"))
    var fromFile: String?

    @Flag(name: .customLong("strip-newline"), help: "Drop one trailing newline (\\n or \\r\\n) from a piped or file value.")
    var stripNewline = false

    @Flag(name: .customLong("allow-empty"), help: "Store an empty value (Mage allows them); without it an empty value is refused.")
    var allowEmpty = false

    @OptionGroup var options: LocationOptions

    func validate() throws {
        do { _ = try SecretName(name) } catch { throw ValidationError("\(error)") }
        // ArgumentParser would say "Unexpected argument '<the value>'": the value on the screen again.
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
        if !given.prompted, given.endedWithNewline, !stripNewline {
            printError("mage-vault: note: the value ends with a newline, stored as given; pass --strip-newline to drop it")
        }
    }
}
