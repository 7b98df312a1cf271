/// A command of the program: its spec, how it reads parsed values, and what it does.
public protocol Command {
    /// What the command takes, for the parser, help and completion.
    static var spec: CommandSpec { get }
    /// Reads the parsed values; throws `ValidationError` for a combination the spec cannot
    /// express (the message is shown with the command's usage, exit 2).
    init(_ parsed: ParsedArguments) throws
    /// Does the command's work.
    func run() throws
}

extension Command {
    /// `spec` with the way to run it: what a parent lists among its subcommands.
    public static var entry: CommandSpec {
        var spec = spec
        spec.perform = { try Self($0).run() }
        return spec
    }
}
