#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a log could not be used at all (as opposed to a damaged line inside it).
public enum LogError: Error, Equatable, Sendable {
    /// The file is not a MageVault log, or is of a newer version.
    case unreadable(path: String, FormatError)
    /// A system call failed.
    case system(SystemError)
}

/// A line parsed without a key, or why it is damaged: a `Result<LogLine, FormatError>` in
/// all but its type. A `Result` of these made the Swift runtime check that `FormatError` is an
/// `Error` the first time a scan dropped one, a search through every protocol conformance of
/// the program (some 50 µs in the static binary) that every command paid.
public enum ParsedLine: Sendable {
    /// The line's contents.
    case success(LogLine)
    /// Why the line is damaged.
    case failure(FormatError)
}

/// One complete line found by a scan.
public struct ScannedLine {
    /// Byte offset of the line's first byte in the file.
    public let offset: UInt64
    /// Length without the newline.
    public let length: Int
    /// The line parsed without a key, or why it is damaged.
    public let parsed: ParsedLine
    /// The line's bytes without the newline: valid only during the visit.
    public let bytes: UnsafeRawBufferPointer
}

/// What a scan saw at the end of the file.
public struct ScanEnd: Sendable, Equatable {
    /// Offset just after the last complete line.
    public let end: UInt64
    /// Bytes after it: a torn tail (an append that did not finish), 0 when the file is clean.
    public let tornBytes: UInt64
    /// True when the last line lacks its LF (it is whole, and was visited; `end` is the file's end).
    public var unterminated = false
}

/// The log file: one header line, then one record per line. Appends whole lines under an
/// exclusive lock and syncs them before returning; scans complete lines; reads one line back.
/// Knows framing, not meaning: it hands parsed lines up to the engine.
public final class VaultLog {
    /// The log's path, as given (what messages name).
    public let path: String
    /// The file `path` names, symbolic links resolved (`FileSystem.resolvedPath`): what is
    /// opened, locked (`<resolved>.lock`) and replaced by rewrites, so that a link to the log
    /// and its real path share one lock, and a rewrite leaves the link in place.
    public let resolvedPath: String
    private let lock: LockFile
    private var fd: Int32 = -1
    private var identity: (dev: UInt64, ino: UInt64) = (0, 0)
    /// Why the open file could not be opened for writing (its `errno`), nil when it was.
    private var notWritable: Int32? = nil
    /// The header of the open file; nil while the file does not exist.
    public private(set) var header: FileHeader?

