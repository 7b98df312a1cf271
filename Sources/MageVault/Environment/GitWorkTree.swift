#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What MageVault writes into a git work tree, and how: ignore rules that keep keys, their
/// temporaries and the lock file out of commits, and the merge driver and diff text
/// converter for the log. Paths are quoted for each reader (the shell that runs a driver,
/// `.gitattributes`, `.gitignore`), and what git makes of a rule is checked with git itself.
public enum GitWorkTree {
    /// What `setup` did, one line each, for the user to read.
    public struct SetupReport: Sendable {
        /// The lines to print.
        public let lines: [String]
    }

    /// `mage-vault git setup`: registers the merge driver (`merge.mage-vault`) and the diff
    /// text converter (`diff.mage-vault`) in the work tree's `.git/config` with this data
    /// dir and log, makes sure `.gitignore` keeps keys, key temporaries and the lock out, and
    /// marks the log in `.gitattributes`, then asks `git check-attr` whether the mark really
    /// applies. Refuses, changing nothing, when `currentDirectory` is not in a work tree or the
    /// log is not inside it; fails (saying what to fix) when git does not apply the mark.
    ///
    /// The drivers run `program` (see `driverProgram`): git hands a driver to the shell with
    /// the user's `PATH`, where a bare `mage-vault` may not be found.
    public static func setup(_ location: EnvironmentLocation, currentDirectory: String, program: String = "mage-vault") throws(VaultError) -> SetupReport {
        guard let root = Environment.gitWorkTree(containing: EnvironmentLocation.absolute(currentDirectory)) else {
            throw .git("not inside a git work tree: run 'mage-vault git setup' in your checkout")
        }
        guard location.logFile.hasPrefix(root + "/") else {
            throw .git("the log \(location.logFile) is not inside the checkout \(root); point --vault or --data-dir at it")
        }
        let relative = String(location.logFile.dropFirst(root.count + 1))
        let pattern = try attributesPattern(relative)
        var lines: [String] = []
        for gitignore in try Environment.ignoreKeyFilesInGit(location) {
            lines.append("added the key files, their temporaries and the lock file to \(gitignore): the log may be committed, keys never")
        }
        let options = "--data-dir \(shellQuoted(location.dataDirectory)) --vault \(shellQuoted(location.logFile))"
        let command = program == "mage-vault" ? program : shellQuoted(program)
        let settings = [
            ("merge.mage-vault.name", "MageVault vault log"),
            // git expands %O, %A, %B (and %% to %) in a driver, then hands it to sh.
            ("merge.mage-vault.driver", "\(command.replacingPercent()) git merge %O %A %B " + options.replacingPercent()),
            ("diff.mage-vault.textconv", "\(command) git diff-text \(options)"),
        ]
        for (key, value) in settings {
            guard ProgramRunner.status(of: ["git", "-C", root, "config", key, value]) == 0 else {
                throw .git("git config \(key) failed (is git installed?)")
            }
            lines.append("set \(key) in \(root)/.git/config")
        }
        let attributes = root + "/.gitattributes"
        // -text: no end-of-line conversion (core.autocrlf would otherwise write CRLF lines a
        // reader calls damaged).
        let line = "\(pattern) merge=mage-vault diff=mage-vault -text"
        // The access file (team access) merges as the union of both sides' lines: each line
        // stands alone, and a line forged on a branch grants nothing (see `Access`).
        let accessLine = "\(try attributesPattern(relative + ".access")) merge=union -text"
        let existing = (try? FileSystem.readSmallFile(attributes, maximumBytes: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let present = existing.split(separator: "\n")
        let alreadyThere = present.contains { $0 == line }
        let missing = [line, accessLine].filter { wanted in !present.contains { $0 == wanted } }
        if !missing.isEmpty {
            let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + missing.map { $0 + "\n" }.joined()
            try system { () throws(SystemError) in try FileSystem.replaceAtomically(attributes, mode: 0o644, contents: Array(text.utf8)) }
        }
        let applied = attributeValues(of: relative, in: root)
        guard applied["merge"] == "mage-vault", applied["diff"] == "mage-vault", applied["text"] == "unset" else {
            throw .git(
                "\(attributes) has the line for \(relative), but git applies merge=\(applied["merge"] ?? "unspecified") diff=\(applied["diff"] ?? "unspecified") to it "
                    + "(a later line, or a .gitattributes nearer to the log, overrides it): fix that rule and run 'mage-vault git setup' again; until then git merges the log as text")
        }
        lines.append(
            alreadyThere
                ? "\(attributes) already marks \(relative)"
                : "marked \(relative) in \(attributes) (commit it, so every clone merges the log safely)")
        if program != "mage-vault" {
            lines.append(
                "note: 'mage-vault' on PATH is not this program, so git runs \(program) for merges and diffs; "
                    + "run 'mage-vault git setup' again if you move it")
        }
        return SetupReport(lines: lines)
    }

    /// The program git's drivers should run: `mage-vault` when `searchPath` (a `PATH`)
    /// finds `executable` itself under that name, else `executable`'s absolute path. A
    /// driver that names a program git cannot find fails every merge of the log as a plain
    /// conflict, with no word of why.
    public static func driverProgram(executable: String, searchPath: String?) -> String {
        let target = FileSystem.resolvedPath(executable)
        for directory in (searchPath ?? "").split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/mage-vault"
            guard access(candidate, X_OK) == 0 else { continue }
            return FileSystem.resolvedPath(candidate) == target ? "mage-vault" : executable
        }
        return executable
    }

    /// `text` as one word for `sh`: in single quotes, each `'` written as `'\''`.
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingEvery("'", with: "'\\''") + "'"
    }

