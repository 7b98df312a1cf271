extension Vault {
    /// The secrets to hand a program as environment variables: every visible name (or only
    /// `only`), resolved through the scopes like `get`, each under the variable name
    /// `renames[name]` or `prefix + name`. A name that does not make a valid variable is
    /// refused before anything runs, and so is a value holding a NUL byte (an environment
    /// string ends at the first NUL: the program would get the value cut short); a name in
    /// `only` that no scope has is an error too.
    public func environmentVariables(only: [String] = [], prefix: String = "", renames: [String: String] = [:])
        throws(VaultError) -> [(variable: String, value: String)]
    {
        let names = only.isEmpty ? try secrets().map(\.name) : only
        let variables = try SecretVariables.variableNames(for: names, prefix: prefix, renames: renames)
        var result: [(variable: String, value: String)] = []
        for name in names {
            guard let value = try secretValue(named: name) else { throw .noSuchSecret(name: name) }
            guard !value.utf8.contains(0) else { throw .valueNotExportable(secret: name) }
            result.append((variables[name]!, value))
        }
        return result
    }
}
