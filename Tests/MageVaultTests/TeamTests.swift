import Foundation
import Testing

@testable import MageVault

/// One teammate: a home of their own (their identity lives there), a clone of the team's
/// repository, and the tool run as they would run it.
struct Teammate {
    let name: String
    let home: String
    let clone: String
    /// Extra variables: an identity given by a variable (a machine), an ssh key as identity.
    var variables: [String: String] = [:]

    var data: String { clone + "/mage_data" }

    var environment: [String: String] {
        let bin = FileSystem.parentDirectory(of: toolPath)
        return [
            "HOME": home, "XDG_CONFIG_HOME": home + "/.config", "PATH": bin + ":/usr/bin:/bin", "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": "\(name)@example.com", "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": "\(name)@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_MERGE_AUTOEDIT": "no",
        ].merging(variables) { $1 }
    }

    @discardableResult
    func tool(_ arguments: String..., input: String = "") throws -> ToolResult {
        try run(toolPath, arguments + ["--data-dir", data], input: Array(input.utf8), environment: environment, directory: clone)
    }

    @discardableResult
    func git(_ arguments: String...) throws -> ToolResult {
        let result = try run("/usr/bin/env", ["git", "-C", clone] + arguments, environment: environment)
        #expect(result.status == 0, "\(name): git \(arguments.joined(separator: " ")): \(result.error)")
        return result
    }

    /// The identity `mage-vault identity` made for this teammate (in their home).
    func identity() throws -> Identity {
        try #require(Identity.parse(String(decoding: try contents(home + "/.config/mage-vault/identity"), as: UTF8.self))?.first)
    }

    /// `mage-vault identity`'s recipient (making the identity the first time).
    func recipient() throws -> String {
        let result = try run(toolPath, ["identity"], environment: environment)
        #expect(result.status == 0, "\(result.error)")
        let line = result.text.split(separator: "\n").first { $0.hasPrefix("recipient  ") } ?? ""
        return String(line.dropFirst("recipient  ".count))
    }

    func get(_ secret: String) throws -> String? {
        let result = try tool("get", secret)
        return result.status == 0 ? result.text : nil
    }

    /// A record line setting `name` to `value`, sealed under `key` (32 raw bytes) for the vault
    /// of this clone's log, as someone holding only that key makes it: in a data dir of its own
    /// (the clone's key files are not used) with a log holding only the vault's header.
    func recordSealed(under key: [UInt8], name: String, value: String) throws -> [UInt8] {
        let scratch = home + "/sealing-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch + "/secrets", withIntermediateDirectories: true)
        try write(try contents(data + "/secrets/uuid"), to: scratch + "/secrets/uuid")
        let log = scratch + "/vault.log"
        try write(Array(try contents(data + "/secrets/vault.log").split(separator: 0x0A, maxSplits: 1)[0]) + [0x0A], to: log)
        var sealer = self
        sealer.variables["MAGE_VAULT_KEY"] = String(decoding: key.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        let sealed = try run(toolPath, ["set", name, "--data-dir", scratch, "--vault", log], input: Array(value.utf8), environment: sealer.environment)
        #expect(sealed.status == 0, "\(sealed.error)")
        return Array((String(decoding: try contents(log), as: UTF8.self).split(separator: "\n").last! + "\n").utf8)
    }

    /// Access lines this (removed) teammate writes by hand, authenticated by their identity:
    /// `bundle` checked under `keys`, for each of `people` and CI, dated `time`, appended to
    /// this clone's access file.
    func appendAccessLines(under keys: EnvironmentKeys, bundle: SecureBytes, for people: [Teammate], time: String) throws {
        let uuid = try #require(EnvironmentID(String(decoding: try contents(data + "/secrets/uuid"), as: UTF8.self)))
        var forged: [UInt8] = []
        for (name, line) in try people.map({ ($0.name, try $0.recipient()) }) + [("ci", AgeKeyVector.recipient)] {
            forged += AccessEntry.make(
                environment: uuid, keys: keys, bundle: bundle, name: name, recipient: try #require(Recipient.parse(line)?.recipient),
                addedBy: self.name, author: try identity(), time: time
            ).line
        }
        let accessFile = data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
    }

    /// Appends `bytes` (record lines) to this clone's log, as a hand edit would.
    func appendToLog(_ bytes: [UInt8]) throws {
        try write(try contents(data + "/secrets/vault.log") + bytes, to: data + "/secrets/vault.log")
    }

    /// `access remove name`, then `db_password` set to `value` under the new key, pushed.
    func remove(_ name: String, thenSetting value: String) throws {
        let removed = try tool("access", "remove", name)
        #expect(removed.status == 0, "\(removed.error)")
        #expect(try tool("set", "db_password", input: value).status == 0)
        try commitAndPush("remove " + name)
    }

    func commitAndPush(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
        try git("pull", "-q", "--no-rebase", "origin", "main")
        try git("push", "-q", "origin", "HEAD:main")
    }
}

/// A team's repository (a bare origin) and its members, each in a folder of their own.
struct Team {
    let directory = TemporaryDirectory()
    var origin: String { directory.file("origin.git") }

    func member(_ name: String, variables: [String: String] = [:]) throws -> Teammate {
        let home = directory.file("home-" + name)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let person = Teammate(name: name, home: home, clone: directory.file("clone-" + name), variables: variables)
        let cloned = try run("/usr/bin/env", ["git", "clone", "-q", origin, person.clone], environment: person.environment)
        #expect(cloned.status == 0, "\(cloned.error)")
        return person
    }

    /// People `names`, added by `adder` (who pushes), then each pulls, keeps the key in a key
    /// file of their own (`init`) and sets up git's merge driver in their clone.
    func join(_ names: [String], addedBy adder: Teammate) throws -> [Teammate] {
        let people = try names.map { try member($0) }
        for person in people { #expect(try adder.tool("access", "add", try person.recipient(), "--name", person.name).status == 0) }
        try adder.commitAndPush("add " + names.joined(separator: ", "))
        for person in people {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.tool("init").status == 0 && person.tool("git", "setup").status == 0, "\(person.name)")
        }
        return people
    }

    /// alice's team with `names` joined and CI added (no key file, its identity in a variable),
    /// pushed; and the key they all hold.
    static func startWithCI(joining names: [String]) throws -> (team: Team, alice: Teammate, people: [Teammate], ci: Teammate, key: [UInt8]) {
        let (team, alice) = try start()
        let people = try team.join(names, addedBy: alice)
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        #expect(try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "ci").status == 0)
        try alice.commitAndPush("ci")
        return (team, alice, people, ci, try contents(alice.data + "/secrets/vault.key"))
    }

    /// `startWithCI(joining: ["bob", "carol", "erin"])`, then alice removes bob (setting
    /// `db_password` to made-up-2, pushed): the first key, and the second, which bob never held.
    static func startWithBobRemoved() throws -> (team: Team, alice: Teammate, bob: Teammate, carol: Teammate, erin: Teammate, ci: Teammate, keys: [[UInt8]]) {
        let (team, alice, joined, ci, firstKey) = try startWithCI(joining: ["bob", "carol", "erin"])
        try alice.remove("bob", thenSetting: "made-up-2")
        return (team, alice, joined[0], joined[1], joined[2], ci, [firstKey, try contents(alice.data + "/secrets/vault.key")])
    }

    /// Each of `people` pulls and refuses to read (exit 3) with no value in what it prints,
    /// and `keyFile`'s person still holds that key.
    static func expectRefusal(of people: [Teammate], keyFile: (person: Teammate, key: [UInt8])) throws {
        for person in people {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.status == 3 && !read.text.contains("made-up") && !read.error.contains("made-up"), "\(person.name): \(read.text) \(read.error)")
        }
        #expect(try contents(keyFile.person.data + "/secrets/vault.key") == keyFile.key, "\(keyFile.person.name)")
    }

    /// The repository alice starts: her environment in the project, the driver set up.
    static func start() throws -> (Team, Teammate) {
        let team = Team()
        #expect(try run("/usr/bin/env", ["git", "init", "-q", "--bare", "-b", "main", team.origin]).status == 0)
        let alice = try team.member("alice")
        #expect(try alice.tool("set", "db_password", input: "made-up-1").status == 0)
        #expect(try alice.tool("set", "api_token", input: "made-up-token").status == 0)
        #expect(try run(toolPath, ["git", "setup", "--data-dir", alice.data], environment: alice.environment, directory: alice.clone).status == 0)
        let added = try alice.tool("access", "add", try alice.recipient(), "--name", "alice")
        #expect(added.status == 0, "\(added.error)")
        try alice.git("add", "-A")
        try alice.git("commit", "-q", "-m", "the team's vault")
        try alice.git("push", "-q", "origin", "HEAD:main")
        return (team, alice)
    }
}

/// An OpenSSH ed25519 key pair made by ssh-keygen (`ssh-keygen -t ed25519 -N '' -C carol@laptop`),
/// used as an identity as it is. Made up for these tests.
enum SSHKeyVector {
    static let privateKey = """
        -----BEGIN OPENSSH PRIVATE KEY-----
        b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
        QyNTUxOQAAACDTwEB5fDMQsisZCvH8lSNUc9Ihl5VvUVMOk9MhfVqKwgAAAJCi0Mq7otDK
        uwAAAAtzc2gtZWQyNTUxOQAAACDTwEB5fDMQsisZCvH8lSNUc9Ihl5VvUVMOk9MhfVqKwg
        AAAEDj6Gonxp+7COl8qtSYSLrKkMeM1w/Z9QfyuRbmN3Lry9PAQHl8MxCyKxkK8fyVI1Rz
        0iGXlW9RUw6T0yF9WorCAAAADGNhcm9sQGxhcHRvcAE=
        -----END OPENSSH PRIVATE KEY-----

        """
    static let publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINPAQHl8MxCyKxkK8fyVI1Rz0iGXlW9RUw6T0yF9WorC carol@laptop"
    /// What `ssh-keygen -l` prints for it.
    static let fingerprint = "SHA256:mpyBiZ+Ei1LTYG2pVlg5XSTyyYgDeAAG247zzemOI+I"
}

