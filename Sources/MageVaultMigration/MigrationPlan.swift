import Foundation
import MageVault

/// Why a row of Mage's `secret` table is not carried into the vault.
public enum RefusalReason: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row's `key_uuid` is no scope's of this data dir: another environment sharing the
    /// database (its own migrate carries it), or a scope whose folder is gone (a deleted
    /// pipeline: Mage cannot read it either).
    case otherEnvironment(keyUUID: String)
    /// The row belongs to a scope folder that has a uuid but no Fernet key file.
    case scopeWithoutKey(Scope)
    /// A legacy row (no `key_uuid`) written by another Mage project (`repo_name`).
    case legacyOfOtherRepository(String?)
    /// A legacy row, and the database holds legacy rows of several projects: `--repo` says which.
    case legacyRepositoryUnknown
    /// A legacy row whose name the scope also has under its uuid: Mage returns that one.
    case shadowedLegacy(byRow: Int64)
    /// Several rows answer Mage's lookup for this name, so Mage's `one_or_none` raises.
    case ambiguous(rows: [Int64])
    /// Not a Fernet token: a value Mage's `PUT` stored in plain text with authentication off.
    case plainText
    /// A token whose HMAC does not verify under the scope's key (another key's, or altered).
    case authenticationFailed
    /// The HMAC verified but the AES padding did not.
    case badPadding
    /// The stored value is SQL NULL.
    case nullValue
    /// The decrypted value is not UTF-8: Mage's `.decode('utf-8')` raises on it.
    case valueNotUTF8
    /// The vault cannot hold this name; `--rename OLD=NEW` carries it over.
    case nameNotHeld(InputError)
    /// The vault cannot hold this value (larger than 1 MiB).
    case valueNotHeld(InputError)

    public var description: String {
        switch self {
        case .otherEnvironment(let uuid):
            "key_uuid \(Self.quoted(uuid)) is no scope's of this data dir: another environment's (its own migrate carries it) or a scope whose folder is gone (Mage cannot read it either)"
        case .scopeWithoutKey(let scope): "\(scope) has a uuid file but no key file: Mage cannot read it either"
        case .legacyOfOtherRepository(let repo): "legacy row (no key_uuid) of another project, repo_name \(repo.map(Self.quoted) ?? "NULL")"
        case .legacyRepositoryUnknown: "legacy row (no key_uuid), and legacy rows of several projects exist: pass --repo REPO_PATH"
        case .shadowedLegacy(let row): "legacy duplicate: Mage returns row \(row) of the same name instead"
        case .ambiguous(let rows):
            "rows \(rows.map(String.init).joined(separator: ", ")) all answer this name, so Mage's lookup raises an error instead of returning a value"
        case .plainText: "not a Fernet token: stored in plain text (Mage's PUT with authentication off); Mage cannot read it"
        case .authenticationFailed: "the token's HMAC does not verify under the scope's key (another key's, or altered); Mage skips it"
        case .badPadding: "the token's padding is wrong after its HMAC verified; Mage skips it"
        case .nullValue: "the value is NULL"
        case .valueNotUTF8: "the value is not UTF-8: Mage fails to read it"
        case .nameNotHeld(let error): "\(error); carry it over with --rename 'OLD=NEW'"
        case .valueNotHeld(let error): "\(error)"
        }
    }

    /// A string as a reader can see it: control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += scalar == "\n" ? "\\n" : scalar == "\r" ? "\\r" : scalar == "\t" ? "\\t" : "\\u{\(String(scalar.value, radix: 16))}"
            } else if scalar == "'" || scalar == "\\" {
                out += "\\" + String(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }
}

/// A value Mage would return, on its way into the vault. Its `description` never shows the value.
public struct PlannedSecret: Sendable, CustomStringConvertible {
    /// The scope Mage reads it in, and the vault writes it to.
    public let scope: Scope
    /// The name in the vault (Mage's, unless `--rename` changed it).
    public let name: String
    /// Mage's name.
    public let mageName: String
    /// The row it comes from.
    public let row: Int64
    /// The value, exactly as Mage's `get_secret_value` returns it.
    public let value: String