    /// Opens the log at `path` if it exists; a missing file is an empty vault until the
    /// first write creates it.
    public init(path: String) throws(LogError) {
        self.path = path
        resolvedPath = FileSystem.resolvedPath(path)
        lock = LockFile(path: resolvedPath + ".lock")
        _ = try reopenIfReplaced()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether the file exists (has been opened).
    public var exists: Bool { fd >= 0 }

    /// Opens the file again when the path now names another file than the one held (a
    /// compaction, restore or creation by another process). Returns true when the caller
    /// must scan from the start.
    public func reopenIfReplaced() throws(LogError) -> Bool {
        var info = stat()
        if stat(resolvedPath, &info) != 0 {
            guard errno == ENOENT else { throw .system(SystemError("stat", path)) }
            return false  // Not created yet (or removed): keep what we hold.
        }
        let current = (UInt64(info.st_dev), UInt64(info.st_ino))
        if fd >= 0, current == identity { return false }
        let descriptor = open(resolvedPath, O_RDWR | O_CLOEXEC)
        let refusedWriting = descriptor >= 0 ? nil : errno
        let opened = descriptor >= 0 ? descriptor : open(resolvedPath, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw .system(SystemError("open", path)) }
        if fd >= 0 { close(fd) }
        fd = opened
        seenUnchanged = nil
        notWritable = refusedWriting
        var held = stat()
        fstat(fd, &held)
        identity = (UInt64(held.st_dev), UInt64(held.st_ino))
        header = nil
        return true
    }

    /// True when the path still names the open file and its size is still `size`: nothing
    /// was appended, cut or replaced, so a refresh has nothing to read. No lock is taken.
    ///
    /// One `fstat` of the held file answers most calls, without walking the path: the file
    /// still has a name (`st_nlink`), the size is the one read, and its status-change time is
    /// the one last seen with the path naming it. An append changes the size; a rewrite,
    /// `git checkout` or `rm` that takes the name away leaves it with no link; a rename, a
    /// link or an unlink of it changes its status-change time. Anything else, and the first
    /// call after a change, asks the path (`stat`), which is what the answer means. Left
    /// unseen: a folder above the log renamed away, with the log untouched inside it, and
    /// another file put in its place, within one tick of the clock that stamps the log
    /// (what a person does by hand, not a writer: every rewrite renames over the file).
    public func isUnchanged(size expected: UInt64) -> Bool {
        guard fd >= 0 else { return false }
        var held = stat()
        guard fstat(fd, &held) == 0, UInt64(held.st_size) == expected, held.st_nlink > 0 else { return false }
        let changed = (held.st_ctim.tv_sec, held.st_ctim.tv_nsec)
        if let seen = seenUnchanged, seen.size == expected, seen.changed == changed { return true }
        var named = stat()
        guard stat(resolvedPath, &named) == 0, (UInt64(named.st_dev), UInt64(named.st_ino)) == identity,
            UInt64(named.st_size) == expected
        else { return false }
        // The held file before the path and the path after it agree: nothing moved between.
        // And the time is settled: the clock that stamps files may tick only every few
        // milliseconds, so a rename in the same tick as the last write would leave the time
        // as it was; a change after a settled time gets a later one.
        if (named.st_ctim.tv_sec, named.st_ctim.tv_nsec) == changed, Self.isSettled(changed) {
            seenUnchanged = (expected, changed)
        }
        return true
    }

    /// The size and status-change time of the held file when the path last named it at that
    /// size (see `isUnchanged`).
    private var seenUnchanged: (size: UInt64, changed: (Int, Int))? = nil

    /// Whether a status-change time is far enough in the past (a tenth of a second, many
    /// ticks of a file system's coarse clock) that any later change stamps a later one.
    static func isSettled(_ changed: (seconds: Int, nanoseconds: Int)) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (now.tv_sec - changed.seconds) * 1_000_000_000 + (now.tv_nsec - changed.nanoseconds) > 100_000_000
    }

    /// Whether this process holds the log's lock now (a caller deep inside a rewrite).
    public var isLockedByThisProcess: Bool { LockFile.isHeld(resolvedPath + ".lock") }

    /// Runs `body` holding the log's lock: `exclusive` for writers, shared for a scan.
    /// A failure to lock is thrown; the body's outcome is returned.
    public func withLock<R, E: Error>(exclusive: Bool, _ body: () throws(E) -> R) throws(LogError) -> Result<R, E> {
        do { return try lock.withLock(exclusive: exclusive, body) } catch { throw .system(error) }
    }

