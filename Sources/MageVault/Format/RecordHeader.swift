/// What a record does to its secret.
public enum Operation: Sendable, Hashable {
    /// Sets the secret's value.
    case set
    /// Deletes the secret: a tombstone, kept so that merging an older copy cannot bring the
    /// secret back.
    case delete

    var spelling: [UInt8] { self == .set ? Array("set".utf8) : Array("del".utf8) }
}

/// The clear part of a record: everything a reader without the key may know.
///
/// Layout (fixed offsets; see `vault-format.md`):
/// `op uuid key-id tag time rid body crc32c`, single spaces between fields.
public struct RecordHeader: Hashable, Sendable {
    /// Set or delete.
    public var operation: Operation
    /// The environment (or scope) the record belongs to.
    public var environment: EnvironmentID
    /// Which key of that environment sealed the body.
    public var keyID: UInt32
    /// The keyed tag of the secret's name.
    public var tag: NameTag
    /// When it was written (hybrid logical clock).
    public var timestamp: Timestamp
    /// Random id; with `timestamp`, orders records totally.
    public var id: RecordID

    /// Makes a header.
    public init(operation: Operation, environment: EnvironmentID, keyID: UInt32, tag: NameTag, timestamp: Timestamp, id: RecordID) {
        self.operation = operation
        self.environment = environment
        self.keyID = keyID
        self.tag = tag
        self.timestamp = timestamp
        self.id = id
    }

    /// True when this record is newer than `other`: greater (timestamp, id). Two different
    /// lines can tie on both (a forged copy, a re-sealed record): `RecordOrder` breaks
    /// such ties by the lines' bytes.
    public func isNewer(than other: RecordHeader) -> Bool {
        (timestamp, id) > (other.timestamp, other.id)
    }

    /// Bytes before the body: the clear header that the sealed body is bound to.
    static let prefixLength = 113
    static let bodyOffset = prefixLength

    /// The clear header as it appears at the start of the line, trailing space included.
    func encodedPrefix() -> [UInt8] {
        var line = operation.spelling
        line.reserveCapacity(Self.prefixLength)
        line.append(UInt8(ascii: " "))
        Hex.append(environment.rawValue, width: 32, to: &line)
        line.append(UInt8(ascii: " "))
        Hex.append(keyID, width: 8, to: &line)
        line.append(UInt8(ascii: " "))
        Hex.append(tag.rawValue, width: 32, to: &line)
        line.append(UInt8(ascii: " "))
        Hex.append(timestamp.rawValue, width: 16, to: &line)
        line.append(UInt8(ascii: " "))
        Hex.append(id.rawValue, width: 16, to: &line)
        line.append(UInt8(ascii: " "))
        return line
    }
}

/// One line of a log, parsed without any key.
public enum LogLine: Sendable {
    /// A file header line (the first line, or a repeat of it left by concatenating copies).
    case fileHeader(FileHeader)
    /// A record.
    case record(RecordHeader)

    /// Parses one line given without its newline. Checks framing, every field's spelling and
    /// the checksum; does not decode or open the body.
    public static func parse(_ line: UnsafeRawBufferPointer) throws(FormatError) -> LogLine {
        if FileHeader.looksLikeHeader(line) { return .fileHeader(try FileHeader.parse(line)) }
        // Shortest body: base64 of nonce, MAC, binding, name length and a 1-byte name.
        let minimum = RecordHeader.bodyOffset + 80 + 9
        guard line.count >= minimum else { throw .malformed("record too short") }
        guard line.count <= maximumLength else { throw .malformed("record longer than the longest valid record") }
        try verifyChecksum(line)
        let operation: Operation
        switch (line[0], line[1], line[2]) {
        case (UInt8(ascii: "s"), UInt8(ascii: "e"), UInt8(ascii: "t")): operation = .set
        case (UInt8(ascii: "d"), UInt8(ascii: "e"), UInt8(ascii: "l")): operation = .delete
        default: throw .malformed("unknown operation")
        }
        for space in [3, 36, 45, 78, 95, 112] where line[space] != UInt8(ascii: " ") {
            throw .malformed("field separator expected at column \(space)")
        }
        guard let uuid = Hex.parse(line, at: 4, count: 32, as: UInt128.self) else { throw .malformed("uuid") }
        guard let keyID = Hex.parse(line, at: 37, count: 8, as: UInt32.self) else { throw .malformed("key id") }
        guard let tag = Hex.parse(line, at: 46, count: 32, as: UInt128.self) else { throw .malformed("tag") }
        guard let time = Hex.parse(line, at: 79, count: 16, as: UInt64.self) else { throw .malformed("timestamp") }
        guard let rid = Hex.parse(line, at: 96, count: 16, as: UInt64.self) else { throw .malformed("record id") }
        guard (line.count - 9 - RecordHeader.bodyOffset) % 4 == 0 else { throw .malformed("body length") }
        return .record(
            RecordHeader(
                operation: operation, environment: EnvironmentID(rawValue: uuid), keyID: keyID,
                tag: NameTag(rawValue: tag), timestamp: Timestamp(rawValue: time), id: RecordID(rawValue: rid)))
    }
}

