#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The child whose output is being masked; the signal handler forwards to it. A global
/// because a C signal handler cannot capture context.
nonisolated(unsafe) private var maskedChild: pid_t = 0

/// Runs a program with secrets in its environment: either in place of this process
/// (`execve`, nothing lingers), or as a child whose standard output and error pass through
/// an `OutputMasker`. Values travel in the environment only, never on a command line.
/// No child inherits the variables MageVault reads keys and passphrases from
/// (`KeyVariable`): what a child gets is what it was given, not the vault's key.
public enum ProgramRunner {
    /// How a child ended.
    public enum Ending: Equatable, Sendable {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
    }

    /// Replaces this process with `command` (looked up in `$PATH` when it has no `/`), its
    /// environment this process's, less `KeyVariable`'s, plus `variables` (which win over
    /// same-named ones).
    /// Returns only on failure: 127 when the command is not found, 126 when it cannot run.
    public static func replaceProcess(command: [String], adding variables: [(variable: String, value: String)]) -> (status: Int32, message: String) {
        let environment = mergedEnvironment(adding: variables)
        guard let path = resolve(command[0], path: environment["PATH"]) else {
            return (127, "\(command[0]): command not found")
        }
        withCStrings(command) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                _ = execve(path, argv, envp)
            }
        }
        return (126, "\(command[0]): \(String(cString: strerror(errno)))")
    }

    /// Runs `command` as a child with `variables` added to its environment, copying its
    /// standard output and error to ours with every value in `masking` replaced by `*****`.
    /// Signals sent to this process (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) are
    /// passed on; signals the terminal sends reach the child directly (it is in our
    /// process group), so Ctrl-C arrives once.
    public static func runMasked(
        command: [String], adding variables: [(variable: String, value: String)], masking values: [String]
    ) throws(VaultError) -> Ending {
        let environment = mergedEnvironment(adding: variables)
        guard let path = resolve(command[0], path: environment["PATH"]) else {
            return .exited(127)
        }
        var output: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        guard pipe(&output) == 0, pipe(&errors) == 0 else { throw .system(SystemError("pipe", command[0])) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, errors[1], STDERR_FILENO)
        for fd in output + errors { posix_spawn_file_actions_addclose(&actions, fd) }
        // The child starts with no signal blocked and default dispositions, whatever this
        // process inherited (a parent may have blocked or ignored some).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in Self.forwarded { sigaddset(&defaults, number) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let status = withCStrings(command) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&child, path, &actions, &attributes, argv, envp)
            }
        }
        close(output[1])
        close(errors[1])
        guard status == 0 else {
            close(output[0])
            close(errors[0])
            throw .system(SystemError("posix_spawn", command[0], code: status))
        }
        maskedChild = child
        forwardSignals()
        var maskers = [OutputMasker(values: values), OutputMasker(values: values)]
        var streams: [(read: Int32, write: Int32)] = [(output[0], STDOUT_FILENO), (errors[0], STDERR_FILENO)]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !streams.isEmpty {
            var polls = streams.map { pollfd(fd: $0.read, events: Int16(POLLIN), revents: 0) }
            if FileSystem.restarting({ poll(&polls, nfds_t(polls.count), -1) }) < 0 { break }
            for (position, entry) in polls.enumerated().reversed() where entry.revents != 0 {
                let stream = streams[position]
                let which = stream.write == STDOUT_FILENO ? 0 : 1
                let got = FileSystem.restarting { buffer.withUnsafeMutableBytes { read(stream.read, $0.baseAddress, $0.count) } }
                if got > 0 {
                    writeAll(stream.write, maskers[which].feed(Array(buffer[..<got])))
                } else {
                    writeAll(stream.write, maskers[which].finish())
                    close(stream.read)
                    streams.remove(at: position)
                }
            }
        }
        var waited: Int32 = 0
        _ = FileSystem.restarting { waitpid(child, &waited, 0) }
        let signal = waited & 0x7F
        return signal == 0 ? .exited((waited >> 8) & 0xFF) : .signaled(signal)
    }

    /// Runs `command` with its output discarded and returns its exit status, or nil when it
    /// cannot be run (not installed).
    public static func status(of command: [String]) -> Int32? {
        let environment = mergedEnvironment(adding: [])
        guard let path = resolve(command[0], path: environment["PATH"]) else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        var child: pid_t = 0
        let spawned = withCStrings(command) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&child, path, &actions, nil, argv, envp)
            }
        }
        guard spawned == 0 else { return nil }
        var waited: Int32 = 0
        _ = FileSystem.restarting { waitpid(child, &waited, 0) }
        return waited & 0x7F == 0 ? (waited >> 8) & 0xFF : nil
    }

    /// Runs `command` and returns its exit status and what it wrote on standard output
    /// (standard error discarded), or nil when it cannot be run or a signal ended it.
    public static func output(of command: [String]) -> (status: Int32, output: [UInt8])? {
        let environment = mergedEnvironment(adding: [])
        guard let path = resolve(command[0], path: environment["PATH"]) else { return nil }
        var output: [Int32] = [0, 0]
        guard pipe(&output) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO)
        posix_spawn_file_actions_addclose(&actions, output[0])
        posix_spawn_file_actions_addclose(&actions, output[1])
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        var child: pid_t = 0
        let spawned = withCStrings(command) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&child, path, &actions, nil, argv, envp)
            }
        }
        close(output[1])
        defer { close(output[0]) }
        guard spawned == 0 else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = FileSystem.restarting { buffer.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) } }
            if got <= 0 { break }
            bytes += buffer[..<got]
        }
        var waited: Int32 = 0
        _ = FileSystem.restarting { waitpid(child, &waited, 0) }
        return waited & 0x7F == 0 ? ((waited >> 8) & 0xFF, bytes) : nil
    }

    /// Ends this process the way the child ended: the same exit status, or the same signal.
    public static func end(like ending: Ending) -> Never {
        switch ending {
        case .exited(let status):
            exit(status)
        case .signaled(let number):
            signal(number, SIG_DFL)
            raise(number)
            exit(128 + number)
        }
    }

    private static let forwarded = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    private static func forwardSignals() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in forwarded { sigaddset(&unblock, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for number in forwarded {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { number, info, _ in
                // A signal the kernel raised (the terminal's Ctrl-C, a hangup) went to the
                // child's process group too; pass on only those another process sent us.
                if let info, info.pointee.si_code > 0 { return }
                kill(maskedChild, number)
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var written = 0
        while written < bytes.count {
            let result = FileSystem.restarting { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) } }
            if result <= 0 { return }
            written += result
        }
    }

    /// This process's environment without the variables MageVault reads keys and
    /// passphrases from (`KeyVariable`), plus `variables`: a child never inherits a key.
    private static func mergedEnvironment(adding variables: [(variable: String, value: String)]) -> [String: String] {
        var environment = KeyVariable.withheld(from: FileSystem.environmentVariables())
        for (variable, value) in variables { environment[variable] = value }
        return environment
    }

    /// `command`'s path: itself when it holds a `/`, else the first executable in `path`.
    private static func resolve(_ command: String, path: String?) -> String? {
        if command.contains("/") { return command }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Calls `body` with a NULL-terminated C array of copies of `strings`, freed after.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer {
            for pointer in pointers { free(pointer) }
        }
        return body(pointers)
    }
}
