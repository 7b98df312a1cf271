import MageVault
import MageVaultCommandLine

/// Runs `mage-vault-serve`, installed beside this binary, with the same arguments: the web
/// server lives in a program of its own so that its HTTP stack does not slow every start of
/// this one.
struct Serve: Command {
    static let spec = CommandSpec(
        name: "serve",
        abstract: "Serve the Secrets page and a JSON API on 127.0.0.1.",
        discussion: "Runs mage-vault-serve from the folder this binary is in.",
        arguments: [ArgumentSpec("arguments", help: "Options for mage-vault-serve (below), and the location options.", kind: .passthrough)],
        takesLocationOptions: false,
        passthroughOptions: OptionSpec.serve + OptionSpec.location
    )

    let arguments: [String]

    init(_ parsed: ParsedArguments) {
        arguments = parsed.words("arguments")
    }

    func run() throws {
        try SiblingProgram.run("mage-vault-serve", arguments)
    }
}
