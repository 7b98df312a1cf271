import Foundation
import Testing

@testable import MageVault

/// A git repository in a temporary folder with a vault log committed in it, `mage-vault`
/// on the PATH for git's merge driver and textconv.
struct Repository {
    let directory = TemporaryDirectory()
    var root: String { directory.file("project") }
    var dev: String { root + "/mage_data" }  // the project's own data dir (development)
    var log: String { dev + "/secrets/vault.log" }
    var prod: String { directory.file("prod-data") }  // production: its own data dir, the checkout's log

    var environment: [String: String] {
        let bin = FileSystem.parentDirectory(of: toolPath)
        return ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]
    }

    @discardableResult
    func git(_ arguments: String...) throws -> ToolResult {
        try run("/usr/bin/env", ["git", "-C", root] + arguments, environment: environment)
    }

    func set(_ name: String, _ value: String, production: Bool = false) throws {
        let data = production ? prod : dev
        let result = try run(["set", name, "--data-dir", data, "--vault", log], input: Array(value.utf8))
        #expect(result.status == 0, "\(result.error)")
    }

    func get(_ name: String, production: Bool = false) throws -> String? {
        let result = try run(["get", name, "--data-dir", production ? prod : dev, "--vault", log])
        return result.status == 0 ? result.text : nil
    }

    /// A repository whose first commit holds a log with a development and a production secret.
    static func make(setup: Bool = true) throws -> Repository {
        let repository = Repository()
        try FileManager.default.createDirectory(atPath: repository.root, withIntermediateDirectories: true)
        try repository.git("init", "-q", "-b", "main")
        #expect(try run(["init", "--data-dir", repository.dev]).status == 0)
        try repository.set("db_password", "dev made-up 1")
        try repository.set("api_token", "dev token made-up")
        try repository.set("db_password", "prod made-up 1", production: true)
        if setup {
            let result = try run(["git", "setup", "--data-dir", repository.dev], environment: repository.environment, directory: repository.root)
            #expect(result.status == 0, "\(result.error)")
        }
        try repository.git("add", "-A")
        try repository.git("commit", "-q", "-m", "base")
        return repository
    }

}

@Suite("git: merge driver, union merges, readable diffs", .serialized)
struct GitTests {
    @Test("git setup registers the driver and the textconv, idempotently; keys stay out of the commit")
    func setup() throws {
        let repository = try Repository.make()
        #expect(try repository.git("config", "merge.mage-vault.driver").text.hasPrefix("mage-vault git merge %O %A %B"))
        #expect(try repository.git("config", "diff.mage-vault.textconv").text.hasPrefix("mage-vault git diff-text"))
        #expect(String(decoding: try contents(repository.root + "/.gitattributes"), as: UTF8.self) == "mage_data/secrets/vault.log merge=mage-vault diff=mage-vault -text\nmage_data/secrets/vault.log.access merge=union -text\n")
        let again = try run(["git", "setup", "--data-dir", repository.dev], environment: repository.environment, directory: repository.root)
        #expect(again.text.contains("already marks"))
        #expect(!again.text.contains("note:"))
        let committed = try repository.git("ls-files").text
        #expect(committed.contains("mage_data/secrets/vault.log"))
        #expect(!committed.contains("vault.key"))
    }

    @Test("git setup where PATH does not find mage-vault registers this program's path, says so, and merges still detect conflicts")
    func setupOffPath() throws {
        let repository = try Repository.make(setup: false)
        let bare = ["PATH": "/usr/bin:/bin"]
        let setup = try run(["git", "setup", "--data-dir", repository.dev], environment: bare, directory: repository.root)
        #expect(setup.status == 0, "\(setup.error)")
        let program = FileSystem.resolvedPath(toolPath)
        #expect(setup.text.contains("note: 'mage-vault' on PATH is not this program, so git runs \(program) for merges and diffs"), "\(setup.text)")
        #expect(try repository.git("config", "merge.mage-vault.driver").text.hasPrefix("'\(program)' git merge %O %A %B"))
        #expect(try repository.git("config", "diff.mage-vault.textconv").text.hasPrefix("'\(program)' git diff-text"))
        try repository.git("add", "-A")
        try repository.git("commit", "-q", "-m", "setup")
        try repository.git("checkout", "-q", "-b", "feature")
        try repository.set("db_password", "feature made-up")
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try repository.set("db_password", "main made-up")
        try repository.git("commit", "-q", "-am", "main")
        // git runs the driver with a PATH that has no mage-vault: it runs anyway, and says why the merge stops.
        var environment = repository.environment
        environment["PATH"] = "/usr/bin:/bin"
        let merge = try run("/usr/bin/env", ["git", "-C", repository.root, "merge", "feature", "-m", "merge"], environment: environment)
        #expect(merge.status != 0)
        #expect(merge.error.contains("'db_password' in global: changed on both sides to different values"), "\(merge.error)")
    }