extension LogLine {
    /// The longest line a valid log holds, newline excluded: a `set` record with a 255-byte
    /// name and a 1 MiB value. The 113-byte clear header, the base64 of the sealed body
    /// (nonce 24 + MAC 16 + binding 16 + name length 1 + name 255 + value 1 MiB), a space and
    /// the 8-hex check: 113 + 4 × ⌈1 048 888 / 3⌉ + 9 = 1 398 642 bytes. Anything longer is
    /// damage, and readers skip it without reading it whole (`vault-format.md`, "Reading").
    public static let maximumLength =
        RecordHeader.prefixLength
        + (24 + 16 + 16 + 1 + SecretName.maximumByteCount + SecretValue.maximumByteCount + 2) / 3 * 4 + 1 + 8
}

extension LogLine {
    /// Checks, without any key, that the body of a record line (`line` without its newline,
    /// already parsed as a record by `parse`) is canonical base64: every byte in the RFC 4648
    /// alphabet, `=` only as the padding of the last group, and the bits the padding leaves
    /// unused zero. A body that is not is damage that anyone can find (`vault-format.md`,
    /// "Three kinds of bad lines"), and `verify` and `recover` call this for every record.
    ///
    /// `parse` leaves it out: it runs over every line of every read, and a reader loses
    /// nothing by deferring the check to opening, which refuses such a body the same way
    /// (the line is never used either way). This pass costs a table look-up per body byte.
    public static func checkRecordBody(_ line: UnsafeRawBufferPointer) throws(FormatError) {
        let start = RecordHeader.bodyOffset
        let end = line.count - 9
        guard end - start >= 4, (end - start) % 4 == 0 else { throw .malformed("body length") }
        let padding = UInt8(ascii: "=")
        // All but the last two bytes are alphabet characters: their values ORed, one test.
        let seen = base64Values.withUnsafeBufferPointer { table in
            var seen: UInt8 = 0
            for index in start..<(end - 2) { seen |= table[Int(line[index])] }
            return seen
        }
        if seen & 0x80 != 0 {
            let index = (start..<(end - 2)).first { base64Values[Int(line[$0])] & 0x80 != 0 }!
            throw .malformed("body byte \(Hex.string(line[index], width: 2)) at column \(index) is not a base64 character")
        }
        let third = line[end - 2], fourth = line[end - 1]
        if fourth == padding, third == padding {
            // One byte in the last group: the second character's low 4 bits are unused.
            guard base64Values[Int(line[end - 3])] & 0x0F == 0 else { throw .malformed("body has nonzero bits before its padding") }
        } else if fourth == padding {
            // Two bytes: the third character's low 2 bits are unused.
            let value = base64Values[Int(third)]
            guard value & 0x80 == 0 else {
                throw .malformed("body byte \(Hex.string(third, width: 2)) at column \(end - 2) is not a base64 character")
            }
            guard value & 0x03 == 0 else { throw .malformed("body has nonzero bits before its padding") }
        } else {
            for (index, byte) in [(end - 2, third), (end - 1, fourth)] where base64Values[Int(byte)] & 0x80 != 0 {
                throw .malformed("body byte \(Hex.string(byte, width: 2)) at column \(index) is not a base64 character")
            }
        }
    }

    /// The value of each base64 character (RFC 4648 §4), 0xFF for every other byte (`=` included).
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()
}
