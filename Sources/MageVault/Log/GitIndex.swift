#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether git tracks a file, read from the work tree's index (`.git/index`) without running
/// git: a key file must never be tracked. A commit that forces one past `.gitignore` puts a
/// key everyone with the repository holds into every clone, and git writes a tracked file
/// over an ignored one on checkout. Checked each time a key file is read, so it is a read of
/// one file and a linear pass over its entries, no process (see `vault-format.md`, *Key files
/// and git*).
///
/// The index format (git's `Documentation/gitformat-index.txt`): a 12-byte header (`DIRC`,
/// version 2, 3 or 4, entry count), then the entries, sorted by path: 40 bytes of stat data,
/// the object id (20 bytes, or 32 in a SHA-256 repository), 2 bytes of flags (the low 12 bits
/// the path's length, capped at 0xFFF; bit 14 in version 3 and up: 2 more flag bytes
/// follow), then the path, ended by NUL and padded with NULs to a multiple of 8 bytes
/// (versions 2 and 3), or (version 4) how many bytes to drop from the previous entry's path,
/// as git's offset varint, and the rest of the path ended by one NUL. Extensions follow.
enum GitIndex {
    /// The largest index read: 256 MiB (git's own index of a repository of millions of files).
    static let maximumBytes = 256 << 20