    /// A `.gitattributes` pattern that matches exactly the path `relative` (to the work
    /// tree's top): glob characters escaped, and in C-style double quotes (which git reads
    /// since 2.x) when it holds anything but letters, digits and `._/-`.
    public static func attributesPattern(_ relative: String) throws(VaultError) -> String {
        guard !relative.isEmpty else { throw .git("an empty path cannot be marked in .gitattributes") }
        let plain = relative.utf8.allSatisfy { isPlain($0) || $0 == UInt8(ascii: "/") }
        if plain { return relative }
        var glob = globEscaped(relative)
        if glob.hasPrefix("!") { glob = "\\" + glob }
        var quoted = "\""
        for scalar in glob.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let octal = String(scalar.value, radix: 8)
                quoted += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// A `.gitignore` pattern that matches exactly `relative` (a path from the work tree's
    /// top, without the leading `/`), glob characters and spaces escaped; `.gitignore` has no
    /// quoting, so a path with a line break cannot be written and is refused.
    public static func ignorePattern(_ relative: String) throws(VaultError) -> String {
        guard !relative.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            throw .git("\(relative.debugDescription) holds a line break, which a .gitignore rule cannot name; use a data dir without one (nothing was created)")
        }
        return "/" + globEscaped(relative).replacingEvery(" ", with: "\\ ")
    }

    /// The values git gives to the `merge` and `diff` attributes of `relative` in the work tree `root`.
    static func attributeValues(of relative: String, in root: String) -> [String: String] {
        guard let result = ProgramRunner.output(of: ["git", "-C", root, "check-attr", "-z", "merge", "diff", "text", "--", relative]), result.status == 0
        else { return [:] }
        // -z: path NUL attribute NUL value NUL, for each attribute.
        let fields = result.output.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var values: [String: String] = [:]
        var index = 0
        while index + 2 < fields.count {
            values[fields[index + 1]] = fields[index + 2]
            index += 3
        }
        return values
    }

    /// `text` with the characters a gitignore or gitattributes glob treats specially escaped.
    static func globEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "\\" || character == "*" || character == "?" || character == "[" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }
}

extension String {
    /// `self` with every `%` doubled, as git's driver expansion reads `%%` as `%`.
    fileprivate func replacingPercent() -> String {
        replacingEvery("%", with: "%%")
    }

    /// `self` with every `character` written as `replacement` (characters compared as
    /// `Character`s, as the standard library's `replacing` compares them). Written out here:
    /// `replacing` is in `_StringProcessing`, which the program does not link (see Package.swift).
    fileprivate func replacingEvery(_ character: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for each in self {
            if each == character { result += replacement } else { result.append(each) }
        }
        return result
    }
}
