#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call, with the file it was about: `fdatasync(/…/vault.log): No space left on device`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call, as `open` or `fdatasync`.
    public let operation: String
    /// The file or folder it was about.
    public let path: String
    /// The `errno` it set.
    public let code: Int32
    /// What to tell the user instead of the call and `strerror`, when the call's own words
    /// would mislead (`write(): Bad file descriptor` for a log that is read-only).
    public let explanation: String?

    /// Records a failure of `operation` on `path` with `errno` code `code`, told in the
    /// call's own words unless `explanation` is given.
    public init(_ operation: String, _ path: String, code: Int32 = errno, explanation: String? = nil) {
        self.operation = operation
        self.path = path
        self.code = code
        self.explanation = explanation
    }

    /// A key, uuid or similar file that is a FIFO, a folder or a device, refused before
    /// anything is read from it (a FIFO would block the reader forever). A permission
    /// problem: the file is not one the vault may use.
    public static func notRegularFile(_ path: String) -> SystemError {
        SystemError(
            "open", path, code: EPERM,
            explanation: "\(path) is not a regular file (it is a FIFO, a folder or a device); point it at the file itself")
    }

    /// A log that this user may not open for writing (its mode, its folder, a read-only
    /// mount), refused by a write before anything changed.
    public static func readOnlyLog(_ path: String, code: Int32) -> SystemError {
        SystemError(
            "open", path, code: code,
            explanation:
                "\(path) is read-only for this user (\(String(cString: strerror(code)))); nothing was written. "
                + "Check the permissions of the file and of its folder, or the mount")
    }

    /// A log with more than one hard link, refused by a write before anything changed: the
    /// lock is taken by name, so two names of one file would not exclude each other's writers.
    public static func hardLinkedLog(_ path: String, links: UInt64) -> SystemError {
        SystemError(
            "link", path, code: EMLINK,
            explanation:
                "\(path) has \(links) hard links; writers through two names of one file would not exclude each other, "
                + "so nothing was written. Keep one name (remove the other links) and use a symbolic link for a second path")
    }

    /// A file that could not be created at `path` (the path as the caller gave it) because
    /// its temporary copy beside it could not be: told by the folder the user named, never by
    /// the temporary's own name, which the user never chose and cannot find.
    public static func cannotCreate(_ path: String, code: Int32 = errno) -> SystemError {
        let folder = FileSystem.parentDirectory(of: path)
        let explanation =
            switch code {
            case ENOENT: "cannot create \(path): the folder \(folder) does not exist; create it first, or choose another place. Nothing was written"
            case ENOTDIR: "cannot create \(path): \(folder) is not a folder. Nothing was written"
            default: "cannot create \(path) in the folder \(folder): \(String(cString: strerror(code))). Nothing was written"
            }
        return SystemError("open", path, code: code, explanation: explanation)
    }

    /// True for "you may not" errors, as opposed to "it went wrong".
    public var isPermissionProblem: Bool { code == EACCES || code == EPERM || code == EROFS }

    public var description: String { explanation ?? "\(operation)(\(path)): \(String(cString: strerror(code)))" }
}