    /// The work tree whose index lists `path` (an absolute path), and the path from there; nil
    /// when no work tree holds it, its index (none yet: nothing added) does not list it, or
    /// the index cannot be read whole here (a format newer than version 4, or a split index,
    /// whose entries are partly in a shared index: settings of the user's own, not something a
    /// commit can bring).
    static func trackingWorkTree(of path: String) -> (workTree: String, relative: String)? {
        guard path.hasPrefix("/"), let (workTree, gitDirectory) = repository(containing: FileSystem.parentDirectory(of: path)) else {
            return nil
        }
        let relative = String(path.dropFirst(workTree == "/" ? 1 : workTree.count + 1))
        let fd = open(gitDirectory + "/index", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= maximumBytes else { return nil }
        let answer = lists(Array(relative.utf8), size: Int(info.st_size)) { buffer, offset in
            FileSystem.restarting { pread(fd, buffer.baseAddress!, buffer.count, off_t(offset)) }
        }
        return answer == true ? (workTree, relative) : nil
    }

    /// The nearest folder from `directory` up that holds `.git`, and its git directory: the
    /// `.git` folder, or where a `.git` file (`gitdir: …`: a linked work tree, a submodule) points.
    static func repository(containing directory: String) -> (workTree: String, gitDirectory: String)? {
        guard let workTree = FileSystem.nearestFolder(from: directory, holding: ".git") else { return nil }
        let top = workTree == "/" ? "" : workTree, dotGit = top + "/.git"
        var info = stat()
        guard lstat(dotGit, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT == S_IFDIR { return (workTree, dotGit) }
        guard info.st_mode & S_IFMT == S_IFREG, let text = try? FileSystem.readSmallFile(dotGit, maximumBytes: 4096) else { return nil }
        let line = String(decoding: text.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
        guard line.hasPrefix("gitdir: ") else { return nil }
        let target = String(line.dropFirst("gitdir: ".count))
        return (workTree, target.hasPrefix("/") ? target : top + "/" + target)
    }

    /// Whether the index `bytes` lists `relative`; nil when they cannot be read as an index
    /// this reads whole.
    static func lists(_ relative: [UInt8], index bytes: [UInt8]) -> Bool? {
        lists(relative, size: bytes.count) { buffer, offset in
            let count = min(buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            return count
        }
    }

    /// Whether the index of `size` bytes that `read` gives (it fills a buffer from a file
    /// offset and says how many bytes it wrote, 0 at the end, negative on an error) lists
    /// `relative`; nil when it cannot be read as an index this reads whole: read with SHA-1's
    /// object ids, then SHA-256's, the first under which every entry holds together.
    static func lists(_ relative: [UInt8], size: Int, read: (UnsafeMutableRawBufferPointer, Int) -> Int) -> Bool? {
        withoutActuallyEscaping(read) { read in
            for hashSize in [20, 32] {
                var stream = Stream(size: size, read: read)
                if let answer = lists(relative, in: &stream, hashSize: hashSize) { return answer }
            }
            return nil
        }
    }

    /// An index read 64 KiB at a time into one buffer (grown only for an entry longer than
    /// that), so a large index costs its reads and no copy of it is kept: entries are parsed
    /// from the buffer, and what is left of one at its end moves to the front for the next read.
    private struct Stream {
        let size: Int
        let read: (UnsafeMutableRawBufferPointer, Int) -> Int
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        /// The file offset of `buffer[0]`, the next byte's place in `buffer`, and how many are read.
        var start = 0, position = 0, filled = 0

        init(size: Int, read: @escaping (UnsafeMutableRawBufferPointer, Int) -> Int) {
            self.size = size
            self.read = read
        }

        var offset: Int { start + position }

        /// The byte `index` places after the next one (made available by `need`).
        @inline(__always)
        subscript(index: Int) -> UInt8 { buffer[position + index] }

        /// The big-endian number in the `count` bytes from `index` on.
        func number(_ index: Int, _ count: Int) -> Int {
            var value = 0
            for place in index..<(index + count) { value = value << 8 | Int(self[place]) }
            return value
        }

        /// Makes `count` bytes from the next one available; false when the file ends first or
        /// a read fails.
        @inline(__always)
        mutating func need(_ count: Int) -> Bool {
            filled - position >= count || refill(count)
        }

        /// `need`'s slow way: the bytes left move to the front, and the buffer is filled on.
        mutating func refill(_ count: Int) -> Bool {
            guard offset + count <= size else { return false }
            let rest = filled - position
            if position > 0 {
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + position, rest) }
                start += position
                position = 0
                filled = rest
            }
            // Grown by doubling: a path longer than the buffer (only a damaged index has one;
            // git checks no such path out) is then found in a few reads, not one per byte.
            if count > buffer.count { buffer += [UInt8](repeating: 0, count: max(count, 2 * buffer.count) - buffer.count) }
            let wanted = min(buffer.count - filled, size - start - filled)
            var done = 0
            while done < wanted {
                let got = buffer.withUnsafeMutableBytes { raw in
                    read(UnsafeMutableRawBufferPointer(rebasing: raw[(filled + done)..<(filled + wanted)]), start + filled + done)
                }
                guard got > 0 else { return false }
                done += got
            }
            filled += wanted
            return filled - position >= count
        }

        mutating func skip(_ count: Int) { position += count }

        /// Moves the next byte to the file offset `target`, reading nothing yet.
        mutating func seek(to target: Int) {
            if target >= start, target <= start + filled {
                position = target - start
            } else {
                (start, position, filled) = (target, 0, 0)
            }
        }

        /// Whether the `count` bytes from `index` on are `wanted`'s.
        func holds(_ wanted: [UInt8], at index: Int) -> Bool {
            buffer.withUnsafeBytes { raw in wanted.withUnsafeBytes { memcmp(raw.baseAddress! + position + index, $0.baseAddress!, $0.count) == 0 } }
        }
    }

    /// Walks the entries by their name lengths, comparing a path with `relative` only when
    /// its length is the same (version 4: how many of the path's first bytes match, carried
    /// from entry to entry), copying no path.
    private static func lists(_ relative: [UInt8], in stream: inout Stream, hashSize: Int) -> Bool? {
        guard stream.need(12), stream[0] == 0x44, stream[1] == 0x49, stream[2] == 0x52, stream[3] == 0x43 else { return nil }
        let version = stream.number(4, 4), count = stream.number(8, 4)
        guard (2...4).contains(version) else { return nil }
        stream.skip(12)
        /// The length of the path (or, in version 4, of the rest of it) that starts `from`
        /// bytes on: `exactly` when known (the byte after it must be NUL), else up to the first
        /// NUL at or after `atLeast` bytes.
        func pathLength(from: Int, exactly: Int?, atLeast: Int) -> Int? {
            if let exactly { return stream.need(from + exactly + 1) && stream[from + exactly] == 0 ? exactly : nil }
            var length = atLeast
            while true {
                guard stream.need(from + length + 1) else { return nil }
                if stream[from + length] == 0 { return length }
                length += 1
            }
        }
        var found = false
        var length = 0, matched = 0  // version 4: the previous path's length, and how much of it is `relative`'s start
        for _ in 0..<count {
            var header = 40 + hashSize + 2
            guard stream.need(header) else { return nil }
            let flags = stream.number(40 + hashSize, 2), named = flags & 0xFFF
            if version >= 3, flags & 0x4000 != 0 { header += 2 }
            if version == 4 {
                // git's offset varint: 7 bits a byte, each continuation adding one before the shift.
                guard stream.need(header + 1) else { return nil }
                var drop = Int(stream[header] & 0x7F)
                while stream[header] & 0x80 != 0 {
                    header += 1
                    guard stream.need(header + 1), drop < 1 << 24 else { return nil }
                    drop = ((drop + 1) << 7) | Int(stream[header] & 0x7F)
                }
                header += 1
                guard drop <= length else { return nil }
                let kept = length - drop
                // A name of 0xFFF bytes or more: the rest is up to its NUL, however short.
                guard named == 0xFFF || named >= kept, let suffix = pathLength(from: header, exactly: named == 0xFFF ? nil : named - kept, atLeast: 0) else {
                    return nil
                }
                matched = min(matched, kept)
                if matched == kept {
                    var at = 0
                    while matched < relative.count, at < suffix, stream[header + at] == relative[matched] {
                        matched += 1
                        at += 1
                    }
                }
                length = kept + suffix
                guard named == min(length, 0xFFF) else { return nil }
                if length == relative.count, matched == length { found = true }
                stream.skip(header + suffix + 1)
            } else {
                guard let path = pathLength(from: header, exactly: named == 0xFFF ? nil : named, atLeast: 0xFFF) else { return nil }
                let entry = (header + path + 8) & ~7  // the path's NUL, then NULs to a multiple of 8
                guard stream.need(entry) else { return nil }
                for padding in (header + path)..<entry where stream[padding] != 0 { return nil }
                if path == relative.count, stream.holds(relative, at: header) { found = true }
                stream.skip(entry)
            }
        }
        // Extensions (a signature and a size each), then the checksum. A split index ("link")
        // keeps most entries in a shared index: this one alone does not say what is not there.
        while stream.offset + 8 <= stream.size - hashSize, stream.need(8) {
            if stream[0] == 0x6C, stream[1] == 0x69, stream[2] == 0x6E, stream[3] == 0x6B { return found ? true : nil }
            stream.seek(to: stream.offset + 8 + stream.number(4, 4))
        }
        return found
    }
}