    @Test("set in a work tree, then git setup: git add -A stages no key, no lock file, no key temporary")
    func keysLocksAndTemporariesStayOut() throws {
        let repository = Repository()
        try FileManager.default.createDirectory(atPath: repository.root, withIntermediateDirectories: true)
        try repository.git("init", "-q", "-b", "main")
        try repository.set("db_password", "dev made-up")  // creates the uuid and the key: no init
        let project = try run(["set", "warehouse", "--project", "sales", "--data-dir", repository.dev], input: Array("made-up".utf8))
        #expect(project.status == 0, "\(project.error)")
        // What a writer killed while writing a key file (or a rekey's vault.key.new) leaves.
        for name in [".vault.key.tmp-0123456789abcdef", ".vault.key.new.tmp-0123456789abcdef"] {
            try write(Array(repeating: 7, count: 32), to: repository.dev + "/secrets/" + name)
        }
        let setup = try run(["git", "setup", "--data-dir", repository.dev], directory: repository.root)
        #expect(setup.status == 0, "\(setup.error)")
        try repository.git("add", "-A")
        let staged = try repository.git("diff", "--cached", "--name-only").text.split(separator: "\n").map(String.init)
        #expect(staged.contains("mage_data/secrets/vault.log"))
        let forbidden = staged.filter { $0.contains("vault.key") || $0.hasSuffix(".lock") || $0.contains(".tmp-") }
        #expect(forbidden.isEmpty, "staged: \(forbidden)")
    }

    @Test("git setup quotes a hostile data dir name: the merge driver takes it as a name and never runs it")
    func hostileDataDirectoryName() throws {
        let repository = Repository()
        let data = repository.root + "/md'$(id>pwned)'x"
        try FileManager.default.createDirectory(atPath: repository.root, withIntermediateDirectories: true)
        try repository.git("init", "-q", "-b", "main")
        func set(_ name: String, _ value: String) throws {
            let result = try run(["set", name, "--data-dir", data], input: Array(value.utf8))
            #expect(result.status == 0, "\(result.error)")
        }
        try set("base", "made-up base")
        let setup = try run(["git", "setup", "--data-dir", data], directory: repository.root)
        #expect(setup.status == 0, "\(setup.error)")
        try repository.git("add", "-A")
        try repository.git("commit", "-q", "-m", "base")
        try repository.git("checkout", "-q", "-b", "feature")
        try set("on_feature", "made-up feature")
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try set("on_main", "made-up main")
        try repository.git("commit", "-q", "-am", "main")
        let merge = try repository.git("merge", "-q", "--no-edit", "feature")
        #expect(merge.status == 0, "\(merge.error)")
        let created = (FileManager.default.subpaths(atPath: repository.directory.path) ?? []).filter { $0.hasSuffix("pwned") && !$0.contains("$(") }
        #expect(created.isEmpty, "the data dir's name ran as a command: \(created)")
        #expect(try run(["get", "on_feature", "--data-dir", data]).text == "made-up feature")
        #expect(try run(["get", "on_main", "--data-dir", data]).text == "made-up main")
    }

