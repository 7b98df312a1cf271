#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small typed helpers over the POSIX calls the vault needs. Every failure is a
/// `SystemError` naming the call and the file. Nothing above `Log/` touches a descriptor.
public enum FileSystem {
    /// `call` made again while it fails with EINTR (a signal arrived before it did anything):
    /// every read, write, poll, flock and waitpid of `Log/` goes through here, so the retry
    /// is written once.
    @inline(__always)
    static func restarting<T: SignedInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    /// Whether `path` itself is a symbolic link (not followed).
    public static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// Whether something exists at `path` (without following a final symbolic link's target's absence).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The nearest folder from `directory` up (itself first) that holds an entry `name`
    /// (`.git`: the top of a work tree), or nil.
    public static func nearestFolder(from directory: String, holding name: String) -> String? {
        var current = directory
        while true {
            if exists((current == "/" ? "" : current) + "/" + name) { return current }
            let parent = parentDirectory(of: current)
            if parent == current { return nil }
            current = parent
        }
    }

    /// The current working directory.
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The home directory: `$HOME` (from `environment`, else the process's), else the
    /// password database's.
    public static func homeDirectory(environment: [String: String]? = nil) -> String {
        if let home = environment.map({ $0["HOME"] }) ?? environmentVariable("HOME"), !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// The running program's executable (from `/proc/self/exe`, symbolic links resolved),
    /// or nil when the system does not say.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The folder of the running program's executable (from `/proc/self/exe`, symbolic
    /// links resolved), where its companion programs are installed.
    public static func executableDirectory() -> String {
        guard let path = executablePath(), let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Creates `path` with `mode` when missing (not its parents' modes: those are the
    /// caller's). Returns true when it was created.
    @discardableResult
    public static func makeDirectory(_ path: String, mode: mode_t) throws(SystemError) -> Bool {
        if mkdir(path, mode) == 0 {
            if chmod(path, mode) != 0 { throw SystemError("chmod", path) }  // mkdir's mode passes the umask
            try syncDirectory(containing: path)
            return true
        }
        guard errno == EEXIST else { throw SystemError("mkdir", path) }
        return false
    }

    /// Creates `path` and any missing parent folders, the last one with `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(SystemError) {
        if exists(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path, !exists(parent) { try makeDirectories(parent, mode: 0o755) }
        try makeDirectory(path, mode: mode)
    }

    /// The file `path` names, as an absolute path with every symbolic link resolved, the
    /// last component included: what a lock and an atomic rewrite must be about, so that a
    /// log reached through a link and through its real path is one file with one lock, and
    /// a rename replaces the file, not the link. A path that does not exist yet resolves
    /// through its deepest existing folder (a dangling link through its target); when
    /// nothing resolves, `path` is returned as given.
    public static func resolvedPath(_ path: String) -> String {
        var remaining: [String] = []  // components below the deepest folder that exists, innermost last
        var current = path
        for _ in 0..<64 {
            if let real = realPath(current) {
                return remaining.reversed().reduce(real) { $0 == "/" ? "/" + $1 : $0 + "/" + $1 }
            }
            var info = stat()
            if lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK, let target = linkTarget(current) {
                // A dangling link: the file will be created where it points.
                current = target.hasPrefix("/") ? target : parentDirectory(of: current) + "/" + target
                continue
            }
            let parent = parentDirectory(of: current)
            guard parent != current, !current.isEmpty else { break }
            remaining.append(baseName(of: current))
            current = parent
        }
        return path
    }

    /// `realpath(3)`, or nil when `path` does not exist.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Where the symbolic link at `path` points, as written in the link.
    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(cString: Array(buffer[..<count]) + [0])
    }

    /// The folder that holds `path`.
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The names of the folders in `directory` (none when it does not exist).
    public static func directoryNames(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            var info = stat()
            if name != ".", name != "..", stat("\(directory)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFDIR { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes the file at `path`; a missing file is fine.
    public static func remove(_ path: String) throws(SystemError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("unlink", path) }
    }

    /// Removes the folder at `path` if it is empty; otherwise leaves it (it holds files
    /// that are not ours, such as Mage's own).
    public static func removeDirectoryIfEmpty(_ path: String) {
        _ = rmdir(path)
    }

    /// Renames `source` over `destination` (atomically replacing it) and syncs the folder.
    public static func renameReplacing(_ source: String, to destination: String) throws(SystemError) {
        guard rename(source, destination) == 0 else { throw SystemError("rename", source) }
        try syncDirectory(containing: destination)
    }

    /// Renames `source` to `destination`, refusing to replace anything, and syncs the folder.
    public static func renameWithoutReplacing(_ source: String, to destination: String) throws(SystemError) {
        guard !exists(destination) else { throw SystemError("rename", destination, code: EEXIST) }
        guard rename(source, destination) == 0 else { throw SystemError("rename", source) }
        try syncDirectory(containing: destination)
    }

    /// A fresh hidden name in the folder of `path`, for a file that becomes `path` by rename
    /// or link (same folder, so the same file system).
    static func temporaryPath(beside path: String) -> String {
        "\(parentDirectory(of: path))/.\(baseName(of: path)).tmp-\(Hex.string(randomUInt64(), width: 16))"
    }

    /// Removes temporary files (`temporaryPath(beside:)`) of each of `paths` (files of one
    /// folder, which is read once) left by a process that was killed mid-write, when older
    /// than `age` seconds (0: all; only a caller holding the lock that every writer of the
    /// path takes may pass 0).
    public static func removeStaleTemporaries(beside paths: String..., olderThan age: Int = 0) {
        guard let first = paths.first else { return }
        let directory = parentDirectory(of: first)
        precondition(paths.allSatisfy { parentDirectory(of: $0) == directory }, "temporaries of one folder at a time")
        let prefixes = paths.map { ".\(baseName(of: $0)).tmp-" }
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        let now = time(nil)
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard prefixes.contains(where: { name.hasPrefix($0) }) else { continue }
            let full = "\(directory)/\(name)"
            var info = stat()
            if lstat(full, &info) == 0, Int(now - info.st_mtim.tv_sec) >= age { unlink(full) }
        }
    }

    /// fsyncs the folder holding `path`, so that a created, renamed or linked entry survives a crash.
    public static func syncDirectory(containing path: String) throws(SystemError) {
        let directory = parentDirectory(of: path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", directory) }
    }

    /// Creates `path` holding exactly `contents` with `mode`, atomically and never replacing
    /// anything: the bytes go to a temporary file in the same folder, are synced, and the
    /// file is linked into place; the folder is synced. Returns false, changing nothing, when
    /// `path` already exists (another process won the race; use its file).
    public static func createExclusively(_ path: String, mode: mode_t, contents: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        let temporary = try writeTemporary(beside: path, mode: mode, contents: contents)
        defer { unlink(temporary) }
        if link(temporary, path) != 0 {
            if errno == EEXIST { return false }
            throw SystemError("link", path)
        }
        try syncDirectory(containing: path)
        return true
    }

    /// Puts `contents` at `path` with `mode`, replacing what was there atomically: a
    /// temporary file beside it, synced, renamed over it, the folder synced. Readers see the
    /// old file or the whole new one, never a part.
    public static func replaceAtomically(_ path: String, mode: mode_t, contents: [UInt8]) throws(SystemError) {
        let result = contents.withUnsafeBytes { bytes in
            Result { () throws(SystemError) in try writeTemporary(beside: path, mode: mode, contents: bytes) }
        }
        let temporary = try result.get()
        guard rename(temporary, path) == 0 else {
            let error = SystemError("rename", path)
            unlink(temporary)
            throw error
        }
        try syncDirectory(containing: path)
    }

    /// `createExclusively` for non-secret bytes.
    public static func createExclusively(_ path: String, mode: mode_t, contents: [UInt8]) throws(SystemError) -> Bool {
        let result = contents.withUnsafeBytes { bytes in
            Result { () throws(SystemError) in try createExclusively(path, mode: mode, contents: bytes) }
        }
        return try result.get()
    }

    /// Writes `contents` to a new temporary file beside `path`, synced, and returns its path.
    /// On failure nothing is left behind.
    static func writeTemporary(beside path: String, mode: mode_t, contents: UnsafeRawBufferPointer) throws(SystemError) -> String {
        let temporary = temporaryPath(beside: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.cannotCreate(path) }
        var failure: SystemError? = nil
        if fchmod(fd, mode) != 0 {
            failure = SystemError("fchmod", temporary)
        } else if let error = writeAll(fd, contents, at: 0, path: temporary) {
            failure = error
        } else if fsync(fd) != 0 {
            failure = SystemError("fsync", temporary)
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        return temporary
    }

    /// Writes all of `bytes` at `offset`, looping over short writes; the error, or nil.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String) -> SystemError? {
        var written = 0
        while written < bytes.count {
            let result = FileSystem.restarting { pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written)) }
            if result < 0 {
                return SystemError("write", path)
            }
            if result == 0 { return SystemError("write", path, code: EIO) }
            written += result
        }
        return nil
    }

    /// Reads a small file whole into secure memory, refusing files larger than
    /// `maximumBytes` and anything but a regular file (a FIFO, a folder, a device), which
    /// is checked on the open file before any read. Also returns the file's permission bits, read from the same open
    /// file, so a check of its mode cannot race a replacement of the file.
    public static func readSecretFile(_ path: String, maximumBytes: Int) throws(SystemError) -> (contents: SecureBytes, mode: mode_t) {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        // Symbolic links are followed (a Kubernetes Secret mounts each key as a link); the mode
        // and type checks below are of the file reached.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("fstat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path) }
        let size = Int(info.st_size)
        guard size <= maximumBytes else { throw SystemError("read", path, code: EFBIG) }
        var failure: SystemError? = nil
        let contents = SecureBytes(count: size) { buffer in
            var done = 0
            while done < size {
                let result = FileSystem.restarting { pread(fd, buffer.baseAddress! + done, size - done, off_t(done)) }
                if result <= 0 {
                    failure = SystemError("read", path, code: result < 0 ? errno : EIO)
                    return
                }
                done += result
            }
        }
        if let failure { throw failure }
        return (contents, info.st_mode & 0o7777)
    }

    /// Reads a small non-secret file whole (a uuid file).
    public static func readSmallFile(_ path: String, maximumBytes: Int) throws(SystemError) -> [UInt8] {
        let (contents, _) = try readSecretFile(path, maximumBytes: maximumBytes)
        return contents.withUnsafeBytes { Array($0) }
    }
}

/// Milliseconds since the Unix epoch by the system's real-time clock.
public func wallClockMilliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
}

extension FileSystem {
    /// The value of the environment variable `name` (its first entry, as `getenv` reads it),
    /// or nil: for one lookup, without building every variable's `String`s.
    public static func environmentVariable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The process's environment variables.
    public static func environmentVariables() -> [String: String] {
        var variables: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            // Split at the first "=" byte (not character: a combining mark after it must not
            // hide it), without breaking the text into characters first.
            let pair = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                variables[String(decoding: pair[..<equals], as: UTF8.self)] = String(decoding: pair[(equals + 1)...], as: UTF8.self)
            }
            cursor += 1
        }
        return variables
    }
}