/// An age identity made by age-keygen 1.1.1 (made up for these tests): its recipient is the
/// one age computes.
enum AgeKeyVector {
    static let identity = "AGE-SECRET-KEY-18EE5EWFTEX0VLMEYWA9AQZDXWQHN6SQH35VF4L86WQED7SX82ARQ440TZL"
    static let recipient = "age1n54p8z8hqa768s2tpa0mwap59q6zwj0w9sw8p486dlp4j6z0mqxs9f7xna"
}

@Suite("Teams: identities, the access file, adding and removing people", .serialized)
struct TeamTests {
    @Test("An age identity and an OpenSSH ssh-ed25519 key work as they are: the recipients and fingerprint their own tools compute")
    func identitiesAsTheyAre() throws {
        let age = try #require(Identity.parse("# created: 2026-12-07T17:19:59Z\n" + AgeKeyVector.identity + "\n"))
        #expect(age.count == 1 && age[0].recipient.text == AgeKeyVector.recipient)
        #expect(Recipient.parse(AgeKeyVector.recipient)?.recipient == age[0].recipient)
        let ssh = try #require(Identity.parse(SSHKeyVector.privateKey))
        let parsed = try #require(Recipient.parse(SSHKeyVector.publicKey))
        #expect(parsed.comment == "carol@laptop" && parsed.recipient == ssh[0].recipient)
        #expect(parsed.recipient.fingerprint == "ssh-ed25519 " + SSHKeyVector.fingerprint)
        // What is not an identity or a recipient is refused, never half-read.
        #expect(Identity.parse(String(AgeKeyVector.identity.dropLast()) + "Q") == nil)  // checksum
        #expect(Identity.parse(String(AgeKeyVector.identity.prefix(20)) + AgeKeyVector.identity.dropFirst(20).lowercased()) == nil)  // mixed case
        #expect(Recipient.parse(String(AgeKeyVector.recipient.dropLast())) == nil)
        #expect(Recipient.parse("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x") == nil)
        #expect(Identity.parse("") == nil && Identity.parse("# only a comment\n") == nil)
        // A bundle sealed to a recipient opens with its identity only.
        let bundle = SecureBytes.random(count: 64)
        let sealed = try #require(parsed.recipient.seal(bundle))
        #expect(ssh[0].open(sealed)?.constantTimeEquals(bundle) == true)
        #expect(age[0].open(sealed) == nil)
    }

