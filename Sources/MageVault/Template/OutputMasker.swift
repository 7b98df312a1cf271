/// Replaces every occurrence of any secret value in a stream with `*****`, as 1Password's
/// `op run` does, so a program's logs never show a value. Streams arrive in arbitrary
/// chunks, so a chunk's tail that could be the start of a value is held back until the
/// next chunk (or the end) tells.
public struct OutputMasker: Sendable {
    /// What a value is replaced with.
    public static let mask = Array("*****".utf8)

    private let values: [[UInt8]]  // longest first, so the longest match wins
    private let firstBytes: Set<UInt8>
    private var pending: [UInt8] = []

    /// A masker for `values` (empty values are ignored).
    public init(values: [String]) {
        self.values = Set(values.map { Array($0.utf8) }.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
        firstBytes = Set(self.values.map { $0[0] })
    }

    /// Masks `chunk`; returns what can be written now.
    public mutating func feed(_ chunk: [UInt8]) -> [UInt8] {
        pending.append(contentsOf: chunk)
        return drain(final: false)
    }

    /// Masks and returns whatever was held back, at the end of the stream.
    public mutating func finish() -> [UInt8] { drain(final: true) }

    private mutating func drain(final: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pending.count)
        var index = 0
        scanning: while index < pending.count {
            let byte = pending[index]
            if firstBytes.contains(byte) {
                // Longest first: a shorter value matches only once no longer one still could.
                for value in values {
                    let available = pending.count - index
                    if available >= value.count {
                        if pending[index..<(index + value.count)].elementsEqual(value) {
                            out.append(contentsOf: Self.mask)
                            index += value.count
                            continue scanning
                        }
                    } else if !final, pending[index...].elementsEqual(value.prefix(available)) {
                        break scanning  // could still be this value: wait for more bytes
                    }
                }
            }
            out.append(byte)
            index += 1
        }
        pending.removeFirst(index)
        return out
    }
}

/// Maps secret names to environment variable names for `exec`.
public enum SecretVariables {
    /// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// The variable each secret becomes: `renames[name]`, else `prefix + name`. A result
    /// that is not a valid variable name, or that is one of the variables MageVault reads a
    /// key or passphrase from (`KeyVariable`), is refused with a message that says how to map it;
    /// so is a variable that changes what the program loads or runs (`isLoaderVariable`)
    /// unless `renames` names it explicitly.
    public static func variableNames(for names: [String], prefix: String = "", renames: [String: String] = [:]) throws(VaultError) -> [String: String] {
        var result: [String: String] = [:]
        for name in names {
            let variable = renames[name] ?? prefix + name
            guard isValidVariableName(variable) else {
                throw .invalidVariableName(secret: name, variable: variable)
            }
            guard !KeyVariable.contains(variable) else { throw .reservedVariableName(secret: name, variable: variable) }
            guard renames[name] != nil || !isLoaderVariable(variable) else { throw .loaderVariableName(secret: name, variable: variable) }
            result[name] = variable
        }
        return result
    }

    /// Variables that decide which code a program (or its dynamic loader, shell or
    /// interpreter) loads or runs: a secret that happens to be named `PATH` or `LD_PRELOAD`
    /// must not silently redirect the program `exec` starts. `LD_*` and `DYLD_*`, and these.
    static let loaderVariables: Set<String> = [
        "PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "GCONV_PATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS",
        "TMPDIR", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "NODE_OPTIONS", "NODE_PATH", "PERL5LIB",
        "PERL5OPT", "PERLLIB", "RUBYLIB", "RUBYOPT", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
    ]

    /// Whether `variable` is one of `loaderVariables`, or starts with `LD_` or `DYLD_`.
    public static func isLoaderVariable(_ variable: String) -> Bool {
        variable.hasPrefix("LD_") || variable.hasPrefix("DYLD_") || loaderVariables.contains(variable)
    }
}
