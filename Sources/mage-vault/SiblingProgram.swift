import MageVault
import MageVaultCommandLine

/// A program a subcommand hands itself over to: `serve` runs `mage-vault-serve`, installed
/// beside `mage-vault` (an HTTP stack would slow every start), and `migrate` runs
/// `mage_vault.migrate` in Mage's Python (see `Migrate`).
enum SiblingProgram {
    /// The subcommands that hand every argument after their word to their program. (Arrays,
    /// not sets: this runs at every start, and a `Set<String>` is a type the runtime would
    /// first have to look up, about a tenth of a cold `get`.)
    static let words = ["serve", "migrate"]

    /// `arguments` with location options given before `serve` or `migrate` (`mage-vault
    /// --data-dir X serve …`) moved after its word, where the program it runs reads them:
    /// the subcommand passes everything after its word through untouched.
    static func handingOver(_ arguments: [String]) -> [String] {
        let options = ["--data-dir", "--vault", "--key-file", "--project", "--pipeline"]
        var position = 0
        while position < arguments.count {
            let word = arguments[position]
            if words.contains(word) {
                guard position > 0 else { return arguments }
                return [word] + arguments[..<position] + arguments[(position + 1)...]
            }
            if let equals = word.firstIndex(of: "="), options.contains(String(word[..<equals])) {
                position += 1
            } else if options.contains(word) {
                position += 2
            } else {
                return arguments
            }
        }
        return arguments
    }

    /// Replaces this process with the program `name` from this binary's folder, given
    /// `arguments`; throws (exit 6) when it is missing or cannot be started.
    static func run(_ name: String, _ arguments: [String]) throws {
        let program = FileSystem.executableDirectory() + "/" + name
        guard FileSystem.exists(program) else {
            throw CommandFailure(
                message: "\(program) is missing: `make install` installs it beside mage-vault (or run `swift build --product \(name)`)",
                code: ExitStatus.io)
        }
        let failure = ProgramRunner.replaceProcess(command: [program] + arguments, adding: [])
        throw CommandFailure(message: failure.message, code: ExitStatus.io)
    }
}
