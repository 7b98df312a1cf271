/// What the parser found for one command: option values by long name and argument words by
/// argument name, already checked against the command's spec (integers are integers, choices
/// are among the choices). Asking for a name the spec does not declare is a programming error
/// (it stops the program; `CommandLineParserTests` runs every command so that none does).
public struct ParsedArguments: Sendable {
    /// The command these values are for.
    public let command: CommandSpec
    /// Each option's values in the order given (a flag: one empty string per time it was given).
    var options: [String: [String]]
    /// Each argument's words.
    var arguments: [String: [String]]

    /// Values for `command` (the parser makes them; tests may too).
    public init(command: CommandSpec, options: [String: [String]] = [:], arguments: [String: [String]] = [:]) {
        self.command = command
        self.options = options
        self.arguments = arguments
    }

    /// Whether the flag `--name` was given.
    public func flag(_ name: String) -> Bool {
        declared(name)
        return options[name] != nil
    }

    /// The value of `--name` (the last one when it was given more than once), or nil.
    public func value(_ name: String) -> String? {
        declared(name)
        return options[name]?.last
    }

    /// Every value of `--name`, in order.
    public func values(_ name: String) -> [String] {
        declared(name)
        return options[name] ?? []
    }

    /// The whole-number value of `--name` (the parser checked it is one), or nil.
    public func integer(_ name: String) -> Int? {
        value(name).flatMap { Int($0) }
    }

    /// The word of the required argument `name`.
    public func argument(_ name: String) -> String {
        declaredArgument(name)
        return arguments[name]?.first ?? ""
    }

    /// The word of the optional argument `name`, or nil.
    public func optionalArgument(_ name: String) -> String? {
        declaredArgument(name)
        return arguments[name]?.first
    }

    /// The words of the argument `name` (an array, post-terminator, unrecognized or passthrough one).
    public func words(_ name: String) -> [String] {
        declaredArgument(name)
        return arguments[name] ?? []
    }

    private func declared(_ name: String) {
        precondition(command.option(named: name) != nil, "'\(command.name)' declares no option --\(name)")
    }

    private func declaredArgument(_ name: String) {
        precondition(command.arguments.contains { $0.name == name }, "'\(command.name)' declares no argument <\(name)>")
    }
}