    @Test("vault-format.md's access vectors: identities, recipients and X25519 keys as given; each line parses, opens with its identity to the key and carries its check")
    func accessVectors() throws {
        let vectors = try SpecVector.all().filter { $0.fields["access-line"] != nil }
        #expect(vectors.count == 3)
        for vector in vectors {
            let key = hexBytes(vector["key"]).withUnsafeBytes { SecureBytes(copying: $0) }
            let keys = EnvironmentKeys(key: key)
            let identity: Identity
            if let text = vector.fields["identity"] {
                identity = try #require(Identity.parse(text)?.first)
                #expect(identity.secretKey.withUnsafeBytes { Array($0) } == hexBytes(vector["x25519-secret"]))
                #expect(identity.recipient.text == vector["recipient"])
                #expect(Bech32.encode(hexBytes(vector["x25519-secret"]), prefix: "age-secret-key-").uppercased() == text)
            } else {
                // The ssh vector's key is the tests' ssh key (its seed is the vector's).
                identity = try #require(Identity.parse(SSHKeyVector.privateKey)?.first)
                #expect(vector["ssh-public-key"] == SSHKeyVector.publicKey)
                #expect(identity.secretKey.withUnsafeBytes { Array($0) } == hexBytes(vector["x25519-secret"]))
                #expect(Recipient.parse(vector["ssh-public-key"])?.recipient.text == vector["recipient"])
            }
            #expect(identity.recipient.key == hexBytes(vector["x25519-public"]))
            if let expected = vector.fields["access-check-key"] {
                let derived = EnvironmentKeys.derive(from: key, id: 5, count: 32)
                #expect(derived.withUnsafeBytes { Array($0) } == hexBytes(expected))
            }
            let entry = try #require(AccessEntry.parse(Substring(vector["access-line"])))
            #expect(entry.line == Array((vector["access-line"] + "\n").utf8))
            #expect(Hex.string(entry.keyID, width: 8) == vector["key-id"] && keys.keyID == entry.keyID)
            #expect(entry.isChecked(by: keys))
            let opened = try #require(identity.open(entry.sealed))
            let bundle = try #require(EnvironmentKeys.parts(ofBundle: opened, version: entry.version))
            #expect(bundle.keys[0].master.constantTimeEquals(key))
            if let expected = vector.fields["bundle"] {
                // Version 2: the count, the keys, then the revocation ids, as the vector lays them out.
                #expect(entry.version == 2 && opened.withUnsafeBytes { Array($0) } == hexBytes(expected))
                let retired = hexBytes(vector["retired-key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
                let revoked = hexBytes(vector["revoked-key"]).withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
                #expect(bundle.keys.count == 2 && Access.same(bundle.keys[1], retired))
                #expect(Hex.string(retired.keyID, width: 8) == vector["retired-key-id"] && Hex.string(revoked.keyID, width: 8) == vector["revoked-key-id"])
                #expect(revoked.revocationID == hexBytes(vector["revocation-id"]) && bundle.revoking == [revoked.revocationID])
            } else {
                // Version 1: the key alone.
                #expect(entry.version == 1 && opened.constantTimeEquals(key) && bundle.revoking.isEmpty)
            }
            // Its author wrote it, as the recipient's identity can tell, with the vector's key.
            let author = try #require(Recipient.parse(vector["author"])?.recipient)
            #expect(entry.author == vector["author"] && entry.isAuthored(for: identity))
            #expect(identity.sharedKey(author: author, recipient: identity.recipient) == hexBytes(vector["auth-key"]))
            // One byte changed anywhere in the checked part: the check fails.
            var altered = Array(vector["access-line"].utf8)
            altered[30] = altered[30] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            if let tampered = AccessEntry.parse(Substring(decoding: altered, as: UTF8.self)) { #expect(!tampered.isChecked(by: keys)) }
        }
    }

    @Test("An access bundle is read only when it is exactly what its line's version lays out: version 2's count, keys and revocation ids; version 1's keys alone")
    func bundleLayouts() throws {
        func keys(_ start: UInt8) -> EnvironmentKeys { (0..<32).map { start &+ UInt8($0) }.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) } }
        func bytes(_ list: [UInt8]) -> SecureBytes { list.withUnsafeBytes { SecureBytes(copying: $0) } }
        let (a, b, c) = (keys(0), keys(0x20), keys(0x60))
        let bundle = EnvironmentKeys.bundle(a, retired: [b], revoking: [c.revocationID])
        let parts = try #require(EnvironmentKeys.parts(ofBundle: bundle, version: 2))
        #expect(parts.keys.count == 2 && Access.same(parts.keys[0], a) && Access.same(parts.keys[1], b) && parts.revoking == [c.revocationID])
        #expect(c.revocationID != c.master.withUnsafeBytes { Array($0) } && c.revocationID != b.revocationID)
        let raw = bundle.withUnsafeBytes { Array($0) }
        // Version 2: a count of 0, a count beyond the keys there, a stray byte: none is a bundle.
        for broken in [[0, 0] + raw.dropFirst(2), [0, 4] + raw.dropFirst(2), raw + [0], Array(raw.prefix(1)), []] {
            #expect(EnvironmentKeys.parts(ofBundle: bytes(broken), version: 2) == nil, "\(broken.prefix(2))")
        }
        // Version 1: whole keys only, at least one; no revocation ids. Other versions: never.
        let one = try #require(EnvironmentKeys.parts(ofBundle: bytes(Array(raw.dropFirst(2))), version: 1))
        #expect(one.keys.count == 3 && one.revoking.isEmpty)
        #expect(EnvironmentKeys.parts(ofBundle: bundle, version: 1) == nil && EnvironmentKeys.parts(ofBundle: bytes([]), version: 1) == nil)
        #expect(EnvironmentKeys.parts(ofBundle: bytes(Array(raw.dropFirst(2))), version: 3) == nil)
    }

    @Test("Three people and CI over clones of one repository: add, concurrent adds merged, reads, removal with rotation, CI unchanged")
    func aTeamsFirstDayAndTheDaySomeoneLeaves() throws {
        let (team, alice) = try Team.start()
        // Bob: one command in a fresh clone, a line to send; reading before he is added is refused, changing nothing.
        let bob = try team.member("bob")
        let bobLine = try bob.recipient()
        #expect(bobLine.hasPrefix("age1"))
        #expect(try bob.get("db_password") == nil)
        let refusedInit = try bob.tool("init")
        #expect(refusedInit.status == 1 && refusedInit.error.contains("run 'mage-vault identity' and send the line"), "\(refusedInit.error)")
        #expect(!FileManager.default.fileExists(atPath: bob.data + "/secrets/vault.key"))
        #expect(try alice.tool("access", "add", bobLine, "--name", "bob").status == 0)
        try alice.commitAndPush("add bob")
        try bob.git("pull", "-q", "origin", "main")
        #expect(try bob.get("db_password") == "made-up-1")  // a pull is all he needs
        #expect(try bob.tool("init").status == 0)  // and he keeps the key in a key file of his own
        // Concurrent adds on two clones: alice adds carol (her ssh key as it is), bob adds CI.
        var carol = try team.member("carol")
        try FileManager.default.createDirectory(atPath: carol.home + "/.ssh", withIntermediateDirectories: true)
        try write(Array(SSHKeyVector.privateKey.utf8), to: carol.home + "/.ssh/id_ed25519")
        chmod(carol.home + "/.ssh/id_ed25519", 0o600)
        carol.variables["MAGE_VAULT_IDENTITY_FILE"] = carol.home + "/.ssh/id_ed25519"
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        #expect(try alice.tool("access", "add", SSHKeyVector.publicKey).status == 0)  // named by the key's comment
        #expect(try bob.tool("access", "add", AgeKeyVector.recipient, "--name", "ci").status == 0)
        try alice.commitAndPush("add carol")
        try bob.commitAndPush("add ci")  // pulls alice's line first: git merges the access file as a union
        for person in [alice, bob, carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-1", "\(person.name)")
        }
        let listed = try alice.tool("access", "list").text
        for name in ["alice", "bob", "carol@laptop", "ci"] { #expect(listed.contains("  \(name)  "), "\(listed)") }
        #expect(listed.contains("global (key ") && listed.contains("4 member(s)") && listed.contains(SSHKeyVector.fingerprint))
        #expect(!listed.contains("made-up"))
        // Carol joins for good: init adopts her key (no new key), and writes.
        let joined = try carol.tool("init")
        #expect(joined.status == 0 && joined.text.contains("from your identity's line in"), "\(joined.text) \(joined.error)")
        #expect(try carol.tool("set", "carol_token", input: "made-up-carol").status == 0)
        try carol.commitAndPush("carol's secret")
        // The day bob leaves: one command rotates the key and re-wraps it for everyone else.
        try alice.git("pull", "-q", "origin", "main")
        let removed = try alice.tool("access", "remove", "bob")
        #expect(removed.status == 0 && removed.text.contains("wrapped for 3 member(s): alice, carol@laptop, ci"), "\(removed.text) \(removed.error)")
        #expect(removed.text.contains("rotate those credentials where they were issued"))
        #expect(try alice.tool("set", "db_password", input: "made-up-2").status == 0)
        try alice.commitAndPush("remove bob; rotate db_password")
        try bob.git("pull", "-q", "origin", "main")
        let bobAfter = try bob.tool("get", "db_password")
        #expect(bobAfter.status == 3 && bobAfter.error.contains("you were removed from it"), "\(bobAfter.error)")
        #expect(!bobAfter.text.contains("made-up-2") && !bobAfter.error.contains("made-up"))
        // Nobody else changes anything: carol (with her key file from init) and CI (a variable) read the new value.
        for person in [carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-2", "\(person.name)")
            #expect(try person.get("carol_token") == "made-up-carol", "\(person.name)")
        }
        let after = try alice.tool("access", "list").text
        #expect(after.contains("3 member(s)") && after.split(separator: "\n").contains { $0.contains("  bob  ") && $0.hasSuffix("(older key)") }, "\(after)")
        // Bob, removed but holding the old key, rotates on his own: lines for carol and CI
        // wrapping a key of his, with the old key inside, written (and authenticated) by him.
        let oldKey = try contents(bob.data + "/secrets/vault.key")
        let bobIdentity = try bob.identity()
        let bobKey = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let old = oldKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        var forged: [UInt8] = []
        for (name, line) in [("carol@laptop", SSHKeyVector.publicKey), ("ci", AgeKeyVector.recipient), ("alice", try alice.recipient())] {
            forged += AccessEntry.make(
                environment: uuid, keys: bobKey, bundle: EnvironmentKeys.bundle(bobKey, retired: [old]), name: name,
                recipient: try #require(Recipient.parse(line)?.recipient), addedBy: "alice", author: bobIdentity, time: "2099-01-01T00:00:00.000Z"
            ).line
        }
        let bobHandle = try #require(FileHandle(forWritingAtPath: bob.data + "/secrets/vault.log.access"))
        bobHandle.seekToEndOfFile()
        bobHandle.write(Data(forged))
        try bobHandle.close()
        try bob.commitAndPush("a rotation of my own")
        for person in [alice, carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-2", "\(person.name)")  // still the team's key
        }
        #expect(try carol.tool("set", "db_password", input: "made-up-3").status == 0)
        try carol.commitAndPush("after bob's lines")
        try bob.git("pull", "-q", "origin", "main")
        var withBobsKey = bob
        withBobsKey.variables["MAGE_VAULT_KEY"] = String(decoding: bobKey.master.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        let stolen = try withBobsKey.tool("get", "db_password")
        #expect(stolen.status != 0 && !stolen.text.contains("made-up-3"), "\(stolen.text)")
        // Nor does a value bob seals under his key: his lines wrap it with the old key inside,
        // but his rotation is not followed, so nobody reads with his key.
        try bob.appendToLog(try bob.recordSealed(under: bobKey.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-under-bobs-key"))
        try bob.commitAndPush("a value under my key")
        for person in [alice, carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.text == "made-up-3", "\(person.name): \(read.text) \(read.error)")
        }
        // Bob writes a value under the old key and pushes that line: the old key was revoked
        // by his removal, so nobody believes it.
        try bob.appendToLog(try bob.recordSealed(under: oldKey, name: "db_password", value: "made-up-by-bob"))
        try bob.commitAndPush("a value under the old key")
        for person in [alice, carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.text == "made-up-3" && !read.text.contains("by-bob"), "\(person.name): \(read.text) \(read.error)")
        }
        // Removing someone who is not a member changes nothing.
        let log = try contents(alice.data + "/secrets/vault.log")
        #expect(try alice.tool("access", "remove", "bob").status == 1)
        #expect(try contents(alice.data + "/secrets/vault.log") == log)
    }

    @Test("Two removals on two branches, merged: writes wait until one member's rekey leaves out both removed people; nobody removed reads what is written after, and every value of both branches survives")
    func twoRemovalsOnTwoBranches() throws {
        let (team, alice) = try Team.start()
        let bob = try team.member("bob"), carol = try team.member("carol"), dave = try team.member("dave")
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        for (person, line) in [(bob, try bob.recipient()), (carol, try carol.recipient()), (dave, try dave.recipient()), (ci, AgeKeyVector.recipient)] {
            #expect(try alice.tool("access", "add", line, "--name", person.name).status == 0)
        }
        try alice.commitAndPush("the team")
        try ci.git("pull", "-q", "origin", "main")
        for person in [bob, carol, dave] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.tool("init").status == 0, "\(person.name)")  // each holds the key in a key file
            #expect(try person.tool("git", "setup").status == 0, "\(person.name)")  // the log's merge driver, per clone
        }
        // Two branches: alice removes bob, carol removes dave, each writes after. Alice pushes
        // first, dave pulls her branch (her new key is his too) and writes a value of his.
        let removedBob = try alice.tool("access", "remove", "bob")
        #expect(removedBob.status == 0, "\(removedBob.error)")
        #expect(try alice.tool("set", "alices_branch", input: "made-up-alice").status == 0)
        try alice.commitAndPush("remove bob")
        try dave.git("pull", "-q", "origin", "main")
        #expect(try dave.tool("set", "from_dave", input: "made-up-by-dave").status == 0)
        try dave.git("add", "-A")
        try dave.git("commit", "-q", "-m", "dave's value, pushed later")
        #expect(try carol.tool("access", "remove", "dave").status == 0)
        #expect(try carol.tool("set", "carols_branch", input: "made-up-carol").status == 0)
        try carol.commitAndPush("remove dave")  // git merges alice's branch in: the driver and the union
        try alice.git("pull", "-q", "origin", "main")
        // Each branch's key still reaches the other branch's removed member: alice reads both
        // branches, but a write is refused, naming who and what to run, and changes nothing.
        for name in ["alices_branch", "carols_branch", "db_password"] { #expect(try alice.get(name) != nil, "\(name)") }
        let log = try contents(alice.data + "/secrets/vault.log"), access = try contents(alice.data + "/secrets/vault.log.access")
        let refused = try alice.tool("set", "db_password", input: "made-up-refused")
        #expect(refused.status == 3 && refused.error.contains("dave") && refused.error.contains("removed by carol") && refused.error.contains("mage-vault rekey"), "\(refused.error)")
        #expect(try contents(alice.data + "/secrets/vault.log") == log && contents(alice.data + "/secrets/vault.log.access") == access)
        try ci.git("pull", "-q", "origin", "main")
        let ciRefused = try ci.tool("set", "db_password", input: "made-up-refused")
        #expect(ciRefused.status == 3 && ciRefused.error.contains("bob (removed by alice)"), "\(ciRefused.error)")  // CI sees both branches too
        // One rekey by a member both branches kept settles it: a key for alice, carol and CI.
        let settled = try alice.tool("rekey")
        #expect(settled.status == 0 && settled.text.contains("wrapped for 3 member(s): alice, carol, ci;") && settled.text.contains("settled the two removals merged from two branches: dave"), "\(settled.text) \(settled.error)")
        #expect(try alice.tool("set", "db_password", input: "made-up-settled").status == 0)
        try alice.commitAndPush("settle the two removals")
        for person in [carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            for (name, value) in [("db_password", "made-up-settled"), ("alices_branch", "made-up-alice"), ("carols_branch", "made-up-carol")] {
                #expect(try person.get(name) == value, "\(person.name): \(name)")
            }
        }
        #expect(try carol.tool("set", "carols_next", input: "made-up-carol-2").status == 0)  // writes work again
        try carol.commitAndPush("after the settle")
        try alice.git("pull", "-q", "origin", "main")
        #expect(try alice.get("carols_next") == "made-up-carol-2")
        // Bob, holding carol's branch key and the first one, reads nothing new.
        try bob.git("pull", "-q", "origin", "main")
        for name in ["db_password", "carols_next"] {
            let read = try bob.tool("get", name)
            #expect(read.status != 0 && !read.text.contains("made-up-settled") && !read.text.contains("made-up-carol-2"), "bob: \(name): \(read.text)")
        }
        // Dave's value, sealed under alice's branch key before the settle, arrives after it: the
        // settle revoked that key (dave holds it), so nobody believes it.
        try dave.git("pull", "-q", "--no-rebase", "origin", "main")
        try dave.git("push", "-q", "origin", "HEAD:main")
        for person in [alice, carol, ci] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-settled", "\(person.name)")
            let read = try person.tool("get", "from_dave")
            #expect(read.status != 0 && !read.text.contains("made-up-by-dave"), "\(person.name): \(read.text)")
        }
        for name in ["db_password", "carols_next"] {  // and dave, merged with the settle, reads nothing new (an old value at most)
            let read = try dave.tool("get", name)
            #expect(!read.text.contains("made-up-settled") && !read.text.contains("made-up-carol-2"), "dave: \(name): \(read.text)")
        }
    }

    @Test("After a removal, the removed member's rotation of his own and lines taken out of the access file move no member who has read since: each keeps the new key in their key file")
    func aRemovedMemberCannotUndoTheRemoval() throws {
        let (team, alice) = try Team.start()
        let joined = try team.join(["bob", "carol", "dave"], addedBy: alice)
        let (bob, carol, dave) = (joined[0], joined[1], joined[2])
        let firstKey = try contents(carol.data + "/secrets/vault.key")
        try alice.remove("bob", thenSetting: "made-up-2")
        // Carol reads once after pulling: the new key goes into her key file, the old one out.
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-2")
        #expect(try contents(carol.data + "/secrets/vault.key") != firstKey)
        // Bob, removed, holding the first key: a rotation of his own for carol and dave that
        // leaves alice out, and a value sealed under the first key.
        try bob.git("pull", "-q", "origin", "main")
        let bobIdentity = try bob.identity()
        let old = firstKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let bobKey = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        var forged: [UInt8] = []
        for person in [carol, dave] {
            forged += AccessEntry.make(
                environment: uuid, keys: bobKey, bundle: EnvironmentKeys.bundle(bobKey, retired: [old]), name: person.name,
                recipient: try #require(Recipient.parse(try person.recipient())?.recipient), addedBy: "bob", author: bobIdentity, time: "2099-01-01T00:00:00.000Z"
            ).line
        }
        let accessFile = bob.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try bob.appendToLog(try bob.recordSealed(under: firstKey, name: "db_password", value: "made-up-by-bob"))
        try bob.commitAndPush("my own rotation")
        // Carol, who read since the removal, reads and writes on; dave, who never did, refuses
        // to choose between the two rotations (exit 3) rather than read with the first key.
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-2")
        #expect(try carol.tool("set", "api_token", input: "made-up-carol").status == 0)
        try dave.git("pull", "-q", "origin", "main")
        let stale = try dave.tool("get", "db_password")
        #expect(stale.status == 3 && !stale.text.contains("by-bob"), "\(stale.text) \(stale.error)")
        // Bob takes alice's lines for the new key out of the access file: carol's key file holds it.
        let newKey = try contents(alice.data + "/secrets/vault.key").withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let kept = String(decoding: try contents(accessFile), as: UTF8.self).split(separator: "\n")
            .filter { $0.split(separator: " ").dropFirst(3).first.map(String.init) != Hex.string(newKey.keyID, width: 8) }
        #expect(kept.count < String(decoding: try contents(accessFile), as: UTF8.self).split(separator: "\n").count)
        try write(Array((kept.joined(separator: "\n") + "\n").utf8), to: accessFile)
        try bob.commitAndPush("lines taken out")
        try carol.commitAndPush("carol's token")
        for person in [carol, alice] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-2", "\(person.name)")
            #expect(try person.get("api_token") == "made-up-carol", "\(person.name)")
        }
    }

