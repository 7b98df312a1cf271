import Foundation
import Testing

@testable import MageVault

@Suite("Keys: sources, passphrases, rekey, hygiene, export", .serialized)
struct KeyTests: ToolSuite {
    let harness = ToolHarness()

    @Test("The key comes from $MAGE_VAULT_KEY, else --key-file / $MAGE_VAULT_KEY_FILE, else the scope's key file, and env says which")
    func keySources() throws {
        #expect(try tool("set", "s1", input: "made-up").status == 0)
        let keyFile = data + "/secrets/vault.key"
        let encoded = try contents(keyFile).withUnsafeBytes { String(decoding: Base64.encode($0), as: UTF8.self) }
        let moved = directory.file("elsewhere.key")
        try FileManager.default.moveItem(atPath: keyFile, toPath: moved)
        #expect(try tool("get", "s1").status == 1)  // no key where the scope keeps it
        #expect(try tool("get", "s1", "--key-file", moved).text == "made-up")
        #expect(try run(["get", "s1", "--data-dir", data], environment: ["MAGE_VAULT_KEY_FILE": moved]).text == "made-up")
        let fromVariable = try run(["get", "s1", "--data-dir", data], environment: ["MAGE_VAULT_KEY": encoded])
        #expect(fromVariable.text == "made-up")
        #expect(try run(["env", "--data-dir", data], environment: ["MAGE_VAULT_KEY": encoded]).text.contains("key        $MAGE_VAULT_KEY"))
        #expect(try tool("env", "--key-file", moved).text.contains("key        \(moved) (--key-file or $MAGE_VAULT_KEY_FILE)"))
        // $MAGE_VAULT_KEY wins over a key file, and a malformed one is refused.
        let wrong = [UInt8](repeating: 9, count: 32).withUnsafeBytes { String(decoding: Base64.encode($0), as: UTF8.self) }
        #expect(try run(["get", "s1", "--data-dir", data, "--key-file", moved], environment: ["MAGE_VAULT_KEY": wrong]).status == 3)
        #expect(try run(["get", "s1", "--data-dir", data], environment: ["MAGE_VAULT_KEY": "not base64!"]).status == 2)
    }

    @Test("A passphrase-protected scope stores no key material; a wrong or missing passphrase is a clear error")
    func passphrases() throws {
        let created = try run(["init", "--passphrase", "--kdf-limits", "interactive", "--data-dir", data], environment: ["MAGE_VAULT_NEW_PASSPHRASE": "made-up passphrase"])
        #expect(created.status == 0)
        let keyFile = try contents(data + "/secrets/vault.key")
        #expect(String(decoding: keyFile, as: UTF8.self).hasPrefix("mage-vault-passphrase 1 argon2id13 2 67108864 "))
        #expect(try mode(data + "/secrets/vault.key") == 0o600)
        let right = ["MAGE_VAULT_PASSPHRASE": "made-up passphrase"]
        #expect(try run(["set", "s1", "--data-dir", data], input: Array("passphrase-protected".utf8), environment: right).status == 0)
        #expect(try run(["get", "s1", "--data-dir", data], environment: right).text == "passphrase-protected")
        let wrong = try run(["get", "s1", "--data-dir", data], environment: ["MAGE_VAULT_PASSPHRASE": "guess"])
        #expect(wrong.status == 3)
        #expect(wrong.error.contains("wrong passphrase"))
        let missing = try tool("get", "s1")
        #expect(missing.status == 2)
        #expect(missing.error.contains("MAGE_VAULT_PASSPHRASE"))
    }