    /// The file's current size.
    public func size() throws(LogError) -> UInt64 {
        guard fd >= 0 else { return 0 }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(SystemError("fstat", path)) }
        return UInt64(info.st_size)
    }

    /// Visits every complete line from `offset` (a line start) to the end of the file. The
    /// first line of the file must be a header: anything else makes the file unreadable as
    /// a vault, and nothing is visited.
    /// With `limit`, bytes from `limit` on are not read: a caller that saw the file end
    /// there under the lock can read the (immutable) prefix again without the lock.
    /// A line longer than `LogLine.maximumLength` is visited as damaged, with its true
    /// offset and length and no bytes: it is skipped, never read into memory whole.
    public func scan(from offset: UInt64, limit: UInt64? = nil, _ visit: (ScannedLine) throws -> Void) throws -> ScanEnd {
        try scanFraming(from: offset, limit: limit) { lineOffset, length, line in
            let parsed: ParsedLine
            if length > LogLine.maximumLength {
                parsed = .failure(.malformed("line of \(length) bytes, longer than the longest valid record (\(LogLine.maximumLength))"))
            } else {
                do throws(FormatError) { parsed = .success(try LogLine.parse(line)) } catch { parsed = .failure(error) }
            }
            try visit(ScannedLine(offset: lineOffset, length: length, parsed: parsed, bytes: line))
        }
    }

    /// Visits the bytes of every complete line from `offset` (a line start) to the end of
    /// the file (or `limit`), newline excluded, parsing none but the first: for a reader
    /// that looks at a few columns of each line only. The first line of the file must be a
    /// header, as in `scan`; it becomes `header`. A line longer than `LogLine.maximumLength`
    /// is visited with no bytes (an empty line, which no parser accepts): it is damage, and
    /// it is skipped without being read whole.
    public func scanLines(from offset: UInt64, limit: UInt64? = nil, _ visit: (UInt64, UnsafeRawBufferPointer) throws -> Void) throws -> ScanEnd {
        try scanFraming(from: offset, limit: limit) { lineOffset, _, line in try visit(lineOffset, line) }
    }

    /// The largest buffer the last scan of this log used, in bytes: never more than
    /// `scanBufferBound`, however long a line of the file is.
    private(set) var largestScanBuffer = 0

    /// What a scan's buffer may grow to: `readChunk` doubled until it holds a line of
    /// `LogLine.maximumLength` (anything longer is skipped, not buffered).
    static let scanBufferBound = 2 << 20

    /// Bytes a scan (or `readLines`) reads at a time. Small enough to stay in cache and to
    /// be reused by the allocator from one read to the next: a buffer of the file's size (up
    /// to 1 MiB, as it was) is fresh memory every time, and faulting its pages in cost a
    /// short command like `list` more than the reads themselves.
    static let readChunk = 64 << 10

    /// The framing under `scan` and `scanLines`: visits each complete line's offset, length
    /// (newline excluded) and bytes. A line longer than `LogLine.maximumLength` is skipped
    /// by reading on to its newline a buffer at a time, and visited with its offset, its
    /// length and no bytes. The check costs one compare per buffer read, none per line.
    private func scanFraming(
        from offset: UInt64, limit: UInt64?, _ visit: (UInt64, Int, UnsafeRawBufferPointer) throws -> Void
    ) throws -> ScanEnd {
        guard fd >= 0 else { return ScanEnd(end: 0, tornBytes: 0) }
        let fileSize = try limit.map { min($0, try size()) } ?? size()
        if offset > 0, offset >= fileSize { return ScanEnd(end: offset, tornBytes: fileSize > offset ? fileSize - offset : 0) }
        // A scan that ended after a last line lacking its LF resumes there; the LF a writer
        // has added since (see `append`) belongs to that line, not to a new, empty one.
        let offset = try offset > 0 && followsUnterminatedLine(offset) ? offset + 1 : offset
        if offset > 0, offset >= fileSize { return ScanEnd(end: offset, tornBytes: 0) }
        // Nothing new is the common case of a refresh: allocate the buffer only to read.
        // Uninitialised: pread fills it, and only the bytes it filled are read.
        let capacity = Int(min(UInt64(Self.readChunk), max(4096, fileSize - offset)))
        var buffer = takeReadBuffer()
        if buffer.count < capacity { buffer = [UInt8](unsafeUninitializedCapacity: capacity) { _, count in count = capacity } }
        defer {
            largestScanBuffer = buffer.count
            keepReadBuffer(buffer)
        }
        var bufferStart = offset  // file offset of buffer[0]
        var filled = 0
        var lineStart = 0  // index in buffer of the next unconsumed line
        var overlong: UInt64? = nil  // start of a too-long line being skipped; the buffer holds none of it
        while bufferStart + UInt64(filled) < fileSize {
            if lineStart > 0 {  // Slide the unfinished line to the front.
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + lineStart, byteCount: filled - lineStart)
                }
                filled -= lineStart
                bufferStart += UInt64(lineStart)
                lineStart = 0
            }
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let want = min(buffer.count - filled, Int(fileSize - bufferStart) - filled)
            let got = FileSystem.restarting {
                buffer.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + filled, want, off_t(bufferStart) + off_t(filled)) }
            }
            guard got > 0 else { throw LogError.system(SystemError("read", path, code: got < 0 ? errno : EIO)) }
            filled += got
            try buffer.withUnsafeBytes { raw in
                if let start = overlong {
                    // Still inside the too-long line: look for its end only.
                    guard let newline = memchr(raw.baseAddress!, 0x0A, filled) else {
                        bufferStart += UInt64(filled)
                        filled = 0
                        return
                    }
                    let end = raw.baseAddress!.distance(to: UnsafeRawPointer(newline))
                    try visit(start, Int(bufferStart + UInt64(end) - start), UnsafeRawBufferPointer(start: nil, count: 0))
                    overlong = nil
                    lineStart = end + 1
                }
                while let newline = memchr(raw.baseAddress! + lineStart, 0x0A, filled - lineStart) {
                    let end = raw.baseAddress!.distance(to: UnsafeRawPointer(newline))
                    let lineOffset = bufferStart + UInt64(lineStart)
                    let length = end - lineStart
                    // Too long, though it fit in the buffer: damage all the same, and handed on as such.
                    let line = length > LogLine.maximumLength ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(rebasing: raw[lineStart..<end])
                    if lineOffset == 0 { try readHeader(line) }
                    try visit(lineOffset, length, line)
                    lineStart = end + 1
                }
            }
            if filled - lineStart > LogLine.maximumLength {
                // No valid line is this long: skip it, keeping none of it.
                let start = bufferStart + UInt64(lineStart)
                if start == 0 { throw LogError.unreadable(path: path, .notAVault) }
                overlong = start
                bufferStart += UInt64(filled)
                filled = 0
                lineStart = 0
            }
        }
        var end = overlong ?? bufferStart + UInt64(lineStart)
        var unterminated = false
        if overlong == nil, end < fileSize, filled - lineStart <= LogLine.maximumLength {
            // The bytes after the last LF: a torn tail, unless they are a whole line (it parses,
            // its checksum verifies) that lacks only its LF, which is kept (a file whose last
            // newline was removed by an editor loses no record).
            try buffer.withUnsafeBytes { raw in
                let line = UnsafeRawBufferPointer(rebasing: raw[lineStart..<filled])
                guard case .success = Result(catching: { () throws(FormatError) in try LogLine.parse(line) }) else { return }
                if end == 0 { try readHeader(line) }
                try visit(end, line.count, line)
                end = fileSize
                unterminated = true
            }
        }
        if end == 0 {
            // Not even one complete line: no vault ever looks like this (creation is atomic).
            throw LogError.unreadable(path: path, .notAVault)
        }
        return ScanEnd(end: end, tornBytes: fileSize - end, unterminated: unterminated)
    }

    /// True when the byte before `offset` is not an LF and the byte at `offset` is one: the
    /// file had ended at `offset` with a whole line lacking its LF, and a writer added it.
    /// `offset` is inside the file, past its first byte.
    private func followsUnterminatedLine(_ offset: UInt64) throws(LogError) -> Bool {
        var pair: (UInt8, UInt8) = (0, 0)
        if let failure = withUnsafeMutableBytes(of: &pair, { readExactly(into: $0, at: offset - 1) }) { throw failure }
        return pair.0 != 0x0A && pair.1 == 0x0A
    }

    /// True when the file's first `end` bytes (at least one) end with an LF.
    private func endsWithNewline(_ end: UInt64) throws(LogError) -> Bool {
        var byte: UInt8 = 0
        if let failure = withUnsafeMutableBytes(of: &byte, { readExactly(into: $0, at: end - 1) }) { throw failure }
        return byte == 0x0A
    }

    /// Takes the file's first line as its header, or refuses the file.
    private func readHeader(_ line: UnsafeRawBufferPointer) throws(LogError) {
        switch Result(catching: { () throws(FormatError) in try LogLine.parse(line) }) {
        case .success(.fileHeader(let found)): header = found
        case .failure(.unsupportedVersion(let version)): throw .unreadable(path: path, .unsupportedVersion(version))
        default: throw .unreadable(path: path, .notAVault)
        }
    }

    /// Reads back the line at `offset` of `length` bytes (newline excluded).
    public func readLine(at offset: UInt64, length: Int) throws(LogError) -> [UInt8] {
        var line = [UInt8](repeating: 0, count: length)
        if let failure = line.withUnsafeMutableBytes({ readExactly(into: $0, at: offset) }) { throw failure }
        return line
    }

    /// Fills `buffer` with the bytes at `offset`, however many reads that takes; returns
    /// the failure, if any (a returned error survives `withUnsafeMutableBytes`, which does
    /// not keep a closure's typed error).
    private func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) -> LogError? {
        var done = 0
        while done < buffer.count {
            let got = FileSystem.restarting { pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done)) }
            guard got > 0 else { return .system(SystemError("read", path, code: got < 0 ? errno : EIO)) }
            done += got
        }
        return nil
    }

    /// Removes the temporary file a rewrite killed half-way left. Call holding the exclusive
    /// lock: then no rewrite is in flight.
    public func removeStaleTemporaries() {
        FileSystem.removeStaleTemporaries(beside: resolvedPath)
    }

    /// Reads the lines at `spans` (offset, length; newlines excluded) and visits each with
    /// its index in `spans`: lines close together are read with one `pread` into one buffer
    /// instead of one each, which is what listing thousands of names costs.
    public func readLines(
        _ spans: [(offset: UInt64, length: Int)], _ visit: (Int, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let windows = LineWindows(spans)
        var buffer = takeReadBuffer()
        defer { keepReadBuffer(buffer) }
        for window in 0..<windows.count { try readWindow(window, of: windows, into: &buffer, visit) }
    }

    /// Reads the lines of the `window`th window of `windows` into `buffer` (grown when a
    /// window needs more) and visits each with its index in the spans: the window at once,
    /// or, when its lines lie too far apart to read whole (a few lines of a long log), one
    /// by one. Only `pread`s the log: two threads may read windows of one log at once, each
    /// into a buffer of its own.
    func readWindow(
        _ window: Int, of windows: LineWindows, into buffer: inout [UInt8], _ visit: (Int, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let spans = windows.spans
        let lines = windows.lines(of: window)
        let low = lines.lazy.map { spans[$0].offset }.min()!
        let high = lines.lazy.map { spans[$0].offset + UInt64(spans[$0].length) }.max()!
        guard high - low <= UInt64(2 * Self.readChunk) else {
            for position in lines {
                let line = try readLine(at: spans[position].offset, length: spans[position].length)
                try line.withUnsafeBytes { try visit(position, $0) }
            }
            return
        }
        let count = Int(high - low)
        if buffer.count < count { buffer = [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count } }
        if let failure = buffer.withUnsafeMutableBytes({ readExactly(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count]), at: low) }) {
            throw failure
        }
        try buffer.withUnsafeBytes { raw in
            for position in lines {
                let start = Int(spans[position].offset - low)
                try visit(position, UnsafeRawBufferPointer(rebasing: raw[start..<(start + spans[position].length)]))
            }
        }
    }

    /// The buffer reads reuse (scans and `readLines`): memory already faulted in, rather than
    /// fresh pages for every read of a command. Taken while in use, so that a nested read
    /// makes its own.
    private var readBuffer: [UInt8] = []

    private func takeReadBuffer() -> [UInt8] {
        defer { readBuffer = [] }
        return readBuffer
    }

    /// Keeps `buffer` for the next read, unless a long line grew it past two windows.
    private func keepReadBuffer(_ buffer: [UInt8]) {
        if buffer.count <= 2 * Self.readChunk { readBuffer = buffer }
    }

    /// Creates the log holding only `header`, atomically (temporary file, sync, link, sync
    /// the folder). Call with the exclusive lock held. Does nothing if the file appeared
    /// meanwhile.
    public func create(header: FileHeader) throws(LogError) {
        do throws(SystemError) {
            try FileSystem.makeDirectories(FileSystem.parentDirectory(of: resolvedPath), mode: 0o700)
            _ = try FileSystem.createExclusively(resolvedPath, mode: 0o600, contents: header.encoded())
        } catch {
            throw .system(error)
        }
        _ = try reopenIfReplaced()
    }

    /// Appends `lines` (whole lines, newline-terminated) after the first `end` bytes,
    /// cutting off whatever follows them (a torn tail), then syncs the data. When the file's
    /// last line ends at `end` without its LF (a scan kept it), the LF is written first, in
    /// the same `pwrite`. Returns the offset at which `lines` start. Call with the exclusive
    /// lock held. On any failure the file is cut back to `end`, so a failed append leaves the
    /// vault as it was.
    @discardableResult
    public func append(_ lines: [UInt8], after end: UInt64) throws(LogError) -> UInt64 {
        precondition(lines.last == 0x0A, "only whole lines are appended")
        guard fd >= 0 else { throw .system(SystemError("write", path, code: EBADF)) }
        try refuseIfReadOnly()
        try refuseIfHardLinked()
        if try size() != end, ftruncate(fd, off_t(end)) != 0 {
            throw .system(SystemError("ftruncate", path))
        }
        var terminated = true
        if end > 0 { terminated = try endsWithNewline(end) }
        let lines = terminated ? lines : [0x0A] + lines
        let failure = lines.withUnsafeBytes { FileSystem.writeAll(fd, $0, at: end, path: path) }
            ?? (fdatasync(fd) == 0 ? nil : SystemError("fdatasync", path))
        if let failure {
            _ = ftruncate(fd, off_t(end))
            _ = fdatasync(fd)
            throw .system(failure)
        }
        return terminated ? end : end + 1
    }

    /// Throws the permission problem of a log this user may not write (a write would
    /// otherwise fail with `EBADF` on the read-only descriptor, which says nothing useful).
    private func refuseIfReadOnly() throws(LogError) {
        if let code = notWritable { throw .system(.readOnlyLog(path, code: code)) }
    }

    /// Refuses to write to a log that has more than one name (hard links): each name would
    /// take a lock file of its own (`<name>.lock`), so writers through two names would not
    /// exclude each other, and the first rewrite (a rename) would split the names into two
    /// files anyway. A symbolic link is the way to give a log a second name.
    private func refuseIfHardLinked() throws(LogError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(SystemError("fstat", path)) }
        if info.st_nlink > 1 { throw .system(.hardLinkedLog(path, links: UInt64(info.st_nlink))) }
    }

    /// A piece of a rewritten file: bytes copied from this log, or new bytes.
    public enum Piece {
        /// Bytes of this log (whole lines).
        case range(Range<UInt64>)
        /// New bytes (whole lines).
        case bytes([UInt8])
    }

    /// Writes a new file holding `ranges` of this log (byte ranges of whole lines, in the
    /// order given) followed by `extra` (whole lines); see `writeCopy(pieces:…)`.
    public func writeCopy(
        ranges: [Range<UInt64>], extra: [UInt8] = [], to destination: String, mode: mode_t = 0o600,
        keepingReplacedAs kept: String? = nil, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws(LogError) {
        try writeCopy(
            pieces: ranges.map(Piece.range) + (extra.isEmpty ? [] : [.bytes(extra)]), to: destination, mode: mode,
            keepingReplacedAs: kept, progress: progress)
    }

    /// Writes a new file made of `pieces` and puts it at `destination` atomically:
    /// temporary file beside it, sync, rename, sync the folder. With `keepingReplacedAs`,
    /// the file `destination` named before is first linked to that name, so it is kept,
    /// not lost. `progress` hears bytes written of the total. The caller holds the lock
    /// when `destination` is this log. A `destination` reached through a symbolic link is
    /// replaced where the link points, and the link stays.
    public func writeCopy(
        pieces: [Piece], to requested: String, mode: mode_t = 0o600, keepingReplacedAs kept: String? = nil,
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws(LogError) {
        let destination = requested == path ? resolvedPath : FileSystem.resolvedPath(requested)
        // Adjacent ranges are read as one.
        let merged = pieces.reduce(into: [Piece]()) { result, piece in
            if case .range(let range) = piece, case .range(let last)? = result.last, last.upperBound == range.lowerBound {
                result[result.count - 1] = .range(last.lowerBound..<range.upperBound)
            } else {
                result.append(piece)
            }
        }
        let total = merged.reduce(UInt64(0)) { sum, piece in
            switch piece {
            case .range(let range): sum + UInt64(range.count)
            case .bytes(let bytes): sum + UInt64(bytes.count)
            }
        }
        if destination == resolvedPath {
            try refuseIfReadOnly()  // renaming over it would work, but the file says "do not change me"
            if fd >= 0 { try refuseIfHardLinked() }
            removeStaleTemporaries()
        }
        // A range of whole lines may end one byte past the file: its last line lacks its LF
        // (see `scan`), and the copy supplies it. So does a range ending at the file's end
        // with more pieces after it, or the next line would be joined to that last line.
        let fileEnd = try size()
        var endsWithoutNewline = false
        if fileEnd > 0 { endsWithoutNewline = try !endsWithNewline(fileEnd) }
        let temporary = FileSystem.temporaryPath(beside: destination)
        let out = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard out >= 0 else { throw .system(SystemError.cannotCreate(requested)) }
        var failure: SystemError? = nil
        var written: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        copying: for (pieceIndex, piece) in merged.enumerated() {
            switch piece {
            case .bytes(let bytes):
                if let error = bytes.withUnsafeBytes({ FileSystem.writeAll(out, $0, at: written, path: temporary) }) {
                    failure = error
                    break copying
                }
                written += UInt64(bytes.count)
                progress(written, total)
            case .range(let range):
                let missingNewline =
                    range.upperBound == fileEnd + 1
                    || (range.upperBound == fileEnd && endsWithoutNewline && pieceIndex < merged.count - 1)
                let upperBound = missingNewline ? fileEnd : range.upperBound
                var position = range.lowerBound
                while position < upperBound {
                    let want = Int(min(UInt64(buffer.count), upperBound - position))
                    let got = FileSystem.restarting { buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(position)) } }
                    guard got > 0 else {
                        failure = SystemError("read", path, code: got < 0 ? errno : EIO)
                        break copying
                    }
                    if let error = buffer.withUnsafeBytes({
                        FileSystem.writeAll(out, UnsafeRawBufferPointer(rebasing: $0[..<got]), at: written, path: temporary)
                    }) {
                        failure = error
                        break copying
                    }
                    position += UInt64(got)
                    written += UInt64(got)
                    progress(written, total)
                }
                if missingNewline {
                    if let error = [UInt8(0x0A)].withUnsafeBytes({ FileSystem.writeAll(out, $0, at: written, path: temporary) }) {
                        failure = error
                        break copying
                    }
                    written += 1
                    progress(written, total)
                }
            }
        }
        if failure == nil, fchmod(out, mode) != 0 { failure = SystemError("fchmod", temporary) }
        if failure == nil, fsync(out) != 0 { failure = SystemError("fsync", temporary) }
        close(out)
        if failure == nil, let kept, link(destination, kept) != 0, errno != ENOENT {
            failure = SystemError("link", kept)
        }
        if failure == nil, rename(temporary, destination) != 0 { failure = SystemError("rename", destination) }
        if let failure {
            unlink(temporary)
            throw .system(failure)
        }
        do { try FileSystem.syncDirectory(containing: destination) } catch { throw .system(error) }
    }

    /// The permission bits of the open log (a rewrite keeps them).
    public func mode() throws(LogError) -> mode_t {
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0 else { return 0o600 }
        return info.st_mode & 0o777
    }
}

