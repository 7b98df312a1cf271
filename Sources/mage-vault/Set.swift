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

    @OptionGroup var options: LocationOptions

    @Argument(help: "The secret's name (1-255 bytes, no control characters).")
    var name: String

    @Option(name: .customLong("from-file"), help: ArgumentHelp("Read the value from this file.", valueName: "file"))
    var fromFile: String?

    @Flag(name: .customLong("strip-newline"), help: "Drop one trailing newline (\\n or \\r\\n) from a piped or file value.")
    var stripNewline = false

    @Flag(name: .customLong("allow-empty"), help: "Store an empty value (Mage allows them); without it an empty value is refused.")
    var allowEmpty = false

    func validate() throws {
        do { _ = try SecretName(name) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let limit = SecretValue.maximumByteCount
        let raw: SecureBytes
        let prompted: Bool
        if let fromFile {
            raw = try SecretInput.readFile(fromFile, limit: limit)
            prompted = false
        } else if SecretInput.standardInputIsTerminal {
            raw = try SecretInput.prompt("Value for \(name) (not echoed): ", limit: limit)
            prompted = true
        } else {
            raw = try SecretInput.readStandardInput(limit: limit)
            prompted = false
        }
        let endsWithNewline = raw.withUnsafeBytes { $0.last == UInt8(ascii: "\n") }
        func stored(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            var value = bytes
            if stripNewline, value.last == UInt8(ascii: "\n") {
                value = UnsafeRawBufferPointer(rebasing: value.dropLast())
                if value.last == UInt8(ascii: "\r") { value = UnsafeRawBufferPointer(rebasing: value.dropLast()) }
            }
            return value
        }
        // Before anything is opened or created: a refused command changes nothing.
        if !allowEmpty, raw.withUnsafeBytes({ stored($0).isEmpty }) {
            throw CommandFailure(
                message: "the value is empty; nothing was stored (pass --allow-empty to store an empty value, as Mage allows)",
                code: ExitStatus.usage)
        }
        let vault = try options.openVault(create: true)
        try raw.withUnsafeBytes { bytes in try vault.setSecret(named: name, value: stored(bytes)) }
        if !prompted, endsWithNewline, !stripNewline {
            printError("mage-vault: note: the value ends with a newline, stored as given; pass --strip-newline to drop it")
        }
    }
}