    @Test("git setup marks a log whose path has a space so that git applies it, and never says marked when git does not")
    func dataDirectoryWithASpace() throws {
        let repository = Repository()
        let data = repository.root + "/mage data"
        try FileManager.default.createDirectory(atPath: repository.root, withIntermediateDirectories: true)
        try repository.git("init", "-q", "-b", "main")
        let set = try run(["set", "db_password", "--data-dir", data], input: Array("made-up".utf8))
        #expect(set.status == 0, "\(set.error)")
        let setup = try run(["git", "setup", "--data-dir", data], directory: repository.root)
        #expect(setup.status == 0, "\(setup.error)")
        #expect(setup.text.contains("marked"))
        let applied = try repository.git("check-attr", "merge", "diff", "--", "mage data/secrets/vault.log").text
        #expect(applied.contains("merge: mage-vault"), "\(applied)")
        #expect(applied.contains("diff: mage-vault"), "\(applied)")
        // A .gitattributes nearer to the log overrides the mark: setup says so instead of "marked".
        try write(Array("vault.log merge=text\n".utf8), to: data + "/secrets/.gitattributes")
        let overridden = try run(["git", "setup", "--data-dir", data], directory: repository.root)
        #expect(overridden.status == 2)
        #expect(overridden.error.contains("git applies merge=text"), "\(overridden.error)")
        #expect(!overridden.text.contains("marked"))
    }

    @Test("Two branches change secrets in two environments; the merge keeps both, even for the environment whose key is absent")
    func cleanMerge() throws {
        let repository = try Repository.make()
        try repository.git("checkout", "-q", "-b", "feature")
        try repository.set("api_token", "feature token made-up")
        try repository.set("warehouse", "feature warehouse made-up", production: true)
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try repository.set("new_on_main", "main made-up")
        try repository.set("db_password", "prod made-up 2", production: true)
        try repository.git("commit", "-q", "-am", "main")
        // This machine lacks production's key while merging.
        let prodKey = repository.prod + "/secrets/vault.key"
        let savedKey = try contents(prodKey)
        try FileManager.default.removeItem(atPath: prodKey)
        let merged = try repository.git("merge", "-q", "feature", "-m", "merge")
        #expect(merged.status == 0, "\(merged.error)")
        #expect(try repository.get("api_token") == "feature token made-up")
        #expect(try repository.get("new_on_main") == "main made-up")
        #expect(try repository.get("db_password") == "dev made-up 1")
        try write(savedKey, to: prodKey)
        chmod(prodKey, 0o600)
        #expect(try repository.get("db_password", production: true) == "prod made-up 2")
        #expect(try repository.get("warehouse", production: true) == "feature warehouse made-up")
        #expect(try run(["verify", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
    }

    @Test("A name changed on both sides, or changed against deleted, fails the merge naming it, never its value; --theirs settles it")
    func conflicts() throws {
        let repository = try Repository.make()
        try repository.git("checkout", "-q", "-b", "feature")
        try repository.set("db_password", "feature made-up secret")
        try #require(try run(["delete", "api_token", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try repository.set("db_password", "main made-up secret")
        try repository.set("api_token", "main changed token")
        try repository.git("commit", "-q", "-am", "main")
        let failed = try repository.git("merge", "feature", "-m", "merge")
        #expect(failed.status != 0)
        #expect(failed.error.contains("'db_password' in global: changed on both sides to different values"))
        #expect(failed.error.contains("'api_token' in global: changed on one side, deleted on the other"))
        #expect(!failed.error.contains("made-up secret") && !failed.text.contains("made-up secret"))
        // What git leaves is a valid log in which the newest write wins.
        #expect(try run(["verify", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
        #expect(try repository.get("db_password") == "main made-up secret")
        try repository.git("merge", "--abort")
        let driver = "mage-vault git merge %O %A %B --data-dir '\(repository.dev)' --vault '\(repository.log)' --theirs db_password --ours api_token"
        let settled = try repository.git("-c", "merge.mage-vault.driver=\(driver)", "merge", "-q", "feature", "-m", "merge")
        #expect(settled.status == 0, "\(settled.error)")
        #expect(try repository.get("db_password") == "feature made-up secret")
        #expect(try repository.get("api_token") == "main changed token")
    }

