import MageVault
import MageVaultCommandLine

struct Exec: Command {
    static let spec = CommandSpec(
        name: "exec",
        abstract: "Run a program with the secrets added to its environment variables.",
        discussion: """
            mage-vault exec [--only NAME…] [--prefix P] [--map NAME=VAR…] [--mask] -- COMMAND ARGS…

            Every visible secret (resolved like 'get': pipeline, then project, then global), \
            or only those named, becomes an environment variable; values never appear on a \
            command line. mage-vault replaces itself with the program (execve), so exit \
            status, streams and signals are the program's own. With --mask it stays as the \
            parent instead and replaces any secret value the program prints on standard \
            output or error with *****, passing signals on and exiting as the program did.
            """,
        arguments: [ArgumentSpec("command", help: "The program and its arguments, after --.", kind: .postTerminator)],
        options: [
            OptionSpec("only", help: "Only these secrets (default: every visible one).", takesUpToNextOption: true),
            OptionSpec("prefix", help: "Put this before every variable name (DB_PASSWORD → P + DB_PASSWORD)."),
            OptionSpec("map", valueName: "name=VAR", help: "Give a secret another variable name.", isRepeatable: true),
            .flag("mask", help: "Stay as the parent and mask secret values in the program's output."),
        ]
    )

    let only: [String]
    let prefix: String
    let map: [String]
    let mask: Bool
    let command: [String]
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        only = parsed.values("only")
        prefix = parsed.value("prefix") ?? ""
        map = parsed.values("map")
        mask = parsed.flag("mask")
        command = parsed.words("command")
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the program to run after --: mage-vault exec -- COMMAND ARGS…") }
        for entry in map where !entry.contains("=") { throw ValidationError("--map takes name=VARIABLE, not '\(entry)'") }
    }

    func run() throws {
        let renames = Dictionary(map.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }, uniquingKeysWith: { _, last in last })
        let vault = try options.openForReading()
        let variables = try vault.environmentVariables(only: only, prefix: prefix, renames: renames)
        printWarnings(of: vault)
        if mask {
            let ending = try ProgramRunner.runMasked(command: command, adding: variables, masking: variables.map(\.value))
            ProgramRunner.end(like: ending)
        }
        let failure = ProgramRunner.replaceProcess(command: command, adding: variables)
        throw CommandFailure(message: failure.message, code: failure.status)
    }
}
