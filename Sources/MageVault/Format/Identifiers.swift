/// An environment's uuid: Mage's `secrets/uuid`, 32 lowercase hex digits (`uuid4().hex`).
/// The clear header of every record carries it, so records are grouped by environment
/// without any key.
public struct EnvironmentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 128 bits of the uuid.
    public let rawValue: UInt128

    /// Wraps raw bits.
    public init(rawValue: UInt128) { self.rawValue = rawValue }

    /// Parses Mage's spelling: exactly 32 lowercase hex digits.
    public init?(_ text: some StringProtocol) {
        guard let value = Hex.parse(text, count: 32, as: UInt128.self) else { return nil }
        rawValue = value
    }

    /// A fresh random uuid, as Mage makes one.
    public static func random() -> EnvironmentID {
        EnvironmentID(rawValue: UInt128(randomUInt64()) << 64 | UInt128(randomUInt64()))
    }

    /// 32 lowercase hex digits.
    public var description: String { Hex.string(rawValue, width: 32) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The identity of one vault file, chosen when the file is created and kept by compaction,
/// backup and restore. Every sealed body is bound to it, so a record copied into another
/// vault does not open there.
public struct VaultID: Hashable, Sendable, CustomStringConvertible {
    /// The 128 bits of the id.
    public let rawValue: UInt128

    /// Wraps raw bits.
    public init(rawValue: UInt128) { self.rawValue = rawValue }

    /// A fresh random vault id.
    public static func random() -> VaultID {
        VaultID(rawValue: UInt128(randomUInt64()) << 64 | UInt128(randomUInt64()))
    }

    /// 32 lowercase hex digits.
    public var description: String { Hex.string(rawValue, width: 32) }
}

/// The keyed tag of a secret's name (BLAKE2b-128 under the environment's tag sub-key).
/// Equal names give equal tags within one environment; without the key a tag says nothing.
public struct NameTag: Hashable, Sendable, CustomStringConvertible {
    /// The 128 bits of the tag.
    public let rawValue: UInt128

    /// Wraps raw bits.
    public init(rawValue: UInt128) { self.rawValue = rawValue }

    /// 32 lowercase hex digits.
    public var description: String { Hex.string(rawValue, width: 32) }
}

/// A hybrid-logical-clock timestamp: milliseconds since the Unix epoch in the high 48 bits,
/// a logical counter in the low 16. A writer's next timestamp is never below the wall clock
/// and always above every timestamp it has seen, so "newest" is well defined across
/// machines whose clocks disagree.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64-bit clock value.
    public let rawValue: UInt64

    /// Wraps a raw clock value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The timestamp of wall-clock time `milliseconds` with a zero counter.
    public init(milliseconds: UInt64) { rawValue = milliseconds << 16 }

    /// Milliseconds since the Unix epoch (the physical part).
    public var milliseconds: UInt64 { rawValue >> 16 }

    /// The next timestamp for a writer that has seen `latest` and reads `wallClock` ms;
    /// nil when `latest` is the greatest timestamp there is (no record can be newer).
    /// Callers pass as `latest` only times they trust (see `Timestamp.clockSkewAllowance`):
    /// a time read from a line nobody authenticated must not drag the clock.
    public static func next(after latest: Timestamp?, wallClock milliseconds: UInt64) -> Timestamp? {
        let physical = Timestamp(milliseconds: milliseconds)
        guard let latest, latest >= physical else { return physical }
        guard latest.rawValue < UInt64.max else { return nil }
        return Timestamp(rawValue: latest.rawValue + 1)
    }

    /// How far ahead of the wall clock a record's time may be and still move a writer's
    /// clock: one minute (clocks of machines kept by NTP agree far better). A later time,
    /// which no writer with a sane clock produces, is ignored by the clock; whoever wrote
    /// it, it cannot drag every later write into the future.
    public static let clockSkewAllowance: UInt64 = 60_000

    /// How far ahead of the wall clock a record's time may be before `verify` calls it
    /// suspect: one day. `recover` sets aside such records unless a key at hand
    /// authenticates them.
    public static let futureLimit: UInt64 = 86_400_000

    /// The greatest time a record may have to move the clock of a writer reading `wallClock`.
    public static func clockBound(wallClock milliseconds: UInt64) -> Timestamp {
        Timestamp(rawValue: (milliseconds &+ clockSkewAllowance) << 16 | 0xFFFF)
    }

    /// The greatest time `verify` accepts without suspicion at `wallClock`.
    public static func futureBound(wallClock milliseconds: UInt64) -> Timestamp {
        Timestamp(rawValue: (milliseconds &+ futureLimit) << 16 | 0xFFFF)
    }

    /// 16 lowercase hex digits.
    public var description: String { Hex.string(rawValue, width: 16) }

    /// The physical time as UTC ISO 8601 with milliseconds: `2026-11-26T16:03:24.443Z`.
    public var iso8601: String {
        var bytes: [UInt8] = []
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 of `iso8601` to `bytes`: for output built as bytes.
    public func appendISO8601(to bytes: inout [UInt8]) {
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &text) { writeISO8601(to: $0) }
        withUnsafeBytes(of: &text) { bytes.append(contentsOf: $0.prefix(count)) }
    }

    /// The most bytes `iso8601` takes: 24, or 25 for a year past 9999 (a timestamp reaches
    /// the year 10889).
    public static let iso8601MaximumByteCount = 25

    /// Writes the UTF-8 of `iso8601` at the start of `out` (at least
    /// `iso8601MaximumByteCount` bytes) and returns how many bytes it wrote: for output
    /// written straight into its buffer (`list`'s table).
    public func writeISO8601(to out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= Self.iso8601MaximumByteCount, "room for the longest time")
        let date = writeDate(to: out)
        return date + writeTimeOfDay(to: UnsafeMutableRawBufferPointer(rebasing: out[date...]))
    }

    /// Writes `[Y]YYYY-MM-DDT` (a year past 9999 in full, as `String` would write it) and
    /// returns its length, 11 or 12.
    private func writeDate(to out: UnsafeMutableRawBufferPointer) -> Int {
        let days = Int64(milliseconds / 86_400_000)
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let start = year > 9999 ? 1 : 0  // a timestamp reaches the year 10889
        if start == 1 { out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: year / 10_000) }
        Self.writeTwoDigits(year / 100 % 100, to: out, at: start)
        Self.writeTwoDigits(year % 100, to: out, at: start + 2)
        out[start + 4] = UInt8(ascii: "-")
        Self.writeTwoDigits(month, to: out, at: start + 5)
        out[start + 7] = UInt8(ascii: "-")
        Self.writeTwoDigits(day, to: out, at: start + 8)
        out[start + 10] = UInt8(ascii: "T")
        return start + 11
    }

    /// Writes `HH:MM:SS.mmmZ` and returns its length, 13.
    private func writeTimeOfDay(to out: UnsafeMutableRawBufferPointer) -> Int {
        let millisecondOfDay = Int64(milliseconds % 86_400_000)
        let secondOfDay = millisecondOfDay / 1000, millisecond = millisecondOfDay % 1000
        Self.writeTwoDigits(secondOfDay / 3600, to: out, at: 0)
        out[2] = UInt8(ascii: ":")
        Self.writeTwoDigits(secondOfDay / 60 % 60, to: out, at: 3)
        out[5] = UInt8(ascii: ":")
        Self.writeTwoDigits(secondOfDay % 60, to: out, at: 6)
        out[8] = UInt8(ascii: ".")
        out[9] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: millisecond / 100)
        Self.writeTwoDigits(millisecond % 100, to: out, at: 10)
        out[12] = UInt8(ascii: "Z")
        return 13
    }

    /// `value` (0 to 99) as two digits at `index`.
    private static func writeTwoDigits(_ value: Int64, to out: UnsafeMutableRawBufferPointer, at index: Int) {
        out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
        out[index + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Writes many times as `writeISO8601` does, working the calendar date out once per day
    /// rather than once per time: a `list` writes a time per name, and they are mostly of a
    /// few days.
    public struct ISO8601Writer {
        private var day: UInt64 = .max
        /// The day's `[Y]YYYY-MM-DDT`, and its length.
        private var date: (UInt64, UInt64) = (0, 0)
        private var dateCount = 0

        /// A writer that has written no date yet.
        public init() {}

        /// Writes the UTF-8 of `time.iso8601` at the start of `out` (at least
        /// `iso8601MaximumByteCount` bytes) and returns how many bytes it wrote.
        public mutating func write(_ time: Timestamp, to out: UnsafeMutableRawBufferPointer) -> Int {
            precondition(out.count >= Timestamp.iso8601MaximumByteCount, "room for the longest time")
            if time.milliseconds / 86_400_000 != day {
                day = time.milliseconds / 86_400_000
                dateCount = time.writeDate(to: out)
                withUnsafeMutableBytes(of: &date) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[..<dateCount])) }
            } else {
                withUnsafeBytes(of: date) { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<dateCount])) }
            }
            return dateCount + time.writeTimeOfDay(to: UnsafeMutableRawBufferPointer(rebasing: out[dateCount...]))
        }
    }
}

/// A random 64-bit record id: breaks ties between records with equal timestamps, so two
/// writers that never saw each other still agree which record is newest.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64 bits of the id.
    public let rawValue: UInt64

    /// Wraps raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// A fresh random id.
    public static func random() -> RecordID { RecordID(rawValue: randomUInt64()) }

    /// 16 lowercase hex digits.
    public var description: String { Hex.string(rawValue, width: 16) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
