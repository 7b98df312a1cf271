#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading a secret value from where a user gives it: standard input, a file, or a prompt
/// on the terminal that does not echo. Values go straight into secure memory; at most
/// `limit` bytes are kept, and a larger input is refused with its size.
public enum SecretInput {
    /// Whether standard input is a terminal (then `set` prompts instead of reading a pipe).
    public static var standardInputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Whether standard output is a terminal.
    public static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Reads standard input to its end, bytes exactly as given.
    public static func readStandardInput(limit: Int) throws(VaultError) -> SecureBytes {
        try readAll(STDIN_FILENO, path: "<standard input>", limit: limit)
    }

    /// Reads a whole file, bytes exactly as given.
    public static func readFile(_ path: String, limit: Int) throws(VaultError) -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .missingInputFile(path: path) }  // one class (1) and one message, as --key-file's
            throw .system(SystemError("open", path))
        }
        defer { close(fd) }
        return try readAll(fd, path: path, limit: limit)
    }

    /// Asks on the controlling terminal with echo off (unless `echo`) and returns the line
    /// typed, without its line ending.
    public static func prompt(_ message: String, limit: Int, echo: Bool = false) throws(VaultError) -> SecureBytes {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw .system(SystemError("open", "/dev/tty")) }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { throw .system(SystemError("tcgetattr", "/dev/tty")) }
        var silent = saved
        if !echo {
            silent.c_lflag &= ~tcflag_t(ECHO)
            silent.c_lflag |= tcflag_t(ECHONL)
        }
        // Echo goes off before the prompt appears, so nothing typed after it can be echoed.
        guard tcsetattr(tty, TCSAFLUSH, &silent) == 0 else { throw .system(SystemError("tcsetattr", "/dev/tty")) }
        defer { _ = tcsetattr(tty, TCSADRAIN, &saved) }
        _ = Array(message.utf8).withUnsafeBytes { write(tty, $0.baseAddress, $0.count) }
        // Read byte by byte up to the newline, so nothing typed after it is swallowed.
        var length = 0
        var failure: VaultError? = nil
        let line = SecureBytes(count: limit + 1) { buffer in
            while length <= limit {
                let got = FileSystem.restarting { read(tty, buffer.baseAddress! + length, 1) }
                if got < 0 { failure = .system(SystemError("read", "/dev/tty")); return }
                if got == 0 || buffer[length] == UInt8(ascii: "\n") { break }
                length += 1
            }
            if length > 0, buffer[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        }
        if let failure { throw failure }
        guard length <= limit else { throw .invalidInput(.valueTooLarge(bytes: length)) }
        return line.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
    }

    /// Reads the value `set` stores: from `file` when given, else at a no-echo prompt
    /// showing `prompt` when standard input is a terminal, else from standard input to its
    /// end. With `stripNewline`, one trailing `\n` (or `\r\n`) of a piped or file value is
    /// dropped. The value is checked here (`SecretValue.validate`), before the caller opens
    /// or creates anything, so that a refused value changes nothing; an empty one is told by
    /// where it came from ("no value was piped").
    public static func readValue(file: String?, prompt: String, stripNewline: Bool, allowEmpty: Bool = false) throws(VaultError) -> GivenValue {
        let limit = SecretValue.maximumByteCount
        let raw: SecureBytes
        let prompted: Bool
        if let file {
            raw = try readFile(file, limit: limit)
            prompted = false
        } else if standardInputIsTerminal {
            raw = try Self.prompt(prompt, limit: limit)
            prompted = true
        } else {
            raw = try readStandardInput(limit: limit)
            prompted = false
        }
        if raw.count == 0, !prompted, !allowEmpty { throw .invalidInput(file.map { .emptyFile(path: $0) } ?? .nothingPiped) }
        let endsWithNewline = raw.withUnsafeBytes { $0.last == UInt8(ascii: "\n") }
        var value = raw
        if stripNewline, !prompted, endsWithNewline {
            value = raw.withUnsafeBytes { bytes in
                var kept = UnsafeRawBufferPointer(rebasing: bytes.dropLast())
                if kept.last == UInt8(ascii: "\r") { kept = UnsafeRawBufferPointer(rebasing: kept.dropLast()) }
                return SecureBytes(copying: kept)
            }
        }
        if value.count == 0, !allowEmpty { throw .invalidInput(.emptyValue) }
        // `echo "$UNSET" | mage-vault set NAME` pipes one newline: empty once that newline is
        // dropped, so an empty value, refused without --allow-empty, not a one-byte secret.
        if !prompted, !allowEmpty, value.withUnsafeBytes({ $0.elementsEqual([0x0A]) || $0.elementsEqual([0x0D, 0x0A]) }) {
            throw .invalidInput(file.map { .emptyFile(path: $0) } ?? .nothingPiped)
        }
        let problem = value.withUnsafeBytes { bytes -> InputError? in
            do throws(InputError) { try SecretValue.validate(bytes) } catch { return error }
            return nil
        }
        if let problem { throw .invalidInput(problem) }
        return GivenValue(bytes: value, prompted: prompted, endedWithNewline: endsWithNewline)
    }

    private static func readAll(_ fd: Int32, path: String, limit: Int) throws(VaultError) -> SecureBytes {
        var length = 0
        var failure: VaultError? = nil
        let buffer = SecureBytes(count: limit + 1) { buffer in
            while length <= limit {
                let got = FileSystem.restarting { read(fd, buffer.baseAddress! + length, limit + 1 - length) }
                if got < 0 { failure = .system(SystemError("read", path)); return }
                if got == 0 { return }
                length += got
            }
        }
        if let failure { throw failure }
        if length > limit {
            // Count the rest (without keeping it) so the refusal can say how large it was.
            var scratch = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let got = FileSystem.restarting { read(fd, &scratch, scratch.count) }
                if got <= 0 { break }
                length += got
            }
            throw .invalidInput(.valueTooLarge(bytes: length))
        }
        return buffer.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
    }
}

/// A value given to `set`, read and checked (`SecretInput.readValue`).
public struct GivenValue {
    /// The value to store, in secure memory.
    public let bytes: SecureBytes
    /// Whether it was typed at the prompt (which never keeps the Enter key).
    public let prompted: Bool
    /// Whether the bytes as given ended with a newline (before any `--strip-newline`).
    public let endedWithNewline: Bool
}

/// Writes bytes to standard output or standard error, whole.
public enum Output {
    /// Writes `bytes` to standard output.
    public static func standardOutput(_ bytes: UnsafeRawBufferPointer) {
        writeWhole(STDOUT_FILENO, bytes)
    }

    /// Writes `text` and a newline to standard output at once (unbuffered, so a program
    /// reading a pipe sees it now).
    public static func standardOutput(line text: String) {
        Array((text + "\n").utf8).withUnsafeBytes { writeWhole(STDOUT_FILENO, $0) }
    }

    /// Whether standard error is a terminal (then long operations show progress).
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes `text` to standard error as is (progress lines rewrite themselves with `\r`).
    public static func standardError(_ text: String) {
        Array(text.utf8).withUnsafeBytes { writeWhole(STDERR_FILENO, $0) }
    }

    /// Writes `message` and a newline to standard error.
    public static func standardError(line message: String) {
        Array((message + "\n").utf8).withUnsafeBytes { writeWhole(STDERR_FILENO, $0) }
    }

    private static func writeWhole(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var written = 0
        while written < bytes.count {
            let result = FileSystem.restarting { write(fd, bytes.baseAddress! + written, bytes.count - written) }
            if result <= 0 { return }
            written += result
        }
    }
}