    public var description: String { "\(scope): \(RefusalReason.quoted(name)) (\(value.utf8.count) bytes, row \(row))" }
}

/// A row that is not carried over, and why.
public struct RefusedRow: Sendable, Equatable, CustomStringConvertible {
    /// The row's `id`.
    public let row: Int64
    /// Its name as stored.
    public let name: String
    /// The scope it was considered for, when one was.
    public let scope: Scope?
    /// Why.
    public let reason: RefusalReason

    public var description: String {
        "row \(row) \(RefusalReason.quoted(name))\(scope.map { " (\($0))" } ?? ""): \(reason)"
    }
}

/// What `migrate` would do: every value Mage returns, per scope, and every row it leaves.
public struct MigrationPlan: Sendable {
    /// The values to carry, in scope order then row order.
    public let secrets: [PlannedSecret]
    /// The rows left behind, in row order.
    public let refused: [RefusedRow]
    /// The scopes Mage has keys for, in the order they are written.
    public let scopes: [Scope]
    /// The `repo_name` whose legacy rows were considered (nil: none).
    public let repository: String?

    /// Works out, without writing anything, what Mage's `get_secret_value(name, entity,
    /// project_uuid, pipeline_uuid)` returns for every name of every scope of `scopes`, from
    /// `rows`. `repository` selects legacy rows (`repo_name`); `renames` maps Mage names to
    /// vault names.
    public static func make(
        scopes mageScopes: [MageScope], rows: [MageSecretRow], repository: String?, renames: [String: String] = [:]
    ) throws(MigrationError) -> MigrationPlan {
        var secrets: [PlannedSecret] = []
        var refused: [Int64: RefusedRow] = [:]
        var used: Set<Int64> = []
        var renamesUsed: Set<String> = []
        func refuse(_ row: MageSecretRow, _ scope: Scope?, _ reason: RefusalReason) {
            if refused[row.id] == nil { refused[row.id] = RefusedRow(row: row.id, name: row.name, scope: scope, reason: reason) }
        }
        // Names are compared as bytes, as SQLite compares them (Swift's String == would merge NFC and NFD).
        func bytes(_ name: String) -> [UInt8] { Array(name.utf8) }

        for mage in mageScopes {
            let own = rows.filter { mage.owns(keyUUID: $0.keyUUID) }
            guard let key = mage.key else {
                own.forEach { refuse($0, mage.scope, .scopeWithoutKey(mage.scope)) }
                continue
            }
            let legacy = mage.scope == .global ? rows.filter { $0.keyUUID == nil && $0.repoName == repository && repository != nil } : []
            var order: [[UInt8]] = []
            var seen: Set<[UInt8]> = []
            for row in own + legacy where seen.insert(bytes(row.name)).inserted { order.append(bytes(row.name)) }
            var scopeNames: [[UInt8]: Int64] = [:]
            for name in order {
                let matches = own.filter { bytes($0.name) == name }
                let legacyMatches = legacy.filter { bytes($0.name) == name }
                var found: (MageSecretRow, String)?
                if matches.count > 1 {
                    for row in matches + legacyMatches { refuse(row, mage.scope, .ambiguous(rows: matches.map(\.id))) }
                    continue
                }
                if let row = matches.first {
                    switch open(row, with: key) {
                    case .success(let value): found = (row, value)
                    case .failure(let reason): refuse(row, mage.scope, reason)
                    }
                }
                if found == nil, !legacyMatches.isEmpty {
                    if legacyMatches.count > 1 {
                        for row in legacyMatches { refuse(row, mage.scope, .ambiguous(rows: legacyMatches.map(\.id))) }
                    } else {
                        let row = legacyMatches[0]
                        switch open(row, with: key) {
                        case .success(let value): found = (row, value)
                        case .failure(let reason): refuse(row, mage.scope, reason)
                        }
                    }
                } else if let (winner, _) = found {
                    for row in legacyMatches { refuse(row, mage.scope, .shadowedLegacy(byRow: winner.id)) }
                }
                guard let (row, value) = found else { continue }
                let vaultName = renames[row.name] ?? row.name
                if renames[row.name] != nil { renamesUsed.insert(row.name) }
                do {
                    _ = try SecretName(vaultName)
                } catch {
                    refuse(row, mage.scope, .nameNotHeld(error))
                    continue
                }
                let checked = Array(value.utf8).withUnsafeBytes { bytes in Result { () throws(InputError) in try SecretValue.validate(bytes) } }
                if case .failure(let error) = checked {
                    refuse(row, mage.scope, .valueNotHeld(error))
                    continue
                }
                if let other = scopeNames[bytes(vaultName)] {
                    throw .invalidRename("--rename makes rows \(other) and \(row.id) one secret \(RefusalReason.quoted(vaultName)) in \(mage.scope); nothing was written")
                }
                scopeNames[bytes(vaultName)] = row.id
                used.insert(row.id)
                secrets.append(PlannedSecret(scope: mage.scope, name: vaultName, mageName: row.name, row: row.id, value: value))
            }
        }
        if let unused = renames.keys.sorted().first(where: { !renamesUsed.contains($0) }) {
            throw .invalidRename("--rename \(RefusalReason.quoted(unused)): no secret Mage returns has that name; nothing was written")
        }
        let legacyRepositories = Set(rows.filter { $0.keyUUID == nil }.map(\.repoName))
        for row in rows where !used.contains(row.id) && refused[row.id] == nil {
            if row.keyUUID == nil {
                if repository == nil && legacyRepositories.count > 1 {
                    refuse(row, .global, .legacyRepositoryUnknown)
                } else if !mageScopes.contains(where: { $0.scope == .global && $0.key != nil }) {
                    refuse(row, .global, .scopeWithoutKey(.global))
                } else {
                    refuse(row, nil, .legacyOfOtherRepository(row.repoName))
                }
            } else {
                refuse(row, nil, .otherEnvironment(keyUUID: row.keyUUID ?? ""))
            }
        }
        return MigrationPlan(
            secrets: secrets, refused: refused.values.sorted { $0.row < $1.row },
            scopes: mageScopes.filter { $0.key != nil }.map(\.scope), repository: repository)
    }

