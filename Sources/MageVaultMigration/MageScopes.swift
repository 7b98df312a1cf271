import Foundation
import MageVault

/// One of Mage's secret scopes in a data directory, read as Mage reads it: the folder's
/// Fernet `key` (stripped) and `uuid` (not stripped: a trailing newline is part of it).
public struct MageScope: Sendable {
    /// Which scope: global, a project or a pipeline.
    public let scope: Scope
    /// `secrets/`, `secrets/projects/P` or `secrets/projects/P/pipelines/Q`.
    public let directory: String
    /// The uuid file's text exactly as Mage's `open(…, 'r').read()` returns it (universal
    /// newlines); nil when the folder has no uuid file.
    public let uuid: String?
    /// The scope's Fernet key; nil when the folder has no key file (Mage reads nothing then).
    public let key: FernetKey?

    /// Whether Mage's `Secret.get_secret(name, key_uuid)` picks a row with this `key_uuid`:
    /// it compares the column with the uuid as read and with the uuid stripped.
    func owns(keyUUID: String?) -> Bool {
        guard let uuid, let keyUUID else { return false }
        return keyUUID == uuid || keyUUID == uuid.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every scope folder under `<data dir>/secrets` (global, each project, each pipeline)
    /// that has a key or a uuid file. Only reads.
    public static func all(dataDirectory: String) throws(MigrationError) -> [MageScope] {
        let secrets = dataDirectory + "/secrets"
        guard FileManager.default.fileExists(atPath: secrets) else { throw .noMageSecrets(path: secrets) }
        var found: [MageScope] = []
        func add(_ scope: Scope, _ directory: String) throws(MigrationError) {
            let keyFile = directory + "/key"
            let uuidFile = directory + "/uuid"
            let keyText = try? String(contentsOfFile: keyFile, encoding: .utf8)
            let uuidText = (try? Data(contentsOf: URL(fileURLWithPath: uuidFile))).map { data in
                String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
                    .replacingOccurrences(of: "\r", with: "\n")
            }
            guard keyText != nil || uuidText != nil else { return }
            var key: FernetKey?
            if let keyText {
                guard let parsed = FernetKey(keyFileText: keyText) else { throw .invalidFernetKey(path: keyFile) }
                key = parsed
            }
            found.append(MageScope(scope: scope, directory: directory, uuid: uuidText, key: key))
        }
        try add(.global, secrets)
        for project in folders(in: secrets + "/projects") {
            try add(.project(project), secrets + "/projects/" + project)
            for pipeline in folders(in: secrets + "/projects/\(project)/pipelines") {
                try add(.pipeline(project: project, pipeline: pipeline), secrets + "/projects/\(project)/pipelines/\(pipeline)")
            }
        }
        return found
    }

    private static func folders(in path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }
}