    @Test("--ours/--theirs naming no conflict fails the merge saying so; the README's line keeps the driver's --data-dir and settles it")
    func settlingNamesAConflict() throws {
        let repository = try Repository.make()
        try repository.git("checkout", "-q", "-b", "feature")
        try repository.set("db_password", "feature made-up secret")
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try repository.set("db_password", "main made-up secret")
        try repository.git("commit", "-q", "-am", "main")
        let conflict = try repository.git("merge", "feature", "-m", "merge")
        #expect(conflict.error.hasPrefix("mage-vault: the vault log has 1 conflict(s):\n  'db_password' in global: changed on both sides to different values\n"), "\(conflict.error)")
        try repository.git("merge", "--abort")
        // As the README says it, in a shell without $MAGE_DATA_DIR: the registered driver, plus a choice.
        var environment = repository.environment
        environment["HOME"] = repository.directory.file("home")  // no ~/.mage_data to fall back on
        func merge(_ choice: String) throws -> ToolResult {
            let line = "git -c merge.mage-vault.driver=\"$(git config merge.mage-vault.driver) \(choice)\" merge -q feature -m merge"
            return try run("/bin/sh", ["-c", line], environment: environment, directory: repository.root)
        }
        let typo = try merge("--theirs db_pasword")
        #expect(typo.status != 0)
        #expect(typo.error.contains("mage-vault: --theirs names 'db_pasword', which is not in conflict in this merge (the conflicts: 'db_password'); nothing was merged"), "\(typo.error)")
        try repository.git("merge", "--abort")
        // The README's old line drops --data-dir: the driver finds no environment, and says so.
        let old = try run("/bin/sh", ["-c", "git -c merge.mage-vault.driver=\"mage-vault git merge %O %A %B --theirs db_password\" merge -q feature -m merge"],
                          environment: environment, directory: repository.root)
        #expect(old.status != 0)
        #expect(old.error.contains("no MageVault environment in \(environment["HOME"]!)/.mage_data"), "\(old.error)")
        try repository.git("merge", "--abort")
        let settled = try merge("--theirs db_password")
        #expect(settled.status == 0, "\(settled.error)")
        #expect(try repository.get("db_password") == "feature made-up secret")
    }

