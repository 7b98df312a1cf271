import CSQLite

/// One row of Mage's `secret` table, as stored: the name, the Fernet token (or, for a value
/// written by Mage's `PUT` with authentication off, plain text), and whose it is.
public struct MageSecretRow: Sendable, Equatable {
    /// The row's `id`, for reports.
    public let id: Int64
    /// The secret's name, exactly as stored.
    public let name: String
    /// The stored value: normally a Fernet token. Nil for a SQL NULL.
    public let storedValue: String?
    /// `repo_name`: the repository path of the Mage project that wrote the row.
    public let repoName: String?
    /// `key_uuid`: the uuid of the scope whose key sealed it, exactly as stored (it may end
    /// with a newline); nil for a legacy row written before Mage had uuids.
    public let keyUUID: String?

    /// A row from its parts (tests, other readers).
    public init(id: Int64, name: String, storedValue: String?, repoName: String?, keyUUID: String?) {
        self.id = id
        self.name = name
        self.storedValue = storedValue
        self.repoName = repoName
        self.keyUUID = keyUUID
    }
}

/// Mage's SQLite database (`$MAGE_DATA_DIR/<repo>/mage-ai.db`), opened read-only: nothing
/// here can write to it, and a database that another process is writing is read in one
/// consistent snapshot (one `SELECT` in SQLite's own read transaction).
public enum MageDatabase {
    /// Every row of the `secret` table, ordered by `id`.
    public static func secretRows(path: String) throws(MigrationError) -> [MageSecretRow] {
        var handle: OpaquePointer?
        // SQLITE_OPEN_READONLY never creates, journals or changes the file.
        let opened = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(handle) }
        guard opened == SQLITE_OK, let handle else {
            throw .database(path: path, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open")
        }
        let sql = "SELECT id, name, value, repo_name, key_uuid FROM secret ORDER BY id"
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(handle))
            if message.contains("no such table") || message.contains("file is not a database") {
                throw .notMageDatabase(path: path, message: message)
            }
            throw .database(path: path, message: message)
        }
        defer { sqlite3_finalize(statement) }
        var rows: [MageSecretRow] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw .database(path: path, message: String(cString: sqlite3_errmsg(handle))) }
            rows.append(
                MageSecretRow(
                    id: sqlite3_column_int64(statement, 0), name: text(statement, 1) ?? "",
                    storedValue: text(statement, 2), repoName: text(statement, 3), keyUUID: text(statement, 4)))
        }
        return rows
    }

    /// A column's bytes as text (SQLite stores Python's `str` as UTF-8); nil for NULL.
    private static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return nil }
        // SQLite's order: the pointer first, then its size.
        let bytes = sqlite3_column_blob(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        guard let bytes, count > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
