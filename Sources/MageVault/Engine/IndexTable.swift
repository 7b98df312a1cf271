/// The index's hash table: `(uuid, tag)` → `StoredEntry`, with each key and its entry side by
/// side in one slot, so that replaying a record costs one cache miss where a `Dictionary`
/// (keys and values in separate arrays) costs two. Opening a million records is bound by
/// exactly these misses.
///
/// Open addressing with linear probing, a power-of-two capacity at most 3/4 full. Slots are
/// found by multiply-shift hashing of the uuid and tag with multipliers drawn at random per
/// process, so a log written to collide cannot predict them. An empty slot has length 0 (a
/// record line is never empty). Entries are never removed.
struct IndexTable {
    private struct Slot {
        var key: IndexKey
        var entry: StoredEntry
    }

    private static let empty = Slot(
        key: IndexKey(environment: EnvironmentID(rawValue: 0), tag: NameTag(rawValue: 0)),
        entry: StoredEntry(timestamp: Timestamp(rawValue: 0), id: RecordID(rawValue: 0), offset: 0, keyID: 0, length: 0, records: 0, operation: .set, fingerprint: 0))

    /// Random odd multipliers, one per 64-bit word hashed.
    private static let multipliers: (UInt64, UInt64, UInt64, UInt64) = (
        randomUInt64() | 1, randomUInt64() | 1, randomUInt64() | 1, randomUInt64() | 1
    )

    private var slots: [Slot]
    private var shift: UInt64
    /// Entries held.
    private(set) var count = 0

    init() {
        slots = []
        shift = 64
    }

    /// The entry stored under `key`.
    subscript(key: IndexKey) -> StoredEntry? {
        guard !slots.isEmpty else { return nil }
        var position = home(of: key)
        while true {
            let slot = slots[position]
            if slot.entry.length == 0 { return nil }
            if slot.key == key { return slot.entry }
            position = (position + 1) & (slots.count - 1)
        }
    }

    /// Stores `entry` under `key` when the key is new, else lets `update` change the stored
    /// entry in place: one probe sequence either way.
    mutating func insertOrUpdate(_ key: IndexKey, new entry: StoredEntry, update: (inout StoredEntry) -> Void) {
        if (count + 1) * 4 > slots.count * 3 { grow(toHold: count + 1) }
        var position = home(of: key)
        let mask = slots.count - 1
        while true {
            if slots[position].entry.length == 0 {
                slots[position] = Slot(key: key, entry: entry)
                count += 1
                return
            }
            if slots[position].key == key {
                update(&slots[position].entry)
                return
            }
            position = (position + 1) & mask
        }
    }

    /// Makes room for `capacity` entries without growing again.
    mutating func reserveCapacity(_ capacity: Int) {
        if capacity * 4 > slots.count * 3 { grow(toHold: capacity) }
    }

    /// Every key and entry, in no particular order.
    func forEach(_ body: (IndexKey, StoredEntry) throws -> Void) rethrows {
        for slot in slots where slot.entry.length != 0 { try body(slot.key, slot.entry) }
    }

    private func home(of key: IndexKey) -> Int {
        let (a, b, c, d) = Self.multipliers
        let tag = key.tag.rawValue, uuid = key.environment.rawValue
        let mixed =
            UInt64(truncatingIfNeeded: tag) &* a &+ UInt64(truncatingIfNeeded: tag >> 64) &* b
            &+ UInt64(truncatingIfNeeded: uuid) &* c &+ UInt64(truncatingIfNeeded: uuid >> 64) &* d
        return Int(truncatingIfNeeded: mixed >> shift)
    }

    private mutating func grow(toHold needed: Int) {
        var capacity = max(16, slots.count)
        while needed * 4 > capacity * 3 { capacity *= 2 }
        let old = slots
        slots = [Slot](repeating: Self.empty, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        let mask = capacity - 1
        for slot in old where slot.entry.length != 0 {
            var position = home(of: slot.key)
            while slots[position].entry.length != 0 { position = (position + 1) & mask }
            slots[position] = slot
        }
    }
}