/// Lines of a log (offset and length each, newline excluded) grouped by the window of the
/// file they start in, windows in file order, so that `VaultLog.readWindow` reads each
/// window's lines with one `pread`. The grouping is a counting pass, no sort: there are at
/// most about four windows per line, wider windows when the lines are spread over a long file.
struct LineWindows: Sendable {
    /// The lines, as given.
    let spans: [(offset: UInt64, length: Int)]
    /// Positions in `spans`, window after window.
    private let order: [Int]
    /// Where each window that holds a line starts in `order` (and, last, its end).
    private let starts: [Int]

    /// Groups `spans` by windows of `windowBytes` (a power of two; the lines of a window fit
    /// in twice that unless one is longer).
    init(_ spans: [(offset: UInt64, length: Int)], windowBytes: Int = VaultLog.readChunk / 2) {
        precondition(windowBytes > 0 && windowBytes.nonzeroBitCount == 1, "a window is a power of two bytes")
        self.spans = spans
        guard let first = spans.lazy.map(\.offset).min(), let last = spans.lazy.map(\.offset).max() else {
            order = []
            starts = [0]
            return
        }
        var shift = UInt64(windowBytes.trailingZeroBitCount)
        while (last - first) >> shift >= UInt64(4 * spans.count + 16) { shift += 1 }
        let windowCount = Int((last - first) >> shift) + 1
        // Counting sort of the positions by window: window w's are `counts[w]..<counts[w + 1]`.
        var counts = [Int](repeating: 0, count: windowCount + 1)
        for span in spans { counts[Int((span.offset - first) >> shift) + 1] += 1 }
        for window in 0..<windowCount { counts[window + 1] += counts[window] }
        var order = [Int](repeating: 0, count: spans.count)
        var next = counts
        for (position, span) in spans.enumerated() {
            let window = Int((span.offset - first) >> shift)
            order[next[window]] = position
            next[window] += 1
        }
        self.order = order
        // Only the windows that hold a line.
        var starts: [Int] = []
        starts.reserveCapacity(min(windowCount, spans.count) + 1)
        for window in 0..<windowCount where counts[window] < counts[window + 1] { starts.append(counts[window]) }
        starts.append(spans.count)
        self.starts = starts
    }

    /// The windows that hold at least one line.
    var count: Int { starts.count - 1 }

    /// The positions in `spans` of the `window`th window's lines.
    func lines(of window: Int) -> ArraySlice<Int> {
        order[starts[window]..<starts[window + 1]]
    }
}