    @Test("rekey re-seals one scope; another environment's records in the shared log stay bit for bit")
    func rekeyLeavesOthersAlone() throws {
        let shared = directory.file("shared.log")
        let other = directory.file("other")
        for index in 1...5 {
            #expect(try run(["set", "o\(index)", "--data-dir", other, "--vault", shared], input: Array("their made-up \(index)".utf8)).status == 0)
            #expect(try run(["set", "m\(index)", "--data-dir", data, "--vault", shared], input: Array("our made-up \(index)".utf8)).status == 0)
        }
        // The other environment's key is absent on this machine.
        let theirKey = try contents(other + "/secrets/vault.key")
        try FileManager.default.removeItem(atPath: other + "/secrets/vault.key")
        let theirUUID = String(decoding: try contents(other + "/secrets/uuid"), as: UTF8.self)
        let theirs = { try lines(of: shared).filter { String(decoding: $0, as: UTF8.self).contains(theirUUID) } }
        let before = try theirs()
        let oldKey = try contents(data + "/secrets/vault.key")
        let result = try run(["rekey", "--data-dir", data, "--vault", shared])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.text.contains("re-sealed 5 record(s)"))
        #expect(try theirs() == before)
        #expect(try contents(data + "/secrets/vault.key") != oldKey)
        for index in 1...5 {
            #expect(try run(["get", "m\(index)", "--data-dir", data, "--vault", shared]).text == "our made-up \(index)")
        }
        try write(theirKey, to: other + "/secrets/vault.key")
        chmod(other + "/secrets/vault.key", 0o600)
        #expect(try run(["get", "o3", "--data-dir", other, "--vault", shared]).text == "their made-up 3")
        #expect(try run(["verify", "--data-dir", data, "--vault", shared]).status == 0)
    }

    @Test("SIGKILL at any moment of a rekey leaves a vault that opens with the old key or the new one, and says which")
    func rekeyCrashes() throws {
        let values = (1...400).map { (name: "KEY_\($0)", value: "made-up value \($0)") }
        let envFile = directory.file("many.env")
        try write(Array(values.map { "\($0.name)=\($0.value)\n" }.joined().utf8), to: envFile)
        #expect(try tool("import", envFile).status == 0)
        let window = try timed { try tool("rekey") }
        var outcomes: [String: Int] = [:]
        for _ in 0..<max(8, crashKills / 3) {
            let keyBefore = try contents(data + "/secrets/vault.key")
            let process = try start(toolPath, ["rekey", "--data-dir", data], input: [])
            usleep(UInt32.random(in: 0...UInt32(window * 1.3e6)))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let check = try tool("get", "KEY_77")
            #expect(check.text == "made-up value 77", "\(check.error)")
            let keyAfter = try contents(data + "/secrets/vault.key")
            let outcome: String
            if check.error.contains("completed") {
                outcome = "completed after the kill"
            } else if check.error.contains("rolled back") {
                outcome = "rolled back after the kill"
            } else {
                outcome = keyAfter == keyBefore ? "killed before it began" : "finished before the kill"
            }
            outcomes[outcome, default: 0] += 1
            #expect(!FileManager.default.fileExists(atPath: data + "/secrets/vault.key.new"))
            #expect(try tool("verify").status == 0)
        }
        print("crash test (rekey): \(outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")
        #expect(try tool("export", "--plaintext").text.split(separator: "\n").count == 400)
    }

    @Test("Each crash point of a rekey, rebuilt exactly: new key written; log swapped but key not; both done")
    func rekeyCrashPoints() throws {
        let location = EnvironmentLocation(dataDirectory: data, variables: [:])
        let vault = try Vault(environment: Environment.open(location, create: true))
        for index in 1...20 { try vault.setSecret(named: "n\(index)", value: "made-up \(index)") }
        let oldKey = try contents(location.keyFile)
        let oldLog = try contents(location.logFile)
        try vault.rekey(to: KeyMaterial.random())
        let newKey = try contents(location.keyFile)
        let newLog = try contents(location.logFile)
        let retiredFile = Environment.retiredKeysFile(location)
        let newRetired = try contents(retiredFile)  // the old key, sealed under the new one
        #expect(newKey != oldKey && newLog != oldLog)

        func state(log: [UInt8], key: [UInt8], pending: [UInt8]?, retired: [UInt8]? = newRetired) throws {
            try write(log, to: location.logFile)
            try write(key, to: location.keyFile)
            chmod(location.keyFile, 0o600)
            if let pending {
                try write(pending, to: location.keyFile + ".new")
                chmod(location.keyFile + ".new", 0o600)
            }
            if let retired {
                try write(retired, to: retiredFile)
                chmod(retiredFile, 0o600)
            } else {
                try? FileManager.default.removeItem(atPath: retiredFile)
            }
        }
        // Killed after writing the new key, before the log was swapped (and so before the
        // retired keys file was renamed in: there was none): roll back.
        try state(log: oldLog, key: oldKey, pending: newKey, retired: nil)
        var reopened = try Vault(environment: Environment.open(location, create: false))
        #expect(reopened.rekeyRecoveries == [.rolledBack(keyFile: location.keyFile)])
        #expect(try reopened.secretValue(named: "n7") == "made-up 7")
        #expect(try contents(location.keyFile) == oldKey)
        // Killed after the log was swapped, before the key was: complete.
        try state(log: newLog, key: oldKey, pending: newKey)
        reopened = try Vault(environment: Environment.open(location, create: false))
        #expect(reopened.rekeyRecoveries == [.completed(keyFile: location.keyFile)])
        #expect(try reopened.secretValue(named: "n7") == "made-up 7")
        #expect(try contents(location.keyFile) == newKey)
        #expect(!FileManager.default.fileExists(atPath: location.keyFile + ".new"))
        // Killed between renaming the retired keys file in and renaming the key, with no record
        // under the new key in the log (a rotation kept by `Access.persist` may have none):
        // complete, since rolling back would leave a retired keys file the old key cannot open.
        try state(log: oldLog, key: oldKey, pending: newKey)
        reopened = try Vault(environment: Environment.open(location, create: false))
        #expect(reopened.rekeyRecoveries == [.completed(keyFile: location.keyFile)])
        #expect(try reopened.secretValue(named: "n7") == "made-up 7")
        #expect(try contents(location.keyFile) == newKey)
        // Killed after the log was swapped by a rekey that keeps no retired keys (a removal), with
        // the old retired keys file still in place, sealed under the old key: complete, and that
        // file goes (the new key cannot open it, and it holds only keys the removal retired).
        let oldSealed = Environment.retiredKeysFileContents([EnvironmentKeys.generateKey()], current: oldKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) })
        try state(log: newLog, key: oldKey, pending: newKey, retired: oldSealed)
        reopened = try Vault(environment: Environment.open(location, create: false))
        #expect(reopened.rekeyRecoveries == [.completed(keyFile: location.keyFile)])
        #expect(try contents(location.keyFile) == newKey)
        #expect(!FileManager.default.fileExists(atPath: retiredFile))
        #expect(try Vault(environment: Environment.open(location, create: false)).secretValue(named: "n7") == "made-up 7")
        // Through the tool, the recovery is said on standard error.
        try state(log: newLog, key: oldKey, pending: newKey)
        let told = try tool("get", "n7")
        #expect(told.text == "made-up 7")
        #expect(told.error.contains("an interrupted rekey was completed"))
    }

    @Test("init in a git work tree ignores the key files; env warns when one is tracked or not ignored")
    func gitHygiene() throws {
        let repository = directory.file("project")
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        #expect(try run("/usr/bin/env", ["git", "-C", repository, "init", "-q"]).status == 0)
        let projectData = repository + "/mage_data"
        let initialised = try run(["init", "--data-dir", projectData])
        #expect(initialised.text.contains(".gitignore"))
        let ignore = String(decoding: try contents(repository + "/.gitignore"), as: UTF8.self)
        #expect(ignore.contains("/mage_data/secrets/**/vault.key"))
        #expect(try run("/usr/bin/env", ["git", "-C", repository, "check-ignore", "-q", projectData + "/secrets/vault.key"]).status == 0)
        #expect(try run("/usr/bin/env", ["git", "-C", repository, "check-ignore", "-q", projectData + "/secrets/vault.log"]).status == 1)
        #expect(try run(["set", "p", "--data-dir", projectData, "--project", "sales"], input: Array("x".utf8)).status == 0)
        #expect(try run("/usr/bin/env", ["git", "-C", repository, "check-ignore", "-q", projectData + "/secrets/projects/sales/vault.key"]).status == 0)
        #expect(try run(["init", "--data-dir", projectData]).text.contains(".gitignore") == false)  // already there
        #expect(try run(["env", "--data-dir", projectData]).error.isEmpty)
        try write([], to: repository + "/.gitignore")
        #expect(try run(["env", "--data-dir", projectData]).error.contains("not ignored"))
        #expect(try run("/usr/bin/env", ["git", "-C", repository, "add", "-f", projectData + "/secrets/vault.key"]).status == 0)
        #expect(try run(["env", "--data-dir", projectData]).error.contains("git tracks the key file"))
    }

    @Test("export writes plain text only with --plaintext, to a 0600 file, in a form import reads back")
    func exportRoundTrip() throws {
        let tricky = ["plain": "made-up", "quoted": "say \"hi\" \\ back", "multi": "line one\nline two", "crlf": "a\r\nb", "hash": "x #y", "control": "bell\u{07} and nul-free \u{1F}"]
        for (name, value) in tricky { #expect(try tool("set", name, input: value).status == 0) }
        #expect(try tool("export").status == 2)
        for format in ["env", "json"] {
            let file = directory.file("export.\(format)")
            #expect(try tool("export", "--plaintext", "--format", format, "-o", file).status == 0)
            #expect(try mode(file) == 0o600)
            let parsed = try SecretsFile.parse(try contents(file))
            #expect(Dictionary(uniqueKeysWithValues: parsed.map { ($0.name, $0.value) }) == tricky, "\(format)")
        }
    }
}
