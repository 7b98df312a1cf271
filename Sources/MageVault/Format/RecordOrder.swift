/// The total order of records that every reader uses (index, single read, compaction,
/// merge), so that the state of a vault is a function of the *set* of its lines.
///
/// Greater `(time, record-id)` is newer. Two different lines with equal `(time, record-id)`
/// exist only when one is forged or when a record was re-sealed (a rekey keeps time and
/// id): then the line whose bytes are greater (compared as unsigned bytes, a longer line
/// greater than its own prefix) is newer. Equal bytes are the same record.
public enum RecordOrder {
    /// True when the record `line` (header `header`) is newer than `other` (`otherHeader`).
    public static func isNewer(
        _ header: RecordHeader, _ line: UnsafeRawBufferPointer, than otherHeader: RecordHeader,
        _ other: UnsafeRawBufferPointer
    ) -> Bool {
        isNewer((header.timestamp, header.id), line, than: (otherHeader.timestamp, otherHeader.id), other)
    }

    /// `isNewer` given only the `(time, record-id)` of each record's header.
    static func isNewer(
        _ stamp: (Timestamp, RecordID), _ line: UnsafeRawBufferPointer, than otherStamp: (Timestamp, RecordID),
        _ other: UnsafeRawBufferPointer
    ) -> Bool {
        if stamp != otherStamp { return stamp > otherStamp }
        return other.lexicographicallyPrecedes(line)
    }

    /// `isNewer` for lines held in arrays.
    public static func isNewer(_ header: RecordHeader, _ line: [UInt8], than otherHeader: RecordHeader, _ other: [UInt8]) -> Bool {
        line.withUnsafeBytes { a in other.withUnsafeBytes { b in isNewer(header, a, than: otherHeader, b) } }
    }
}
