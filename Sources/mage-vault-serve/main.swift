import MageVault
import MageVaultCommandLine
import MageVaultServer

/// `mage-vault serve`, a program of its own: the HTTP stack stays out of the `mage-vault`
/// binary, whose every call (a cold `get` in a pipeline step) pays for its size at start.
/// `mage-vault serve ARGS` runs `mage-vault-serve ARGS` from the same folder.
struct ServeCommand: Command {
    static let spec = CommandSpec(
        name: "mage-vault serve",
        abstract: "Serve the Secrets page and a JSON API on 127.0.0.1 (Ctrl-C stops it).",
        discussion: """
            Prints a URL with a fresh random token; opening it signs the browser in with an \
            HttpOnly, SameSite=Strict cookie. Scripts send the token as Authorization: Bearer. \
            The page lists names (never values), creates a secret from a name and a value \
            (Enter saves) and deletes with a confirmation. API: GET/POST /api/secrets, \
            DELETE /api/secrets/NAME, with ?project=&pipeline= for a scope.
            """,
        options: OptionSpec.serve
    )

    let port: UInt16?
    let host: String
    let allowRemote: Bool
    let idleTimeout: Double
    let requestTimeout: Double
    let maxConnections: Int
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        if let given = parsed.value("port") {
            guard let port = UInt16(given) else { throw ValidationError("The value '\(given)' is invalid for '--port <port>'") }
            self.port = port
        } else {
            port = nil
        }
        host = parsed.value("host") ?? ListenAddress.defaultHost
        allowRemote = parsed.flag("allow-remote")
        if let given = parsed.value("idle-timeout") {
            guard let seconds = Double(given) else { throw ValidationError("The value '\(given)' is invalid for '--idle-timeout <seconds>'") }
            idleTimeout = seconds
        } else {
            idleTimeout = 30
        }
        if let given = parsed.value("request-timeout") {
            guard let seconds = Double(given) else {
                throw ValidationError("The value '\(given)' is invalid for '--request-timeout <seconds>'")
            }
            requestTimeout = seconds
        } else {
            requestTimeout = 20
        }
        maxConnections = parsed.integer("max-connections") ?? ConnectionLimits.standard.maximumConnections
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        guard idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout takes seconds between 0 and 86400, not \(idleTimeout)") }
        guard requestTimeout > 0, requestTimeout <= 86_400 else {
            throw ValidationError("--request-timeout takes seconds between 0 and 86400, not \(requestTimeout)")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections takes a count of at least 1, not \(maxConnections)") }
    }

    func run() throws {
        let address: ListenAddress
        do { address = try ListenAddress(host: host, port: port ?? ListenAddress.defaultPort, allowRemote: allowRemote) } catch {
            throw CommandFailure(message: error.description, code: ExitStatus.usage)
        }
        if !address.isLoopback {
            printError("""
                mage-vault: WARNING: listening on \(address.host), which other machines may reach. This is plain HTTP: \
                the token, the session cookie and every value typed into the page cross the network unencrypted. \
                Prefer `ssh -L \(address.port):127.0.0.1:\(address.port) this-host` and the default address.
                """)
        }
        let history = FileSystem.environmentVariable("MAGE_VAULT_HISTORY").flatMap { Int($0) } ?? Vault.defaultHistory
        let location = options.location
        let limits = ConnectionLimits(
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)), maximumConnections: maxConnections,
            requestTimeout: .milliseconds(Int64(requestTimeout * 1000)))
        let server = SecretsServer(location: location, address: address, history: history, searchesPorts: port == nil, limits: limits)
        do {
            try server.runUntilInterrupted { started in
                Output.standardOutput(line: """
                    Serving the secrets of \(location.dataDirectory) (\(location.scope) scope).
                    Open this URL; its token lets anyone who has it read names and change secrets:

                        \(started.url)

                    Press Ctrl-C to stop.
                    """)
            }
        } catch {
            throw CommandFailure(message: error.description, code: ExitStatus.io)
        }
        printError("mage-vault: stopped")
    }

}

runCommandLine(ServeCommand.entry, version: "0.1.0")
