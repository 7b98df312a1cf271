import MageVault
import MageVaultCommandLine

struct Render: Command {
    static let spec = CommandSpec(
        name: "render",
        abstract: "Render a Mage config file: replace mage_secret_var, env_var and json_value.",
        discussion: """
            Replaces {{ mage_secret_var('name') }}, {{ env_var('NAME') }} and \
            {{ json_value(<expression>, 'key.path') }} (single or double quotes, any spacing, \
            several per line, inside longer strings) and leaves every other byte as it is. \
            Secrets resolve like 'get': pipeline, then project, then global. A missing secret \
            or unset variable is an error naming it and its line, and nothing is written, \
            unless --allow-missing (then it renders empty) or --missing none (then it renders \
            None with a warning, as Mage does). mage_secret_var with Mage's full signature \
            ('name', 'project', project_uuid='P'; 'name', entity='pipeline', \
            project_uuid='P', pipeline_uuid='Q') reads exactly that scope, as Mage does. Other expressions are left as \
            they are with a warning, or refused with --strict. -o creates the output with \
            mode 0600, atomically: it holds secrets.
            """,
        arguments: [ArgumentSpec("file", help: "The config file ('-' for standard input).", isFile: true)],
        options: [
            OptionSpec("output", short: "o", valueName: "file", help: "Write here (mode 0600) instead of standard output.", isFile: true),
            .flag("allow-missing", help: "Render a missing secret or unset variable as empty (--missing empty)."),
            OptionSpec(
                "missing", value: .choice(MissingPolicy.allCases.map { $0.rawValue }), valueName: "policy",
                help: "What a missing secret or unset variable becomes: fail (default), empty, or none (Mage's None, with a warning)."),
            .flag("strict", help: "Refuse expressions other than mage_secret_var, env_var and json_value."),
        ]
    )

    let file: String
    let output: String?
    let allowMissing: Bool
    let missing: MissingPolicy?
    let strict: Bool
    let options: LocationOptions

    init(_ parsed: ParsedArguments) throws {
        file = parsed.argument("file")
        output = parsed.value("output")
        allowMissing = parsed.flag("allow-missing")
        missing = parsed.value("missing").flatMap(MissingPolicy.init(rawValue:))
        strict = parsed.flag("strict")
        options = try LocationOptions(parsed)
        try validate()
    }

    func validate() throws {
        if allowMissing, let missing, missing != .empty { throw ValidationError("--allow-missing and --missing \(missing.rawValue) disagree; pass one") }
    }

    func run() throws {
        let limit = 64 << 20
        let raw = file == "-" ? try SecretInput.readStandardInput(limit: limit) : try SecretInput.readFile(file, limit: limit)
        guard let text = raw.withUnsafeBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw CommandFailure(message: "\(file) is not UTF-8 text", code: ExitStatus.usage)
        }
        var vault: Vault? = nil  // opened on the first secret: a template of env_var alone needs no vault
        let variables = FileSystem.environmentVariables()
        let rendering: ConfigTemplate.Rendering
        do {
            rendering = try ConfigTemplate(text: text).render(
                missing: missing ?? (allowMissing ? .empty : .fail), strict: strict,
                secret: { name in
                    if vault == nil { vault = try options.openForReading() }
                    return try vault!.secretValue(named: name)
                },
                scopedSecret: { name, scope in
                    // Mage reads exactly the named scope; a scope the vault does not have holds nothing.
                    let location = scope == options.location.scope ? options.location : options.location.with(scope: scope)
                    guard Environment.exists(location) else { return nil }
                    return try Vault(environment: Environment.open(location, create: false)).secretValue(named: name)
                },
                variable: { variables[$0] })
        } catch let error as TemplateError {
            let code = switch error {
            case .unsupportedExpression, .keyVariable, .invalidScope: ExitStatus.usage
            default: ExitStatus.notFound
            }
            throw CommandFailure(message: "\(file): \(error); nothing was written", code: code)
        }
        for warning in rendering.warnings { printError("mage-vault: warning: \(file): \(warning)") }
        let bytes = Array(rendering.output.utf8)
        if let output {
            do { try FileSystem.replaceAtomically(output, mode: 0o600, contents: bytes) } catch { throw VaultError.system(error) }
        } else {
            bytes.withUnsafeBytes { Output.standardOutput($0) }
        }
    }
}