    @Test("The README's CI line reads the committed log with $MAGE_VAULT_KEY and the checkout's data dir, on a machine with no home data dir")
    func continuousIntegrationLine() throws {
        let repository = try Repository.make()
        let key = try contents(repository.dev + "/secrets/vault.key")
        // A fresh clone, as CI checks it out: no key file, no home data dir.
        let clone = repository.directory.file("clone")
        #expect(try run("/usr/bin/env", ["git", "clone", "-q", repository.root, clone], environment: repository.environment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: clone + "/mage_data/secrets/vault.key"))
        var ci = repository.environment
        ci["HOME"] = repository.directory.file("ci-home")
        ci["MAGE_VAULT_KEY"] = Data(key).base64EncodedString()
        let script = "printf %s \"$db_password\""
        let line = "MAGE_DATA_DIR=mage_data mage-vault exec -- sh -c '\(script)'"
        let result = try run("/bin/sh", ["-c", line], environment: ci, directory: clone)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.text == "dev made-up 1")
        // The line the README showed before: no data dir, so no uuid to read the log with.
        let before = try run("/bin/sh", ["-c", "mage-vault exec --vault mage_data/secrets/vault.log -- sh -c '\(script)'"], environment: ci, directory: clone)
        #expect(before.status == 1)
        #expect(before.error.contains("no MageVault environment in \(ci["HOME"]!)/.mage_data"))
    }

    @Test("A compaction on one branch and appends on the other merge cleanly")
    func compactionAgainstAppends() throws {
        let repository = try Repository.make()
        for version in 2...6 { try repository.set("db_password", "dev made-up \(version)") }
        try repository.git("commit", "-q", "-am", "versions")
        try repository.git("checkout", "-q", "-b", "compacted")
        #expect(try run(["compact", "--history", "1", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
        try repository.git("commit", "-q", "-am", "compact")
        try repository.git("checkout", "-q", "main")
        try repository.set("appended", "after the fork")
        try repository.git("commit", "-q", "-am", "append")
        let merged = try repository.git("merge", "-q", "compacted", "-m", "merge")
        #expect(merged.status == 0, "\(merged.error)")
        #expect(try repository.get("db_password") == "dev made-up 6")
        #expect(try repository.get("appended") == "after the fork")
        #expect(try repository.get("db_password", production: true) == "prod made-up 1")
    }

    @Test("Without the driver, git's merge=union still yields a valid log whose newest writes win")
    func unionMerge() throws {
        let repository = try Repository.make(setup: false)
        try write(Array("mage_data/secrets/vault.log merge=union\n".utf8), to: repository.root + "/.gitattributes")
        try repository.git("add", "-A")
        try repository.git("commit", "-q", "-m", "union")
        try repository.git("checkout", "-q", "-b", "feature")
        try repository.set("db_password", "feature made-up")
        try repository.set("feature_only", "made-up f")
        try repository.git("commit", "-q", "-am", "feature")
        try repository.git("checkout", "-q", "main")
        try repository.set("main_only", "made-up m")
        try repository.set("db_password", "main made-up, written last")
        try repository.git("commit", "-q", "-am", "main")
        let merged = try repository.git("merge", "-q", "feature", "-m", "merge")
        #expect(merged.status == 0, "\(merged.error)")
        #expect(try run(["verify", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
        #expect(try repository.get("feature_only") == "made-up f")
        #expect(try repository.get("main_only") == "made-up m")
        #expect(try repository.get("db_password") == "main made-up, written last")
    }

    @Test("git diff and git log -p show which secrets changed per environment, counts where the key is absent, never values")
    func readableDiffs() throws {
        let repository = try Repository.make()
        try FileManager.default.removeItem(atPath: repository.prod + "/secrets/vault.key")
        try repository.set("db_password", "dev made-up 2")
        try repository.set("added", "made-up added")
        try #require(try run(["delete", "api_token", "--data-dir", repository.dev, "--vault", repository.log]).status == 0)
        let diff = try repository.git("diff").text
        #expect(diff.contains("+  added "))
        #expect(diff.contains("-  api_token    set"))
        #expect(diff.contains("+  api_token    deleted"))
        #expect(diff.contains("+  db_password  set"))
        #expect(diff.contains("(no key here): 1 records, 1 live secrets, 0 deleted"))
        #expect(!diff.contains("made-up"))
        try repository.git("commit", "-q", "-am", "change")
        let history = try repository.git("log", "-p").text
        #expect(history.contains("added"))
        #expect(!history.contains("made-up"))
    }

    @Test("A key file committed past .gitignore is never used: not when git writes it over a member's own (named, nothing read or written, no advice to chmod it), nor as a key switch to finish when it is a .new file with records under its key")
    func keyFilesCommittedToGit() throws {
        let repository = try Repository.make()
        let ownKey = try contents(repository.dev + "/secrets/vault.key")
        let log = try contents(repository.log)
        // Someone who can push, with no key of the team's: a key of his own committed in a clone.
        let clone = repository.directory.file("hostile")
        #expect(try run("/usr/bin/env", ["git", "clone", "-q", repository.root, clone], environment: repository.environment).status == 0)
        func hostile(_ arguments: String...) throws {
            let result = try run("/usr/bin/env", ["git", "-C", clone] + arguments, environment: repository.environment)
            #expect(result.status == 0, "\(result.error)")
        }
        // Pulled as a careful user pulls: umask 077, so git checks files out private (0600).
        func pull() throws {
            let result = try run("/bin/sh", ["-c", "umask 077 && git pull -q --no-rebase \"$0\" HEAD", clone], environment: repository.environment, directory: repository.root)
            #expect(result.status == 0, "\(result.error)")
        }
        let hisKey = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        // First a pending key switch: `vault.key.new` holding his key, and a record under it.
        let scratch = repository.directory.file("scratch")
        try FileManager.default.createDirectory(atPath: scratch + "/secrets", withIntermediateDirectories: true)
        try write(try contents(repository.dev + "/secrets/uuid"), to: scratch + "/secrets/uuid")
        try write(Array(log.split(separator: 0x0A, maxSplits: 1)[0]) + [0x0A], to: scratch + "/vault.log")
        var sealer = repository.environment
        sealer["MAGE_VAULT_KEY"] = Data(hisKey).base64EncodedString()
        #expect(try run(["set", "db_password", "--data-dir", scratch, "--vault", scratch + "/vault.log"], input: Array("made-up-by-him".utf8), environment: sealer).status == 0)
        let record = String(decoding: try contents(scratch + "/vault.log"), as: UTF8.self).split(separator: "\n").last! + "\n"
        try write(try contents(clone + "/mage_data/secrets/vault.log") + Array(record.utf8), to: clone + "/mage_data/secrets/vault.log")
        try write(hisKey, to: clone + "/mage_data/secrets/vault.key.new")
        try hostile("add", "-A")
        try hostile("add", "-f", "mage_data/secrets/vault.key.new")
        try hostile("commit", "-q", "-m", "a key switch of mine")
        try pull()
        #expect(try contents(repository.dev + "/secrets/vault.key.new") == hisKey)
        #expect(try repository.get("db_password") == "dev made-up 1")
        #expect(try contents(repository.dev + "/secrets/vault.key") == ownKey)
        // Then the key file itself: git writes it over the member's ignored one on checkout.
        try hostile("rm", "-q", "--cached", "mage_data/secrets/vault.key.new")
        try write(hisKey, to: clone + "/mage_data/secrets/vault.key")
        try hostile("add", "-f", "mage_data/secrets/vault.key")
        try hostile("commit", "-q", "-m", "a key of mine")
        let before = try contents(repository.log)
        try pull()
        #expect(try contents(repository.dev + "/secrets/vault.key") == hisKey)  // what git does to ignored files
        for arguments in [["get", "db_password"], ["set", "api_token"], ["list"]] {
            let refused = try run(arguments + ["--data-dir", repository.dev, "--vault", repository.log], input: Array("made-up-refused".utf8))
            #expect(refused.status == 5, "\(arguments): \(refused.text) \(refused.error)")
            #expect(refused.error.contains("git tracks the key file") && refused.error.contains("git rm --cached -- 'mage_data/secrets/vault.key'"), "\(refused.error)")
            #expect(!refused.error.contains("chmod") && !refused.text.contains("made-up"))
        }
        #expect(try contents(repository.log) == before)
        // As the error says: out of git, and the member's own key file restored; reads go on.
        try repository.git("rm", "-q", "--cached", "mage_data/secrets/vault.key")
        try repository.git("commit", "-q", "-m", "no key in git")
        try write(ownKey, to: repository.dev + "/secrets/vault.key")
        #expect(try repository.get("db_password") == "dev made-up 1")
    }

    @Test("The index is read as git writes it: versions 2, 3 and 4, SHA-256 object ids, a linked work tree, paths with spaces and quotes; a split index is left alone")
    func indexFormats() throws {
        let directory = TemporaryDirectory()
        let environment = Repository().environment
        func git(_ root: String, _ arguments: String...) throws {
            let result = try run("/usr/bin/env", ["git", "-C", root] + arguments, environment: environment)
            #expect(result.status == 0, "git \(arguments): \(result.error)")
        }
        let tracked = "data dir/it's \"secrets\"/vault.key", untracked = "data dir/it's \"secrets\"/vault.key.new"
        func repository(_ name: String, initOptions: [String] = []) throws -> String {
            let root = directory.file(name)
            let result = try run("/usr/bin/env", ["git", "init", "-q"] + initOptions + [root], environment: environment)
            #expect(result.status == 0, "\(result.error)")
            try FileManager.default.createDirectory(atPath: root + "/data dir/it's \"secrets\"", withIntermediateDirectories: true)
            for index in 0..<40 { try write(Array("\(index)".utf8), to: root + "/data dir/file-\(index)") }
            for path in [tracked, untracked] { try write([1], to: root + "/" + path) }
            try git(root, "add", "data dir")
            try git(root, "rm", "-q", "--cached", untracked)
            return root
        }
        func answer(_ root: String, _ path: String) -> String? { GitIndex.trackingWorkTree(of: root + "/" + path)?.relative }
        for (name, steps) in [("v2", ["2"]), ("v3", ["3"]), ("v4", ["4"])] {
            let root = try repository(name)
            try git(root, "update-index", "--index-version", steps[0])
            // Version 3's extended flags: an intent-to-add entry carries them.
            if steps[0] != "2" {
                try write([2], to: root + "/data dir/later")
                try git(root, "add", "-N", "data dir/later")
            }
            #expect(answer(root, tracked) == tracked, "\(name)")
            #expect(answer(root, untracked) == nil, "\(name)")
            #expect(answer(root, "data dir/file-7") == "data dir/file-7", "\(name)")
            // Paths that only begin like a tracked one, or that one begins like, are not it.
            for other in ["data dir/file-", "data dir/file-70", "data dir/file-3a", "data dir/it's \"secrets\"/vault.ke"] {
                #expect(answer(root, other) == nil, "\(name): \(other)")
            }
        }
        // An index of some 300 KB, read 64 KiB at a time: entries cross each read's end.
        let large = directory.file("large")
        #expect(try run("/usr/bin/env", ["git", "init", "-q", large], environment: environment).status == 0)
        let blob = try run("/usr/bin/env", ["git", "-C", large, "hash-object", "-w", "--stdin"], input: [0x61], environment: environment).text
            .split(separator: "\n")[0]
        let paths = (0..<3000).map { "module_\($0 / 100)/a rather long file name number \($0).py" } + ["zz/mage_data/secrets/vault.key"]
        let info = paths.map { "100644 \(blob) 0\t\($0)\n" }.joined()
        #expect(try run("/usr/bin/env", ["git", "-C", large, "update-index", "--add", "--index-info"], input: Array(info.utf8), environment: environment).status == 0)
        for version in ["2", "4"] {
            try git(large, "update-index", "--index-version", version)
            for path in [paths[1500], paths[2999], paths[3000]] { #expect(answer(large, path) == path, "v\(version): \(path)") }
            for path in ["zz/mage_data/secrets/vault.key.new", "module_14/a rather long file name number 1500.p"] {
                #expect(answer(large, path) == nil, "v\(version): \(path)")
            }
        }
        // Paths of 0xFFF bytes or more (the flags cap the length there): in version 4 the rest
        // of such a path after the prefix it shares with the one before may be short.
        let long = directory.file("long")
        #expect(try run("/usr/bin/env", ["git", "init", "-q", long], environment: environment).status == 0)
        let folder = (0..<21).map { _ in String(repeating: "x", count: 200) }.joined(separator: "/")
        let longPaths = ["a/\(folder)/one", "a/\(folder)/two", "b/mage_data/secrets/vault.key"]
        let longInfo = longPaths.map { "100644 \(blob) 0\t\($0)\n" }.joined()
        #expect(try run("/usr/bin/env", ["git", "-C", long, "update-index", "--add", "--index-info"], input: Array(longInfo.utf8), environment: environment).status == 0)
        for version in ["2", "3", "4"] {
            try git(long, "update-index", "--index-version", version)
            for path in longPaths { #expect(answer(long, path) == path, "v\(version): \(path.suffix(20))") }
            #expect(answer(long, "a/\(folder)/on") == nil, "v\(version)")
        }
        let sha256 = try repository("sha256", initOptions: ["--object-format=sha256"])
        #expect(answer(sha256, tracked) == tracked)
        #expect(answer(sha256, untracked) == nil)
        // A linked work tree: its `.git` is a file naming its git directory.
        let main = try repository("main")
        try git(main, "commit", "-q", "-m", "first")
        let linked = directory.file("linked")
        try git(main, "worktree", "add", "-q", linked)
        #expect(answer(linked, tracked) == tracked)
        #expect(answer(linked, untracked) == nil)
        // No repository, or one with nothing added yet (no index): nothing is tracked.
        #expect(GitIndex.trackingWorkTree(of: directory.file("elsewhere/vault.key")) == nil)
        let empty = directory.file("empty")
        #expect(try run("/usr/bin/env", ["git", "init", "-q", empty], environment: environment).status == 0)
        #expect(answer(empty, "vault.key") == nil)
        // A split index keeps entries in a shared index: this index alone cannot say, so the
        // answer is "not known to be tracked" (a setting of the user's, never a commit's).
        let split = try repository("split")
        try git(split, "update-index", "--split-index")
        try write([3], to: split + "/data dir/after-split")
        try git(split, "add", "data dir/after-split")
        #expect(answer(split, "data dir/after-split") == "data dir/after-split")
        // Bytes that are not an index are no answer.
        #expect(GitIndex.lists(Array("vault.key".utf8), index: Array("DIRC".utf8) + [0, 0, 0, 9, 0, 0, 0, 0]) == nil)
        #expect(GitIndex.lists(Array("vault.key".utf8), index: Array("not an index".utf8)) == nil)
    }
}
