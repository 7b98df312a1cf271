import Foundation
import Testing

@testable import MageVault

@Suite("Environment: data dir, Mage's uuid, key files")
struct EnvironmentTests {
    let directory = TemporaryDirectory()

    @Test("The data dir is --data-dir, else $MAGE_DATA_DIR, else ~/.mage_data; the log is --vault, else $MAGE_VAULT_FILE")
    func locationResolution() {
        let variables = ["MAGE_DATA_DIR": "/srv/mage", "HOME": "/home/user", "MAGE_VAULT_FILE": "/shared/vault.log"]
        #expect(EnvironmentLocation(dataDirectory: "/explicit", variables: variables).dataDirectory == "/explicit")
        #expect(EnvironmentLocation(variables: variables).dataDirectory == "/srv/mage")
        #expect(EnvironmentLocation(variables: ["HOME": "/home/user"]).dataDirectory == "/home/user/.mage_data")
        #expect(EnvironmentLocation(variables: variables).logFile == "/shared/vault.log")
        #expect(EnvironmentLocation(vaultFile: "/mine.log", variables: variables).logFile == "/mine.log")
        let defaults = EnvironmentLocation(variables: ["HOME": "/home/user"])
        #expect(defaults.logFile == "/home/user/.mage_data/secrets/vault.log")
        #expect(defaults.uuidFile == "/home/user/.mage_data/secrets/uuid")
        #expect(defaults.keyFile == "/home/user/.mage_data/secrets/vault.key")
        let relative = EnvironmentLocation(dataDirectory: "project/data/", variables: [:])
        #expect(relative.dataDirectory == FileSystem.currentDirectory() + "/project/data")
    }

    @Test("A new environment: uuid as Mage writes it, a 32-byte key 0600 in a 0700 folder")
    func creation() throws {
        let environment = try makeEnvironment(in: directory, "data")
        let location = environment.location
        let uuid = String(decoding: try contents(location.uuidFile), as: UTF8.self)
        #expect(uuid == environment.id.description)
        #expect(uuid.count == 32 && uuid.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try contents(location.keyFile).count == 32)
        #expect(try mode(location.keyFile) == 0o600)
        #expect(try mode(location.secretsDirectory) == 0o700)
        // Opening again adopts both files.
        let again = try Environment.open(location, create: true)
        #expect(again.id == environment.id)
        #expect(again.keys.keyID == environment.keys.keyID)
    }

    @Test("An existing Mage uuid (with or without a newline) is adopted; Mage's own key file is never touched")
    func adoptsMageFiles() throws {
        let location = EnvironmentLocation(dataDirectory: directory.file("mage"), variables: [:])
        try FileManager.default.createDirectory(atPath: location.secretsDirectory, withIntermediateDirectories: true)
        let mageKey = Array("fernet-key-made-up-for-the-test=".utf8)
        try write(mageKey, to: location.secretsDirectory + "/key")
        for spelling in ["0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef\n"] {
            try write(Array(spelling.utf8), to: location.uuidFile)
            let environment = try Environment.open(location, create: true)
            #expect(environment.id.description == "0123456789abcdef0123456789abcdef")
            try Vault(environment: environment).setSecret(named: "x", value: "made-up")
            #expect(try contents(location.uuidFile) == Array(spelling.utf8))
        }
        #expect(try contents(location.secretsDirectory + "/key") == mageKey)
    }

    @Test("A uuid file that is not 32 lowercase hex digits is refused")
    func invalidUUID() throws {
        let location = EnvironmentLocation(dataDirectory: directory.file("bad"), variables: [:])
        try FileManager.default.createDirectory(atPath: location.secretsDirectory, withIntermediateDirectories: true)
        for text in ["dev-uuid", "0123456789ABCDEF0123456789ABCDEF", ""] {
            try write(Array(text.utf8), to: location.uuidFile)
            #expect(throws: VaultError.invalidUUIDFile(path: location.uuidFile)) { try Environment.open(location, create: true) }
        }
    }

    @Test("A key file group or others can read is refused, with the chmod that fixes it")
    func looseKeyFile() throws {
        let environment = try makeEnvironment(in: directory, "data")
        let keyFile = environment.location.keyFile
        for loose in [0o640, 0o604, 0o644, 0o660] {
            chmod(keyFile, mode_t(loose))
            #expect(throws: VaultError.insecureKeyFile(path: keyFile, mode: UInt32(loose))) {
                try Environment.open(environment.location, create: true)
            }
        }
        chmod(keyFile, 0o644)
        let message = VaultError.insecureKeyFile(path: keyFile, mode: 0o644).description
        #expect(message.contains("chmod 600 '\(keyFile)'"))
        chmod(keyFile, 0o400)
        #expect(throws: Never.self) { try Environment.open(environment.location, create: false) }
    }

    @Test("Without create, a missing uuid or key is an error and nothing is written")
    func readersCreateNothing() throws {
        let location = EnvironmentLocation(dataDirectory: directory.file("none"), variables: [:])
        #expect(throws: VaultError.noEnvironment(dataDirectory: location.dataDirectory)) { try Environment.open(location, create: false) }
        #expect(!FileManager.default.fileExists(atPath: location.dataDirectory))
        try FileManager.default.createDirectory(atPath: location.secretsDirectory, withIntermediateDirectories: true)
        try write(Array("0123456789abcdef0123456789abcdef".utf8), to: location.uuidFile)
        #expect(throws: VaultError.missingKey(keyFile: location.keyFile)) { try Environment.open(location, create: false) }
        #expect(!FileManager.default.fileExists(atPath: location.keyFile))
    }

    @Test("A key file of the wrong size is refused")
    func wrongSizeKey() throws {
        let environment = try makeEnvironment(in: directory, "data")
        try write([UInt8](repeating: 1, count: 31), to: environment.location.keyFile)
        #expect(throws: VaultError.invalidKeyFile(path: environment.location.keyFile, bytes: 31)) {
            try Environment.open(environment.location, create: false)
        }
    }
}
