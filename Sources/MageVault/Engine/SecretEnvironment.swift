extension Vault {
    /// The secrets to hand a program as environment variables: every visible name (or only
    /// `only`), resolved through the scopes like `get`, each under the variable name
    /// `renames[name]` or `prefix + name`. A name that does not make a valid variable is
    /// refused before anything runs, and so is a value holding a NUL byte (an environment
    /// string ends at the first NUL: the program would get the value cut short); a name in
    /// `only` that no scope has is an error too, as is a rename of a name that is not passed
    /// (a typo must not pass silently). A secret none of whose records opens is left out, as
    /// `secrets()` leaves it out, and named in `warnings`.
    public func environmentVariables(only: [String] = [], prefix: String = "", renames: [String: String] = [:])
        throws(VaultError) -> [(variable: String, value: String)]
    {
        var names = only
        if only.isEmpty {
            names = try secrets().map(\.name)
        }
        let passed = Set(names)
        if let unmatched = renames.keys.sorted().first(where: { !passed.contains($0) }) {
            // Names only (no value is opened) to tell a typo from a secret --only leaves out.
            let visible = only.isEmpty ? false : try secrets().contains { $0.name == unmatched }
            throw .unmatchedMapping(name: unmatched, leftOutByOnly: visible)
        }
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
