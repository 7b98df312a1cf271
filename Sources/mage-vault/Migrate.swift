import MageVault
import MageVaultCommandLine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mage-vault migrate`: hands over to `mage_vault.migrate` in Mage's own Python, which reads
/// Mage's database through Mage's own connection (SQLite, PostgreSQL, MySQL: whatever
/// `MAGE_DATABASE_CONNECTION_URL` says), decrypts each scope with Mage's own code, and writes
/// through the C interface. Nothing of Mage's (a database driver, Fernet) is in this binary.
struct Migrate: Command {
    static let spec = CommandSpec(
        name: "migrate",
        abstract: "Carry Mage's secrets (from its database, read with Mage's own code) into the vault.",
        discussion: """
            Runs `python -m mage_vault.migrate` in Mage's Python: $MAGE_VAULT_PYTHON, else the \
            python3 beside this binary (the virtualenv the wheel is installed in), else python3 \
            on PATH. That Python needs mage-ai and the mage-vault wheel. `mage-vault migrate \
            --help` lists its options.
            """,
        arguments: [ArgumentSpec("arguments", help: "Options for mage_vault.migrate (below).", kind: .passthrough)],
        takesLocationOptions: false,
        passthroughOptions: OptionSpec.migrate
    )

    /// Imports the module, or says which Python lacked what, and how to run it instead.
    static let bootstrap = """
        import sys
        try:
            from mage_vault.migrate import main
        except ImportError as error:
            sys.stderr.write("mage-vault: migrate runs in Mage's Python, with the mage-vault wheel installed there; "
                             "%s cannot import it (%s). Install the wheel in Mage's environment (pip install "
                             "mage_vault-*.whl), or set MAGE_VAULT_PYTHON to Mage's Python\\n" % (sys.executable, error))
            sys.exit(6)
        sys.exit(main(sys.argv[1:]))
        """

    let arguments: [String]

    init(_ parsed: ParsedArguments) {
        arguments = parsed.words("arguments")
    }

    /// The Python to run: `$MAGE_VAULT_PYTHON`, else `python3` beside this binary, else
    /// `python3` (found on PATH).
    static func python() -> String {
        if let chosen = getenv("MAGE_VAULT_PYTHON").map({ String(cString: $0) }), !chosen.isEmpty { return chosen }
        let beside = FileSystem.executableDirectory() + "/python3"
        return FileSystem.exists(beside) ? beside : "python3"
    }

    func run() throws {
        let python = Self.python()
        let failure = ProgramRunner.replaceProcess(command: [python, "-c", Self.bootstrap] + arguments, adding: [])
        throw CommandFailure(message: "\(failure.message) (set MAGE_VAULT_PYTHON to Mage's Python)", code: ExitStatus.io)
    }
}
