import ArgumentParser
import MageVault

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create this environment's uuid, key and log, adopting what already exists.",
        discussion: """
            Adopts Mage's secrets/uuid when it exists, so an existing Mage install keeps its \
            identity. Creates secrets/vault.key (32 random bytes, mode 0600, in a 0700 folder) \
            and the log. Running it again changes nothing.
            """
    )

    @OptionGroup var options: LocationOptions

    func run() throws {
        let location = options.location
        let hadUUID = Environment.exists(location)
        let hadKey = FileSystem.exists(location.keyFile)
        let vault = try options.openVault(create: true)
        let createdLog = try vault.createLogIfMissing()
        print("environment \(vault.environment.id)")
        print("  uuid  \(location.uuidFile) (\(hadUUID ? "adopted" : "created"))")
        print("  key   \(location.keyFile) (\(hadKey ? "exists" : "created, mode 0600"))")
        print("  log   \(location.logFile) (\(createdLog ? "created" : "exists"))")
        if !hadKey {
            print("Back up the key file: without it this environment's secrets cannot be read.")
        }
    }
}
