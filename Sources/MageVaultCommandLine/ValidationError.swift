/// A usage mistake found after parsing (a bad combination of options, a bad name): shown as
/// `Error: …` with the command's usage, exit 2. Never put a secret value in the message.
public struct ValidationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public let message: String

    /// A validation failure saying `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