    @Test("A removed member's older keys and a line under the old key that names a key of his: neither is read with, nor written into a key file")
    func aRemovedMembersOlderKeys() throws {
        let (team, alice) = try Team.start()
        let olderKey = try contents(alice.data + "/secrets/vault.key")
        #expect(try alice.tool("rekey").status == 0)  // before bob joins: his bundle holds the older key too
        let joined = try team.join(["bob", "carol", "dave"], addedBy: alice)
        let (bob, carol, dave) = (joined[0], joined[1], joined[2])
        let joinKey = try contents(bob.data + "/secrets/vault.key")
        try alice.remove("bob", thenSetting: "made-up-2")
        let newKey = try contents(alice.data + "/secrets/vault.key")
        // Bob seals a value under the older key, and writes for dave a line under the key he
        // joined with (he holds it) naming a key of his as older, with that key's own lines.
        try bob.git("pull", "-q", "origin", "main")
        let record = try bob.recordSealed(under: olderKey, name: "db_password", value: "made-up-by-bob")
        let bobIdentity = try bob.identity()
        let join = joinKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let bobKey = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        var forged = AccessEntry.make(
            environment: uuid, keys: join, bundle: EnvironmentKeys.bundle(join, retired: [bobKey]), name: "dave",
            recipient: try #require(Recipient.parse(try dave.recipient())?.recipient), addedBy: "alice", author: nil, time: "2099-01-01T00:00:00.000Z"
        ).line
        for person in [alice, carol, dave] {
            forged += AccessEntry.make(
                environment: uuid, keys: bobKey, bundle: EnvironmentKeys.bundle(bobKey, retired: [join]), name: person.name,
                recipient: try #require(Recipient.parse(try person.recipient())?.recipient), addedBy: "bob", author: bobIdentity, time: "2099-01-01T00:00:00.000Z"
            ).line
        }
        // And from the older key: a line there for himself (he holds it), then a rotation of his
        // own from it for carol and dave, and a value under his second key.
        let older = olderKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let bobSecond = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        forged += AccessEntry.make(
            environment: uuid, keys: older, bundle: EnvironmentKeys.bundle(older, retired: []), name: "bob",
            recipient: bobIdentity.recipient, addedBy: "alice", author: bobIdentity, time: "2000-01-01T00:00:00.000Z"
        ).line
        for person in [carol, dave] {
            forged += AccessEntry.make(
                environment: uuid, keys: bobSecond, bundle: EnvironmentKeys.bundle(bobSecond, retired: [older]), name: person.name,
                recipient: try #require(Recipient.parse(try person.recipient())?.recipient), addedBy: "bob", author: bobIdentity, time: "2099-01-02T00:00:00.000Z"
            ).line
        }
        let secondRecord = try bob.recordSealed(under: bobSecond.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-by-bob-2")
        let accessFile = bob.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try bob.appendToLog(record + secondRecord)
        try bob.commitAndPush("older keys")
        // Dave never read since the removal; carol neither: both follow alice's removal, not
        // bob's key, read alice's value, and keep her new key in their key files.
        for person in [alice, carol, dave] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.text == "made-up-2", "\(person.name): \(read.text) \(read.error)")
            #expect(try contents(person.data + "/secrets/vault.key") == newKey, "\(person.name)")
        }
    }

    @Test("A removal on one branch and a plain rekey on another, merged: the rekeyed branch's key still reaches the removed member, so writes wait for one rekey")
    func aRemovalAndARekeyOnTwoBranches() throws {
        let (team, alice) = try Team.start()
        let joined = try team.join(["bob", "carol"], addedBy: alice)
        let (bob, carol) = (joined[0], joined[1])
        #expect(try alice.tool("access", "remove", "bob").status == 0)
        try alice.commitAndPush("remove bob")
        #expect(try carol.tool("rekey").status == 0)  // on her branch, keeping bob
        #expect(try carol.tool("set", "carols_branch", input: "made-up-carol").status == 0)
        try carol.commitAndPush("a rekey")
        try alice.git("pull", "-q", "origin", "main")
        #expect(try alice.get("carols_branch") == "made-up-carol")
        let refused = try alice.tool("set", "db_password", input: "made-up-refused")
        let listed = try alice.tool("access", "list").text
        #expect(refused.status == 3 && refused.error.contains("bob (removed by alice)"), "\(refused.error) \(listed)")
        let settled = try alice.tool("rekey")
        #expect(settled.status == 0 && settled.text.contains("wrapped for 2 member(s): alice, carol;"), "\(settled.text) \(settled.error)")
        #expect(try alice.tool("set", "db_password", input: "made-up-settled").status == 0)
        try alice.commitAndPush("settle")
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-settled")
        try bob.git("pull", "-q", "origin", "main")
        #expect(!(try bob.tool("get", "db_password").text.contains("made-up-settled")))
    }

    @Test("A member's own rekey, then his removal by someone who joined after it: members who read from before both, with a key file or none, follow both without a conflict")
    func aRekeyThenARemovalByANewcomer() throws {
        let (team, alice) = try Team.start()
        let joined = try team.join(["bob", "carol"], addedBy: alice)
        let (bob, carol) = (joined[0], joined[1])
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        #expect(try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "ci").status == 0)
        try alice.commitAndPush("ci")
        try bob.git("pull", "-q", "origin", "main")
        #expect(try bob.tool("rekey").status == 0)  // a plain rekey by bob
        try bob.commitAndPush("bob's rekey")
        try alice.git("pull", "-q", "origin", "main")
        let erin = try team.join(["erin"], addedBy: alice)[0]  // joins at bob's key
        let removed = try erin.tool("access", "remove", "bob")
        #expect(removed.status == 0, "\(removed.error)")
        #expect(try erin.tool("set", "db_password", input: "made-up-erin").status == 0)
        try erin.commitAndPush("remove bob")
        for person in [carol, ci, alice] {  // carol's key file is from before bob's rekey; CI has none
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.text == "made-up-erin", "\(person.name): \(read.error)")
        }
        try bob.git("pull", "-q", "origin", "main")
        #expect(!(try bob.tool("get", "db_password").text.contains("made-up-erin")))
    }

    @Test("A long history: removals, a member added back, rekeys; a member who pulls it all at once writes without alarm, and a machine with no key file reads the newest key")
    func aLongHistory() throws {
        let (team, alice) = try Team.start()
        let bob = try team.member("bob"), carol = try team.member("carol"), dave = try team.member("dave")
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        let bobLine = try bob.recipient()
        for (person, line) in [(bob, bobLine), (carol, try carol.recipient()), (dave, try dave.recipient()), (ci, AgeKeyVector.recipient)] {
            #expect(try alice.tool("access", "add", line, "--name", person.name).status == 0)
        }
        try alice.commitAndPush("the team")
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.tool("init").status == 0)
        // Remove bob, remove dave, add bob back, two rekeys; then a new value.
        #expect(try alice.tool("access", "remove", "bob").status == 0)
        #expect(try alice.tool("access", "remove", "dave").status == 0)
        #expect(try alice.tool("access", "add", bobLine, "--name", "bob").status == 0)
        #expect(try alice.tool("rekey").status == 0)
        #expect(try alice.tool("rekey").status == 0)
        #expect(try alice.tool("set", "db_password", input: "made-up-5").status == 0)
        try alice.commitAndPush("a long history")
        for person in [carol, bob, ci, dave] { try person.git("pull", "-q", "origin", "main") }
        #expect(try carol.get("db_password") == "made-up-5")  // her key file held the first key
        let written = try carol.tool("set", "api_token", input: "made-up-carol")
        #expect(written.status == 0, "\(written.error)")  // no "two removals merged" alarm
        #expect(try bob.get("db_password") == "made-up-5")  // added back
        #expect(try ci.get("db_password") == "made-up-5")  // no key file: from the first key, all the way
        let daves = try dave.tool("get", "db_password")
        #expect(daves.status != 0 && !daves.text.contains("made-up-5"))
    }

    @Test("Removed, added back, removed again by a newcomer: the member added back reads at once with his old key file; his backdated line and two removed members' rotations from keys before their removal lead nobody who slept through it all, who read on once those lines are taken out")
    func removedMembersAfterARemovalAndANewcomer() throws {
        // Bob is removed; erin and CI read nothing from here on until the end.
        let (team, alice, bob, carol, erin, ci, keyFiles) = try Team.startWithBobRemoved()
        let (firstKey, secondKey) = (keyFiles[0], keyFiles[1])
        try bob.git("pull", "-q", "origin", "main")
        #expect(try bob.get("db_password") == nil)
        // Meanwhile he seals a value under the first key, which he holds (nobody believes it).
        try bob.appendToLog(try bob.recordSealed(under: firstKey, name: "db_password", value: "made-up-by-bob-meanwhile"))
        try bob.commitAndPush("under the first key")
        // Added back: his key file still holds the first key, and a pull is all he needs. His
        // bundle names the first key as revoked, so he reads what everyone reads, not his value.
        #expect(try alice.tool("access", "add", try bob.recipient(), "--name", "bob").status == 0)
        try alice.commitAndPush("bob is back")
        try bob.git("pull", "-q", "origin", "main")
        let back = try bob.tool("get", "db_password")
        #expect(back.text == "made-up-2", "\(back.error)")
        #expect(try contents(bob.data + "/secrets/vault.key") == secondKey)
        // Dave joins after the first removal, and removes bob and carol.
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-2")
        let dave = try team.join(["dave"], addedBy: alice)[0]
        for name in ["bob", "carol"] {
            let removed = try dave.tool("access", "remove", name)
            #expect(removed.status == 0, "\(removed.error)")
        }
        #expect(try dave.tool("set", "db_password", input: "made-up-dave").status == 0)
        try dave.commitAndPush("remove bob and carol")
        let lastKey = try contents(dave.data + "/secrets/vault.key")
        // Bob, holding the second key, writes a line there for himself dated before the first
        // removal (so it looks as if it left no one out); then bob from the first key, and carol
        // from the first and the second, each rotate on their own for erin and CI, leaving out
        // alice, with a value under each new key.
        try bob.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        func keys(_ bytes: [UInt8]) -> EnvironmentKeys { bytes.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) } }
        let (first, second) = (keys(firstKey), keys(secondKey))
        var forged = AccessEntry.make(
            environment: uuid, keys: second, bundle: EnvironmentKeys.bundle(second, retired: [first]), name: "bob",
            recipient: try bob.identity().recipient, addedBy: "alice", author: try bob.identity(), time: "2000-01-01T00:00:00.000Z"
        ).line
        var records: [UInt8] = []
        var ownKeyIDs: [String] = []
        for (author, from) in [(bob, first), (carol, first), (carol, second)] {
            let own = EnvironmentKeys(key: EnvironmentKeys.generateKey())
            ownKeyIDs.append(Hex.string(own.keyID, width: 8))
            for (name, line) in [("erin", try erin.recipient()), ("ci", AgeKeyVector.recipient), (author.name, try author.recipient())] {
                forged += AccessEntry.make(
                    environment: uuid, keys: own, bundle: EnvironmentKeys.bundle(own, retired: [from]), name: name,
                    recipient: try #require(Recipient.parse(line)?.recipient), addedBy: author.name, author: try author.identity(),
                    time: "2099-01-01T00:00:00.000Z"
                ).line
            }
            records += try bob.recordSealed(under: own.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-by-\(author.name)")
        }
        let accessFile = bob.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try bob.appendToLog(records)
        try bob.commitAndPush("rotations of our own")
        // Erin (her key file holds the first key) and CI (no key file) follow neither removed
        // member: they refuse to choose (exit 3), reading nothing, and erin's key file stays.
        // (Each removed member's rotation contests the other's and the first removal; one of
        // them alone would be followed: the spec's "Not protected yet".)
        try Team.expectRefusal(of: [erin, ci], keyFile: (erin, firstKey))
        // Dave takes the removed members' rotation lines out: both follow the genuine rotations
        // all the way to his key; erin keeps it, and writes with no alarm.
        try dave.git("pull", "-q", "origin", "main")
        let daveAccess = dave.data + "/secrets/vault.log.access"
        let kept = String(decoding: try contents(daveAccess), as: UTF8.self).split(separator: "\n")
            .filter { line in !ownKeyIDs.contains(line.split(separator: " ").dropFirst(3).first.map(String.init) ?? "") }
        try write(Array((kept.joined(separator: "\n") + "\n").utf8), to: daveAccess)
        try dave.commitAndPush("their rotations out")
        for person in [erin, ci] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.status == 0 && read.text == "made-up-dave", "\(person.name): \(read.text) \(read.error)")
        }
        #expect(try contents(erin.data + "/secrets/vault.key") == lastKey)
        let written = try erin.tool("set", "api_token", input: "made-up-erin")
        #expect(written.status == 0, "\(written.error)")
        try erin.commitAndPush("erin's token")
        try dave.git("pull", "-q", "origin", "main")
        #expect(try dave.get("api_token") == "made-up-erin")
        #expect(try dave.get("db_password") == "made-up-dave")
    }

    @Test("A member removed by someone who joined after an earlier removal rotates on his own from the key before it, which the newcomer never held: the newcomer's bundles name that key as revoked, so nobody who slept through both follows him; one that leaves out the earlier remover makes a machine with no key file refuse; nobody reads his value")
    func aRemovalByANewcomerAfterAnEarlierRemoval() throws {
        // Alice removes bob; dave joins after it (never given the first key) and removes carol.
        // Erin (her key file holds the first key) and CI (no key file) read nothing meanwhile.
        let (team, alice, bob, carol, erin, ci, keyFiles) = try Team.startWithBobRemoved()
        let (firstKey, secondKey) = (keyFiles[0], keyFiles[1])
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-2")
        let dave = try team.join(["dave"], addedBy: alice)[0]
        try dave.remove("carol", thenSetting: "made-up-dave")
        let lastKey = try contents(dave.data + "/secrets/vault.key")
        // Carol rotates from the first key on her own: a key of hers wrapped for everyone who was
        // a member at it (so it leaves no one out, and contests no removal), dated after all, with
        // a value under it. Then, after erin has read, a second one that leaves alice out.
        try carol.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        let first = firstKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        func rotateFromTheFirstKey(for people: [Teammate], value: String) throws {
            let own = EnvironmentKeys(key: EnvironmentKeys.generateKey())
            try carol.appendAccessLines(under: own, bundle: EnvironmentKeys.bundle(own, retired: [first]), for: people, time: "2099-01-01T00:00:00.000Z")
            try carol.appendToLog(try carol.recordSealed(under: own.master.withUnsafeBytes { Array($0) }, name: "db_password", value: value))
            try carol.commitAndPush("a key of my own")
        }
        // A line under the first key for erin that names the second as revoked (as if alice's
        // removal went back): it moves no one. (One holding the second key too would be a
        // rotation of carol's from it, leaving out dave: readers refuse, as the spec says.)
        let second = secondKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let back = AccessEntry.make(
            environment: uuid, keys: first, bundle: EnvironmentKeys.bundle(first, retired: [], revoking: [second.revocationID]), name: "erin",
            recipient: try #require(Recipient.parse(try erin.recipient())?.recipient), addedBy: "carol", author: try carol.identity(),
            time: "2099-01-01T00:00:00.000Z"
        ).line
        try write(try contents(carol.data + "/secrets/vault.log.access") + back, to: carol.data + "/secrets/vault.log.access")
        try rotateFromTheFirstKey(for: [alice, bob, carol, erin], value: "made-up-by-carol")
        for person in [erin, ci, alice, dave] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.status == 0 && read.text == "made-up-dave", "\(person.name): \(read.text) \(read.error)")
        }
        #expect(try contents(erin.data + "/secrets/vault.key") == lastKey)
        // Leaving alice out, her rotation contests alice's removal of bob, and dave's contests
        // hers: CI, which holds nothing of its own, refuses; members who hold a key read on.
        try rotateFromTheFirstKey(for: [bob, carol, erin], value: "made-up-by-carol-2")
        try Team.expectRefusal(of: [ci], keyFile: (erin, lastKey))
        for person in [erin, alice, dave] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-dave", "\(person.name)")
        }
    }

    @Test("A removed member rotates back into a key older than one he held (which a later removal's bundle retires): readers who never held it, and one that did with no key file, follow the removals; nobody reads his value")
    func aRotationBackIntoAnOlderKey() throws {
        let (team, alice, joined, ci, firstKey) = try Team.startWithCI(joining: ["carol", "mal"])
        let carol = joined[0]
        // Alice removes mal; erin, frank and gina join after it (their key files hold only the
        // second key, their bundles name the first as revoked); frank rekeys (gina reads once
        // since: her key files hold his key and the second), adds dave, who removes carol.
        // Nobody after alice's removal held the first key.
        try alice.remove("mal", thenSetting: "made-up-2")
        let secondKey = try contents(alice.data + "/secrets/vault.key")
        let newcomers = try team.join(["erin", "frank", "gina", "hal"], addedBy: alice)
        let (erin, frank, gina, hal) = (newcomers[0], newcomers[1], newcomers[2], newcomers[3])
        #expect(try frank.tool("rekey").status == 0)
        let thirdKey = try contents(frank.data + "/secrets/vault.key")
        try frank.commitAndPush("rekey")
        try gina.git("pull", "-q", "origin", "main")
        #expect(try gina.get("db_password") == "made-up-2")
        let dave = try team.join(["dave"], addedBy: frank)[0]
        try dave.remove("carol", thenSetting: "made-up-dave")
        // Carol: a rotation from the second key back to the first (she holds both), wrapped for
        // everyone who was a member at the second, so it leaves no one out; a value under it.
        try carol.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        func keys(_ bytes: [UInt8]) -> EnvironmentKeys { bytes.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) } }
        let (first, second) = (keys(firstKey), keys(secondKey))
        try carol.appendAccessLines(
            under: first, bundle: EnvironmentKeys.bundle(first, retired: [second]), for: [alice, carol, erin, frank, gina], time: "2099-01-01T00:00:00.000Z")
        let accessFile = carol.data + "/secrets/vault.log.access"
        try carol.appendToLog(try carol.recordSealed(under: firstKey, name: "db_password", value: "made-up-by-carol"))
        try carol.commitAndPush("back to the first key")
        // Erin (key file: the second key) never held the first key, and sees no rotation from it
        // on to the keys after: carol's step back is no step towards dave's removal, which
        // contests it, and she follows the removals to dave's key, as members do. So does gina,
        // who holds the second key as a retired one.
        let lastKey = try contents(dave.data + "/secrets/vault.key")
        for person in [erin, gina, alice, frank] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.status == 0 && read.text == "made-up-dave", "\(person.name): \(read.text) \(read.error)")
        }
        #expect(try contents(erin.data + "/secrets/vault.key") == lastKey)
        // CI was a member at the first key: alice's removal of mal leads from it to the keys
        // after, so carol's rotation counts as a step; but the walk never steps back, and from
        // the second key it takes the rotation that leads on to a key no removal revoked.
        try ci.git("pull", "-q", "origin", "main")
        let machine = try ci.tool("get", "db_password")
        #expect(machine.status == 0 && machine.text == "made-up-dave", "\(machine.text) \(machine.error)")
        // Then, for hal (key file: the second key, never read since) and CI: a line under the
        // second key whose bundle holds it again (a rotation into itself), and a key of carol's
        // whose rotations from the second and third keys contest frank's rekey and dave's
        // removal; a value under the second key. Neither lands on the second key: they refuse.
        let third = keys(thirdKey), own = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        var more: [UInt8] = []
        for (name, line) in [("hal", try hal.recipient()), ("ci", AgeKeyVector.recipient), ("carol", try carol.recipient())] {
            let recipient = try #require(Recipient.parse(line)?.recipient)
            if name != "carol" {
                more += AccessEntry.make(
                    environment: uuid, keys: second, bundle: EnvironmentKeys.bundle(second, retired: [second]), name: name, recipient: recipient,
                    addedBy: "carol", author: try carol.identity(), time: "2099-01-01T00:00:00.000Z"
                ).line
            }
            more += AccessEntry.make(
                environment: uuid, keys: own, bundle: EnvironmentKeys.bundle(own, retired: [third, second]), name: name, recipient: recipient,
                addedBy: "carol", author: try carol.identity(), time: "2000-01-01T00:00:00.000Z"
            ).line
        }
        try carol.git("pull", "-q", "origin", "main")
        try write(try contents(accessFile) + more, to: accessFile)
        try carol.appendToLog(try carol.recordSealed(under: secondKey, name: "db_password", value: "made-up-by-carol-2"))
        try carol.commitAndPush("the second key again")
        try Team.expectRefusal(of: [hal, ci], keyFile: (hal, secondKey))
    }

    @Test("A removed member makes an identity of his a member at an old key he holds (which no removal could leave out by name) and rotates from it as that identity: the remover, who has read since, does not follow it or read his value")
    func aRemovedMembersSecondIdentity() throws {
        let (team, alice) = try Team.start()
        let mal = try team.join(["mal"], addedBy: alice)[0]
        let firstKey = try contents(alice.data + "/secrets/vault.key")
        #expect(try alice.tool("rekey").status == 0)  // a plain rekey: mal holds both keys
        try alice.commitAndPush("rekey")
        let bob = try team.join(["bob"], addedBy: alice)[0]
        let carol = try team.join(["carol"], addedBy: bob)[0]  // nobody at the first key wrote her lines
        try carol.remove("mal", thenSetting: "made-up-carol")
        // Mal: a line under the first key for an identity of his own (a member there now), and a
        // key M wrapped for carol and alice in a bundle holding the first key, written by that
        // identity, with a value under M.
        try mal.git("pull", "-q", "origin", "main")
        let other = try team.member("mal2")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        let first = firstKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let m = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        var forged = AccessEntry.make(
            environment: uuid, keys: first, bundle: EnvironmentKeys.bundle(first, retired: []), name: "mal2",
            recipient: try #require(Recipient.parse(try other.recipient())?.recipient), addedBy: "mal", author: try mal.identity(),
            time: "2000-01-01T00:00:00.000Z"
        ).line
        for person in [carol, alice] {
            forged += AccessEntry.make(
                environment: uuid, keys: m, bundle: EnvironmentKeys.bundle(m, retired: [first]), name: person.name,
                recipient: try #require(Recipient.parse(try person.recipient())?.recipient), addedBy: "mal2", author: try other.identity(),
                time: "2099-01-01T00:00:00.000Z"
            ).line
        }
        let accessFile = mal.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try mal.appendToLog(try mal.recordSealed(under: m.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-by-mal"))
        try mal.commitAndPush("a member of my own")
        for person in [carol, alice, bob] {
            try person.git("pull", "-q", "origin", "main")
            let read = try person.tool("get", "db_password")
            #expect(read.status == 0 && read.text == "made-up-carol", "\(person.name): \(read.text) \(read.error)")
        }
    }

    @Test("A removed member contests every rotation into a machine's keys and gives it a bare key of his own: the machine, with no key file, refuses rather than take the one grant left")
    func aMachinesKeysAllContested() throws {
        let (team, alice) = try Team.start()
        let mal = try team.join(["mal"], addedBy: alice)[0]
        let firstKey = try contents(alice.data + "/secrets/vault.key")
        #expect(try alice.tool("rekey").status == 0)  // a plain rekey; CI joins after it
        let secondKey = try contents(alice.data + "/secrets/vault.key")
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        #expect(try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "ci").status == 0)
        try alice.commitAndPush("rekey, and ci")
        try alice.remove("mal", thenSetting: "made-up-2")
        try ci.git("pull", "-q", "origin", "main")
        #expect(try ci.get("db_password") == "made-up-2")
        // Mal: a key Y of his, wrapped for CI in a bundle holding the first and second keys, dated
        // long ago (so it leaves alice out of both, contesting her rekey and her removal of him);
        // and a bare key X of his for CI, with a value under it.
        try mal.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        func keys(_ bytes: [UInt8]) -> EnvironmentKeys { bytes.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) } }
        let (y, x) = (EnvironmentKeys(key: EnvironmentKeys.generateKey()), EnvironmentKeys(key: EnvironmentKeys.generateKey()))
        let machine = try #require(Recipient.parse(AgeKeyVector.recipient)?.recipient)
        var forged = AccessEntry.make(
            environment: uuid, keys: y, bundle: EnvironmentKeys.bundle(y, retired: [keys(secondKey), keys(firstKey)]), name: "ci",
            recipient: machine, addedBy: "mal", author: try mal.identity(), time: "2000-01-01T00:00:00.000Z"
        ).line
        forged += AccessEntry.make(
            environment: uuid, keys: x, bundle: EnvironmentKeys.bundle(x, retired: []), name: "ci", recipient: machine, addedBy: "mal",
            author: try mal.identity(), time: "2099-01-01T00:00:00.000Z"
        ).line
        let accessFile = mal.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try mal.appendToLog(try mal.recordSealed(under: x.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-by-mal"))
        try mal.commitAndPush("keys of my own")
        try ci.git("pull", "-q", "origin", "main")
        let read = try ci.tool("get", "db_password")
        #expect(read.status == 3 && !read.text.contains("made-up") && !read.error.contains("made-up"), "\(read.text) \(read.error)")
        try alice.git("pull", "-q", "origin", "main")
        #expect(try alice.get("db_password") == "made-up-2")
    }

    @Test("Newcomers after a removal are given no revoked key: their rekeys and adds carry none, so nobody reads with it; a machine added after the removal follows no rotation of the removed member's")
    func newcomersAfterARemoval() throws {
        let (team, alice) = try Team.start()
        let joined = try team.join(["bob", "carol"], addedBy: alice)
        let (bob, carol) = (joined[0], joined[1])
        let firstKey = try contents(alice.data + "/secrets/vault.key")
        try alice.remove("bob", thenSetting: "made-up-2")
        // After it: dave joins and rekeys, then adds erin; CI joins with only an identity.
        let ci = try team.member("ci", variables: ["MAGE_VAULT_IDENTITY": AgeKeyVector.identity, "HOME": "/nonexistent"])
        #expect(try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "ci").status == 0)
        let dave = try team.join(["dave"], addedBy: alice)[0]
        #expect(try dave.tool("rekey").status == 0)
        let erin = try team.join(["erin"], addedBy: dave)[0]
        // Bob: a value under the first key, and for CI a rotation of his own from it (leaving
        // alice out) and a bare line under another key of his.
        try bob.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        let first = firstKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let rotated = EnvironmentKeys(key: EnvironmentKeys.generateKey()), bare = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let ciRecipient = try #require(Recipient.parse(AgeKeyVector.recipient)?.recipient)
        var forged = AccessEntry.make(
            environment: uuid, keys: rotated, bundle: EnvironmentKeys.bundle(rotated, retired: [first]), name: "ci", recipient: ciRecipient,
            addedBy: "bob", author: try bob.identity(), time: "2099-01-01T00:00:00.000Z"
        ).line
        forged += AccessEntry.make(
            environment: uuid, keys: bare, bundle: EnvironmentKeys.bundle(bare, retired: []), name: "ci", recipient: ciRecipient,
            addedBy: "bob", author: try bob.identity(), time: "2099-01-01T00:00:00.000Z"
        ).line
        let accessFile = bob.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try bob.appendToLog(try bob.recordSealed(under: firstKey, name: "db_password", value: "made-up-by-bob"))
        try bob.commitAndPush("under the first key")
        // Every member reads alice's value, before and after another key move; CI never reads bob's.
        for round in 0..<2 {
            for person in [alice, carol, dave, erin] {
                try person.git("pull", "-q", "origin", "main")
                let read = try person.tool("get", "db_password")
                #expect(read.text == "made-up-2", "round \(round), \(person.name): \(read.text) \(read.error)")
            }
            try ci.git("pull", "-q", "origin", "main")
            let machine = try ci.tool("get", "db_password")
            #expect(!machine.text.contains("by-bob") && (machine.status == 3 || machine.text == "made-up-2"), "round \(round): \(machine.text) \(machine.error)")
            #expect(try dave.tool("rekey").status == 0)
            try dave.commitAndPush("another rekey")
        }
    }

    @Test("A removed member invents a key that holds the key he was removed from, with a line there for the remover, and rotates from it and from the old key: readers who have not read since refuse, none follows him, and those who have read on")
    func aRemovedMembersInventedKey() throws {
        let (team, alice, joined, ci, firstKey) = try Team.startWithCI(joining: ["bob", "carol", "mal"])
        defer { withExtendedLifetime(team) {} }  // its folder holds every clone
        let (bob, carol, mal) = (joined[0], joined[1], joined[2])
        try alice.remove("mal", thenSetting: "made-up-2")
        try carol.git("pull", "-q", "origin", "main")
        #expect(try carol.get("db_password") == "made-up-2")
        // Mal: a key Q of his own, with lines under it for himself and for alice (recipients are
        // public, and Q makes the check); then a key M wrapped for bob, CI and himself in a bundle
        // [M, Q, first key], authenticated by him and dated after the removal, and a value under M.
        try mal.git("pull", "-q", "origin", "main")
        let uuid = try #require(EnvironmentID(String(decoding: try contents(alice.data + "/secrets/uuid"), as: UTF8.self)))
        let malIdentity = try mal.identity()
        let first = firstKey.withUnsafeBytes { EnvironmentKeys(key: SecureBytes(copying: $0)) }
        let q = EnvironmentKeys(key: EnvironmentKeys.generateKey()), m = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        var forged: [UInt8] = []
        for (name, line) in [("mal", try mal.recipient()), ("alice", try alice.recipient())] {
            forged += AccessEntry.make(
                environment: uuid, keys: q, bundle: EnvironmentKeys.bundle(q, retired: []), name: name,
                recipient: try #require(Recipient.parse(line)?.recipient), addedBy: "mal", author: malIdentity, time: "2000-01-01T00:00:00.000Z"
            ).line
        }
        for (name, line) in [("bob", try bob.recipient()), ("ci", AgeKeyVector.recipient), ("mal", try mal.recipient())] {
            forged += AccessEntry.make(
                environment: uuid, keys: m, bundle: EnvironmentKeys.bundle(m, retired: [q, first]), name: name,
                recipient: try #require(Recipient.parse(line)?.recipient), addedBy: "mal", author: malIdentity, time: "2099-01-01T00:00:00.000Z"
            ).line
        }
        let accessFile = mal.data + "/secrets/vault.log.access"
        try write(try contents(accessFile) + forged, to: accessFile)
        try mal.appendToLog(try mal.recordSealed(under: m.master.withUnsafeBytes { Array($0) }, name: "db_password", value: "made-up-by-mal"))
        try mal.commitAndPush("a key of my own")
        // Bob (a key file from before the removal) and CI (none) refuse; neither reads mal's
        // value, and bob's key file keeps the first key. Alice and carol, who hold the new key, read on.
        try Team.expectRefusal(of: [bob, ci], keyFile: (bob, firstKey))
        for person in [alice, carol] {
            try person.git("pull", "-q", "origin", "main")
            #expect(try person.get("db_password") == "made-up-2", "\(person.name)")
        }
    }

    @Test("A recipient is compared byte for byte: one spelled with a KELVIN SIGN where its base64 has a K (equal as Swift strings) is no recipient, even after the real one")
    func recipientsByteForByte() throws {
        let keys = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let uuid = try #require(EnvironmentID("d3a1c0de5ca1ab1ed3a1c0de5ca1ab1e"))
        let recipient = try #require(Recipient.parse(SSHKeyVector.publicKey)?.recipient)
        let line = String(decoding: AccessEntry.make(
            environment: uuid, keys: keys, bundle: EnvironmentKeys.bundle(keys, retired: []), name: "carol", recipient: recipient,
            addedBy: "-", author: nil, time: "2026-01-01T00:00:00.000Z"
        ).line, as: UTF8.self)
        // The first K of the recipient field (the sixth) written as U+212A, in UTF-8.
        let bytes = Array(line.utf8)
        let fieldStart = bytes.indices.filter { bytes[$0] == 0x20 }[4] + 1
        let k = try #require(bytes[fieldStart...].firstIndex(of: 0x4B))
        let kelvin = Array(bytes[..<k]) + [0xE2, 0x84, 0xAA] + Array(bytes[(k + 1)...])
        #expect(String(decoding: kelvin, as: UTF8.self) == line)  // equal as Swift strings
        #expect(Access.parse(bytes + kelvin).count == 1)
        #expect(Access.parse(kelvin).isEmpty)
    }

    @Test("Lines written without any key: they grant nothing, lock no one out, and change no member's key; a reader with no key of its own refuses to guess")
    func forgedEntries() throws {
        let (team, alice) = try Team.start()
        let dave = try team.member("dave")
        let daveLine = try dave.recipient()
        #expect(try alice.tool("access", "add", daveLine, "--name", "dave").status == 0)
        try alice.commitAndPush("add dave")
        try dave.git("pull", "-q", "origin", "main")
        #expect(try dave.get("db_password") == "made-up-1")
        // Mallory, with write access to the repository and no key: an entry for herself, and
        // one for dave wrapping a key of her own (checked under it, as only she can).
        let access = dave.data + "/secrets/vault.log.access"
        let uuid = String(decoding: try contents(dave.data + "/secrets/uuid"), as: UTF8.self).trimmingCharacters(in: .newlines)
        let environment = try #require(EnvironmentID(uuid))
        let malloryKeys = EnvironmentKeys(key: EnvironmentKeys.generateKey())
        let mallory = Identity.generate()
        let daveRecipient = try #require(Recipient.parse(daveLine)?.recipient)
        var forged: [UInt8] = []
        for (recipient, name) in [(mallory.recipient, "mallory"), (daveRecipient, "dave")] {
            forged += AccessEntry.make(
                environment: environment, keys: malloryKeys, bundle: EnvironmentKeys.bundle(malloryKeys, retired: []), name: name,
                recipient: recipient, addedBy: "alice", author: mallory, time: "2026-12-07T17:00:00.000Z"
            ).line
        }
        forged += Array("mage-vault-access 1 not a line\n".utf8)
        let handle = try #require(FileHandle(forWritingAtPath: access))
        handle.seekToEndOfFile()
        handle.write(Data(forged))
        try handle.close()
        try dave.commitAndPush("a hostile line")
        try alice.git("pull", "-q", "origin", "main")
        // Mallory reads nothing with her key.
        let malloryText = String(decoding: mallory.fileText(created: "2026-12-07T17:00:00Z"), as: UTF8.self)
        let malloryClone = try team.member("mallory", variables: ["MAGE_VAULT_IDENTITY": malloryText])
        let stolen = try malloryClone.tool("get", "db_password")
        #expect(stolen.status == 3 && !stolen.text.contains("made-up"), "\(stolen.text) \(stolen.error)")
        // Alice (her key file) is unmoved; the forged lines are counted, never listed as members.
        #expect(try alice.get("db_password") == "made-up-1")
        let listed = try alice.tool("access", "list").text
        #expect(listed.contains("2 member(s)") && listed.contains("2 line(s) no key of this scope vouches for") && !listed.contains("mallory"), "\(listed)")
        // Dave, with no key file yet, holds two unrelated keys addressed to him: refused, naming both.
        let guessed = try dave.tool("get", "db_password")
        #expect(guessed.status == 3 && guessed.error.contains("two unrelated keys") && guessed.error.contains(String(malloryKeys.keyID, radix: 16)), "\(guessed.error)")
        #expect(!guessed.text.contains("made-up"))
        // A member whose key file anchors them (init before the hostile line) is never misled:
        // take dave's clone back to before it, init, then pull it in again.
        try dave.git("reset", "-q", "--hard", "HEAD~1")
        #expect(try dave.tool("init").status == 0)
        try dave.git("pull", "-q", "--no-rebase", "origin", "main")
        #expect(try dave.get("db_password") == "made-up-1")
        #expect(try dave.tool("set", "db_password", input: "made-up-3").status == 0)
        #expect(try alice.tool("get", "db_password", "--vault", dave.data + "/secrets/vault.log").text == "made-up-3")
    }

    @Test("Refused access commands change nothing: a symlinked access file, a key of small order, removing yourself, a key in a variable, a passphrase-protected scope")
    func refusals() throws {
        let (team, alice) = try Team.start()
        let access = alice.data + "/secrets/vault.log.access"
        func snapshot() throws -> [String: [UInt8]] {
            var files: [String: [UInt8]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: alice.data + "/secrets") {
                let path = alice.data + "/secrets/" + name
                files[name] = FileSystem.isSymbolicLink(path) ? Array(("link:" + (try FileManager.default.destinationOfSymbolicLink(atPath: path))).utf8) : try contents(path)
            }
            return files
        }
        // An access file committed as a link to the reader's identity is never followed.
        let saved = try contents(access)
        try FileManager.default.removeItem(atPath: access)
        try FileManager.default.createSymbolicLink(atPath: access, withDestinationPath: alice.home + "/.config/mage-vault/identity")
        var before = try snapshot()
        let linked = try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "bob")
        #expect(linked.status == 4 && linked.error.contains("it is a symbolic link"), "\(linked.error)")
        #expect(!linked.text.contains("AGE-SECRET-KEY") && !linked.error.contains("AGE-SECRET-KEY"))
        #expect(try snapshot() == before)
        #expect(try alice.get("db_password") == "made-up-1")  // her key file reads on
        try FileManager.default.removeItem(atPath: access)
        try write(saved, to: access)
        // A recipient whose key libsodium refuses (of small order): refused, nothing written.
        before = try snapshot()
        let zero = try alice.tool("access", "add", "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z", "--name", "zero")
        #expect(zero.status == 2 && zero.error.contains("not a recipient"), "\(zero.error)")
        // Removing yourself, with a key in a variable, or on a passphrase-protected scope.
        #expect(try alice.tool("access", "add", AgeKeyVector.recipient, "--name", "bob").status == 0)
        before = try snapshot()
        let yourself = try alice.tool("access", "remove", "alice")
        #expect(yourself.status == 2 && yourself.error.contains("is you"), "\(yourself.error)")
        let key = try contents(alice.data + "/secrets/vault.key")
        var variable = alice
        variable.variables["MAGE_VAULT_KEY"] = String(decoding: key.withUnsafeBytes { Base64.encode($0) }, as: UTF8.self)
        let fromVariable = try variable.tool("access", "remove", "bob")
        #expect(fromVariable.status == 2, "\(fromVariable.error)")
        #expect(try snapshot() == before)
        var passphrase = alice
        passphrase.variables["MAGE_VAULT_NEW_PASSPHRASE"] = "made-up passphrase"
        passphrase.variables["MAGE_VAULT_PASSPHRASE"] = "made-up passphrase"
        // A rekey of a shared scope wraps the new key for every member: bob is not cut off.
        let rekeyed = try passphrase.tool("rekey", "--passphrase", "--kdf-limits", "interactive")
        #expect(rekeyed.status == 0 && rekeyed.text.contains("wrapped for 2 member(s): alice, bob"), "\(rekeyed.text) \(rekeyed.error)")
        #expect(try passphrase.tool("access", "list").text.contains("2 member(s)"))
        before = try snapshot()
        let protected = try passphrase.tool("access", "remove", "bob")
        #expect(protected.status == 2 && protected.error.contains("protected by a passphrase"), "\(protected.error)")
        #expect(try snapshot() == before)
        _ = team
    }

    @Test("Killed at any moment, access add and access remove lose nothing: every member reads every value, and a finished removal keeps the removed out")
    func accessCrashes() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let log = data + "/secrets/vault.log"
        func person(_ name: String) throws -> [String: String] {
            let home = directory.file("home-" + name)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            return ["HOME": home, "XDG_CONFIG_HOME": home + "/.config"]
        }
        let alice = try person("alice"), carol = try person("carol"), bob = try person("bob")
        func tool(_ who: [String: String], _ arguments: [String], dataDir: String = data, input: String = "") throws -> ToolResult {
            try run(toolPath, arguments + ["--data-dir", dataDir, "--vault", log], input: Array(input.utf8), environment: who)
        }
        func recipient(_ who: [String: String]) throws -> String {
            let text = try run(toolPath, ["identity"], environment: who).text
            return String((text.split(separator: "\n").first { $0.hasPrefix("recipient  ") } ?? "").dropFirst("recipient  ".count))
        }
        let values = (1...200).map { "KEY_\($0)=made-up value \($0)\n" }.joined()
        try write(Array(values.utf8), to: directory.file("many.env"))
        #expect(try tool(alice, ["import", directory.file("many.env")]).status == 0)
        #expect(try tool(alice, ["access", "add", try recipient(alice), "--name", "alice"]).status == 0)
        #expect(try tool(alice, ["access", "add", try recipient(carol), "--name", "carol"]).status == 0)
        // Carol and bob read from data dirs of their own: the same uuid and log, no key file.
        let carolData = directory.file("carol-data"), bobData = directory.file("bob-data")
        for folder in [carolData, bobData] {
            try FileManager.default.createDirectory(atPath: folder + "/secrets", withIntermediateDirectories: true)
            try write(try contents(data + "/secrets/uuid"), to: folder + "/secrets/uuid")
        }
        let bobLine = try recipient(bob)
        let window = try timed { try tool(alice, ["access", "add", bobLine, "--name", "bob"]) } + (try timed { try tool(alice, ["access", "remove", "bob"]) })
        var outcomes: [String: Int] = [:]
        for round in 0..<max(8, crashKills / 3) {
            let add = round % 4 == 0  // a quarter of the kills land in an add, the rest in a removal
            if !add { _ = try tool(alice, ["access", "add", bobLine, "--name", "bob"]) }
            let arguments = add ? ["access", "add", bobLine, "--name", "bob"] : ["access", "remove", "bob"]
            let environment = alice.map { "\($0.key)=\($0.value)" }
            let process = try start("/usr/bin/env", environment + [toolPath] + arguments + ["--data-dir", data, "--vault", log], input: [])
            usleep(UInt32.random(in: 0...UInt32(window * 1.3e6)))
            let killed = process.isRunning
            if killed { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            outcomes["\(add ? "add" : "remove") \(killed ? "killed" : "finished first")", default: 0] += 1
            // Nothing is lost: alice (her key file) and carol (her identity alone) read every value.
            #expect(try tool(alice, ["get", "KEY_77"]).text == "made-up value 77")
            let carolRead = try tool(carol, ["get", "KEY_150"], dataDir: carolData)
            #expect(carolRead.text == "made-up value 150", "\(carolRead.error)")
            #expect(try tool(alice, ["verify"]).status == 0)
            #expect(try tool(alice, ["access", "list"]).status == 0)
        }
        print("crash test (access): \(outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")
        // Then a removal that finishes, and a value written after it: bob cannot read it; carol can.
        let removed = try tool(alice, ["access", "remove", "bob"])
        #expect(removed.status == 0 || removed.status == 1, "\(removed.error)")
        #expect(try tool(alice, ["set", "after"], input: "made-up after").status == 0)
        #expect(try tool(carol, ["get", "after"], dataDir: carolData).text == "made-up after")
        let bobRead = try tool(bob, ["get", "after"], dataDir: bobData)
        #expect(bobRead.status != 0 && !bobRead.text.contains("made-up"), "\(bobRead.text)")
        #expect(try tool(alice, ["export", "--plaintext"]).text.split(separator: "\n").count == 201)
        // A reader killed while it keeps a followed rotation in its key files (dan, holding the
        // key from before one more removal): the next read completes or rolls it back, and reads.
        let dan = try person("dan"), danData = directory.file("dan-data")
        try FileManager.default.createDirectory(atPath: danData + "/secrets", withIntermediateDirectories: true)
        try write(try contents(data + "/secrets/uuid"), to: danData + "/secrets/uuid")
        #expect(try tool(alice, ["access", "add", try recipient(dan), "--name", "dan"]).status == 0)
        #expect(try tool(alice, ["access", "add", bobLine, "--name", "bob"]).status == 0)
        #expect(try tool(dan, ["init"], dataDir: danData).status == 0)
        let danKey = danData + "/secrets/vault.key"
        let saved = try FileManager.default.contentsOfDirectory(atPath: danData + "/secrets").filter { $0.hasPrefix("vault.key") }
            .map { ($0, try contents(danData + "/secrets/" + $0)) }
        #expect(try tool(alice, ["access", "remove", "bob"]).status == 0)
        let readWindow = try timed { try tool(dan, ["get", "KEY_10"], dataDir: danData) }
        let firstKey = try #require(saved.first { $0.0 == "vault.key" }).1
        for _ in 0..<max(6, crashKills / 6) {
            for name in try FileManager.default.contentsOfDirectory(atPath: danData + "/secrets") where name.hasPrefix("vault.key") {
                try FileManager.default.removeItem(atPath: danData + "/secrets/" + name)
            }
            for (name, bytes) in saved { try write(bytes, to: danData + "/secrets/" + name); chmod(danData + "/secrets/" + name, 0o600) }
            let environment = dan.map { "\($0.key)=\($0.value)" }
            let process = try start("/usr/bin/env", environment + [toolPath, "get", "KEY_10", "--data-dir", danData, "--vault", log], input: [])
            usleep(UInt32.random(in: 0...UInt32(readWindow * 1.2e6)))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let read = try tool(dan, ["get", "KEY_10"], dataDir: danData)
            #expect(read.text == "made-up value 10", "\(read.error)")
            #expect(try contents(danKey) != firstKey)  // and the read after the kill kept the new key
        }
        let danAfter = try tool(dan, ["get", "after"], dataDir: danData)
        #expect(danAfter.text == "made-up after", "\(danAfter.error)")
    }
}