    /// The value Mage's `fernet.decrypt(token).decode('utf-8')` gives, or why it gives none.
    static func open(_ row: MageSecretRow, with key: FernetKey) -> Result<String, RefusalReason> {
        guard let token = row.storedValue else { return .failure(.nullValue) }
        switch key.open(token) {
        case .success(let plaintext):
            guard let text = String(validating: plaintext, as: UTF8.self) else { return .failure(.valueNotUTF8) }
            return .success(text)
        case .failure(.notAToken): return .failure(.plainText)
        case .failure(.authenticationFailed): return .failure(.authenticationFailed)
        case .failure(.badPadding): return .failure(.badPadding)
        }
    }

    /// The `repo_name` whose legacy rows the global scope reads: `explicit` when given;
    /// else the one project that wrote legacy rows, or the one whose folder name is the
    /// database's folder (Mage's default database is `<data dir>/<repo name>/mage-ai.db`).
    public static func legacyRepository(explicit: String?, rows: [MageSecretRow], databasePath: String) -> String? {
        if let explicit { return explicit }
        let repositories = Set(rows.filter { $0.keyUUID == nil }.compactMap(\.repoName))
        if repositories.count == 1 { return repositories.first }
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().lastPathComponent
        let matching = repositories.filter { URL(fileURLWithPath: $0).lastPathComponent == folder }
        return matching.count == 1 ? matching.first : nil
    }
}
