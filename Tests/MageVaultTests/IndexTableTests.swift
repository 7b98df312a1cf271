import Testing

@testable import MageVault

@Suite("Index table: the hash table the index lives in")
struct IndexTableTests {
    func entry(_ offset: UInt64) -> StoredEntry {
        StoredEntry(timestamp: Timestamp(rawValue: offset), id: RecordID(rawValue: offset), offset: offset, keyID: 1, length: 10, records: 1, operation: .set, fingerprint: 0)
    }

    @Test("Every key stored through growth is found with its entry; updates change it in place; absent keys are absent")
    func storesAndFinds() {
        var table = IndexTable()
        var generator = SplitMix(seed: 3)
        // Keys that share their low tag bits, and two environments, to exercise probing.
        let keys = (0..<5000).map { index in
            IndexKey(
                environment: EnvironmentID(rawValue: UInt128(index % 2)),
                tag: NameTag(rawValue: UInt128(generator.next()) << 64 | UInt128(index % 7)))
        }
        for (index, key) in keys.enumerated() {
            table.insertOrUpdate(key, new: entry(UInt64(index + 1))) { _ in Issue.record("a new key was updated") }
        }
        #expect(table.count == keys.count)
        for (index, key) in keys.enumerated() {
            table.insertOrUpdate(key, new: entry(0)) { $0.records += 1 }
            #expect(table[key]?.offset == UInt64(index + 1))
            #expect(table[key]?.records == 2)
        }
        #expect(table.count == keys.count)
        var seen = 0
        table.forEach { _, stored in seen += stored.records == 2 ? 1 : 0 }
        #expect(seen == keys.count)
        #expect(table[IndexKey(environment: EnvironmentID(rawValue: 9), tag: NameTag(rawValue: 1))] == nil)
        #expect(IndexTable()[keys[0]] == nil)
    }

    @Test("Environment tallies: every uuid added through growth keeps its own tally, in the order first named; absent uuids are absent")
    func environmentTallies() {
        var tallies = EnvironmentTallies()
        var generator = SplitMix(seed: 5)
        // Uuids that differ in one half only, and random ones; each named a few times.
        let ids = (0..<3000).map { index in
            EnvironmentID(rawValue: index % 3 == 0 ? UInt128(index) : UInt128(generator.next()) << 64 | UInt128(index % 5))
        }
        #expect(tallies[ids[0]] == nil)
        for round in 1...3 {
            for (index, id) in ids.enumerated() where index % round == 0 {
                let position = tallies.positionAdding(id)
                tallies.modify(at: position) { $0.records += index + 1 }
            }
        }
        #expect(tallies.keys == ids)
        for (index, id) in ids.enumerated() {
            let rounds = (1...3).filter { index % $0 == 0 }.count
            #expect(tallies[id]?.records == rounds * (index + 1))
            #expect(tallies.position(of: id) == index)
        }
        #expect(tallies.map { id, tally in (id, tally.records) }.count == ids.count)
        #expect(tallies[EnvironmentID(rawValue: UInt128.max)] == nil)
    }
}
