#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// The lock beside a log (`<log>.lock`). It is a file of its own so that it outlives every
/// rename of the log: a writer that locked it keeps excluding others while the log it
/// guards is replaced. Writers take it exclusively; readers take it shared while they scan,
/// so they never see a half-written line as damage.
///
/// A `flock` belongs to the open file description, which `fork` shares: a child that locked
/// the descriptor it inherited would hold the same lock as its parent, and the two would no
/// longer exclude each other. So the descriptor is the process's own: a process that finds
/// one opened by another (its parent, before a fork) leaves it to that process and opens the
/// file again. Closing the inherited copy releases nothing, since the parent's copy of the
/// same description still holds whatever it held.
final class LockFile {
    let path: String
    private var fd: Int32 = -1
    /// The process that opened `fd`.
    private var owner: pid_t = 0

    init(path: String) { self.path = path }

    deinit { if fd >= 0 { close(fd) } }

    /// Opens (creating with 0600 when `create`) the lock file. Returns false when it does not
    /// exist and may not be created, or cannot be opened because the folder is read-only: a
    /// log on read-only media has no writers to wait for.
    private func openIfNeeded(create: Bool) throws(SystemError) -> Bool {
        if fd >= 0 {
            if owner == getpid() { return true }
            close(fd)  // inherited through a fork: the parent's lock, not ours
            fd = -1
        }
        if create { try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path), mode: 0o700) }
        let descriptor = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o600)
        if descriptor < 0 {
            if !create, errno == ENOENT || errno == EACCES || errno == EROFS { return false }
            throw SystemError("open", path)
        }
        fd = descriptor
        owner = getpid()
        return true
    }

    /// Runs `body` holding the lock in `exclusive` or shared mode. A failure to lock is
    /// thrown; the body's own outcome is returned, so its typed error is kept.
    func withLock<R, E: Error>(exclusive: Bool, _ body: () throws(E) -> R) throws(SystemError) -> Result<R, E> {
        guard try openIfNeeded(create: exclusive) else { return Result { () throws(E) in try body() } }
        guard FileSystem.restarting({ flock(fd, exclusive ? LOCK_EX : LOCK_SH) }) == 0 else { throw SystemError("flock", path) }
        Self.held.withLock { $0.append(path) }
        defer {
            Self.held.withLock { paths in if let index = paths.lastIndex(of: path) { paths.remove(at: index) } }
            flock(fd, LOCK_UN)
        }
        return Result { () throws(E) in try body() }
    }

    /// The lock files this process holds now (any thread): taking one of them again through
    /// another descriptor would wait for ourselves.
    private static let held = Mutex<[String]>([])

    /// Whether this process holds the lock at `path` now.
    static func isHeld(_ path: String) -> Bool { held.withLock { $0.contains(path) } }
}
